"""bench quality (kitlib.quality) and the anchors (kitlib.anchors): clock, parameter counts, scoring, table, CLI."""

import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from kitlib import anchors, quality
from kitlib.train.callbacks import SnapshotClock

HAS_TORCH = importlib.util.find_spec("torch") is not None


def _fake_clock(times):
    return iter(times).__next__


def test_clock_leaves_snapshot_time_out_and_takes_every_passed_mark(tmp_path):
    # start 0; tick 1 at 10 s (no mark); tick 2 at 130 s passes the 1- and 2-minute marks at once (each save takes
    # 5 s, not counted); tick 3 at 170 s wall = 160 s of training: not yet 3 min; tick 4 at 200 s = 190 s: done
    clock = SnapshotClock([1, 2, 3], tmp_path, clock=_fake_clock([0, 10, 130, 130, 135, 135, 140, 170, 200, 200, 201]))
    saved = []
    clock.start()
    assert clock.tick(1, saved.append) is False
    assert clock.tick(2, saved.append) is False
    assert [s["minutes"] for s in clock.snapshots] == [1.0, 2.0]
    assert all(s["step"] == 2 and s["seconds"] == 130 for s in clock.snapshots)
    assert clock.tick(3, saved.append) is False
    assert clock.tick(4, saved.append) is True
    assert clock.snapshots[-1] == {"minutes": 3.0, "step": 4, "seconds": 190, "path": str(tmp_path / "0003.00min")}
    assert [p.name for p in saved] == ["0001.00min", "0002.00min", "0003.00min"]


def test_clock_refuses_bad_budgets(tmp_path):
    with pytest.raises(ValueError, match="minutes > 0"):
        SnapshotClock([0, 1], tmp_path)
    with pytest.raises(RuntimeError, match="start"):
        SnapshotClock([1], tmp_path).seconds()


@pytest.mark.parametrize("text, expected", [("2,5,10,20", [2, 5, 10, 20]), ("0.5", [0.5]), ("5,2,5", [2, 5])])
def test_parse_minutes(text, expected):
    assert quality.parse_minutes(text) == expected


@pytest.mark.parametrize("text", ["", "a,b", "0,2", "-1", "inf"])
def test_parse_minutes_refuses(text):
    with pytest.raises(ValueError, match="--minutes must be positive numbers"):
        quality.parse_minutes(text)


def test_keras_io_dcgan_matches_the_source_parameter_counts():
    from kitlib.anchors import keras_io_dcgan

    nets = keras_io_dcgan.build()
    assert {k: v.count_params() for k, v in nets.items()} == keras_io_dcgan.PARAMETERS
    assert nets["generator"].output_shape == (None, 64, 64, 3)
    assert all(w.dtype == "float32" for net in nets.values() for w in net.weights)


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the optional anchors extra)")
def test_torch_dcgan_matches_the_source_parameter_counts():
    from kitlib.anchors import torch_dcgan

    nets = torch_dcgan.build()
    assert {k: sum(p.numel() for p in v.parameters()) for k, v in nets.items()} == torch_dcgan.PARAMETERS


def test_torch_anchor_is_skipped_with_one_line_when_torch_is_missing(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else object())
    systems, skipped = quality.systems_for("dcgan", ["all"])
    assert systems == ["kitlib", "keras_io_dcgan"]
    assert len(skipped) == 1 and "torch_dcgan skipped: PyTorch is not installed" in skipped[0]
    assert "\n" not in skipped[0]


def test_anchor_names_are_checked():
    with pytest.raises(ValueError, match="anchor must be one of"):
        anchors.get("nope")
    with pytest.raises(ValueError, match="not cyclegan"):
        quality.systems_for("cyclegan", ["keras_io_dcgan"])


def _folder(path: pathlib.Path, n: int, seed: int) -> pathlib.Path:
    rng = np.random.default_rng(seed)
    path.mkdir(parents=True)
    for i in range(n):
        base = rng.integers(0, 255, 3)
        image = np.clip(base + rng.normal(0, 40, (64, 64, 3)), 0, 255).astype("uint8")
        Image.fromarray(image).save(path / f"{i:03d}.png")
    return path


@pytest.fixture
def faces(tmp_path):
    _folder(tmp_path / "faces" / "train", 48, 0)
    _folder(tmp_path / "faces" / "heldout", 12, 1)
    return tmp_path / "faces"


def test_score_is_relative_to_the_real_vs_real_floor(faces):
    reference = quality.floor(faces)
    assert reference["heldout"].shape == (12, 64, 64, 3) and reference["train_images"] == 48
    real = quality.score(reference["heldout"][::-1].copy(), reference)
    flat = quality.score(np.full((12, 64, 64, 3), 128, "uint8"), reference)
    assert real["swd_over_floor"] < flat["swd_over_floor"]
    assert flat["diversity_ratio"] == 0.0 and real["diversity_ratio"] == pytest.approx(1.0)


def test_missing_split_names_the_folder_and_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="train/ and heldout/"):
        quality.floor(tmp_path)


def _line(system, minutes, ratio):
    return {"method": "dcgan", "system": system, "budget_minutes": float(minutes), "swd_over_floor": ratio,
            "diversity_ratio": 1.0, "heldout_images": 10, "cpu": "cpu", "cores_used": 1, "date": "2026-12-07"}


def test_table_and_minutes_to_reach():
    lines = [_line("kitlib", m, r) for m, r in ((2, 5.0), (5, 3.0), (10, 2.0), (20, 1.5))]
    lines += [_line("torch_dcgan", m, r) for m, r in ((2, 9.0), (5, 6.0), (10, 4.0), (20, 2.5))]
    assert quality.minutes_to_reach(lines[:4], 2.5) == 10
    assert quality.minutes_to_reach(lines[:4], 1.0) is None
    text = quality.table(lines)
    assert "| kitlib | 5.00× (1.00) | 3.00× (1.00) | 2.00× (1.00) | 1.50× (1.00) |" in text
    assert "kitlib reaches torch_dcgan's 20-minute quality (2.50×) in 10 min" in text


def test_read_keeps_the_latest_line_per_budget(tmp_path):
    path = tmp_path / "quality.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in (_line("kitlib", 2, 9.0), _line("kitlib", 2, 4.0))) + "\n")
    assert [d["swd_over_floor"] for d in quality.read(path)] == [4.0]


def test_bench_quality_cli_trains_scores_and_plots_kitlib_and_an_anchor(faces, tmp_path):
    """The quick-profile smoke of ``python -m kitlib bench quality``: both systems train in their own process,
    are snapshotted, scored on the held-out split, written as JSON lines, tabled and plotted."""
    out = tmp_path / "q"
    env = {**os.environ, "KITLIB_QUICK": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "kitlib", "bench", "quality", "dcgan", "--data", str(faces), "--minutes", "0.01",
         "--anchor", "keras_io_dcgan", "--out", str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = quality.read(out / "quality.jsonl")
    assert [d["system"] for d in lines] == ["kitlib", "keras_io_dcgan"]
    for d in lines:
        assert d["steps"] >= 1 and d["heldout_images"] == 12 and np.isfinite(d["swd_over_floor"])
        assert pathlib.Path(d["data"]) == faces.resolve()
    assert (out / "dcgan_quality.png").stat().st_size > 0
    assert "| kitlib |" in result.stdout and "kitlib reaches keras_io_dcgan's" in result.stdout
    table = subprocess.run([sys.executable, "-m", "kitlib", "bench", "quality", "--table", str(out / "quality.jsonl")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert table.returncode == 0 and "| keras_io_dcgan |" in table.stdout


def test_an_unknown_variant_option_is_refused_before_training(faces, tmp_path):
    with pytest.raises(ValueError, match=r"--set: dcgan variants take .*Received: \['widht'\]"):
        quality.run("dcgan", faces, [1], tmp_path / "q", variants=[["widht=3"]])
    assert not (tmp_path / "q").exists()


def test_bench_quality_cli_errors_are_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "kitlib", "bench", "quality", "dcgan", "--data", str(tmp_path),
                             "--minutes", "1", "--out", str(tmp_path / "q")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "train/ and heldout/" in result.stderr and "Traceback" not in result.stderr
