"""TensorFlow's CycleGAN tutorial, re-expressed for the side-by-side benchmark.

Source: tensorflow/docs, ``site/en/tutorials/generative/cyclegan.ipynb`` at commit
``0fc9db129b8a570a846e8c5b3b404f4d88b12a50``, with the networks it imports from tensorflow/examples,
``tensorflow_examples/models/pix2pix/pix2pix.py`` at commit ``4d9ca8b939987f60067da3fe59dc08a5c1524e80``
(``unet_generator(3, norm_type='instancenorm')``, ``discriminator(norm_type='instancenorm', target=False)``).
Followed exactly: the U-Net (eight 4x4 stride-2 convolutions 64-128-256-512x5 without bias, instance norm from the
second, LeakyReLU 0.3; seven 4x4 stride-2 transposed convolutions 512x4-256-128-64 with instance norm, 50% dropout on
the first three, ReLU, skip concatenations; a 4x4 stride-2 transposed tanh convolution), the PatchGAN (64-128-256
stride 2, zero padding, 512 stride 1, a 1-channel 4x4 logit map), the tutorial's ``InstanceNormalization`` (scale
N(1, 0.02), offset 0, epsilon 1e-5; the networks are built by ``kitlib.anchors.tf_pix2pix``, the pix2pix.py
functions with their ``norm_type``), kernels N(0, 0.02), ``BinaryCrossentropy(from_logits=True)``, LAMBDA = 10 with
the identity loss at half of it, ``Adam(2e-4, beta_1=0.5)`` for each of the four networks, batch 1, the jitter
(nearest-neighbour resize to 286, random crop to 256, random flip) and images in [-1, 1], and its ``train_step``:
one persistent tape, the two generators then the two discriminators updated from it. float32, as published.
Changed: the folders (the tutorial loads ``cycle_gan/horse2zebra`` from TFDS; here ``trainA``/``trainB`` of a
junyanz-layout folder, decoded once into memory, shuffled every pass) and the budget (the tutorial trains 10
epochs), which ``kitlib.train.SnapshotClock`` sets. G translates A -> B, F translates B -> A.

Example:
>>> nets = build()                                                                   # doctest: +SKIP
>>> {name: net.count_params() for name, net in nets.items()} == PARAMETERS            # doctest: +SKIP
True
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kitlib.anchors import tf_pix2pix
from kitlib.images import from_pixels

IMAGE_SIZE, LOAD_SIZE = 256, 286
LAMBDA = 10
LEARNING_RATE, BETA_1 = 2e-4, 0.5
# The pix2pix U-Net of the TF pix2pix tutorial has 54,425,859 parameters with batch norm (4 per channel over 5,440
# normalised channels); instance norm has 2 per channel: 54,425,859 - 2 * 5,440. The PatchGAN without the target
# input: 2,770,433 (pix2pix, 6 input channels, batch norm over 896 channels) - 3,072 (3 fewer input channels) - 1,792.
PARAMETERS = {"generator_g": 54_414_979, "generator_f": 54_414_979,
              "discriminator_x": 2_765_569, "discriminator_y": 2_765_569}


def unet_generator(name: str) -> keras.Model:
    """``pix2pix.unet_generator(3, norm_type='instancenorm')`` (fully convolutional: any size divisible by 256)."""
    return tf_pix2pix.unet_generator(name, norm_type="instancenorm")


def discriminator(name: str) -> keras.Model:
    """``pix2pix.discriminator(norm_type='instancenorm', target=False)``: a 30x30 logit map at 256 px."""
    return tf_pix2pix.discriminator(name, norm_type="instancenorm", target=False)


def build() -> dict[str, keras.Model]:
    """The tutorial's four networks, float32 whatever the global policy."""
    from kitlib.anchors import float32_networks

    return float32_networks({"generator_g": lambda: unet_generator("generator_g"),
                             "generator_f": lambda: unet_generator("generator_f"),
                             "discriminator_x": lambda: discriminator("discriminator_x"),
                             "discriminator_y": lambda: discriminator("discriminator_y")})


def _jitter(image):
    """The tutorial's ``preprocess_image_train``: resize 286 (nearest), random crop 256, random flip, [-1, 1]."""
    image = tf.image.resize(image, [LOAD_SIZE, LOAD_SIZE], method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
    image = tf.image.random_crop(image, size=[IMAGE_SIZE, IMAGE_SIZE, 3])
    image = tf.image.random_flip_left_right(image)
    return from_pixels(image)  # the tutorial's normalize


def dataset(images: np.ndarray, seed: int) -> tf.data.Dataset:
    """The tutorial's pipeline on in-memory uint8 images: ``cache().map(jitter).shuffle(1000).batch(1)``."""
    return (tf.data.Dataset.from_tensor_slices(images).map(_jitter)
            .shuffle(1000, seed=seed).batch(1).repeat())


def train(data, clock, seed: int = 0) -> None:
    """Trains the tutorial's recipe on ``DATA/trainA`` (X) and ``DATA/trainB`` (Y) until ``clock`` stops it."""
    from kitlib.anchors import unpaired_train_images

    keras.utils.set_random_seed(seed)
    real_a, real_b = unpaired_train_images(data, IMAGE_SIZE)
    nets = build()
    g, f, d_x, d_y = (nets[k] for k in ("generator_g", "generator_f", "discriminator_x", "discriminator_y"))
    optimizers = [keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1) for _ in range(4)]
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    def d_loss(real, generated):
        return (bce(tf.ones_like(real), real) + bce(tf.zeros_like(generated), generated)) * 0.5

    def cycle_loss(real, cycled):
        return LAMBDA * tf.reduce_mean(tf.abs(real - cycled))

    def identity_loss(real, same):
        return LAMBDA * 0.5 * tf.reduce_mean(tf.abs(real - same))

    @tf.function
    def train_step(real_x, real_y):
        with tf.GradientTape(persistent=True) as tape:
            fake_y = g(real_x, training=True)
            cycled_x = f(fake_y, training=True)
            fake_x = f(real_y, training=True)
            cycled_y = g(fake_x, training=True)
            same_x, same_y = f(real_x, training=True), g(real_y, training=True)
            disc_real_x, disc_real_y = d_x(real_x, training=True), d_y(real_y, training=True)
            disc_fake_x, disc_fake_y = d_x(fake_x, training=True), d_y(fake_y, training=True)
            total_cycle = cycle_loss(real_x, cycled_x) + cycle_loss(real_y, cycled_y)
            gen_g = bce(tf.ones_like(disc_fake_y), disc_fake_y) + total_cycle + identity_loss(real_y, same_y)
            gen_f = bce(tf.ones_like(disc_fake_x), disc_fake_x) + total_cycle + identity_loss(real_x, same_x)
            disc_x, disc_y = d_loss(disc_real_x, disc_fake_x), d_loss(disc_real_y, disc_fake_y)
        for loss, net, optimizer in zip((gen_g, gen_f, disc_x, disc_y), (g, f, d_x, d_y), optimizers):
            optimizer.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))

    def snapshot(path):
        g.save_weights(f"{path}.g.weights.h5")
        f.save_weights(f"{path}.f.weights.h5")

    step = 0
    for real_x, real_y in tf.data.Dataset.zip((dataset(real_a, seed), dataset(real_b, seed + 1))):
        train_step(real_x, real_y)
        step += 1
        if clock.tick(step, snapshot):
            return


def translate(path, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(F(images), G(F(images)))`` for uint8 domain-B ``images`` (monet2photo: photo -> Monet -> photo), in
    inference mode as the tutorial's ``generate_images`` calls them; uint8."""
    from kitlib.anchors import translate_and_back

    nets = build()
    g, f = nets["generator_g"], nets["generator_f"]
    g.load_weights(f"{path}.g.weights.h5")
    f.load_weights(f"{path}.f.weights.h5")
    return translate_and_back(f, g, images)
