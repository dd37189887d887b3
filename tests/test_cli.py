"""`python -m kitlib`: info, train -> generate on a run directory, error messages, the demo gallery writer."""

import json
import subprocess
import sys

import nbformat
import pytest

from kitlib import cli, demo


def test_info_prints_the_runtime_report(capsys):
    assert cli.main(["info"]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "profile" in out and "keras" in out


def test_train_then_generate_writes_every_image(tmp_path, capsys):
    run = tmp_path / "run"
    assert cli.main(["train", "dcgan", "--out", str(run), "--epochs", "1", "--limit", "32", "--batch-size", "16",
                     "--image-size", "32", "--precision", "float32", "--loss", "lsgan"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "unconditional" and config["data"]["source"] == "toy:faces"
    assert config["model"]["loss"] == "lsgan"
    out = tmp_path / "gen"
    assert cli.main(["generate", str(run), "--n", "5", "--out", str(out)]) == 0
    files = sorted(out.glob("*.png"))
    assert len(files) == 5
    from PIL import Image

    with Image.open(files[0]) as img:
        assert img.size == (32, 32) and img.mode == "RGB"
    # an unconditional run cannot translate, and the message says what to do instead
    assert cli.main(["translate", str(run), "--input", str(out), "--out", str(tmp_path / "t")]) == 2
    assert "use `python -m kitlib generate" in capsys.readouterr().err


def test_train_loss_is_refused_where_the_recipe_fixes_it(tmp_path):
    with pytest.raises(SystemExit, match="train gaugan has no --loss option"):
        cli.main(["train", "gaugan", "--out", str(tmp_path / "run"), "--loss", "bce"])
    assert not (tmp_path / "run").exists()


def test_generate_from_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli.main(["generate", str(tmp_path / "missing"), "--n", "2", "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "kitlib", "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "generate" in result.stdout and "translate" in result.stdout


def test_gallery_collects_notebook_images(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": png})]
    nb.cells = [cell]
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nb, path)
    images = demo.extract_images(path, tmp_path / "00_x")
    assert len(images) == 1 and images[0].read_bytes()[:4] == b"\x89PNG"
    index = demo.write_gallery(tmp_path, [{"name": "00_x", "status": "ok", "seconds": 1.0, "notebook": "00_x.ipynb",
                                           "images": ["00_x/figure_01.png"]}])
    assert "00_x/figure_01.png" in index.read_text()


def test_demo_lists_numbered_notebooks_only(tmp_path):
    for name in ("00_a.ipynb", "01_b.ipynb", "scratch.ipynb"):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in demo.find_notebooks(tmp_path)] == ["00_a.ipynb", "01_b.ipynb"]
    with pytest.raises(FileNotFoundError):
        demo.run_demo(notebooks=tmp_path, out=tmp_path / "out", only=["99"])
