"""``CycleGAN``: unpaired image-to-image translation on the shared engine (used by notebooks 02 and 03).

- ``CycleGAN``: the trainer (two generators, two discriminators, four optimizers, image pools, exact resume);
- ``build_cyclegan``: networks by variant name (``"resnet_9blocks"``, ``"unet_256"``, ``"seed_unet"``,
  ``"patchgan_70"``, ``"seed_patchgan"``, ...) and the trainer in one call;
- data loading (``load_unpaired``, ``unpaired``) lives in ``kitlib.data.unpaired``, translation of folders of
  images in ``kitlib.infer.cyclegan``;
- ``CycleGANMonitor``: per-epoch measurements on a fixed held-out batch (cycle loss both ways, discriminator
  losses, optional pixel-grid score) added to the epoch logs, so they land in the History and ``history.csv``.

Reference: Zhu et al. 2017, https://arxiv.org/abs/1703.10593 ; https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix

Example:
>>> gan = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=8)
>>> sorted(gan.networks())
['discriminator_a', 'discriminator_b', 'generator_ab', 'generator_ba']
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from kitlib import losses
from kitlib._deprecation import deprecated_alias
from kitlib.data import domains as data_domains
from kitlib.data.domains import TOY_DOMAINS, unpaired  # noqa: F401  (re-exported: notebooks import them here)
from kitlib.images import to_float
from kitlib.infer.cyclegan import translate_unpaired
from kitlib.method import Method
from kitlib.models.layers import CONV_LAYERS
from kitlib.train.base import Trainer
from kitlib.train.optimizers import FusedAdam
from kitlib.train.pool import ImagePool
from kitlib.train.schedules import LinearDecay

CYCLEGAN_LOSSES = ("lsgan", "bce", "hinge")
CYCLEGAN_GENERATORS = ("resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128", "seed_unet")
CYCLEGAN_DISCRIMINATORS = ("patchgan_70", "seed_patchgan", "patchgan_16", "patchgan_286", "pixelgan")


def _as_float_tensor(images):
    """uint8 [0, 255] or floats in [-1, 1] (numpy or tensors) -> float32 tensor in [-1, 1]."""
    return to_float(keras.ops.convert_to_tensor(images))


def _per_sample(model: keras.Model) -> bool:
    """True when no layer of ``model`` (nested models included) mixes the samples of a batch."""
    layers = list(model.layers)
    while layers:
        layer = layers.pop()
        if isinstance(layer, keras.layers.BatchNormalization):
            return False
        layers.extend(getattr(layer, "layers", []))
    return True


def _both(network: keras.Model, x, y, stacked: bool):
    """``network(x), network(y)`` in training mode; one call on the stacked batch when ``stacked``."""
    if not stacked:
        return network(x, training=True), network(y, training=True)
    out = network(tf.concat([x, y], axis=0), training=True)
    n = tf.shape(x)[0]
    return out[:n], out[n:]


class CycleGAN(Trainer):
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
        architecture: JSON-able description of how the networks were built (``build_cyclegan`` sets it); stored in
            the run directory's config and checked when resuming.

    Several GPUs: build and compile inside ``runtime.strategy().scope()`` and fit global batches of a multiple of
    the replica count; training then equals one device's on the global batch, the image pool included (each replica
    queries it with the global batch of fakes and keeps its rows; checked on two logical CPU devices).

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
                 architecture: dict | None = None, name: str = "cyclegan"):
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
        self.architecture = dict(architecture or {})
        shape_a = tuple(generator_ba.output_shape[1:])
        shape_b = tuple(generator_ab.output_shape[1:])
        self.pool_a = ImagePool(pool_size, shape_a, name="pool_a")
        self.pool_b = ImagePool(pool_size, shape_b, name="pool_b")
        self.sample_a = self.sample_b = None
        self.sample_cycle = False
        # Networks whose layers treat each sample on its own (instance norm, no batch norm) give the same result
        # on a stacked batch: one call instead of two (identity + translation, real + fake) is exact and faster.
        self.stack_generators = all(_per_sample(g) for g in (generator_ab, generator_ba))
        self.stack_discriminators = all(_per_sample(d) for d in (discriminator_a, discriminator_b))

    def networks(self):
        return {"generator_ab": self.generator_ab, "generator_ba": self.generator_ba,
                "discriminator_a": self.discriminator_a, "discriminator_b": self.discriminator_b}

    def extra_state(self):
        return self.pool_a.variables() + self.pool_b.variables()

    def run_config(self):
        return {"loss": self.loss, "cycle_weight": self.cycle_weight, "identity_weight": self.identity_weight,
                "pool_size": self.pool_size, "d_loss_weight": self.d_loss_weight,
                "image_shape": list(self.generator_ab.input_shape[1:]), "architecture": self.architecture,
                **{k: v.name for k, v in self.networks().items()}}

    def compile(self, *, learning_rate: float = 2e-4, beta_1: float = 0.5, constant_steps: int | None = None,
                decay_steps: int = 0, optimizers: dict | None = None, **kwargs):
        """Four Adam optimizers (lr 2e-4, β1 0.5), constant then linearly decayed to 0 (``decay_steps`` > 0).

        Args:
            learning_rate, beta_1: Adam settings of all four optimizers.
            constant_steps, decay_steps: optimizer steps at constant LR, then of linear decay (junyanz ``n_epochs``
                and ``n_epochs_decay`` times steps per epoch); the position is the optimizer's step counter, so it
                is restored exactly on resume. Always a ``LinearDecay`` (constant when ``decay_steps`` is 0), so
                the checkpoint holds the same variables whatever the epoch count: a finished run trained again
                with more epochs continues, on the schedule of the new total.
            optimizers: optional ``{network_name: optimizer}`` overriding any of the four.
        """
        def make():
            return FusedAdam(LinearDecay(learning_rate, constant_steps or 0, decay_steps), beta_1=beta_1)

        chosen = {k: make() for k in self.networks()}
        chosen.update(optimizers or {})
        self._compile_optimizers(chosen, **kwargs)

    def train_step(self, data):
        real_a, real_b = data
        real_a, real_b = tf.cast(real_a, "float32"), tf.cast(real_b, "float32")
        use_identity = self.identity_weight > 0
        with tf.GradientTape() as tape:
            if use_identity:  # G_ab sees real A (translation) and real B (identity): one call when stacked
                fake_b, same_b = _both(self.generator_ab, real_a, real_b, self.stack_generators)
                fake_a, same_a = _both(self.generator_ba, real_b, real_a, self.stack_generators)
            else:
                fake_b = self.generator_ab(real_a, training=True)
                fake_a = self.generator_ba(real_b, training=True)
            cycled_a = self.generator_ba(fake_b, training=True)
            cycled_b = self.generator_ab(fake_a, training=True)
            adv_ab = losses.generator_loss(self.loss, self.discriminator_b(fake_b, training=True))
            adv_ba = losses.generator_loss(self.loss, self.discriminator_a(fake_a, training=True))
            cycle_a = losses.cycle_loss(real_a, cycled_a)
            cycle_b = losses.cycle_loss(real_b, cycled_b)
            g_loss = adv_ab + adv_ba + self.cycle_weight * (cycle_a + cycle_b)
            if use_identity:
                identity = losses.identity_loss(real_b, same_b) + losses.identity_loss(real_a, same_a)
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
                self.loss, *_both(discriminator, real, fake, self.stack_discriminators))
            scaled = self.scale_loss(name, d_loss)
        self.minimize(name, tape, scaled)
        return d_loss

    def set_sample_inputs(self, images_a, images_b, *, cycle: bool = False) -> None:
        """Fixes the batches shown by ``sample_images`` (and the SampleGrid callback) every epoch.

        Args:
            images_a, images_b: batches of domain A and B images (floats in [-1, 1] or uint8).
            cycle: also show the reconstructions: rows of 6 ``[A, A→B, A→B→A, B, B→A, B→A→B]`` (use
                ``SampleGrid(..., ncols=6)``) instead of rows of 4 ``[A, A→B, B, B→A]``.
        """
        self.sample_a = _as_float_tensor(images_a)
        self.sample_b = _as_float_tensor(images_b)
        self.sample_cycle = bool(cycle)

    def sample_images(self):
        """Rows [A, A→B, B, B→A] (``cycle=True``: [A, A→B, A→B→A, B, B→A, B→A→B]) of the fixed batches."""
        if getattr(self, "sample_a", None) is None:
            raise ValueError("Call set_sample_inputs(images_a, images_b) before using SampleGrid with a CycleGAN.")
        n = min(len(self.sample_a), len(self.sample_b))
        a, b = self.sample_a[:n], self.sample_b[:n]
        fake_b, fake_a = self.translate(a, "ab"), self.translate(b, "ba")
        if self.sample_cycle:
            columns = [a, fake_b, self.translate(fake_b, "ba"), b, fake_a, self.translate(fake_a, "ab")]
        else:
            columns = [a, fake_b, b, fake_a]
        return tf.reshape(tf.stack(columns, axis=1), (-1, *a.shape[1:]))

    def translate(self, images, direction: str = "ab"):
        """Translates a batch (floats in [-1, 1]) A→B (``"ab"``) or B→A (``"ba"``) in inference mode."""
        if direction not in ("ab", "ba"):
            raise ValueError(f"direction must be 'ab' or 'ba'. Received: direction={direction!r}")
        generator = self.generator_ab if direction == "ab" else self.generator_ba
        return generator(images, training=False)


def build_cyclegan(
    generator: str = "resnet_9blocks",
    discriminator: str = "patchgan_70",
    *,
    image_size: int = 256,
    channels: int = 3,
    filters: int = 64,
    d_filters: int | None = None,
    norm: str = "instance",
    dropout: float = 0.0,
    loss: str = "lsgan",
    cycle_weight: float = 10.0,
    identity_weight: float = 0.5,
    pool_size: int = 50,
    d_loss_weight: float = 0.5,
    seed: int = 0,
) -> CycleGAN:
    """Builds the four networks of a CycleGAN by variant name and returns the (uncompiled) ``CycleGAN`` trainer.

    Generators (both directions get the same architecture, named ``generator_ab`` and ``generator_ba``):

    | name             | builder                                                              |
    |------------------|----------------------------------------------------------------------|
    | "resnet_9blocks" | ``resnet_generator(num_blocks=9)``: junyanz default for 256 px      |
    | "resnet_6blocks" | ``resnet_generator(num_blocks=6)``: junyanz default for 128 px      |
    | "unet_256"       | ``unet_generator(num_downs=8, norm)``: needs sizes divisible by 256  |
    | "unet_128"       | ``unet_generator(num_downs=7, norm)``: needs sizes divisible by 128  |
    | "seed_unet"      | ``seed_unet_generator``: the seed-003 / TF-tutorial U-Net, depth log2(size), 50% dropout |

    Discriminators (``discriminator_a`` judges domain A, ``discriminator_b`` domain B): ``"patchgan_70"`` (junyanz
    default, 3 layers), ``"seed_patchgan"`` (TF tutorial / seed 003), ``"patchgan_16"``, ``"patchgan_286"``,
    ``"pixelgan"``.

    The seed recipes: Kaggle Monet tutorial (seed 002) = ``build_cyclegan("resnet_9blocks", "patchgan_70",
    loss="bce")``; pixel-art CycleGAN (seed 003) = ``build_cyclegan("seed_unet", "seed_patchgan", loss="bce")``.

    Reference: [Zhu et al., 2017](https://arxiv.org/abs/1703.10593)

    Args:
        generator: a name of ``CYCLEGAN_GENERATORS``.
        discriminator: a name of ``CYCLEGAN_DISCRIMINATORS``.
        image_size: height and width of the (square) training images.
        channels: image channels.
        filters: channels of the first generator layer (64 in the papers; smaller for CPU runs).
        d_filters: channels of the first discriminator layer (default: ``filters``).
        norm: ``"instance"`` (CycleGAN), ``"batch"`` or ``"none"`` for every network (the seed networks too).
        dropout: ResNet generators only: dropout inside residual blocks (junyanz CycleGAN default 0). U-Nets keep
            their 50% dropout on the first three decoder blocks.
        loss, cycle_weight, identity_weight, pool_size, d_loss_weight, seed: see ``CycleGAN``.

    Returns:
        A ``CycleGAN``; call ``.compile()`` then ``.fit(...)``.

    Example:
    >>> gan = build_cyclegan("seed_unet", "seed_patchgan", image_size=32, filters=8, loss="bce")
    >>> gan.generator_ab.output_shape
    (None, 32, 32, 3)
    """
    from kitlib.models.patchgan import PATCHGAN_VARIANTS, patchgan_discriminator, seed_patchgan_discriminator

    if generator not in CYCLEGAN_GENERATORS:
        raise ValueError(f"generator must be one of {CYCLEGAN_GENERATORS}. Received: generator={generator!r}")
    if discriminator not in CYCLEGAN_DISCRIMINATORS:
        raise ValueError(
            f"discriminator must be one of {CYCLEGAN_DISCRIMINATORS}. Received: discriminator={discriminator!r}")
    if not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an int >= 8. Received: image_size={image_size!r}")
    d_filters = filters if d_filters is None else d_filters
    shape = (image_size, image_size, channels)

    def make_discriminator(name):
        if discriminator == "seed_patchgan":
            return seed_patchgan_discriminator(shape, filters=d_filters, norm=norm, name=name)
        return patchgan_discriminator(shape, n_layers=PATCHGAN_VARIANTS[discriminator], filters=d_filters, norm=norm,
                                      name=name)

    architecture = {"generator": generator, "discriminator": discriminator, "image_size": image_size,
                    "channels": channels, "filters": filters, "d_filters": d_filters, "norm": norm, "dropout": dropout}
    return CycleGAN(build_generator(architecture, "generator_ab"), build_generator(architecture, "generator_ba"),
                    make_discriminator("discriminator_a"), make_discriminator("discriminator_b"), loss=loss,
                    cycle_weight=cycle_weight, identity_weight=identity_weight, pool_size=pool_size,
                    d_loss_weight=d_loss_weight, seed=seed, architecture=architecture)


def build_generator(architecture: dict, name: str, *, image_size: int | None | str = "saved") -> keras.Model:
    """One generator of a CycleGAN from its ``architecture`` (``CycleGAN.architecture``, stored in the run config).

    ``image_size=None`` builds it fully convolutional, to translate images of another size than the training crops
    with the same weights (ResNet generators take any multiple of 4, U-Nets multiples of their depth).

    Example:
    >>> gan = build_cyclegan("resnet_6blocks", "patchgan_70", image_size=32, filters=8)
    >>> build_generator(gan.architecture, "generator_ba", image_size=None).input_shape
    (None, None, None, 3)
    """
    from kitlib.models.resnet import RESNET_VARIANTS, resnet_generator
    from kitlib.models.unet import UNET_VARIANTS, seed_unet_generator, unet_generator

    generator, filters, norm = architecture["generator"], architecture["filters"], architecture["norm"]
    size = architecture["image_size"] if image_size == "saved" else image_size
    shape = (size, size, architecture["channels"])
    if generator in RESNET_VARIANTS:
        return resnet_generator(shape, num_blocks=RESNET_VARIANTS[generator], filters=filters, norm=norm,
                                dropout=architecture["dropout"], name=name)
    if generator in UNET_VARIANTS:
        return unet_generator(shape, num_downs=UNET_VARIANTS[generator], filters=filters, norm=norm, name=name)
    return seed_unet_generator(shape, filters=filters, norm=norm, name=name)


class CycleGANMonitor(keras.callbacks.Callback):
    """Measures a CycleGAN on a fixed held-out batch at every epoch end and adds the values to the epoch logs.

    Added keys (they appear in the returned History, the progress bar and, with ``LossHistory`` listed after this
    callback, in ``history.csv``):

    - ``val_cycle_a`` / ``val_cycle_b``: mean ``|x - F(G(x))|`` on the held-out A / B images (the seed-003 report's
      "mean cycle loss"; in [-1, 1] pixel units, so 0.1 is 5% of the range);
    - ``val_d_a_loss`` / ``val_d_b_loss``: the discriminators' losses (times ``d_loss_weight``) on held-out real
      images against the current translations (no pool);
    - with ``pixel_grid="ab"`` or ``"ba"``: ``val_pixel_grid`` (``kitlib.eval.pixel.pixel_grid_score`` of the
      translations in that direction; the attribute ``pixel_grid_input`` holds the inputs' score for reference).

    A low cycle loss alone can mean the generators barely change their inputs (the seed report's own caveat): read
    it together with the discriminator losses and the pixel-grid score.

    Args:
        images_a, images_b: held-out batches of each domain (uint8 or floats in [-1, 1]); not used for training.
        pixel_grid: ``None``, ``"ab"`` or ``"ba"``: which translations to score for blockiness.
        min_cell: smallest cell size the score looks for (3 ignores 2x2 blocks left by stride-2 upsampling; use it
            when the real pixel art has cells of 3 pixels or more at the training size).
    """

    def __init__(self, images_a, images_b, *, pixel_grid: str | None = None, min_cell: int = 2):
        super().__init__()
        if pixel_grid not in (None, "ab", "ba"):
            raise ValueError(f"pixel_grid must be None, 'ab' or 'ba'. Received: pixel_grid={pixel_grid!r}")
        self.images_a = _as_float_tensor(images_a)
        self.images_b = _as_float_tensor(images_b)
        self.pixel_grid = pixel_grid
        self.min_cell = int(min_cell)
        self.pixel_grid_input = None
        if pixel_grid is not None:
            from kitlib.eval.pixel import pixel_grid_score

            source = self.images_a if pixel_grid == "ab" else self.images_b
            self.pixel_grid_input = pixel_grid_score(np.asarray(source), min_cell=self.min_cell)

    def measure(self, gan: CycleGAN) -> dict[str, float]:
        """The measurements for the current weights of ``gan`` (what ``on_epoch_end`` adds to the logs)."""
        a, b = self.images_a, self.images_b
        fake_b, fake_a = gan.translate(a, "ab"), gan.translate(b, "ba")
        values = {
            "val_cycle_a": losses.cycle_loss(a, gan.translate(fake_b, "ba")),
            "val_cycle_b": losses.cycle_loss(b, gan.translate(fake_a, "ab")),
            "val_d_a_loss": gan.d_loss_weight * losses.discriminator_loss(
                gan.loss, gan.discriminator_a(a, training=False), gan.discriminator_a(fake_a, training=False)),
            "val_d_b_loss": gan.d_loss_weight * losses.discriminator_loss(
                gan.loss, gan.discriminator_b(b, training=False), gan.discriminator_b(fake_b, training=False)),
        }
        values = {k: float(keras.ops.convert_to_numpy(v)) for k, v in values.items()}
        if self.pixel_grid is not None:
            from kitlib.eval.pixel import pixel_grid_score

            fake = np.asarray(fake_b if self.pixel_grid == "ab" else fake_a)
            values["val_pixel_grid"] = pixel_grid_score(fake, min_cell=self.min_cell)
        return values

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self.measure(self.model))


load_unpaired = deprecated_alias(data_domains.load_unpaired, "kitlib.train.cyclegan.load_unpaired",
                                 "kitlib.data.load_unpaired")


METHODS = (Method(
    name="cyclegan", title="CycleGAN: unpaired image-to-image translation (photo -> Monet, drawing -> pixel art)",
    kind="translation", notebook="02_cyclegan_monet", trainer=CycleGAN, builders={"trainer": build_cyclegan},
    losses=("bce", "lsgan", "hinge"), infer=translate_unpaired, exports=("generator_ab", "generator_ba"),
    data=data_domains.load_unpaired, default_data="toy:landscapes,paintings", custom_layers=CONV_LAYERS,
    profiles={  # notebook 02: landscapes -> paintings, the Kaggle tutorial's settings
        "quick": {"image_size": 32, "generator": "resnet_6blocks", "discriminator": "patchgan_70", "filters": 8,
                  "loss": "bce", "batch_size": 1, "epochs": 1, "steps_per_epoch": 6, "num_images": 24,
                  "min_cell": None},
        "demo": {"image_size": 64, "generator": "resnet_6blocks", "discriminator": "patchgan_70", "filters": 16,
                 "loss": "bce", "batch_size": 1, "epochs": 6, "steps_per_epoch": 100, "num_images": 300,
                 "min_cell": None},
        "full": {"image_size": 256, "generator": "resnet_9blocks", "discriminator": "patchgan_70", "filters": 64,
                 "loss": "bce", "batch_size": 1, "epochs": 25, "steps_per_epoch": 300, "num_images": 300,
                 "min_cell": None},
    },
    setups={"pixel_art": {  # notebook 03: drawing -> pixel art, the seed report's U-Net CycleGAN
        "quick": {"image_size": 32, "generator": "seed_unet", "discriminator": "seed_patchgan", "filters": 8,
                  "batch_size": 2, "epochs": 2, "steps_per_epoch": None, "num_images": 16, "min_cell": 4},
        "demo": {"image_size": 32, "generator": "seed_unet", "discriminator": "seed_patchgan", "filters": 32,
                 "batch_size": 4, "epochs": 6, "steps_per_epoch": None, "num_images": 400, "min_cell": 4},
        "full": {"image_size": 256, "generator": "seed_unet", "discriminator": "seed_patchgan", "filters": 64,
                 "batch_size": 32, "epochs": 50, "steps_per_epoch": None, "num_images": 4000, "min_cell": 4},
    }}),)
