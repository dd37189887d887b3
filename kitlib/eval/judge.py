"""A domain judge: a small classifier that tells two image domains apart (Monet paintings vs photos), trained on
real training images only, used to score unpaired translations offline (no Inception weights needed).

A translation model is scored by the share of its held-out translations the judge assigns to the target domain,
read between two ends measured on real held-out images: untouched source images (what "no translation" scores) and
target-domain images (what a perfect translation would score). The judge never sees a translation while it learns,
so it cannot be tuned to any model. It looks at 128-px thumbnails, so it judges colour, light and brush texture
rather than fine detail; ``kitlib.quality`` therefore also reports blurred source images, the control that tells
"looks painted" from "is blurry". A limit, measured: a two-class judge answers "source or not", so output unlike
any photo (the washed-out, checkerboarded images of a barely trained generator) can be called a painting; read its
share next to a distance to the target images (``kitlib.quality`` headlines the SWD for that reason).

Example:
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> dark = rng.integers(0, 80, (40, 32, 32, 3)).astype("uint8")
>>> light = rng.integers(170, 255, (40, 32, 32, 3)).astype("uint8")
>>> judge = train_domain_judge(light, dark, image_size=32, epochs=3, seed=0)
>>> round(domain_share(judge, light), 1), round(domain_share(judge, dark), 1)
(1.0, 0.0)
"""

from __future__ import annotations

import pathlib

import keras
import numpy as np

JUDGE_IMAGE_SIZE = 128
JUDGE_FILE = "domain_judge.keras"


def build_domain_judge(image_size: int = JUDGE_IMAGE_SIZE, filters: int = 32, seed: int = 0) -> keras.Model:
    """Four stride-2 3x3 convolutions (``filters`` doubling), group norm, ReLU, global average pooling and one logit
    ("is the target domain"). Inputs: uint8-range floats ``(N, image_size, image_size, 3)`` in [0, 255].

    Group norm, not batch norm: no running statistics, so a judge trained for a few steps (a small dataset) judges
    at inference exactly as it learned."""
    init = keras.initializers.HeNormal(seed=seed)
    inputs = keras.Input((image_size, image_size, 3), dtype="float32", name="image")
    x = keras.layers.Rescaling(2.0 / 255.0, offset=-1.0, dtype="float32")(inputs)  # [0, 255] -> [-1, 1]
    for i in range(4):
        x = keras.layers.Conv2D(filters * 2**i, 3, strides=2, padding="same", use_bias=False,
                                kernel_initializer=init, dtype="float32")(x)
        x = keras.layers.GroupNormalization(groups=8, dtype="float32")(x)
        x = keras.layers.ReLU(dtype="float32")(x)
    x = keras.layers.GlobalAveragePooling2D(dtype="float32")(x)
    outputs = keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
                                 dtype="float32", name="logit")(x)
    return keras.Model(inputs, outputs, name="domain_judge")


def thumbnails(images, image_size: int = JUDGE_IMAGE_SIZE) -> np.ndarray:
    """uint8 ``(N, H, W, 3)`` -> float32 ``(N, image_size, image_size, 3)`` in [0, 255] (area resize)."""
    import tensorflow as tf

    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must be (N, H, W, 3). Received shape {images.shape}")
    out = []
    for start in range(0, len(images), 256):
        batch = tf.convert_to_tensor(images[start:start + 256], tf.float32)
        if batch.shape[1] != image_size or batch.shape[2] != image_size:
            batch = tf.image.resize(batch, (image_size, image_size), method="area")
        out.append(batch.numpy())
    return np.concatenate(out)


def train_domain_judge(target_images, other_images, *, image_size: int = JUDGE_IMAGE_SIZE, epochs: int = 8,
                       batch_size: int = 32, seed: int = 0) -> keras.Model:
    """Trains a judge that says "target" (logit > 0) for ``target_images`` and "other" for ``other_images``.

    Each epoch sees every image of the smaller set and as many of the larger one (drawn afresh), with random
    horizontal flips, so the two classes weigh the same whatever their counts (monet2photo: 1,072 vs 6,287).

    Args:
        target_images, other_images: uint8 ``(N, H, W, 3)`` real training images of the two domains.
        image_size: side of the thumbnails the judge sees.
        epochs: passes over the balanced set.
        batch_size: images per step.
        seed: seeds the weights, the draws and the flips.
    """
    target, other = thumbnails(target_images, image_size), thumbnails(other_images, image_size)
    if len(target) < 2 or len(other) < 2:
        raise ValueError(f"the judge needs at least 2 images per domain. Received {len(target)} and {len(other)}")
    rng = np.random.default_rng(seed)
    keras.utils.set_random_seed(seed)
    judge = build_domain_judge(image_size, seed=seed)
    judge.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.BinaryCrossentropy(from_logits=True))
    n = min(len(target), len(other))
    for _ in range(epochs):
        x = np.concatenate([target[rng.choice(len(target), n, replace=False)],
                            other[rng.choice(len(other), n, replace=False)]])
        y = np.concatenate([np.ones(n, "float32"), np.zeros(n, "float32")])
        flip = rng.random(len(x)) < 0.5
        x[flip] = x[flip, :, ::-1]
        order = rng.permutation(len(x))
        judge.fit(x[order], y[order], batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return judge


def domain_share(judge: keras.Model, images) -> float:
    """The share of ``images`` (uint8) the judge assigns to its target domain."""
    x = thumbnails(images, int(judge.input_shape[1]))
    logits = np.concatenate([keras.ops.convert_to_numpy(judge(x[i:i + 128], training=False))
                             for i in range(0, len(x), 128)])
    return float(np.mean(logits[:, 0] > 0))


def blurred(images, sigma: float = 2.0) -> np.ndarray:
    """uint8 images under a Gaussian blur of ``sigma`` pixels (the judge's "blurry is not painted" control)."""
    import tensorflow as tf

    radius = int(3 * sigma)
    t = np.arange(-radius, radius + 1, dtype="float32")
    kernel = np.exp(-t**2 / (2 * sigma**2))
    kernel /= kernel.sum()
    x = tf.convert_to_tensor(np.asarray(images), tf.float32)
    x = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], mode="REFLECT")
    depthwise = np.tile(kernel[:, None, None, None], (1, 1, 3, 1))
    x = tf.nn.depthwise_conv2d(x, depthwise, [1, 1, 1, 1], "VALID")
    x = tf.nn.depthwise_conv2d(x, depthwise.transpose(1, 0, 2, 3), [1, 1, 1, 1], "VALID")
    return np.clip(np.round(x.numpy()), 0, 255).astype("uint8")


def load_or_train_judge(folder, training_images, **kwargs) -> keras.Model:
    """The judge saved in ``folder`` (``domain_judge.keras``), else one trained on ``training_images()`` (a callable
    returning ``(target_images, other_images)``, called only then) and saved there atomically."""
    import os

    path = pathlib.Path(folder) / JUDGE_FILE
    if path.exists():
        return keras.models.load_model(path, compile=False)
    judge = train_domain_judge(*training_images(), **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.keras")  # Keras wants the .keras suffix
    judge.save(tmp)
    os.replace(tmp, path)
    return judge


__all__ = ["build_domain_judge", "train_domain_judge", "domain_share", "blurred", "load_or_train_judge",
           "thumbnails"]
