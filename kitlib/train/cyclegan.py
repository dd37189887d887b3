"""``CycleGAN``: unpaired image-to-image translation on the shared engine (used by notebooks 02 and 03).

Reference: Zhu et al. 2017, https://arxiv.org/abs/1703.10593 ; https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kitlib import losses
from kitlib.train.base import GANTrainer
from kitlib.train.pool import ImagePool
from kitlib.train.schedules import LinearDecay

CYCLEGAN_LOSSES = ("lsgan", "bce", "hinge")


class CycleGAN(GANTrainer):
    """Two generators (A→B, B→A), two discriminators, four optimizers, the junyanz recipe by default.

    G loss = adversarial(A→B) + adversarial(B→A) + λ·(cycle A + cycle B) + λ·λ_id·(identity A + identity B), one
    backward pass for both generators; each D sees real images and fakes drawn from an image history pool of 50,
    its loss multiplied by 0.5.

    Args:
        generator_ab, generator_ba: image-to-image ``keras.Model``s (outputs in [-1, 1]).
        discriminator_a, discriminator_b: PatchGAN-style critics returning logits for domain A / B images.
        loss: adversarial loss, ``"lsgan"`` (junyanz default), ``"bce"`` (the Kaggle Monet tutorial) or ``"hinge"``.
        cycle_weight: λ (10).
        identity_weight: λ_id as a fraction of λ (0.5); 0 disables the identity loss (and its two G passes).
        pool_size: image history per domain (50; 0 disables).
        d_loss_weight: factor on each discriminator loss (0.5 in junyanz).
        seed: seed of the pool's random choices.

    Example:
    >>> from kitlib.models.resnet import resnet_generator      # doctest: +SKIP
    >>> from kitlib.models.patchgan import patchgan_discriminator  # doctest: +SKIP
    >>> gan = CycleGAN(resnet_generator((64, 64, 3)), resnet_generator((64, 64, 3)),
    ...                patchgan_discriminator((64, 64, 3)), patchgan_discriminator((64, 64, 3)))  # doctest: +SKIP
    >>> gan.compile(); gan.fit(tf.data.Dataset.zip(a, b), epochs=1, run_dir="runs/cg")      # doctest: +SKIP
    """

    kind = "translation"

    def __init__(self, generator_ab: keras.Model, generator_ba: keras.Model, discriminator_a: keras.Model,
                 discriminator_b: keras.Model, *, loss: str = "lsgan", cycle_weight: float = 10.0,
                 identity_weight: float = 0.5, pool_size: int = 50, d_loss_weight: float = 0.5, seed: int = 0,
                 name: str = "cyclegan"):
        if loss not in CYCLEGAN_LOSSES:
            raise ValueError(f"loss must be one of {CYCLEGAN_LOSSES}. Received: loss={loss!r}")
        if cycle_weight < 0 or identity_weight < 0:
            raise ValueError(f"cycle_weight and identity_weight must be >= 0. Received: {cycle_weight=}, {identity_weight=}")
        names = ("g_loss", "d_a_loss", "d_b_loss", "adv_ab", "adv_ba", "cycle_a", "cycle_b", "identity")
        super().__init__(loss_names=names, seed=seed, name=name)
        self.generator_ab, self.generator_ba = generator_ab, generator_ba
        self.discriminator_a, self.discriminator_b = discriminator_a, discriminator_b
        self.loss = loss
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.d_loss_weight = float(d_loss_weight)
        self.pool_size = int(pool_size)
        shape_a = tuple(generator_ba.output_shape[1:])
        shape_b = tuple(generator_ab.output_shape[1:])
        self.pool_a = ImagePool(pool_size, shape_a, name="pool_a")
        self.pool_b = ImagePool(pool_size, shape_b, name="pool_b")
        self.sample_a = self.sample_b = None

    def networks(self):
        return {"generator_ab": self.generator_ab, "generator_ba": self.generator_ba,
                "discriminator_a": self.discriminator_a, "discriminator_b": self.discriminator_b}

    def extra_state(self):
        return self.pool_a.variables() + self.pool_b.variables()

    def run_config(self):
        return {"loss": self.loss, "cycle_weight": self.cycle_weight, "identity_weight": self.identity_weight,
                "pool_size": self.pool_size, "d_loss_weight": self.d_loss_weight,
                "image_shape": list(self.generator_ab.input_shape[1:]),
                **{k: v.name for k, v in self.networks().items()}}

    def compile(self, *, learning_rate: float = 2e-4, beta_1: float = 0.5, constant_steps: int | None = None,
                decay_steps: int = 0, optimizers: dict | None = None, **kwargs):
        """Four Adam optimizers (lr 2e-4, β1 0.5), constant then linearly decayed to 0 (``decay_steps`` > 0).

        Args:
            learning_rate, beta_1: Adam settings of all four optimizers.
            constant_steps, decay_steps: optimizer steps at constant LR, then of linear decay (junyanz ``n_epochs``
                and ``n_epochs_decay`` times steps per epoch); the position is the optimizer's step counter, so it
                is restored exactly on resume.
            optimizers: optional ``{network_name: optimizer}`` overriding any of the four.
        """
        def make():
            lr = (LinearDecay(learning_rate, constant_steps or 0, decay_steps) if decay_steps else learning_rate)
            return keras.optimizers.Adam(lr, beta_1=beta_1)

        chosen = {k: make() for k in self.networks()}
        chosen.update(optimizers or {})
        self._compile_optimizers(chosen, **kwargs)

    def train_step(self, data):
        real_a, real_b = data
        real_a, real_b = tf.cast(real_a, "float32"), tf.cast(real_b, "float32")
        use_identity = self.identity_weight > 0
        with tf.GradientTape() as tape:
            fake_b = self.generator_ab(real_a, training=True)
            cycled_a = self.generator_ba(fake_b, training=True)
            fake_a = self.generator_ba(real_b, training=True)
            cycled_b = self.generator_ab(fake_a, training=True)
            adv_ab = losses.generator_loss(self.loss, self.discriminator_b(fake_b, training=True))
            adv_ba = losses.generator_loss(self.loss, self.discriminator_a(fake_a, training=True))
            cycle_a = losses.cycle_loss(real_a, cycled_a)
            cycle_b = losses.cycle_loss(real_b, cycled_b)
            g_loss = adv_ab + adv_ba + self.cycle_weight * (cycle_a + cycle_b)
            if use_identity:
                identity = (losses.identity_loss(real_b, self.generator_ab(real_b, training=True))
                            + losses.identity_loss(real_a, self.generator_ba(real_a, training=True)))
                g_loss += self.cycle_weight * self.identity_weight * identity
            else:
                identity = tf.constant(0.0)
            scaled = self.scale_loss("generator_ab", g_loss)
        self.minimize_joint(("generator_ab", "generator_ba"), tape, scaled)

        pooled_a = self.pool_a.query(fake_a, self.seed_generator)
        pooled_b = self.pool_b.query(fake_b, self.seed_generator)
        d_a_loss = self._d_step("discriminator_a", self.discriminator_a, real_a, pooled_a)
        d_b_loss = self._d_step("discriminator_b", self.discriminator_b, real_b, pooled_b)
        return self.update_trackers({
            "g_loss": g_loss, "d_a_loss": d_a_loss, "d_b_loss": d_b_loss, "adv_ab": adv_ab, "adv_ba": adv_ba,
            "cycle_a": cycle_a, "cycle_b": cycle_b, "identity": identity,
        })

    def _d_step(self, name, discriminator, real, fake):
        with tf.GradientTape() as tape:
            d_loss = self.d_loss_weight * losses.discriminator_loss(
                self.loss, discriminator(real, training=True), discriminator(fake, training=True))
            scaled = self.scale_loss(name, d_loss)
        self.minimize(name, tape, scaled)
        return d_loss

    def set_sample_inputs(self, images_a, images_b) -> None:
        """Fixes the batches shown by ``sample_images`` (and the SampleGrid callback) every epoch."""
        self.sample_a = keras.ops.convert_to_tensor(images_a, "float32")
        self.sample_b = keras.ops.convert_to_tensor(images_b, "float32")

    def sample_images(self):
        """Rows of [A, A→B, B, B→A] for the fixed sample batches (``set_sample_inputs``)."""
        if getattr(self, "sample_a", None) is None:
            raise ValueError("Call set_sample_inputs(images_a, images_b) before using SampleGrid with a CycleGAN.")
        fake_b = self.translate(self.sample_a, "ab")
        fake_a = self.translate(self.sample_b, "ba")
        n = min(len(self.sample_a), len(self.sample_b))
        rows = [tf.stack([self.sample_a[i], fake_b[i], self.sample_b[i], fake_a[i]]) for i in range(n)]
        return tf.concat(rows, axis=0)

    def translate(self, images, direction: str = "ab"):
        """Translates a batch (floats in [-1, 1]) A→B (``"ab"``) or B→A (``"ba"``) in inference mode."""
        if direction not in ("ab", "ba"):
            raise ValueError(f"direction must be 'ab' or 'ba'. Received: direction={direction!r}")
        generator = self.generator_ab if direction == "ab" else self.generator_ba
        return generator(images, training=False)
