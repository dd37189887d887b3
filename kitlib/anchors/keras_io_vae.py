"""keras-io's "Variational AutoEncoder" (fchollet), widened to 64-px colour for the side-by-side benchmark.

Source: keras-team/keras-io, ``examples/generative/vae.py`` at commit ``09e02e17d5cbf21ecf8a47f10d91587f963fc80a``
(created 2020/05/03, MNIST digits at 28x28x1). Followed exactly: latent size 2; the encoder (3x3 stride-2 ReLU
convolutions of 32 and 64 filters, Flatten, Dense 16 ReLU, Dense heads ``z_mean`` and ``z_log_var``, the
reparameterisation ``z_mean + exp(z_log_var / 2) * eps``); the decoder (Dense ReLU to a 64-channel map a quarter of
the image's side, 3x3 stride-2 ReLU transposed convolutions of 64 and 32 filters, a 3x3 sigmoid transposed
convolution to the image); the loss (``binary_crossentropy`` of the images and their reconstructions, which averages
over the last axis, summed over height and width, plus the KL term summed over the latent, both averaged over the
batch); Adam with Keras defaults (lr 1e-3); batch 128; images scaled to [0, 1]; one optimizer step per batch.
Widened, as the benchmark asks, to 64x64x3: the encoder's input, the decoder's Dense to 16x16x64 (the source's 7x7x64
for 28 px) and its last layer's 3 channels; nothing else. Generation: the decoder of ``z ~ N(0, I)`` (the source
plots a grid of the same prior's latents). float32, Keras defaults. Changed: the folder (the source loads MNIST) and
the budget (the source trains 30 epochs), which ``kitlib.train.SnapshotClock`` sets.

Example:
>>> nets = build()
>>> {name: net.count_params() for name, net in nets.items()} == PARAMETERS
True
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

IMAGE_SIZE = 64
LATENT_DIM = 2
BATCH_SIZE = 128
# Counted from the layer list at 64x64x3: encoder 896 + 18,496 + 262,160 + 34 + 34; decoder 49,152 (Dense 2 -> 16,384)
# + 36,928 + 18,464 + 867.
PARAMETERS = {"encoder": 281_620, "decoder": 105_411}


class Sampling(layers.Layer):
    """The source's ``Sampling`` layer: ``z_mean + exp(0.5 * z_log_var) * eps``, ``eps ~ N(0, I)``."""

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(keras.ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + keras.ops.exp(0.5 * z_log_var) * epsilon


def _encoder() -> keras.Model:
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
    x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(inputs)
    x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Dense(16, activation="relu")(layers.Flatten()(x))
    z_mean = layers.Dense(LATENT_DIM, name="z_mean")(x)
    z_log_var = layers.Dense(LATENT_DIM, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var, Sampling()([z_mean, z_log_var])], name="encoder")


def _decoder() -> keras.Model:
    side = IMAGE_SIZE // 4
    inputs = keras.Input(shape=(LATENT_DIM,))
    x = layers.Reshape((side, side, 64))(layers.Dense(side * side * 64, activation="relu")(inputs))
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(3, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs, name="decoder")


def build() -> dict[str, keras.Model]:
    """The source's encoder and decoder at 64x64x3, float32 whatever the global policy."""
    from kitlib.anchors import float32_networks

    return float32_networks({"encoder": _encoder, "decoder": _decoder})


class KerasIoVAE(keras.Model):
    """The source's ``VAE(keras.Model)`` with its ``train_step`` (TensorFlow backend)."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = tf.reduce_mean(
                tf.reduce_sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2)))
            kl_loss = -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
            kl_loss = tf.reduce_mean(tf.reduce_sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {m.name: m.result() for m in self.metrics}


def dataset(folder, seed: int = 0):
    """The source's ``fit(x, batch_size=128)`` on the images of ``folder``: in [0, 1], reshuffled every epoch
    (``fit``'s default), batches of 128 with the remainder, repeated."""
    import tensorflow as tf

    from kitlib.data.folders import image_folder

    images = np.stack(list(image_folder(folder, IMAGE_SIZE).as_numpy_iterator())).astype("float32") / 255.0
    return (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(BATCH_SIZE).repeat().prefetch(tf.data.AUTOTUNE))


def train(folder, clock, seed: int = 0) -> None:
    """Trains the source's recipe on ``folder`` until ``clock`` stops it (``kitlib.train.SnapshotClock``)."""
    from kitlib.train.callbacks import SnapshotCallback

    keras.utils.set_random_seed(seed)
    nets = build()
    vae = KerasIoVAE(nets["encoder"], nets["decoder"])
    vae.compile(optimizer=keras.optimizers.Adam())
    callback = SnapshotCallback(clock, lambda path: vae.decoder.save(f"{path}.keras"))
    vae.fit(dataset(folder, seed), epochs=1, steps_per_epoch=10**9, callbacks=[callback], verbose=0)


def sample(path, n: int, seed: int = 0) -> np.ndarray:
    """``n`` uint8 images from a snapshot: the decoder's sigmoid output for seeded ``z ~ N(0, I)``, times 255."""
    decoder = keras.models.load_model(f"{path}.keras", compile=False)
    latents = np.random.default_rng(seed).standard_normal((n, LATENT_DIM)).astype("float32")
    out = np.concatenate([keras.ops.convert_to_numpy(decoder(latents[i:i + 256], training=False))
                          for i in range(0, n, 256)])
    return np.clip(np.round(out * 255.0), 0, 255).astype("uint8")
