"""The one uint8 <-> [-1, 1] converter pair, and the deprecated names that moved in the layering clean-up."""

import pathlib
import warnings

import numpy as np
import pytest
import tensorflow as tf

from kitlib.images import to_float, to_uint8

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_numpy_round_trip_and_passthrough():
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16, 1)
    f = to_float(x)
    assert f.dtype == np.float32 and f.min() == -1.0 and f.max() == 1.0
    np.testing.assert_array_equal(to_uint8(f), x)
    assert to_uint8(x) is x                                   # uint8 passes through unchanged
    np.testing.assert_array_equal(to_float(np.array([0.5], "float64")), np.array([0.5], "float32"))  # floats: cast only
    assert to_uint8([-2.0, -1.0, 0.0, 1.0, 3.0]).tolist() == [0, 0, 128, 255, 255]   # clipped and rounded


def test_tensors_stay_tensors_inside_tf_data():
    ds = tf.data.Dataset.from_tensor_slices(np.array([[0, 255]], np.uint8)).map(to_float).map(to_uint8)
    out = next(iter(ds))
    assert isinstance(out, tf.Tensor) and out.dtype == tf.uint8 and out.numpy().tolist() == [0, 255]
    assert to_float(tf.constant([255], tf.uint8)).numpy().tolist() == [1.0]


def test_no_other_module_converts_with_127_5():
    users = [str(p.relative_to(ROOT)) for p in (ROOT / "kitlib").rglob("*.py")
             if "127.5" in p.read_text(encoding="utf-8") and p.name != "images.py"]
    assert not users, f"{users} convert images by hand: use kitlib.images.to_float / to_uint8"


@pytest.mark.parametrize("old, new", [
    ("kitlib.train:generate", "kitlib.infer.gan:generate"),
    ("kitlib.train.gaugan:synthesize_folder", "kitlib.infer.spade:synthesize_folder"),
    ("kitlib.train.gaugan:read_label_map", "kitlib.data.labels:read_label_map"),
    ("kitlib.train.cyclegan:load_unpaired", "kitlib.data.domains:load_unpaired"),
    ("kitlib.models:seed_generator", "kitlib.models.dcgan:report_generator"),
])
def test_moved_functions_keep_their_old_names_with_a_warning(old, new):
    import importlib

    (old_mod, old_name), (new_mod, new_name) = old.split(":"), new.split(":")
    alias = getattr(importlib.import_module(old_mod), old_name)
    assert alias.__wrapped__ is getattr(importlib.import_module(new_mod), new_name)
    assert new_name in alias.__doc__


@pytest.mark.parametrize("module, name", [("kitlib.viz", "generator_picker"), ("kitlib.train.gaugan", "sketch_pad"),
                                          ("kitlib.train", "sketch_pad")])
def test_names_moved_up_to_widgets_resolve_lazily_with_a_warning(module, name):
    import importlib

    from kitlib import widgets

    with pytest.warns(DeprecationWarning, match=f"kitlib.widgets.{name}"):
        assert getattr(importlib.import_module(module), name) is getattr(widgets, name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        getattr(importlib.import_module(module), "nothing")


def test_deprecated_alias_warns_at_the_callers_line():
    from kitlib import train
    from kitlib.models.dcgan import report_generator

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        images = train.generate(report_generator(8, 32), 1)
    assert images.shape == (1, 32, 32, 3)
    assert caught[0].category is DeprecationWarning and caught[0].filename == __file__
