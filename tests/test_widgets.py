"""The epoch picker and the sketch pad build and react to clicks with the installed ipywidgets (8 here, 7.7.1 on the
floor stack, which is Colab's), and say what to do instead when ipywidgets is missing."""

import builtins
import types

import numpy as np
import pytest

from kitlib import widgets

ipywidgets = pytest.importorskip("ipywidgets")


def _buttons(widget):
    found, stack = [], [widget]
    while stack:
        w = stack.pop()
        if isinstance(w, ipywidgets.Button):
            found.append(w)
        stack.extend(getattr(w, "children", ()))
    return {b.description: b for b in found}


def test_generator_picker_generates_on_click(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(widgets, "epoch_exports", lambda run_dir, name: {1: "e1", 2: "e2"})
    monkeypatch.setattr(widgets, "load_generator", lambda run_dir, epoch, name: f"generator@{epoch}")
    monkeypatch.setattr(widgets, "generate", lambda g, n, seed: calls.append((g, n, seed)) or np.zeros((n, 8, 8, 3)))
    monkeypatch.setattr(widgets, "show_images", lambda images, **kw: None)
    panel = widgets.generator_picker(tmp_path, n=4)
    assert calls == [("generator@2", 4, 0)]  # the latest epoch is shown at once
    _buttons(panel)["Generate"].click()
    assert len(calls) == 2, f"ipywidgets {ipywidgets.__version__}: the click did not generate"


def test_sketch_pad_paints_undoes_and_restyles(monkeypatch):
    seeds = []

    def synthesize(generator, labels, seed):
        seeds.append(seed)
        return np.zeros((1, *labels.shape, 3), "float32")

    monkeypatch.setattr(widgets, "synthesize", synthesize)
    generator = types.SimpleNamespace(inputs=[types.SimpleNamespace(shape=(None, 16, 16, 8))])
    pad = widgets.sketch_pad(generator, np.eye(3, dtype=np.uint8) * 255, ["sky", "water", "grass"], seed=5)
    buttons = _buttons(pad)
    images = [w for w in pad.children[-1].children if isinstance(w, ipywidgets.Image)]
    assert len(images) == 2 and images[0].value[:4] == b"\x89PNG"
    buttons["Paint"].click()
    buttons["Undo"].click()
    buttons["New style"].click()
    assert seeds == [5, 5, 5, 6], f"ipywidgets {ipywidgets.__version__}: clicks did not reach the pad"


def test_without_ipywidgets_both_say_what_to_do(monkeypatch, capsys, tmp_path):
    real_import = builtins.__import__

    def no_ipywidgets(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError("No module named 'ipywidgets'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(widgets, "epoch_exports", lambda run_dir, name: {1: "e1"})
    monkeypatch.setattr(builtins, "__import__", no_ipywidgets)
    assert widgets.generator_picker(tmp_path) is None
    generator = types.SimpleNamespace(inputs=[types.SimpleNamespace(shape=(None, 16, 16, 8))])
    assert widgets.sketch_pad(generator, np.eye(3, dtype=np.uint8)) is None
    out = capsys.readouterr().out
    assert "ipywidgets is not installed" in out and "generate" in out and "paint(" in out
