"""keras-io's "Denoising Diffusion Implicit Models" (András Béres), re-expressed for the side-by-side benchmark.

Source: keras-team/keras-io, ``examples/generative/ddim.py`` at commit ``093dad4127f0b3dc1575e65ac62a054a240e0d0f``
(created 2022/06/24, Oxford Flowers at 64x64). Followed exactly: the residual U-Net (widths 32/64/96/128, block depth
2, a 1x1 convolution of the image concatenated with a 32-dim sinusoidal embedding of the noise variance (frequencies
1 to 1000) upsampled over the image, residual blocks of BatchNormalization without centre and scale, two 3x3
convolutions (the first with swish) and a 1x1 projection when the width changes, average pooling down, bilinear
upsampling up, a zero-initialised 1x1 output convolution); images in [0, 1] normalised by a ``Normalization`` layer
adapted on the training images; the continuous cosine schedule (signal rates 0.95 to 0.02); uniform diffusion times;
``mean_absolute_error`` between the noise and the predicted noise, minimised by AdamW (lr 1e-3, weight decay 1e-4);
batch 64 (``drop_remainder``), shuffle buffer 640; an EMA copy of the network (``clone_model``: its own random
initialisation, decay 0.999 from the first step, moving statistics included) that generates; deterministic DDIM
sampling with 20 steps (the source's ``plot_diffusion_steps``), denormalised and clipped to [0, 1]. float32, Keras
defaults. Changed: the folder (the source loads ``oxford_flowers102`` from TFDS, centre-crops and resizes; the
faces are already 64x64), the budget (the source trains 1 epoch and suggests 50), which ``kitlib.train.SnapshotClock``
sets, and the KID metric and best-checkpoint callback (they need the Inception weights; the bench scores every
snapshot the same way for every system instead).

Example:
>>> nets = build()
>>> {name: net.count_params() for name, net in nets.items()} == PARAMETERS
True
"""

from __future__ import annotations

import json
import math

import keras
import numpy as np
from keras import layers

IMAGE_SIZE = 64
WIDTHS = (32, 64, 96, 128)
BLOCK_DEPTH = 2
EMBEDDING_DIMS = 32
EMBEDDING_MAX_FREQUENCY = 1000.0
MIN_SIGNAL_RATE, MAX_SIGNAL_RATE = 0.02, 0.95
BATCH_SIZE = 64
EMA = 0.999
LEARNING_RATE, WEIGHT_DECAY = 1e-3, 1e-4
SAMPLING_STEPS = 20  # plot_diffusion_steps: what the source shows as its results
# Counted by hand from the source's layer list (docs: 16 residual blocks; BatchNormalization's two moving statistics
# per channel included, as count_params counts them): 128 + 29,920 + 18,560 + 57,600 + 73,984 + 144,800 + 166,272
# + 270,912 + 295,424 + 298,720 + 267,936 + 139,776 + 119,232 + 40,224 + 29,920 + 99.
PARAMETERS = {"network": 1_953_507}


class SinusoidalEmbedding(layers.Layer):
    """The source's ``sinusoidal_embedding`` Lambda: ``(B, 1, 1, 1)`` variances to ``(B, 1, 1, 32)`` sines and
    cosines of ``2 pi f x``, ``f`` geometrically spaced from 1 to 1000."""

    def call(self, x):
        frequencies = keras.ops.exp(keras.ops.linspace(math.log(1.0), math.log(EMBEDDING_MAX_FREQUENCY),
                                                       EMBEDDING_DIMS // 2))
        angular_speeds = 2.0 * math.pi * frequencies
        return keras.ops.concatenate([keras.ops.sin(angular_speeds * x), keras.ops.cos(angular_speeds * x)], axis=3)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:3], EMBEDDING_DIMS)


def _residual_block(x, width):
    residual = x if x.shape[3] == width else layers.Conv2D(width, kernel_size=1)(x)
    x = layers.BatchNormalization(center=False, scale=False)(x)
    x = layers.Conv2D(width, kernel_size=3, padding="same", activation=keras.activations.swish)(x)
    x = layers.Conv2D(width, kernel_size=3, padding="same")(x)
    return layers.Add()([x, residual])


def network(image_size: int = IMAGE_SIZE, widths=WIDTHS, block_depth: int = BLOCK_DEPTH) -> keras.Model:
    """The source's ``get_network``: ``[noisy images, noise variances] -> predicted noise``."""
    noisy_images = keras.Input(shape=(image_size, image_size, 3))
    noise_variances = keras.Input(shape=(1, 1, 1))
    e = SinusoidalEmbedding()(noise_variances)
    e = layers.UpSampling2D(size=image_size, interpolation="nearest")(e)
    x = layers.Concatenate()([layers.Conv2D(widths[0], kernel_size=1)(noisy_images), e])
    skips = []
    for width in widths[:-1]:
        for _ in range(block_depth):
            x = _residual_block(x, width)
            skips.append(x)
        x = layers.AveragePooling2D(pool_size=2)(x)
    for _ in range(block_depth):
        x = _residual_block(x, widths[-1])
    for width in reversed(widths[:-1]):
        x = layers.UpSampling2D(size=2, interpolation="bilinear")(x)
        for _ in range(block_depth):
            x = _residual_block(layers.Concatenate()([x, skips.pop()]), width)
    x = layers.Conv2D(3, kernel_size=1, kernel_initializer="zeros")(x)
    return keras.Model([noisy_images, noise_variances], x, name="residual_unet")


def build() -> dict[str, keras.Model]:
    """The source's denoising network, float32 whatever the global policy."""
    from kitlib.anchors import float32_networks

    return float32_networks({"network": network})


def diffusion_schedule(diffusion_times):
    """``(noise_rates, signal_rates)``: the source's continuous cosine schedule."""
    import tensorflow as tf

    start_angle, end_angle = tf.acos(MAX_SIGNAL_RATE), tf.acos(MIN_SIGNAL_RATE)
    angles = start_angle + diffusion_times * (end_angle - start_angle)
    return tf.sin(angles), tf.cos(angles)


class KerasIoDiffusion(keras.Model):
    """The source's ``DiffusionModel`` with its ``train_step`` (TensorFlow backend); ``generate`` as its own."""

    def __init__(self):
        super().__init__()
        self.normalizer = layers.Normalization(dtype="float32")
        nets = build()
        self.network = nets["network"]
        self.ema_network = keras.models.clone_model(self.network)  # its own initialisation, as in the source

    def compile(self, **kwargs):
        super().compile(**kwargs)
        self.noise_loss_tracker = keras.metrics.Mean(name="n_loss")
        self.image_loss_tracker = keras.metrics.Mean(name="i_loss")

    @property
    def metrics(self):
        return [self.noise_loss_tracker, self.image_loss_tracker]

    def denoise(self, noisy_images, noise_rates, signal_rates, training):
        network = self.network if training else self.ema_network
        pred_noises = network([noisy_images, noise_rates**2], training=training)
        return pred_noises, (noisy_images - noise_rates * pred_noises) / signal_rates

    def train_step(self, images):
        import tensorflow as tf

        images = self.normalizer(images, training=True)
        noises = tf.random.normal(shape=(BATCH_SIZE, IMAGE_SIZE, IMAGE_SIZE, 3))
        diffusion_times = tf.random.uniform(shape=(BATCH_SIZE, 1, 1, 1), minval=0.0, maxval=1.0)
        noise_rates, signal_rates = diffusion_schedule(diffusion_times)
        noisy_images = signal_rates * images + noise_rates * noises
        with tf.GradientTape() as tape:
            pred_noises, pred_images = self.denoise(noisy_images, noise_rates, signal_rates, training=True)
            # The source calls the compiled loss function directly: a per-pixel tensor, whose gradient is that of
            # its sum (the same update as its mean under AdamW up to epsilon).
            noise_loss = keras.losses.mean_absolute_error(noises, pred_noises)
            image_loss = keras.losses.mean_absolute_error(images, pred_images)
        gradients = tape.gradient(noise_loss, self.network.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.network.trainable_weights))
        self.noise_loss_tracker.update_state(noise_loss)
        self.image_loss_tracker.update_state(image_loss)
        for weight, ema_weight in zip(self.network.weights, self.ema_network.weights):
            ema_weight.assign(EMA * ema_weight + (1 - EMA) * weight)
        return {m.name: m.result() for m in self.metrics}


def dataset(folder, seed: int = 0):
    """The training images of ``folder`` in [0, 1], in a seeded random order (the source reads TFDS with
    ``shuffle_files=True``; a 640-image buffer alone would mix only neighbouring file names), one image per
    element."""
    import tensorflow as tf

    from kitlib.data.folders import image_folder

    images = np.stack(list(image_folder(folder, IMAGE_SIZE).as_numpy_iterator()))
    images = images[np.random.default_rng(seed).permutation(len(images))]
    return tf.data.Dataset.from_tensor_slices(images).map(lambda x: tf.cast(x, tf.float32) / 255.0).cache()


def train(folder, clock, seed: int = 0) -> None:
    """Trains the source's recipe on ``folder`` until ``clock`` stops it (``kitlib.train.SnapshotClock``)."""
    import tensorflow as tf

    from kitlib.train.callbacks import SnapshotCallback

    keras.utils.set_random_seed(seed)
    model = KerasIoDiffusion()
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate=LEARNING_RATE, weight_decay=WEIGHT_DECAY))
    images = dataset(folder, seed)
    model.normalizer.adapt(images.batch(BATCH_SIZE))  # the per-channel mean and variance of the training images
    # The source's .repeat(5).shuffle(640).batch(64, drop_remainder=True), iterated for as long as the clock runs.
    batches = (images.repeat(5).shuffle(10 * BATCH_SIZE, seed=seed).batch(BATCH_SIZE, drop_remainder=True)
               .repeat().prefetch(tf.data.AUTOTUNE))

    def snapshot(path):
        model.ema_network.save_weights(f"{path}.weights.h5")
        with open(f"{path}.json", "w") as f:
            json.dump({"mean": np.asarray(model.normalizer.mean).ravel().tolist(),
                       "variance": np.asarray(model.normalizer.variance).ravel().tolist()}, f)

    callback = SnapshotCallback(clock, snapshot)
    model.fit(batches, epochs=1, steps_per_epoch=10**9, callbacks=[callback], verbose=0)


def sample(path, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uint8 images from a snapshot: the EMA network's deterministic 20-step DDIM from seeded noise,
    denormalised and clipped to [0, 1] as the source's ``generate``."""
    import tensorflow as tf

    net = build()["network"]
    net.load_weights(f"{path}.weights.h5")
    with open(f"{path}.json") as f:
        stats = json.load(f)
    mean, std = np.float32(stats["mean"]), np.sqrt(np.float32(stats["variance"]))
    noise = np.random.default_rng(seed).standard_normal((n, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    step_size = 1.0 / SAMPLING_STEPS

    @tf.function
    def reverse_diffusion(next_noisy_images):
        for step in range(SAMPLING_STEPS):
            noisy_images = next_noisy_images
            times = tf.ones((tf.shape(noisy_images)[0], 1, 1, 1)) - step * step_size
            noise_rates, signal_rates = diffusion_schedule(times)
            pred_noises = net([noisy_images, noise_rates**2], training=False)
            pred_images = (noisy_images - noise_rates * pred_noises) / signal_rates
            next_noise_rates, next_signal_rates = diffusion_schedule(times - step_size)
            next_noisy_images = next_signal_rates * pred_images + next_noise_rates * pred_noises
        return pred_images

    out = np.concatenate([reverse_diffusion(tf.constant(noise[i:i + 64])).numpy() for i in range(0, n, 64)])
    images = np.clip(mean + out * std, 0.0, 1.0)
    return np.clip(np.round(images * 255.0), 0, 255).astype("uint8")
