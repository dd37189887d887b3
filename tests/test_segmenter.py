"""U-Net segmenter and label fidelity: metrics on hand-computed arrays, error messages, the builder, a tiny
training that beats the majority class, and the GauGAN label-fidelity report on a run directory."""

import json

import keras
import numpy as np
import pytest

from kitlib import recipes, runtime
from kitlib.data.toy import LANDSCAPE_CLASSES, LANDSCAPE_PALETTE, make_landscapes
from kitlib.eval.segmentation import (class_iou, format_fidelity, label_fidelity, mean_iou, measure_label_fidelity,
                                      pixel_accuracy, segment, train_segmenter)
from kitlib.models import build_segmenter
from kitlib.models.spade import build_gaugan
from kitlib.train.gaugan import GauGAN

SIZE, CLASSES = 32, 8

pytestmark = pytest.mark.usefixtures("float32_runtime")


@pytest.fixture(scope="module")
def trained():
    """A segmenter trained on 32 toy landscapes (32 px), and 32 held-out landscapes."""
    runtime.setup(seed=0, precision="float32")
    images, labels = make_landscapes(32, SIZE, seed=0)
    model = train_segmenter(images, labels, CLASSES, epochs=12, batch_size=8, seed=0, filters=8)
    return model, make_landscapes(32, SIZE, seed=1)


def test_pixel_accuracy_ignores_the_ignore_label():
    true = np.array([[0, 1, 2], [2, 255, 255]])
    pred = np.array([[0, 1, 1], [2, 0, 7]])          # the two wrong guesses on 255 pixels do not count
    assert pixel_accuracy(pred, true) == pytest.approx(3 / 4)
    assert pixel_accuracy(pred, true, ignore_label=2) == pytest.approx(2 / 4)   # 255 is a class there: 2 of 4


def test_class_iou_and_mean_iou_leave_out_absent_classes():
    true = np.array([[0, 0, 1, 1], [1, 3, 255, 255]], np.uint8)
    pred = np.array([[0, 1, 1, 1], [3, 3, 2, 0]], np.uint8)
    # labelled pixels: (t, p) = (0,0) (0,1) (1,1) (1,1) (1,3) (3,3); class 2 is predicted only on a 255 pixel
    # class 0: TP 1, FP 0, FN 1 -> 1/2; class 1: TP 2, FP 1, FN 1 -> 2/4; class 3: TP 1, FP 1, FN 0 -> 1/2
    iou = class_iou(pred, true, num_classes=5)
    np.testing.assert_allclose(iou[[0, 1, 3]], [0.5, 0.5, 0.5])
    assert np.isnan(iou[2]) and np.isnan(iou[4])     # absent from both on the labelled pixels
    assert mean_iou(pred, true, num_classes=5) == pytest.approx(0.5)
    assert mean_iou(true, true, num_classes=5) == 1.0
    assert mean_iou(np.array([1, 0]), np.array([0, 1]), num_classes=2) == 0.0


def test_metric_errors_name_the_value_and_the_fix():
    with pytest.raises(ValueError, match=r"same shape.*\(2,\) and \(3,\)"):
        pixel_accuracy(np.zeros(2, int), np.zeros(3, int))
    with pytest.raises(ValueError, match="integer class ids.*float32.*argmax"):
        pixel_accuracy(np.zeros((2, 2, 8), np.float32), np.zeros((2, 2, 8), int))
    with pytest.raises(ValueError, match="no labelled pixel"):
        pixel_accuracy(np.zeros(3, int), np.full(3, 255))
    with pytest.raises(ValueError, match=r"pred_ids must be class ids in 0\.\.3.*\[9\].*num_classes"):
        mean_iou(np.array([0, 9]), np.array([0, 1]), num_classes=4)
    with pytest.raises(ValueError, match=r"true_ids.*0\.\.3.*\[4\]"):
        class_iou(np.array([0, 1]), np.array([0, 4]), num_classes=4)


def test_build_segmenter_shape_dtype_and_arguments():
    model = build_segmenter(SIZE, CLASSES, filters=4, depth=3)
    assert model.name == "segmenter" and model.output_shape == (None, SIZE, SIZE, CLASSES)
    assert [layer.name for layer in model.layers if "skip" in layer.name] == ["up2_skip", "up1_skip", "up0_skip"]
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    mixed = build_segmenter(SIZE, CLASSES, filters=4, depth=2)
    out = mixed(np.zeros((1, SIZE, SIZE, 3), np.float32))
    assert mixed.get_layer("down0_conv1").compute_dtype == "bfloat16"
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(ValueError, match=r"divisible by 2\*\*depth = 16.*image_size=40"):
        build_segmenter(40, CLASSES, depth=4)
    with pytest.raises(ValueError, match="num_classes must be an int >= 1. Received: num_classes=0"):
        build_segmenter(SIZE, 0)


def test_train_segmenter_and_segment_check_their_inputs():
    images, labels = make_landscapes(2, SIZE, seed=0)
    with pytest.raises(ValueError, match="uint8.*float32.*to_uint8"):
        train_segmenter(images.astype(np.float32), labels, CLASSES, epochs=1)
    with pytest.raises(ValueError, match=r"label_ids must have shape \(2, 32, 32\).*\(2, 32\)"):
        train_segmenter(images, labels[:, 0], CLASSES, epochs=1)
    bad = labels.copy()
    bad[0, 0, 0] = 8
    with pytest.raises(ValueError, match=r"label_ids .*0\.\.7.*\[8\]"):
        train_segmenter(images, bad, CLASSES, epochs=1)
    with pytest.raises(ValueError, match="32x32 for this segmenter. Received 64x64"):
        segment(build_segmenter(SIZE, CLASSES, filters=2, depth=1), np.zeros((1, 64, 64, 3), np.uint8))


def test_training_is_seeded():
    images, labels = make_landscapes(8, SIZE, seed=0)
    a, b = (train_segmenter(images, labels, CLASSES, epochs=1, seed=3, filters=2, depth=1) for _ in range(2))
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)


def test_a_tiny_training_beats_the_majority_class_on_held_out_landscapes(trained):
    model, (images, labels) = trained
    pred = segment(model, images)
    assert pred.shape == labels.shape and pred.dtype == np.uint8
    majority = max(np.mean(labels == c) for c in range(CLASSES))
    accuracy = pixel_accuracy(pred, labels)
    assert accuracy > majority + 0.2, (accuracy, majority)
    assert mean_iou(pred, labels, CLASSES) > 0.25


def test_label_fidelity_of_the_real_images_equals_the_ground_truth_row(trained):
    model, (images, labels) = trained
    same = label_fidelity(model, images, images, labels, CLASSES)
    assert same["generated"] == same["ground_truth"] and same["num_images"] == 32
    assert same["shuffled_maps"]["pixel_accuracy"] < same["ground_truth"]["pixel_accuracy"] - 0.1
    assert same["generated"]["pixel_accuracy"] == pixel_accuracy(segment(model, images), labels)
    flat = np.full_like(images, 128)                  # grey images do not show their maps
    result = label_fidelity(model, flat, images, labels, CLASSES)
    assert result["generated"]["pixel_accuracy"] < result["ground_truth"]["pixel_accuracy"]
    assert len(result["generated"]["class_iou"]) == CLASSES
    table = format_fidelity(result, LANDSCAPE_CLASSES)
    assert table.splitlines()[0].startswith("| images | pixel accuracy | mIoU | sky | cloud |")
    assert f"| ground truth (ceiling) | {result['ground_truth']['pixel_accuracy']:.3f} |" in table
    assert f"| real vs shuffled maps (baseline) | {result['shuffled_maps']['pixel_accuracy']:.3f} |" in table
    with pytest.raises(ValueError, match="same N maps"):
        label_fidelity(model, images[:2], images, labels, CLASSES)
    with pytest.raises(ValueError, match="at least 2 label maps.*Received 1"):
        label_fidelity(model, images[:1], images[:1], labels[:1], CLASSES)


def test_gaugan_label_fidelity_reads_a_run_directory(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    g, d, e = build_gaugan(SIZE, CLASSES, ngf=2, ndf=4, z_dim=8, spade_hidden=4)
    gaugan = GauGAN(g, d, e, vgg=None, palette=LANDSCAPE_PALETTE, seed=0)
    run = tmp_path / "run"
    gaugan.write_run_config(run, data={"source": "toy:landscapes"}, image_size=SIZE)
    gaugan.export(run)
    result = recipes.gaugan_label_fidelity(run, num_train=8, epochs=1, num_test=4, filters=2)
    saved = json.loads((run / "label_fidelity.json").read_text())
    assert saved["num_images"] == 4 and saved["segmenter"]["num_train"] == 8 and saved["step"] is None
    assert saved["generated"] == result["generated"] and 0 <= saved["generated"]["pixel_accuracy"] <= 1
    text = (run / "label_fidelity.md").read_text()
    assert "| generated |" in text and "| ground truth (ceiling) |" in text and text in capsys.readouterr().out
    from PIL import Image

    with Image.open(run / "label_fidelity.png") as figure:  # 4 rows (map, real, generated, segmentation) x 4 maps
        assert figure.size == (2 * (4 * SIZE + 3), 2 * (4 * SIZE + 3))
    gaugan.write_run_config(run, data={"source": "some/folder"})
    with pytest.raises(ValueError, match="toy:landscapes.*'some/folder'"):
        recipes.gaugan_label_fidelity(run)


def test_measure_label_fidelity_holds_out_the_last_of_your_own_pairs():
    """Notebook 06 with DATA set: the segmenter trains on the first pairs, the last fifth are the held-out maps."""
    keras.utils.set_random_seed(0)
    g, _, _ = build_gaugan(SIZE, 4, ngf=2, ndf=4, z_dim=8, spade_hidden=4)
    images, labels = make_landscapes(10, SIZE, seed=5)
    labels = np.minimum(labels, 3)  # four classes, as the generator's
    measured = measure_label_fidelity(g, (images, labels), epochs=1, filters=2)
    assert measured.scores["num_images"] == 2 and measured.scores["segmenter"]["num_train"] == 8
    np.testing.assert_array_equal(measured.label_ids, labels[-2:])
    np.testing.assert_array_equal(measured.real, images[-2:])
    assert measured.generated.shape == (2, SIZE, SIZE, 3) and measured.generated.dtype == np.uint8
    assert len(measured.scores["generated"]["class_iou"]) == 4
    with pytest.raises(ValueError, match="toy landscapes have 8 classes; this generator takes 4"):
        measure_label_fidelity(g)
    with pytest.raises(ValueError, match="Received 10 pairs, num_test=10"):
        measure_label_fidelity(g, (images, labels), num_test=10)

