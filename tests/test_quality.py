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


# ------------------------------------------------------------------------------------------------ CycleGAN
def test_cyclegan_keras_anchors_match_the_source_parameter_counts():
    from kitlib.anchors import keras_io_cyclegan, tf_cyclegan

    for module in (tf_cyclegan, keras_io_cyclegan):
        nets = module.build()
        assert {k: v.count_params() for k, v in nets.items()} == module.PARAMETERS, module.__name__
        assert all(w.dtype == "float32" for net in nets.values() for w in net.weights)


def test_tf_tutorial_unet_counts_follow_from_the_published_batch_norm_count():
    """The TF pix2pix tutorial prints 54,425,859 parameters for its batch-norm U-Net: 4 weights per normalised
    channel. The CycleGAN tutorial's instance norm keeps 2, so the count drops by 2 per channel."""
    from kitlib.anchors import tf_cyclegan, tf_pix2pix

    normalised_channels = (128 + 256 + 512 * 5) + (512 * 4 + 256 + 128 + 64)
    assert tf_pix2pix.PARAMETERS["generator"] == 54_425_859
    assert tf_cyclegan.PARAMETERS["generator_g"] == 54_425_859 - 2 * normalised_channels


@pytest.mark.skipif(not HAS_TORCH, reason="PyTorch is not installed (the optional anchors extra)")
def test_torch_cyclegan_matches_the_source_parameter_counts_and_translates(tmp_path):
    import torch

    from kitlib.anchors import torch_cyclegan

    nets = torch_cyclegan.build()
    assert {k: sum(p.numel() for p in v.parameters()) for k, v in nets.items()} == torch_cyclegan.PARAMETERS
    torch.save({k: nets[k].state_dict() for k in ("generator_a", "generator_b")}, tmp_path / "s.pt")
    fakes, cycled = torch_cyclegan.translate(tmp_path / "s", np.zeros((1, 64, 64, 3), "uint8"))
    assert fakes.shape == cycled.shape == (1, 64, 64, 3) and fakes.dtype == np.uint8


def test_torch_image_pool_returns_stored_fakes_once_full():
    pytest.importorskip("torch")
    import random

    import torch

    from kitlib.anchors.torch_cyclegan import ImagePool

    random.seed(0)
    pool = ImagePool(2)
    first = [pool.query(torch.full((1, 1), float(i))) for i in range(2)]
    assert [float(x) for x in first] == [0.0, 1.0]  # filling: each image comes straight back
    later = [float(pool.query(torch.full((1, 1), 9.0))) for _ in range(20)]
    assert {0.0, 1.0} & set(later) and 9.0 in later  # then half the time a stored one, swapped for the new one


def test_keras_anchor_translates_from_a_snapshot_at_the_images_size(tmp_path):
    from kitlib.anchors import keras_io_cyclegan

    nets = keras_io_cyclegan.build()
    nets["generator_g"].save_weights(tmp_path / "s.g.weights.h5")
    nets["generator_f"].save_weights(tmp_path / "s.f.weights.h5")
    fakes, cycled = keras_io_cyclegan.translate(tmp_path / "s", np.zeros((2, 64, 64, 3), "uint8"))
    assert fakes.shape == cycled.shape == (2, 64, 64, 3) and fakes.dtype == np.uint8


def _junyanz(path: pathlib.Path) -> pathlib.Path:
    """A tiny junyanz-layout folder: warm, smooth "paintings" (A) and cool, noisy "photos" (B)."""
    rng = np.random.default_rng(0)
    for split, n in (("trainA", 16), ("trainB", 24), ("testA", 6), ("testB", 8)):
        (path / split).mkdir(parents=True)
        for i in range(n):
            if split.endswith("A"):  # a smooth field: a 4x4 random pattern, bilinearly enlarged
                field = rng.normal((200, 150, 80), 25, (4, 4, 3)).clip(0, 255).astype("uint8")
                image = np.asarray(Image.fromarray(field).resize((32, 32), Image.BILINEAR))
            else:
                image = np.clip(rng.normal((80, 120, 170), 50, (32, 32, 3)), 0, 255)
            Image.fromarray(image.astype("uint8")).save(path / split / f"{i:03d}.png")
    return path


def test_translation_scores_read_between_untouched_photos_and_real_paintings(tmp_path):
    data = _junyanz(tmp_path / "m2p")
    reference = quality.translation_reference(data, judge_folder=tmp_path / "judge")
    assert (tmp_path / "judge" / "domain_judge.keras").exists()
    assert reference["heldout_images"] == 8 and reference["photos"].shape == (8, 256, 256, 3)
    assert reference["judge_photos"] == 0.0 and reference["judge_monets"] == 1.0
    assert reference["swd_photos_over_floor"] > 2.0  # cool, noisy photos vs warm, smooth paintings
    untouched = quality.score_translations(reference["photos"], reference["photos"], reference)
    painted = quality.score_translations(quality._images(data / "testA", 256)[:8], reference["photos"], reference)
    assert untouched["swd_over_floor"] == pytest.approx(reference["swd_photos_over_floor"])
    assert untouched["judge_share"] == 0.0 and untouched["cycle_l1"] == 0.0
    assert painted["swd_over_floor"] < 1.5 and painted["judge_share"] == 1.0
    assert painted["fd"] < untouched["fd"] == pytest.approx(reference["fd_photos"])


def _cycle_line(system, minutes, swd):
    return {"method": "cyclegan", "system": system, "budget_minutes": float(minutes), "swd_over_floor": swd,
            "judge_share": 0.5, "cycle_l1": 0.1, "swd_photos_over_floor": 3.0, "swd_blurred_photos_over_floor": 2.5,
            "judge_photos": 0.05,
            "judge_monets": 0.9, "judge_blurred_photos": 0.1, "heldout_images": 40, "heldout_a": 121, "cpu": "cpu",
            "cores_used": 1, "date": "2026-12-07"}


def test_cyclegan_table_counts_lower_swd_as_better(tmp_path):
    lines = [_cycle_line("kitlib", m, s) for m, s in ((2, 2.0), (5, 1.6), (10, 1.5), (20, 1.4))]
    lines += [_cycle_line("tf_cyclegan", m, s) for m, s in ((2, 2.9), (5, 2.5), (10, 2.0), (20, 1.8))]
    assert quality.minutes_to_reach(lines[:4], 1.8) == 5
    text = quality.table(lines)
    assert "| kitlib | 2.00× (50%, 0.100) | 1.60× (50%, 0.100) | 1.50× (50%, 0.100) | 1.40× (50%, 0.100) |" in text
    assert "kitlib reaches tf_cyclegan's 20-minute quality (1.80×) in 5 min" in text
    assert "untouched photos: 3.00×" in text and "blurred photos 10%, held-out paintings 90%" in text
    assert quality.plot(lines, tmp_path / "p.png").stat().st_size > 0


def test_bench_quality_cli_scores_kitlib_cyclegan_translations(tmp_path):
    """The quick-profile smoke of ``bench quality cyclegan``: the judge is trained once, kitlib trains in its own
    process, its snapshot translates the held-out photos at their size, and the line carries the scale's ends."""
    data, out = _junyanz(tmp_path / "m2p"), tmp_path / "q"
    env = {**os.environ, "KITLIB_QUICK": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "kitlib", "bench", "quality", "cyclegan", "--data", str(data), "--minutes", "0.01",
         "--out", str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = quality.read(out / "quality.jsonl")
    assert line["system"] == "kitlib" and line["steps"] >= 1 and line["heldout_images"] == 8
    assert 0.0 <= line["judge_share"] <= 1.0 and line["judge_monets"] == 1.0 and np.isfinite(line["fd"])
    assert line["swd_over_floor"] > 0 and line["swd_photos_over_floor"] > 1
    assert (out / "judge" / "domain_judge.keras").exists() and (out / "cyclegan_quality.png").exists()
    assert "| kitlib |" in result.stdout


def test_cyclegan_data_must_be_a_junyanz_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="trainA/, trainB/, testA/ and testB/"):
        quality.run("cyclegan", tmp_path, [1], tmp_path / "q")


# ------------------------------------------------------------------------------------------------ pix2pix
def test_tf_pix2pix_matches_the_tutorial_parameter_counts_and_inpaints_from_a_snapshot(tmp_path):
    from kitlib.anchors import tf_pix2pix

    nets = tf_pix2pix.build()
    assert {k: v.count_params() for k, v in nets.items()} == tf_pix2pix.PARAMETERS
    assert all(w.dtype == "float32" for net in nets.values() for w in net.weights)
    nets["generator"].save_weights(tmp_path / "s.generator.weights.h5")
    outputs = tf_pix2pix.inpaint(tmp_path / "s", np.zeros((1, 256, 256, 3), "uint8"))
    assert outputs.shape == (1, 256, 256, 3) and outputs.dtype == np.uint8


def test_tf_pix2pix_jitter_crops_and_flips_input_and_target_together():
    """The tutorial jitters each (input, target) pair as one: outside the white hole the two stay pixel-equal."""
    import tensorflow as tf

    from kitlib.anchors import tf_pix2pix

    tf.random.set_seed(0)
    photos = np.random.default_rng(0).integers(0, 250, (3, 256, 256, 3)).astype("uint8")
    masked = tf_pix2pix.inpainting_inputs(photos)
    assert (masked[:, 128, 128] == 255).all() and (masked[:, 0, 0] == photos[:, 0, 0]).all()
    for m, p in zip(masked, photos):
        x, y = (t.numpy() for t in tf_pix2pix._load_image_train(tf.constant(m), tf.constant(p)))
        assert x.shape == y.shape == (256, 256, 3) and -1.0 <= x.min() and x.max() <= 1.0
        hole = (x == 1.0).all(axis=-1)
        assert hole.any() and (x[~hole] == y[~hole]).all()


@pytest.fixture
def photos(tmp_path):
    """A tiny photos folder (train/ and heldout/) of smooth colour gradients."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 12), ("heldout", 5)):
        (tmp_path / "photos" / split).mkdir(parents=True)
        for i in range(n):
            ramp = np.linspace(0, 1, 32)[None, :, None] * rng.uniform(50, 200, 3) + rng.uniform(0, 50, 3)
            Image.fromarray(np.broadcast_to(ramp, (32, 32, 3)).astype("uint8")).save(
                tmp_path / "photos" / split / f"{i:02d}.png")
    return tmp_path / "photos"


def test_inpainting_scores_read_between_the_masked_input_and_a_perfect_fill(photos, tmp_path):
    cache = tmp_path / "baselines.json"
    reference = quality.inpainting_reference(photos, cache=cache)
    assert quality.inpainting_reference(photos, cache=cache)["ends"] == reference["ends"]  # read back, not redone
    assert reference["heldout_images"] == 5 and reference["masked"].shape == (5, 256, 256, 3)
    ends = reference["ends"]
    perfect = quality.score_inpainting(reference["photos"], reference)
    nothing = quality.score_inpainting(reference["masked"], reference)
    assert perfect["hole_l1"] == 0.0 and perfect["hole_ssim"] == pytest.approx(1.0)
    assert nothing["hole_psnr"] == pytest.approx(ends["masked_hole_psnr"])
    # smooth gradients: biharmonic inpainting is nearly exact, far above the white hole
    assert ends["biharmonic_hole_psnr"] > ends["masked_hole_psnr"] + 10


def test_pix2pix_table_counts_higher_psnr_as_better():
    base = {"method": "pix2pix", "hole_ssim": 0.5, "masked_hole_psnr": 5.0, "masked_hole_ssim": 0.1,
            "biharmonic_hole_psnr": 20.0, "biharmonic_hole_ssim": 0.4, "heldout_images": 100, "cpu": "cpu",
            "cores_used": 1, "date": "2026-12-07"}
    lines = [{**base, "system": "kitlib", "budget_minutes": float(m), "hole_psnr": p} for m, p in ((2, 21), (5, 23))]
    lines += [{**base, "system": "tf_pix2pix", "budget_minutes": float(m), "hole_psnr": p} for m, p in ((2, 18),
                                                                                                       (5, 21))]
    text = quality.table(lines)
    assert "| kitlib | 21.00 dB (0.500) | 23.00 dB (0.500) |" in text and "biharmonic inpainting 20.00 dB" in text
    assert "kitlib reaches tf_pix2pix's 5-minute quality (21.00 dB) in 2 min" in text


def test_bench_quality_cli_scores_kitlib_inpaintings(photos, tmp_path):
    out = tmp_path / "q"
    result = subprocess.run(
        [sys.executable, "-m", "kitlib", "bench", "quality", "pix2pix", "--data", str(photos), "--minutes", "0.01",
         "--out", str(out)], capture_output=True, text=True, env={**os.environ, "KITLIB_QUICK": "1"}, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = quality.read(out / "quality.jsonl")
    assert line["system"] == "kitlib" and line["steps"] >= 1 and line["heldout_images"] == 5
    assert np.isfinite(line["hole_psnr"]) and 0.0 < line["hole_ssim"] <= 1.0
    assert (out / "pix2pix_quality.png").exists() and "| kitlib |" in result.stdout


def test_ddim_and_vae_keras_io_anchors_match_the_source_parameter_counts():
    from kitlib.anchors import keras_io_ddim, keras_io_vae

    for module in (keras_io_ddim, keras_io_vae):
        nets = module.build()
        assert {k: v.count_params() for k, v in nets.items()} == module.PARAMETERS, module.__name__
    assert keras_io_vae.build()["decoder"].output_shape == (None, 64, 64, 3)


def test_ddim_and_vae_systems_train_snapshot_and_score_against_the_floor(tmp_path):
    """kitlib's DDIM and VAE and their keras-io anchors, each trained to one tiny budget and scored, in one fresh
    process (quick profile): the lines name the system, count steps, and score SWD / floor. 16 training faces: one
    batch of keras-io's DDIM (64, its source's 5 repetitions, without remainder), and DDIM's generated images are
    min(SCORED_SAMPLES, training images) = 16."""
    faces = tmp_path / "faces"
    _folder(faces / "train", 16, 0)
    _folder(faces / "heldout", 4, 1)
    out = tmp_path / "q"
    script = (f"from kitlib import quality\n"
              f"for method, system, options in [('ddim', 'kitlib', {{}}), ('ddim', 'keras_io_ddim', {{}}), "
              f"('vae', 'kitlib', {{'batch_size': 8}}), ('vae', 'keras_io_vae', {{}})]:\n"
              f"    quality.run_system(method, system, {str(faces)!r}, [0.01], {str(out)!r}, options=options)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env={**os.environ, "KITLIB_QUICK": "1"}, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = quality.read(out / "quality.jsonl")
    generated = {(d["method"], d["system"]): d["generated_images"] for d in lines}
    assert generated == {("ddim", "kitlib"): 16, ("ddim", "keras_io_ddim"): 16,  # SCORED_SAMPLES, capped by train/
                         ("vae", "kitlib batch_size=8"): 4, ("vae", "keras_io_vae"): 4}  # as many as held out
    for d in lines:
        assert d["steps"] >= 1 and d["heldout_images"] == 4 and np.isfinite(d["swd_over_floor"])
        assert 0.0 <= d["diversity_ratio"] < 5.0
