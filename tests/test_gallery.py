"""The demo gallery reads: per notebook a sentence, the headline number, the best figure with a caption, the rest
folded; every notebook provides them."""

import base64
import json
import pathlib
import re

import pytest

from kitlib import demo, viz

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n fake").decode()


def _image():
    return {"output_type": "display_data", "data": {"image/png": PNG, "text/plain": "<Figure>"}, "metadata": {}}


def _executed(path):
    cells = [
        {"cell_type": "code", "metadata": {}, "source": "", "outputs": [_image()]},
        {"cell_type": "code", "metadata": {"tags": ["gallery"]}, "source": "", "outputs": [_image(), _image()]},
        {"cell_type": "code", "metadata": {}, "source": "", "outputs": [
            {"output_type": "display_data", "metadata": {}, "data": {
                "text/plain": "headline: hole PSNR (dB) = 19.96",
                viz.HEADLINE_MIME: {"label": "hole PSNR (dB)", "value": 19.9612, "note": "biharmonic 18.4 dB"}}}]},
        {"cell_type": "code", "metadata": {}, "source": "", "outputs": [_image()]},
    ]
    nb = {"cells": cells, "metadata": {"kitlib": {"summary": "pix2pix fills a hole.", "caption": "Inputs & outputs."}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def test_gallery_section_opens_with_sentence_headline_and_best_figure(tmp_path):
    executed = _executed(tmp_path / "05_x.ipynb")
    images = demo.extract_images(executed, tmp_path / "05_x")
    entry = demo.gallery_entry(executed)
    assert entry == {"summary": "pix2pix fills a hole.", "caption": "Inputs & outputs.",
                     "headline": "hole PSNR (dB): 19.96 (biharmonic 18.4 dB)", "best": 2}
    result = {"name": "05_x", "status": "ok", "seconds": 3.0, "notebook": "05_x.ipynb",
              "images": [str(p.relative_to(tmp_path)) for p in images], **entry}
    page = demo.write_gallery(tmp_path, [result]).read_text(encoding="utf-8")
    section = page[page.index("<section"):]
    order = [section.index(s) for s in ("pix2pix fills a hole.", "hole PSNR (dB): 19.96", "<figure><img src='05_x/figure_03.png'>",
                                        "Inputs &amp; outputs.", "<details>")]
    assert order == sorted(order)
    folded = section[section.index("<details>"):]
    assert re.findall(r"figure_\d+", folded) == ["figure_01", "figure_02", "figure_04"]
    assert "3 more figure(s)" in folded


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_every_notebook_gives_the_gallery_its_parts(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb["metadata"].get("kitlib", {})
    assert meta.get("summary", "").endswith(".") and meta.get("caption"), f"{path.name}: metadata kitlib.summary/caption"
    tagged = [c for c in nb["cells"] if "gallery" in c["metadata"].get("tags", [])]
    source = "".join(tagged[0]["source"]) if len(tagged) == 1 else ""
    assert "viz." in source or ".fit(" in source, f"{path.name}: tag one cell that shows figures 'gallery'"
    assert sum("viz.headline(" in "".join(c["source"]) for c in nb["cells"]) == 1, f"{path.name}: one viz.headline"


def test_gallery_names_each_notebooks_methods_from_the_registry(tmp_path):
    from kitlib import methods

    assert demo.notebook_methods("08_vae") == [methods.get("vae").title + " (python -m kitlib train vae)"]
    assert [m.split(":")[0] for m in demo.notebook_methods("04_style_transfer")] == ["AdaIN", "Gatys et al."]
    assert demo.notebook_methods("00_quickstart") == []
    result = {"name": "08_vae", "status": "ok", "seconds": 1.0, "notebook": "08_vae.ipynb", "images": [],
              "methods": demo.notebook_methods("08_vae")}
    page = demo.write_gallery(tmp_path, [result]).read_text(encoding="utf-8")
    assert "<p class='methods'>VAE: " in page and "(python -m kitlib train vae)</p>" in page
