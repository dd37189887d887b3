"""``GAN``: the unconditional GAN trainer (DCGAN and friends) on the shared engine.

Reference: Radford et al. 2015, https://arxiv.org/abs/1511.06434 ; WGAN-GP: https://arxiv.org/abs/1704.00028 ;
DiffAugment: https://arxiv.org/abs/2006.10738
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kitlib import losses
from kitlib._deprecation import deprecated_alias
from kitlib.infer import gan as infer_gan
from kitlib.data.domains import load_images
from kitlib.method import Method
from kitlib.models.dcgan import build_dcgan
from kitlib.models.layers import CONV_LAYERS
from kitlib.train import ema as weight_ema
from kitlib.train.base import Trainer, all_replicas, replica_rows, this_replica
from kitlib.train.optimizers import FusedAdam

# Logit threshold that separates "judged real" from "judged fake" for each adversarial loss.
_ACCURACY_THRESHOLD = {"bce": 0.0, "lsgan": 0.5, "hinge": 0.0, "wgan": 0.0, "wgan-gp": 0.0}
GAN_LOSSES = ("bce", "lsgan", "hinge", "wgan-gp")


class GAN(Trainer):
    """Trains a generator ``G(z)`` against a discriminator ``D(x) -> logits``.

    Args:
        generator: ``keras.Model`` mapping ``(batch, latent_dim)`` to images in [-1, 1].
        discriminator: ``keras.Model`` mapping images to logits ``(batch, 1)``.
        loss: ``"bce"`` (seed report, Goodfellow), ``"lsgan"``, ``"hinge"`` or ``"wgan-gp"``.
        half_batch: the seed report's discipline: D sees half a batch of real and half a batch of fake images per
            step (default False: a full batch of each, the usual recipe).
        diff_augment: DiffAugment policy applied to real and fake images before D (e.g. ``"color,translation,cutout"``),
            for small datasets; None to disable.
        gp_weight: gradient-penalty weight for ``"wgan-gp"``.
        n_critic: discriminator steps per generator step (5 is usual for WGAN-GP).
        ema: decay of an exponential moving average of the generator's weights (e.g. 0.999, with the warm-up of
            ``kitlib.train.ema``), updated after every G step; the average then draws the sample grids and is what
            ``export/generator.keras`` holds (the trained generator stays in the checkpoint). None: no average.
        num_samples: fixed latent vectors used for sample grids (the same faces every epoch).
        seed: seed of latent sampling and of the fixed latent vectors.

    Example:
    >>> from kitlib.models.dcgan import build_dcgan          # doctest: +SKIP
    >>> g, d = build_dcgan("seed", image_size=32)             # doctest: +SKIP
    >>> gan = GAN(g, d, loss="bce"); gan.compile()           # doctest: +SKIP
    >>> gan.fit(batches, epochs=2, run_dir="runs/dcgan")      # doctest: +SKIP
    """

    kind = "unconditional"

    def __init__(self, generator: keras.Model, discriminator: keras.Model, *, loss: str = "bce",
                 half_batch: bool = False, diff_augment: str | None = None, gp_weight: float = 10.0,
                 n_critic: int = 1, ema: float | None = None, num_samples: int = 64, seed: int = 0,
                 name: str = "gan"):
        if loss not in GAN_LOSSES:
            raise ValueError(f"loss must be one of {GAN_LOSSES}. Received: loss={loss!r}")
        if n_critic < 1:
            raise ValueError(f"n_critic must be >= 1. Received: n_critic={n_critic}")
        super().__init__(loss_names=("d_loss", "g_loss", "d_acc_real", "d_acc_fake"), seed=seed, name=name)
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.half_batch = bool(half_batch)
        self.diff_augment = diff_augment
        self.gp_weight = float(gp_weight)
        self.n_critic = int(n_critic)
        self.latent_dim = int(generator.input_shape[-1])
        self.ema = weight_ema.check_rate(ema)
        self.ema_generator = weight_ema.clone(generator) if self.ema else None
        fixed = keras.random.normal((num_samples, self.latent_dim), seed=seed + 1)
        self.fixed_latents = keras.Variable(fixed, trainable=False, name="fixed_latents")

    def networks(self):
        nets = {"generator": self.generator, "discriminator": self.discriminator}
        return {**nets, "ema_generator": self.ema_generator} if self.ema else nets

    def generators(self):
        """``{"generator": ...}``: the weight average when ``ema`` is set, else the trained generator."""
        return {"generator": self.ema_generator if self.ema else self.generator}

    def extra_state(self):
        return [self.fixed_latents]

    def run_config(self):
        return {
            "loss": self.loss, "half_batch": self.half_batch, "diff_augment": self.diff_augment,
            "gp_weight": self.gp_weight, "n_critic": self.n_critic, "latent_dim": self.latent_dim,
            "image_shape": list(self.generator.output_shape[1:]),
            "generator": self.generator.name, "discriminator": self.discriminator.name,
            **({"ema": self.ema} if self.ema else {}),  # absent without an average: older runs still resume
        }

    def compile(self, g_optimizer=None, d_optimizer=None, **kwargs):
        """One Adam per network (default: lr 2e-4, beta_1 0.5 as in DCGAN and the seed report)."""
        self._compile_optimizers({
            "generator": g_optimizer or FusedAdam(2e-4, beta_1=0.5),
            "discriminator": d_optimizer or FusedAdam(2e-4, beta_1=0.5),
        }, **kwargs)

    # ---------------------------------------------------------------------------------------------------------
    def _augment(self, images):
        if not self.diff_augment:
            return images
        from kitlib.data.augment import diff_augment

        seed = keras.random.randint((2,), 0, 2**31 - 1, seed=self.seed_generator, dtype="int32")
        # augmented as one global batch, so each image gets the translation and cutout one device gives it
        return this_replica(diff_augment(all_replicas(images), seed, policy=self.diff_augment))

    def _latents(self, n):
        return replica_rows(lambda rows: keras.random.normal((rows, self.latent_dim), seed=self.seed_generator), n)

    @staticmethod
    def _first_half(images):
        """This replica's share of the first half of the global batch (one device: the first half)."""
        everyone = all_replicas(images)
        rows = everyone.shape[0] if everyone.shape[0] is not None else tf.shape(everyone)[0]
        return this_replica(everyone[: rows // 2])

    def _gradient_penalty(self, real, fake):
        """WGAN-GP's penalty on this replica's images, with the interpolation weights one device draws for them."""
        seed = keras.random.randint((2,), 0, 2**31 - 1, seed=self.seed_generator, dtype="int32")
        if tf.distribute.get_strategy().num_replicas_in_sync > 1:
            # losses.gradient_penalty draws its weights from the seed for the batch it is given: draw them as it
            # does for the global batch, keep this replica's rows, and give it the interpolated images as both ends
            # (x_hat interpolated with itself is x_hat, to the last bit or so)
            alpha = replica_rows(lambda rows: tf.random.stateless_uniform(tf.stack([rows, 1, 1, 1]), seed=seed),
                                 tf.shape(real)[0])
            real = fake = alpha * tf.cast(real, "float32") + (1.0 - alpha) * tf.cast(fake, "float32")
        return losses.gradient_penalty(self.discriminator, real, fake, seed=seed, weight=self.gp_weight)

    def _d_step(self, real, fake):
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(self._augment(real), training=True)
            fake_logits = self.discriminator(self._augment(fake), training=True)
            name = "wgan" if self.loss == "wgan-gp" else self.loss
            d_loss = losses.discriminator_loss(name, real_logits, fake_logits)
            if self.loss == "wgan-gp":
                d_loss += self._gradient_penalty(real, fake)
            scaled = self.scale_loss("discriminator", d_loss)
        self.minimize("discriminator", tape, scaled)
        threshold = _ACCURACY_THRESHOLD[self.loss]
        acc_real = tf.reduce_mean(tf.cast(tf.cast(real_logits, "float32") > threshold, "float32"))
        acc_fake = tf.reduce_mean(tf.cast(tf.cast(fake_logits, "float32") <= threshold, "float32"))
        return d_loss, acc_real, acc_fake

    def train_step(self, real):
        """D step(s), then a G step on the same fakes judged by the updated D (PyTorch's DCGAN example, junyanz).

        The generator runs forward once per step: its batch feeds the (last) D update without gradient, then the G
        loss. ``half_batch``: D sees the first half of the (global) batch of real and of fake images, G the whole
        batch; under several replicas each replica takes its share of that half. WGAN-GP's extra critic steps
        (``n_critic - 1``) draw their own fakes.
        """
        real = tf.cast(real, "float32")
        batch = tf.shape(real)[0]
        d_real = self._first_half(real) if self.half_batch else real
        n_fake = tf.shape(d_real)[0]
        for _ in range(self.n_critic - 1):
            self._d_step(d_real, self.generator(self._latents(n_fake), training=True))
        with tf.GradientTape() as tape:
            fake = self.generator(self._latents(batch), training=True)
            with tape.stop_recording():
                d_fake = self._first_half(tf.stop_gradient(fake)) if self.half_batch else tf.stop_gradient(fake)
                d_loss, acc_real, acc_fake = self._d_step(d_real, d_fake)
            name = "wgan" if self.loss == "wgan-gp" else self.loss
            g_loss = losses.generator_loss(name, self.discriminator(self._augment(fake), training=True))
            scaled = self.scale_loss("generator", g_loss)
        self.minimize("generator", tape, scaled)
        if self.ema:
            decay = weight_ema.decay(self.ema, self.optimizers()["generator"].iterations)
            weight_ema.update(self.generator, self.ema_generator, decay)
        return self.update_trackers({"d_loss": d_loss, "g_loss": g_loss, "d_acc_real": acc_real, "d_acc_fake": acc_fake})

    def sample_images(self, n: int | None = None):
        """Outputs of the exported generator (the average when ``ema`` is set) for the fixed latent vectors
        (float32 in [-1, 1])."""
        z = self.fixed_latents if n is None else self.fixed_latents[:n]
        return self.generators()["generator"](z, training=False)


# Sampling lives in kitlib.infer.gan; these names stay for existing notebooks and scripts.
generate = deprecated_alias(infer_gan.generate, "kitlib.train.generate", "kitlib.infer.generate")
latent_interpolation = deprecated_alias(infer_gan.latent_interpolation, "kitlib.train.latent_interpolation",
                                        "kitlib.infer.latent_interpolation")


METHODS = (Method(
    name="dcgan",
    title="DCGAN: images from noise (Radford et al.'s networks, or those of the student report notebook 01 follows)",
    kind="unconditional", notebook="01_dcgan_anime_faces", trainer=GAN, builders={"networks": build_dcgan},
    losses=GAN_LOSSES, infer=infer_gan.generate, exports=("generator",), data=load_images, default_data="toy:faces",
    custom_layers=CONV_LAYERS,
    # Radford's DCGAN at 32 filters with a 0.999 generator average: on real anime faces it beat the seed report's
    # networks (variant "seed", half_batch True) at a fixed CPU budget (assets/real_data/README.md). Batch 8 on the
    # CPU profiles: on 64-px faces, at the same CPU minutes, batches of 64/32/16/8 reached SWD 16.1/13.4/11.8/10.0x
    # the real-vs-real floor (the images/s barely change on a CPU, so smaller batches make more updates; README,
    # "Side by side with the tutorials"). The full profile (GPUs, where small batches waste the device) keeps 64.
    profiles={
        "quick": {"image_size": 32, "num_images": 256, "batch_size": 16, "epochs": 2, "variant": "radford",
                  "filters": 32, "loss": "bce", "half_batch": False, "ema": 0.999},
        "demo": {"image_size": 32, "num_images": 6000, "batch_size": 8, "epochs": 6, "variant": "radford",
                 "filters": 32, "loss": "bce", "half_batch": False, "ema": 0.999},
        "full": {"image_size": 64, "num_images": 20000, "batch_size": 64, "epochs": 100, "variant": "radford",
                 "filters": 32, "loss": "bce", "half_batch": False, "ema": 0.999},
    }),)
