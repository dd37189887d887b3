"""keras-io's "DCGAN to generate face images" (fchollet), re-expressed for the side-by-side benchmark.

Source: keras-team/keras-io, ``examples/generative/dcgan_overriding_train_step.py`` at commit
``cca4efba8e0b8514ae3817931696294039b3bfc9`` (the CelebA 64x64 version, "Last modified: 2021/01/01"). Followed
exactly: the two ``Sequential`` networks (latent 128; G: Dense 8x8x128, three 4x4 stride-2 transposed convolutions of
128/256/512 filters with LeakyReLU 0.2, a 5x5 sigmoid convolution; D: three 4x4 stride-2 convolutions 64/128/128 with
LeakyReLU 0.2, Flatten, Dropout 0.2, a sigmoid Dense), ``BinaryCrossentropy()`` on probabilities, Adam 1e-4 for both,
batch 32, images scaled to [0, 1] by ``image_dataset_from_directory(..., image_size=(64, 64), batch_size=32)``, and
its update order: one D step on ``concat(fakes, reals)`` labelled 1 / 0 plus ``0.05 * U(0, 1)`` label noise, then one G
step on fresh latents labelled 0 ("real"). float32, Keras defaults (no kitlib layer, precision policy or fused
optimizer). Changed: the folder (the source downloads CelebA), and the budget (the source trains 1 epoch and suggests
~100), which ``kitlib.train.SnapshotClock`` sets.

Example:
>>> nets = build()
>>> {name: net.count_params() for name, net in nets.items()} == PARAMETERS
True
"""

from __future__ import annotations

import pathlib

import keras
import numpy as np
from keras import layers

LATENT_DIM = 128
IMAGE_SIZE = 64
BATCH_SIZE = 32
LEARNING_RATE = 1e-4
# Counted from the source's layer list (Dense 128->8192, ConvT 128/256/512, Conv 5x5->3; Conv 64/128/128, Dense 1).
PARAMETERS = {"generator": 3_979_651, "discriminator": 404_801}


def build() -> dict[str, keras.Model]:
    """The source's generator and discriminator, float32 whatever the global policy."""
    discriminator = keras.Sequential([
        keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3)),
        layers.Conv2D(64, kernel_size=4, strides=2, padding="same", dtype="float32"),
        layers.LeakyReLU(negative_slope=0.2, dtype="float32"),
        layers.Conv2D(128, kernel_size=4, strides=2, padding="same", dtype="float32"),
        layers.LeakyReLU(negative_slope=0.2, dtype="float32"),
        layers.Conv2D(128, kernel_size=4, strides=2, padding="same", dtype="float32"),
        layers.LeakyReLU(negative_slope=0.2, dtype="float32"),
        layers.Flatten(dtype="float32"),
        layers.Dropout(0.2, dtype="float32"),
        layers.Dense(1, activation="sigmoid", dtype="float32"),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(LATENT_DIM,)),
        layers.Dense(8 * 8 * 128, dtype="float32"),
        layers.Reshape((8, 8, 128), dtype="float32"),
        layers.Conv2DTranspose(128, kernel_size=4, strides=2, padding="same", dtype="float32"),
        layers.LeakyReLU(negative_slope=0.2, dtype="float32"),
        layers.Conv2DTranspose(256, kernel_size=4, strides=2, padding="same", dtype="float32"),
        layers.LeakyReLU(negative_slope=0.2, dtype="float32"),
        layers.Conv2DTranspose(512, kernel_size=4, strides=2, padding="same", dtype="float32"),
        layers.LeakyReLU(negative_slope=0.2, dtype="float32"),
        layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid", dtype="float32"),
    ], name="generator")
    return {"generator": generator, "discriminator": discriminator}


class KerasIoGAN(keras.Model):
    """The source's ``GAN(keras.Model)`` with its ``train_step`` (TensorFlow backend)."""

    def __init__(self, discriminator, generator, latent_dim=LATENT_DIM, seed=0):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        import tensorflow as tf

        batch_size = tf.shape(real_images)[0]
        latents = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(latents)
        combined = tf.concat([generated, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * keras.random.uniform(tf.shape(labels), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        latents = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(latents)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def dataset(folder, seed: int = 0):
    """The source's pipeline on ``folder``: every image, resized to 64x64 (bilinear), batches of 32, in [0, 1]."""
    if not any(p.suffix.lower() in (".jpg", ".jpeg", ".png") for p in pathlib.Path(folder).rglob("*")):
        raise FileNotFoundError(f"No .jpg/.png images under {folder}: point --data at a folder holding train/ images.")
    ds = keras.utils.image_dataset_from_directory(
        folder, labels=None, image_size=(IMAGE_SIZE, IMAGE_SIZE), batch_size=BATCH_SIZE, seed=seed, verbose=False)
    return ds.map(lambda x: x / 255.0)


def train(folder, clock, seed: int = 0) -> None:
    """Trains the source's recipe on ``folder`` until ``clock`` stops it (``kitlib.train.SnapshotClock``)."""
    from kitlib.train.callbacks import SnapshotCallback

    keras.utils.set_random_seed(seed)
    nets = build()
    gan = KerasIoGAN(nets["discriminator"], nets["generator"], seed=seed)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
                g_optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
                loss_fn=keras.losses.BinaryCrossentropy())
    callback = SnapshotCallback(clock, lambda path: gan.generator.save(f"{path}.keras"))
    gan.fit(dataset(folder, seed).repeat(), epochs=1, steps_per_epoch=10**9, callbacks=[callback], verbose=0)


def sample(path, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uint8 images from a snapshot (the sigmoid output times 255, as the source's monitor saves them)."""
    generator = keras.models.load_model(f"{path}.keras", compile=False)
    latents = np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype("float32")
    out = np.concatenate([keras.ops.convert_to_numpy(generator(latents[i:i + 64], training=False))
                          for i in range(0, n, 64)])  # batches of 64: the 512-channel 64-px layer is large
    return np.clip(np.round(out * 255.0), 0, 255).astype("uint8")
