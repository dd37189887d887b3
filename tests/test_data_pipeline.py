"""Tests for kitlib.data.pipeline (prepare) and kitlib.data.augment (jitter, DiffAugment)."""

import numpy as np
import pytest
import tensorflow as tf

from kitlib import data
from kitlib.data.augment import diff_augment, jitter, random_jitter


def _images(n=20, size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _first_batches(batches, k):
    return [b.numpy() for b in batches.take(k)]


# ------------------------------------------------------------------------------------------------------ prepare
def test_to_float_and_to_uint8_round_trip_numpy_and_tf():
    x = np.array([[0, 127, 255]], np.uint8)
    f = data.to_float(x)
    np.testing.assert_allclose(f, [[-1.0, 127 / 127.5 - 1, 1.0]], atol=1e-6)
    np.testing.assert_array_equal(data.to_uint8(f), x)
    np.testing.assert_array_equal(data.to_uint8(tf.constant([-2.0, 0.0, 2.0])).numpy(), [0, 128, 255])
    assert data.to_float(tf.constant(x)).dtype == tf.float32


def test_prepare_batches_range_and_steps_per_epoch():
    batches = data.prepare(tf.data.Dataset.from_tensor_slices(_images(20)), 8, seed=0)
    assert batches.steps_per_epoch == 2
    first = next(iter(batches))
    assert first.shape == (8, 8, 8, 3) and first.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(first)) and float(tf.reduce_max(first)) <= 1.0


def test_prepare_same_seed_same_stream_over_two_epochs_different_seed_differs():
    ds = tf.data.Dataset.from_tensor_slices(_images(16))
    make = lambda seed: data.prepare(ds, 4, seed=seed, augment=jitter(8))  # noqa: E731
    a, b = _first_batches(make(3), 8), _first_batches(make(3), 8)  # 8 batches = 2 epochs of 4
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    c = _first_batches(make(4), 8)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))


def test_prepare_skip_resumes_exactly():
    ds = tf.data.Dataset.from_tensor_slices(_images(12))
    full = _first_batches(data.prepare(ds, 4, seed=1, augment=jitter(8)), 7)
    resumed = _first_batches(data.prepare(ds, 4, seed=1, augment=jitter(8)).skip(5), 2)
    np.testing.assert_array_equal(full[5], resumed[0])
    np.testing.assert_array_equal(full[6], resumed[1])


def test_prepare_each_pass_holds_every_image_once_without_shuffle_buffer_blur():
    images = _images(12)
    batches = data.prepare(tf.data.Dataset.from_tensor_slices(images), 4, seed=0, repeat=False)
    seen = np.concatenate([b.numpy() for b in batches])
    assert seen.shape[0] == 12
    got = sorted(map(bytes, data.to_uint8(seen)))
    assert got == sorted(map(bytes, images))


def test_prepare_one_pass_keeps_remainder_when_asked():
    ds = tf.data.Dataset.from_tensor_slices(_images(10))
    kept = data.prepare(ds, 4, repeat=False, drop_remainder=False, shuffle=False)
    assert [b.shape[0] for b in kept] == [4, 4, 2] and kept.steps_per_epoch == 3
    dropped = data.prepare(ds, 4, repeat=False)
    assert [b.shape[0] for b in dropped] == [4, 4] and dropped.steps_per_epoch == 2


def test_prepare_fewer_images_than_a_batch_says_how_many():
    ds = tf.data.Dataset.from_tensor_slices(_images(3))
    with pytest.raises(ValueError, match=r"3 images, fewer than one batch of 8"):
        data.prepare(ds, 8)
    assert [b.shape[0] for b in data.prepare(ds, 8, repeat=False, drop_remainder=False)] == [3]


def test_prepare_bad_arguments():
    ds = tf.data.Dataset.from_tensor_slices(_images(4))
    with pytest.raises(ValueError, match="batch_size"):
        data.prepare(ds, 0)
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        data.prepare(_images(4), 2)
    with pytest.raises(ValueError, match="empty"):
        data.prepare(ds.take(0), 2)


def test_prepare_variable_size_images_need_a_cropping_augment():
    ds = tf.data.Dataset.from_generator(lambda: (np.zeros((8, 8 + i, 3), np.uint8) for i in range(4)),
                                        output_signature=tf.TensorSpec([None, None, 3], tf.uint8))
    ds = ds.apply(tf.data.experimental.assert_cardinality(4))
    with pytest.raises(ValueError, match="jitter"):
        data.prepare(ds, 2)
    batch = next(iter(data.prepare(ds, 2, augment=jitter(8, scale=1.0))))
    assert batch.shape == (2, 8, 8, 3)


def test_prepare_pairs_and_labels_keep_their_types():
    images, labels = _images(8), np.random.default_rng(1).integers(0, 5, (8, 8, 8), dtype=np.uint8)
    ds = tf.data.Dataset.from_tensor_slices((images, labels))
    x, y = next(iter(data.prepare(ds, 4, augment=jitter(8))))
    assert x.dtype == tf.float32 and y.dtype == tf.uint8 and y.shape == (4, 8, 8)
    assert set(np.unique(y.numpy())) <= set(range(5))


# ------------------------------------------------------------------------------------------------------ jitter
def test_random_jitter_is_identical_on_both_images_of_a_pair_and_a_label_map():
    a = tf.constant(_images(1, 16)[0])
    label = tf.constant(np.arange(256, dtype=np.uint8).reshape(16, 16))
    for k in range(6):
        x, y, lab = random_jitter((a, a, label), tf.constant([7, k]), image_size=16)
        np.testing.assert_array_equal(x.numpy(), y.numpy())
        # the label's values trace where each output pixel came from: the image must match that source pixel
        src = lab.numpy().astype(int)
        np.testing.assert_array_equal(x.numpy(), a.numpy()[src // 16, src % 16])


def test_random_jitter_dict_shapes_dtypes_and_determinism():
    element = {"a": tf.constant(_images(1, 32)[0]), "b": tf.constant(_images(1, 32, seed=1)[0]), "id": tf.constant(3)}
    out1 = random_jitter(element, tf.constant([1, 2]), image_size=32)
    out2 = random_jitter(element, tf.constant([1, 2]), image_size=32)
    assert out1["a"].shape == (32, 32, 3) and out1["a"].dtype == tf.uint8 and int(out1["id"]) == 3
    np.testing.assert_array_equal(out1["a"].numpy(), out2["a"].numpy())
    outputs = {random_jitter(element, tf.constant([1, k]), image_size=32)["a"].numpy().tobytes() for k in range(8)}
    assert len(outputs) > 4  # different crops/flips for different seeds


def test_random_jitter_scale_one_no_flip_is_identity_on_square_images():
    a = tf.constant(_images(1, 16)[0])
    np.testing.assert_array_equal(random_jitter(a, 5, image_size=16, scale=1.0, flip=False).numpy(), a.numpy())


def test_random_jitter_flip_happens_about_half_the_time():
    a = tf.constant(np.arange(8, dtype=np.uint8)[None, :, None].repeat(8, 0).repeat(3, 2))
    flips = sum(int(random_jitter(a, tf.constant([0, k]), image_size=8, scale=1.0)[0, 0, 0]) == 7 for k in range(40))
    assert 10 <= flips <= 30


def test_jitter_validates_arguments():
    with pytest.raises(ValueError, match="scale"):
        jitter(8, scale=0.5)
    with pytest.raises(ValueError, match="image_size"):
        jitter(0)
    with pytest.raises(ValueError, match="same height and width"):
        random_jitter((tf.zeros((8, 8, 3)), tf.zeros((4, 4, 3))), 0, image_size=4)


# ------------------------------------------------------------------------------------------------- DiffAugment
def test_diff_augment_shape_range_determinism_and_gradient():
    x = tf.constant(data.to_float(_images(4, 16)))
    out = diff_augment(x, tf.constant([1, 2]))
    assert out.shape == x.shape and out.dtype == tf.float32
    assert np.isfinite(out.numpy()).all()
    np.testing.assert_array_equal(out.numpy(), diff_augment(x, tf.constant([1, 2])).numpy())
    assert not np.array_equal(out.numpy(), diff_augment(x, tf.constant([1, 3])).numpy())
    # colour: brightness +-0.5, saturation x2 at most, contrast x1.5 at most keep values within a known bound
    assert float(tf.reduce_max(tf.abs(out))) < 12.0
    geometric = diff_augment(x, tf.constant([0, 1]), policy="translation,cutout")
    assert -1.0 <= float(tf.reduce_min(geometric)) and float(tf.reduce_max(geometric)) <= 1.0
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(diff_augment(x, tf.constant([3, 4])) ** 2)
    grad = tape.gradient(loss, x)
    assert grad is not None and float(tf.reduce_sum(tf.abs(grad))) > 0


def test_diff_augment_cutout_zeroes_a_quarter_square_and_translation_shifts():
    x = tf.ones((32, 16, 16, 3))
    cut = diff_augment(x, 0, policy="cutout").numpy()[..., 0] == 0
    for hole in cut:  # one axis-aligned square of side 8 (half the image), centred inside, possibly clipped
        rows, cols = np.flatnonzero(hole.any(axis=1)), np.flatnonzero(hole.any(axis=0))
        assert 4 <= len(rows) <= 8 and 4 <= len(cols) <= 8
        assert hole.sum() == len(rows) * len(cols) == (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    assert (cut.sum(axis=(1, 2)) == 64).any()
    x = tf.ones((8, 16, 16, 3))
    shifted = diff_augment(x, 1, policy="translation").numpy()
    assert set(np.unique(shifted)) <= {0.0, 1.0}
    assert ((shifted[..., 0] == 0).sum(axis=(1, 2)) <= 16 * 16 - 14 * 14).all()  # shift <= 2 px each way


def test_diff_augment_policy_validation_and_identity():
    x = tf.zeros((2, 8, 8, 3))
    np.testing.assert_array_equal(diff_augment(x + 0.5, 0, policy=" ").numpy(), x.numpy() + 0.5)
    with pytest.raises(ValueError, match="policy"):
        diff_augment(x, 0, policy="color,rotate")
    with pytest.raises(ValueError, match="float"):
        diff_augment(tf.zeros((2, 8, 8, 3), tf.uint8), 0)


def test_diff_augment_inside_tf_function_with_random_seed():
    @tf.function
    def step(images):
        seed = tf.random.uniform([2], 0, 2**31 - 1, dtype=tf.int32)
        return diff_augment(images, seed)

    assert step(tf.zeros((2, 8, 8, 3))).shape == (2, 8, 8, 3)


def test_random_jitter_without_resize_cuts_windows_at_the_images_own_scale():
    image = tf.reshape(tf.range(64 * 48 * 3) % 251, (64, 48, 3))
    image = tf.cast(image, tf.uint8)
    for k in range(5):
        out = random_jitter(image, tf.constant([3, k]), image_size=16, resize=False, flip=False).numpy()
        windows = [image[t:t + 16, l:l + 16].numpy() for t in range(64 - 15) for l in range(48 - 15)]
        assert any(np.array_equal(out, w) for w in windows)  # a plain window: no pixel resampled
    with pytest.raises(tf.errors.InvalidArgumentError, match="smaller than 80"):
        random_jitter(image, tf.constant([3, 0]), image_size=80, resize=False)
