"""TensorFlow's pix2pix tutorial, re-expressed for the side-by-side benchmark (central-square inpainting).

Source: tensorflow/docs, ``site/en/tutorials/generative/pix2pix.ipynb`` at commit
``0fc9db129b8a570a846e8c5b3b404f4d88b12a50``; its networks are the ones tensorflow/examples ships as
``tensorflow_examples/models/pix2pix/pix2pix.py`` at commit ``4d9ca8b939987f60067da3fe59dc08a5c1524e80``
(``unet_generator`` and ``discriminator`` with ``norm_type='batchnorm'``), which the CycleGAN tutorial imports with
``norm_type='instancenorm'`` (``kitlib.anchors.tf_cyclegan`` builds them from here).
Followed exactly: the U-Net (eight 4x4 stride-2 convolutions 64-128-256-512x5 without bias, batch norm from the
second, LeakyReLU 0.3; seven 4x4 stride-2 transposed convolutions 512x4-256-128-64 with batch norm, 50% dropout on
the first three, ReLU, skip concatenations; a 4x4 stride-2 transposed tanh convolution), the conditional PatchGAN
(input and target concatenated; 64-128-256 stride 2, zero padding, 512 stride 1, a 30x30 logit map), kernels
N(0, 0.02), the generator loss ``BCE(ones, D(x, G(x))) + LAMBDA * L1`` with LAMBDA = 100, the discriminator loss
``BCE(ones, real) + BCE(zeros, fake)``, ``Adam(2e-4, beta_1=0.5)`` for each network, batch 1, ``shuffle(400)``,
the jitter of each (input, target) pair together (nearest-neighbour resize to 286, one random 256 crop of both,
one random flip of both), images in [-1, 1], the ``train_step`` (two tapes, both networks updated from the same
forward pass) and ``generate_images``' inference with ``training=True`` (the tutorial's choice: batch statistics of
the test image). float32, as published.
Changed: the data path. The tutorial reads A|B JPEGs of facades; here the pairs are (photo with its centred square
of 1/9 of the area painted white, photo), made in memory from ``FOLDER`` at 256 px, exactly what
``kitlib.data.write_inpainting_pairs(FOLDER, DST, 256)`` would write for it; and the budget (the tutorial trains
40,000 steps), which ``kitlib.train.SnapshotClock`` sets.

Example:
>>> nets = build()                                                                   # doctest: +SKIP
>>> {name: net.count_params() for name, net in nets.items()} == PARAMETERS            # doctest: +SKIP
True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from kitlib.images import from_pixels

IMAGE_SIZE, LOAD_SIZE = 256, 286
LAMBDA = 100
LEARNING_RATE, BETA_1 = 2e-4, 0.5
BUFFER_SIZE = 400
# The tutorial's model summaries: Generator 54,425,859; Discriminator 2,770,433.
PARAMETERS = {"generator": 54_425_859, "discriminator": 2_770_433}


class InstanceNormalization(layers.Layer):
    """pix2pix.py's instance norm: per image and channel over height and width, scale N(1, 0.02), offset 0."""

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=input_shape[-1:],
                                     initializer=keras.initializers.RandomNormal(1.0, 0.02), trainable=True)
        self.offset = self.add_weight(name="offset", shape=input_shape[-1:], initializer="zeros", trainable=True)

    def call(self, x):
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        return self.scale * (x - mean) * tf.math.rsqrt(variance + self.epsilon) + self.offset

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _norm(norm_type: str) -> layers.Layer:
    if norm_type == "batchnorm":
        return layers.BatchNormalization()
    if norm_type == "instancenorm":
        return InstanceNormalization()
    raise ValueError(f"norm_type must be 'batchnorm' or 'instancenorm'. Received: {norm_type!r}")


def downsample(filters, size, norm_type="batchnorm", apply_norm=True) -> keras.Sequential:
    """Conv2D(4x4, stride 2, no bias) -> norm -> LeakyReLU(0.3)."""
    block = keras.Sequential()
    block.add(layers.Conv2D(filters, size, strides=2, padding="same", kernel_initializer=_init(), use_bias=False))
    if apply_norm:
        block.add(_norm(norm_type))
    block.add(layers.LeakyReLU(negative_slope=0.3))  # tf.keras' LeakyReLU() default, as the source calls it
    return block


def upsample(filters, size, norm_type="batchnorm", apply_dropout=False) -> keras.Sequential:
    """Conv2DTranspose(4x4, stride 2, no bias) -> norm -> [Dropout(0.5)] -> ReLU."""
    block = keras.Sequential()
    block.add(layers.Conv2DTranspose(filters, size, strides=2, padding="same", kernel_initializer=_init(),
                                     use_bias=False))
    block.add(_norm(norm_type))
    if apply_dropout:
        block.add(layers.Dropout(0.5))
    block.add(layers.ReLU())
    return block


def unet_generator(name: str = "generator", norm_type: str = "batchnorm") -> keras.Model:
    """``pix2pix.unet_generator(3, norm_type)`` (fully convolutional: any size divisible by 256)."""
    down_stack = [downsample(64, 4, norm_type, apply_norm=False), downsample(128, 4, norm_type),
                  downsample(256, 4, norm_type), *[downsample(512, 4, norm_type) for _ in range(5)]]
    up_stack = [*[upsample(512, 4, norm_type, apply_dropout=True) for _ in range(3)], upsample(512, 4, norm_type),
                upsample(256, 4, norm_type), upsample(128, 4, norm_type), upsample(64, 4, norm_type)]
    last = layers.Conv2DTranspose(3, 4, strides=2, padding="same", kernel_initializer=_init(), activation="tanh")
    inputs = keras.Input(shape=[None, None, 3])
    x, skips = inputs, []
    for down in down_stack:
        x = down(x)
        skips.append(x)
    for up, skip in zip(up_stack, reversed(skips[:-1])):
        x = layers.Concatenate()([up(x), skip])
    return keras.Model(inputs, last(x), name=name)


def discriminator(name: str = "discriminator", norm_type: str = "batchnorm", target: bool = True) -> keras.Model:
    """``pix2pix.discriminator(norm_type, target)``: a 30x30 logit map at 256 px; with ``target`` it sees the input
    and the (real or generated) target concatenated, as pix2pix's conditional discriminator."""
    inputs = keras.Input(shape=[None, None, 3], name="input_image")
    x = inputs
    model_inputs = [inputs]
    if target:
        tar = keras.Input(shape=[None, None, 3], name="target_image")
        x = layers.Concatenate()([inputs, tar])
        model_inputs.append(tar)
    x = downsample(64, 4, norm_type, apply_norm=False)(x)
    x = downsample(256, 4, norm_type)(downsample(128, 4, norm_type)(x))
    x = layers.Conv2D(512, 4, strides=1, kernel_initializer=_init(), use_bias=False)(layers.ZeroPadding2D()(x))
    x = layers.LeakyReLU(negative_slope=0.3)(_norm(norm_type)(x))
    x = layers.Conv2D(1, 4, strides=1, kernel_initializer=_init())(layers.ZeroPadding2D()(x))
    return keras.Model(model_inputs if target else inputs, x, name=name)


def build() -> dict[str, keras.Model]:
    """The tutorial's two networks, float32 whatever the global policy."""
    from kitlib.anchors import float32_networks

    return float32_networks({"generator": lambda: unet_generator("generator"),
                             "discriminator": lambda: discriminator("discriminator")})


def _random_jitter(input_image, real_image):
    """The tutorial's ``random_jitter``: both resized to 286 (nearest), one 256 crop of the stacked pair, one flip."""
    input_image = tf.image.resize(input_image, [LOAD_SIZE, LOAD_SIZE], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    real_image = tf.image.resize(real_image, [LOAD_SIZE, LOAD_SIZE], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    stacked = tf.image.random_crop(tf.stack([input_image, real_image]), size=[2, IMAGE_SIZE, IMAGE_SIZE, 3])
    input_image, real_image = stacked[0], stacked[1]
    if tf.random.uniform(()) > 0.5:
        input_image, real_image = tf.image.flip_left_right(input_image), tf.image.flip_left_right(real_image)
    return input_image, real_image


def _load_image_train(input_image, real_image):
    """The tutorial's ``load_image_train`` after decoding: jitter, then [-1, 1]."""
    input_image, real_image = _random_jitter(tf.cast(input_image, tf.float32), tf.cast(real_image, tf.float32))
    return from_pixels(input_image), from_pixels(real_image)  # the tutorial's normalize


def inpainting_inputs(photos: np.ndarray) -> np.ndarray:
    """The photos (uint8) with the centred square of 1/9 of the area painted white: the benchmark's inputs."""
    from kitlib.data import inpainting_mask

    masked = np.array(photos, copy=True)
    masked[:, inpainting_mask(photos.shape[1:3])] = 255
    return masked


def train(folder, clock, seed: int = 0) -> None:
    """Trains the tutorial's recipe on (masked, photo) pairs of the images in ``folder`` until ``clock`` stops it."""
    from kitlib.data.folders import image_folder

    keras.utils.set_random_seed(seed)
    photos = np.stack(list(image_folder(folder, IMAGE_SIZE).as_numpy_iterator()))
    pairs = (tf.data.Dataset.from_tensor_slices((inpainting_inputs(photos), photos))
             .map(_load_image_train).shuffle(BUFFER_SIZE, seed=seed).batch(1))
    nets = build()
    generator, disc = nets["generator"], nets["discriminator"]
    generator_optimizer = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)
    discriminator_optimizer = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(input_image, target):
        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            gen_output = generator(input_image, training=True)
            disc_real_output = disc([input_image, target], training=True)
            disc_generated_output = disc([input_image, gen_output], training=True)
            gan_loss = bce(tf.ones_like(disc_generated_output), disc_generated_output)
            gen_total_loss = gan_loss + LAMBDA * tf.reduce_mean(tf.abs(target - gen_output))
            disc_loss = (bce(tf.ones_like(disc_real_output), disc_real_output)
                         + bce(tf.zeros_like(disc_generated_output), disc_generated_output))
        generator_optimizer.apply_gradients(zip(gen_tape.gradient(gen_total_loss, generator.trainable_variables),
                                                generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(disc_tape.gradient(disc_loss, disc.trainable_variables),
                                                    disc.trainable_variables))

    def snapshot(path):
        generator.save_weights(f"{path}.generator.weights.h5")

    step = 0
    for input_image, target in pairs.repeat():  # the tutorial's train_ds.repeat().take(steps)
        train_step(input_image, target)
        step += 1
        if clock.tick(step, snapshot):
            return


def inpaint(path, masked: np.ndarray) -> np.ndarray:
    """The generator's outputs (uint8, whole images) for uint8 masked inputs, one image at a time with
    ``training=True`` as the tutorial's ``generate_images`` calls it."""
    from kitlib.images import to_uint8

    generator = build()["generator"]
    generator.load_weights(f"{path}.generator.weights.h5")
    return np.concatenate([to_uint8(generator(tf.convert_to_tensor(from_pixels(image[None])), training=True).numpy())
                           for image in masked])
