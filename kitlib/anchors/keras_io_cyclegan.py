"""keras-io's "CycleGAN" example (A_K_Nain), re-expressed for the side-by-side benchmark.

Source: keras-team/keras-io, ``examples/generative/cyclegan.py`` at commit
``07eb501f6db3c8b8781d3592a67cd18316d707e6``. Followed exactly: the ResNet generator (reflection-padded 7x7 stem of
64 filters, two 3x3 stride-2 convolutions, nine residual blocks of 256 filters, two 3x3 stride-2 transposed
convolutions, a reflection-padded 7x7 convolution with bias and tanh; no bias before a norm), the discriminator (4x4
convolutions 64 stride 2 with bias, 128 and 256 stride 2, 512 stride 1, LeakyReLU 0.2, a 4x4 logit map), TensorFlow
Addons' ``InstanceNormalization`` with the example's gamma initializer N(0, 0.02) (Keras'
``GroupNormalization(groups=-1)``, epsilon 1e-3, which is what the Addons layer is), kernels N(0, 0.02), the
least-squares loss (``MeanSquaredError``, D loss halved), lambda_cycle 10 and lambda_identity 0.5, one
``Adam(2e-4, beta_1=0.5)`` per network, batch 1, the training preprocessing (random flip, bilinear resize to 286,
random crop to 256, [-1, 1]) mapped *before* ``cache()`` as in the source (so each image keeps its first crop and
flip), ``shuffle(256)``, ``Dataset.zip`` of the two domains (an epoch ends with the smaller one), and its
``train_step`` (one persistent tape; G, F, then D_X, D_Y updated). float32, as published. Changed: the folders (the
source loads ``cycle_gan/horse2zebra`` from TFDS; here ``trainA``/``trainB`` of a junyanz-layout folder) and the
budget (the source trains 1 epoch and loads 90-epoch weights), set by ``kitlib.train.SnapshotClock``.
G translates A -> B, F translates B -> A.

Example:
>>> nets = build()
>>> {name: net.count_params() for name, net in nets.items()} == PARAMETERS
True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from kitlib.images import from_pixels

IMAGE_SIZE, LOAD_SIZE = 256, 286
BUFFER_SIZE = 256
LAMBDA_CYCLE, LAMBDA_IDENTITY = 10.0, 0.5
LEARNING_RATE, BETA_1 = 2e-4, 0.5
# Counted from the source's layer list (convolution kernels, the last convolutions' biases, 2 weights per normalised
# channel): G = 7x7x3x64 + 3x3x64x128 + 3x3x128x256 + 9 x 2 x 3x3x256x256 + the transposed mirror + 7x7x64x3 + 3.
PARAMETERS = {"generator_g": 11_383_427, "generator_f": 11_383_427,
              "discriminator_x": 2_765_633, "discriminator_y": 2_765_633}


def _init():
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def _instance_norm():
    """``tfa.layers.InstanceNormalization(gamma_initializer=N(0, 0.02))`` in Keras 3."""
    return layers.GroupNormalization(groups=-1, epsilon=1e-3, gamma_initializer=_init())


class ReflectionPadding2D(layers.Layer):
    """The source's reflection padding layer."""

    def __init__(self, padding=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.padding = tuple(padding)

    def call(self, x):
        width, height = self.padding
        return tf.pad(x, [[0, 0], [height, height], [width, width], [0, 0]], mode="REFLECT")

    def compute_output_shape(self, shape):
        width, height = self.padding
        grow = lambda n, p: None if n is None else n + 2 * p  # noqa: E731
        return (shape[0], grow(shape[1], height), grow(shape[2], width), shape[3])

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


def _residual_block(x):
    dim = x.shape[-1]
    y = ReflectionPadding2D()(x)
    y = layers.Conv2D(dim, 3, kernel_initializer=_init(), padding="valid", use_bias=False)(y)
    y = layers.Activation("relu")(_instance_norm()(y))
    y = ReflectionPadding2D()(y)
    y = layers.Conv2D(dim, 3, kernel_initializer=_init(), padding="valid", use_bias=False)(y)
    return layers.add([x, _instance_norm()(y)])


def _down(x, filters, activation, kernel_size=3, strides=2):
    x = layers.Conv2D(filters, kernel_size, strides=strides, kernel_initializer=_init(), padding="same",
                      use_bias=False)(x)
    return activation(_instance_norm()(x))


def resnet_generator(name: str, shape=(IMAGE_SIZE, IMAGE_SIZE, 3)) -> keras.Model:
    """``get_resnet_generator()``: c7s1-64, d128, d256, 9 x R256, u128, u64, c7s1-3 (``shape`` may be
    ``(None, None, 3)`` to translate other sizes with the same weights)."""
    inputs = layers.Input(shape=shape, name=name + "_img_input")
    x = ReflectionPadding2D(padding=(3, 3))(inputs)
    x = layers.Conv2D(64, 7, kernel_initializer=_init(), use_bias=False)(x)
    x = layers.Activation("relu")(_instance_norm()(x))
    filters = 64
    for _ in range(2):
        filters *= 2
        x = _down(x, filters, layers.Activation("relu"))
    for _ in range(9):
        x = _residual_block(x)
    for _ in range(2):
        filters //= 2
        x = layers.Conv2DTranspose(filters, 3, strides=2, padding="same", kernel_initializer=_init(),
                                   use_bias=False)(x)
        x = layers.Activation("relu")(_instance_norm()(x))
    x = ReflectionPadding2D(padding=(3, 3))(x)
    x = layers.Activation("tanh")(layers.Conv2D(3, 7, padding="valid")(x))
    return keras.Model(inputs, x, name=name)


def patch_discriminator(name: str) -> keras.Model:
    """``get_discriminator()``: C64 (no norm), C128, C256 stride 2, C512 stride 1, a 1-channel 4x4 convolution."""
    inputs = layers.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3), name=name + "_img_input")
    x = layers.Conv2D(64, 4, strides=2, padding="same", kernel_initializer=_init())(inputs)
    x = layers.LeakyReLU(0.2)(x)
    for i, filters in enumerate((128, 256, 512)):
        x = _down(x, filters, layers.LeakyReLU(0.2), kernel_size=4, strides=2 if i < 2 else 1)
    x = layers.Conv2D(1, 4, strides=1, padding="same", kernel_initializer=_init())(x)
    return keras.Model(inputs, x, name=name)


def build() -> dict[str, keras.Model]:
    """The example's four networks, float32 whatever the global policy."""
    from kitlib.anchors import float32_networks

    return float32_networks({"generator_g": lambda: resnet_generator("generator_G"),
                             "generator_f": lambda: resnet_generator("generator_F"),
                             "discriminator_x": lambda: patch_discriminator("discriminator_X"),
                             "discriminator_y": lambda: patch_discriminator("discriminator_Y")})


class KerasIoCycleGan(keras.Model):
    """The source's ``CycleGan(keras.Model)`` and its ``train_step`` (TensorFlow backend)."""

    def __init__(self, generator_g, generator_f, discriminator_x, discriminator_y):
        super().__init__()
        self.gen_G, self.gen_F, self.disc_X, self.disc_Y = generator_g, generator_f, discriminator_x, discriminator_y
        self.mse, self.mae = keras.losses.MeanSquaredError(), keras.losses.MeanAbsoluteError()

    def compile(self):
        super().compile()
        self.optimizers = [keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1) for _ in range(4)]

    def train_step(self, batch_data):
        real_x, real_y = batch_data
        with tf.GradientTape(persistent=True) as tape:
            fake_y = self.gen_G(real_x, training=True)
            fake_x = self.gen_F(real_y, training=True)
            cycled_x = self.gen_F(fake_y, training=True)
            cycled_y = self.gen_G(fake_x, training=True)
            same_x = self.gen_F(real_x, training=True)
            same_y = self.gen_G(real_y, training=True)
            disc_real_x, disc_fake_x = self.disc_X(real_x, training=True), self.disc_X(fake_x, training=True)
            disc_real_y, disc_fake_y = self.disc_Y(real_y, training=True), self.disc_Y(fake_y, training=True)
            loss_g = (self.mse(tf.ones_like(disc_fake_y), disc_fake_y)
                      + self.mae(real_y, cycled_y) * LAMBDA_CYCLE
                      + self.mae(real_y, same_y) * LAMBDA_CYCLE * LAMBDA_IDENTITY)
            loss_f = (self.mse(tf.ones_like(disc_fake_x), disc_fake_x)
                      + self.mae(real_x, cycled_x) * LAMBDA_CYCLE
                      + self.mae(real_x, same_x) * LAMBDA_CYCLE * LAMBDA_IDENTITY)
            loss_dx = (self.mse(tf.ones_like(disc_real_x), disc_real_x)
                       + self.mse(tf.zeros_like(disc_fake_x), disc_fake_x)) * 0.5
            loss_dy = (self.mse(tf.ones_like(disc_real_y), disc_real_y)
                       + self.mse(tf.zeros_like(disc_fake_y), disc_fake_y)) * 0.5
        nets = (self.gen_G, self.gen_F, self.disc_X, self.disc_Y)
        grads = [tape.gradient(loss, net.trainable_variables)
                 for loss, net in zip((loss_g, loss_f, loss_dx, loss_dy), nets)]
        for optimizer, grad, net in zip(self.optimizers, grads, nets):
            optimizer.apply_gradients(zip(grad, net.trainable_variables))
        return {"G_loss": loss_g, "F_loss": loss_f, "D_X_loss": loss_dx, "D_Y_loss": loss_dy}


def _preprocess_train_image(image):
    image = tf.image.random_flip_left_right(image)
    image = tf.image.resize(image, [LOAD_SIZE, LOAD_SIZE])
    image = tf.image.random_crop(image, size=[IMAGE_SIZE, IMAGE_SIZE, 3])
    return from_pixels(image)  # the source's normalize_img


def dataset(images: np.ndarray, seed: int) -> tf.data.Dataset:
    """The source's pipeline on in-memory uint8 images: ``map(preprocess).cache().shuffle(256).batch(1)``."""
    return (tf.data.Dataset.from_tensor_slices(images).map(_preprocess_train_image).cache()
            .shuffle(BUFFER_SIZE, seed=seed).batch(1))


def train(data, clock, seed: int = 0) -> None:
    """Trains the example's recipe on ``DATA/trainA`` (X) and ``DATA/trainB`` (Y) until ``clock`` stops it."""
    from kitlib.anchors import unpaired_train_images
    from kitlib.train.callbacks import SnapshotCallback

    keras.utils.set_random_seed(seed)
    real_a, real_b = unpaired_train_images(data, IMAGE_SIZE)
    nets = build()
    model = KerasIoCycleGan(*(nets[k] for k in ("generator_g", "generator_f", "discriminator_x", "discriminator_y")))
    model.compile()

    def snapshot(path):
        model.gen_G.save_weights(f"{path}.g.weights.h5")
        model.gen_F.save_weights(f"{path}.f.weights.h5")

    pairs = tf.data.Dataset.zip((dataset(real_a, seed), dataset(real_b, seed + 1)))
    model.fit(pairs, epochs=10**6, callbacks=[SnapshotCallback(clock, snapshot)], verbose=0)


def translate(path, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(F(images), G(F(images)))`` for uint8 domain-B ``images`` (monet2photo: photo -> Monet -> photo), in
    inference mode as the source's test cell calls them; uint8."""
    from kitlib.anchors import translate_and_back

    g = resnet_generator("generator_G", (None, None, 3))
    f = resnet_generator("generator_F", (None, None, 3))
    g.load_weights(f"{path}.g.weights.h5")
    f.load_weights(f"{path}.f.weights.h5")
    return translate_and_back(f, g, images)
