"""``Pix2Pix``: paired image-to-image translation (conditional GAN + L1) on the shared engine (notebook 05).

Reference: Isola et al. 2017, Image-to-Image Translation with Conditional Adversarial Networks,
https://arxiv.org/abs/1611.07004 ; https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix ;
https://www.tensorflow.org/tutorials/generative/pix2pix
"""

from __future__ import annotations

import keras
import tensorflow as tf

from kitlib import losses
from kitlib.images import to_float
from kitlib.data.domains import load_paired
from kitlib.method import Method
from kitlib.models.layers import CONV_LAYERS
from kitlib.infer.pix2pix import TEST_MODES, _check_test_mode, translate  # noqa: F401  (re-exported)
from kitlib.train import ema as weight_ema
from kitlib.train.base import Trainer
from kitlib.train.gan import _ACCURACY_THRESHOLD
from kitlib.train.optimizers import FusedAdam
from kitlib.train.schedules import LinearDecay

# The objectives of the paper's loss ablation (Table 1): which terms G minimises and what D sees.
PIX2PIX_LOSSES = ("l1", "gan", "cgan", "l1+gan", "l1+cgan")
PIX2PIX_ADVERSARIAL = ("bce", "lsgan", "hinge")


class Pix2Pix(Trainer):
    """Trains a generator ``G(x) -> y`` on aligned pairs ``(x, y)`` with an adversarial loss and λ·L1.

    One train step (as in junyanz's ``pix2pix_model.py``): ``fake = G(x)``; one discriminator step on the real pair
    ``(x, y)`` and the fake pair ``(x, fake)`` (fake treated as a constant), its loss halved ("we divide the
    objective by 2 while optimizing D"); then one generator step against the updated D,
    ``adversarial(D(x, fake)) + l1_weight * mean|y - fake|``.

    ``loss`` selects the paper's ablation (section 4.2, Table 1):

    | loss        | G minimises          | D judges                                   |
    |-------------|----------------------|--------------------------------------------|
    | "l1"        | λ·L1                 | no D (a discriminator passed is not trained) |
    | "gan"       | adversarial          | the output alone, D(y) (unconditional)     |
    | "cgan"      | adversarial          | the pair, D(x, y) (conditional)            |
    | "l1+gan"    | adversarial + λ·L1   | D(y)                                       |
    | "l1+cgan"   | adversarial + λ·L1   | D(x, y) (the paper's method, default)      |

    A conditional D is a two-input model ``D([x, y])`` (``patchgan_discriminator(condition_shape=...)``), an
    unconditional one takes ``y`` alone; the constructor checks that the D matches the loss.

    Test time (``test_mode``): the paper keeps dropout on at inference and normalises with the statistics of the test
    batch ("we apply dropout at test time, and we apply batch normalization using the statistics of the test batch,
    rather than aggregated statistics of the training batch"), i.e. ``G(x, training=True)``; ``"paper"`` does that
    one image at a time (the paper's test batch size is 1, so an output never depends on the other images of a
    batch) and leaves the moving statistics untouched. ``"eval"`` is the usual Keras inference,
    ``G(x, training=False)``: deterministic, moving statistics, no dropout.

    Args:
        generator: image-to-image ``keras.Model`` (outputs in [-1, 1]), e.g. ``models.unet_generator``.
        discriminator: PatchGAN returning logits; conditional (two inputs) for ``"cgan"``/``"l1+cgan"``,
            unconditional (one input) for ``"gan"``/``"l1+gan"``; None (or any, untouched) for ``"l1"``.
        loss: one of ``PIX2PIX_LOSSES``.
        adversarial: adversarial loss name, ``"bce"`` (the paper's vanilla GAN), ``"lsgan"`` or ``"hinge"``.
        l1_weight: λ (100 in the paper).
        d_loss_weight: factor on the discriminator loss (0.5 in the paper).
        test_mode: ``"paper"`` or ``"eval"``, the default of ``translate`` and ``sample_images``.
        ema: decay of an exponential moving average of the generator's weights (e.g. 0.999, ``kitlib.train.ema``),
            updated after every G step; the average then translates (``translate``, sample grids) and is what
            ``export/generator.keras`` holds. None (the paper): no average.
        seed: seed of the trainer's random generator.

    Example:
    >>> from kitlib.models.unet import unet_generator                 # doctest: +SKIP
    >>> from kitlib.models.patchgan import patchgan_discriminator     # doctest: +SKIP
    >>> g = unet_generator((64, 64, 3), num_downs=6, filters=16)      # doctest: +SKIP
    >>> d = patchgan_discriminator((64, 64, 3), condition_shape=(64, 64, 3), norm="batch")  # doctest: +SKIP
    >>> p2p = Pix2Pix(g, d); p2p.compile()                             # doctest: +SKIP
    >>> p2p.fit(pairs, epochs=10, run_dir="runs/pix2pix")              # doctest: +SKIP
    """

    kind = "translation"

    def __init__(self, generator: keras.Model, discriminator: keras.Model | None = None, *, loss: str = "l1+cgan",
                 adversarial: str = "bce", l1_weight: float = 100.0, d_loss_weight: float = 0.5,
                 test_mode: str = "paper", ema: float | None = None, seed: int = 0, name: str = "pix2pix"):
        if loss not in PIX2PIX_LOSSES:
            raise ValueError(f"loss must be one of {PIX2PIX_LOSSES}. Received: loss={loss!r}")
        if adversarial not in PIX2PIX_ADVERSARIAL:
            raise ValueError(f"adversarial must be one of {PIX2PIX_ADVERSARIAL}. Received: adversarial={adversarial!r}")
        if l1_weight < 0 or d_loss_weight <= 0:
            raise ValueError(f"l1_weight must be >= 0 and d_loss_weight > 0. Received: {l1_weight=}, {d_loss_weight=}")
        if "l1" in loss and l1_weight == 0:
            raise ValueError(f"loss={loss!r} uses the L1 term, so l1_weight must be > 0. Received: l1_weight=0; "
                             "use loss='gan' or 'cgan' for the adversarial loss alone.")
        _check_test_mode(test_mode)
        uses_d = loss != "l1"
        if uses_d:
            if discriminator is None:
                raise ValueError(f"loss={loss!r} needs a discriminator. Received: discriminator=None; build one with "
                                 "models.patchgan_discriminator (condition_shape=... for a conditional D).")
            inputs = len(discriminator.inputs)
            if loss.endswith("cgan") and inputs != 2:
                raise ValueError(f"loss={loss!r} needs a conditional discriminator D([x, y]). Received: a "
                                 f"discriminator with {inputs} input(s); build it with patchgan_discriminator(shape, "
                                 "condition_shape=shape), or use loss='gan'/'l1+gan' for an unconditional D.")
            if not loss.endswith("cgan") and inputs != 1:
                raise ValueError(f"loss={loss!r} needs an unconditional discriminator D(y). Received: a "
                                 f"discriminator with {inputs} inputs; build it without condition_shape, or use "
                                 "loss='cgan'/'l1+cgan'.")
        names = ("g_loss", "g_l1") + (("g_adv", "d_loss", "d_acc_real", "d_acc_fake") if uses_d else ())
        super().__init__(loss_names=names, seed=seed, name=name)
        self.generator = generator
        self.discriminator = discriminator
        self.loss = loss
        self.adversarial = adversarial
        self.l1_weight = float(l1_weight)
        self.d_loss_weight = float(d_loss_weight)
        self.test_mode = test_mode
        self.ema = weight_ema.check_rate(ema)
        self.ema_generator = weight_ema.clone(generator) if self.ema else None
        self.uses_discriminator = uses_d
        self.conditional = loss.endswith("cgan")
        self.sample_inputs = self.sample_targets = None

    def networks(self):
        nets = {"generator": self.generator}
        if self.uses_discriminator:
            nets["discriminator"] = self.discriminator
        if self.ema:
            nets["ema_generator"] = self.ema_generator
        return nets

    def generators(self):
        """``{"generator": ...}``: the weight average when ``ema`` is set, else the trained generator."""
        return {"generator": self.ema_generator if self.ema else self.generator}

    def run_config(self):
        return {"loss": self.loss, "adversarial": self.adversarial, "l1_weight": self.l1_weight,
                "d_loss_weight": self.d_loss_weight, "image_shape": list(self.generator.input_shape[1:]),
                **{k: v.name for k, v in self.networks().items() if k != "ema_generator"},
                **({"ema": self.ema} if self.ema else {})}  # absent without an average: older runs still resume

    def compile(self, *, learning_rate: float = 2e-4, beta_1: float = 0.5, constant_steps: int | None = None,
                decay_steps: int = 0, g_optimizer=None, d_optimizer=None, **kwargs):
        """One Adam per network (lr 2e-4, β1 0.5), optionally constant then linearly decayed to 0 (junyanz).

        Args:
            learning_rate, beta_1: Adam settings.
            constant_steps, decay_steps: optimizer steps at constant LR, then of linear decay to 0 (``decay_steps``
                0 keeps the LR constant, as in the paper). Always a ``LinearDecay``, so the checkpoint holds the
                same variables whatever the epoch count (a finished run trained with more epochs continues).
            g_optimizer, d_optimizer: optional optimizers replacing the defaults.
            **kwargs: passed to ``keras.Model.compile`` (e.g. ``run_eagerly``, ``jit_compile``).
        """
        def make():
            return FusedAdam(LinearDecay(learning_rate, constant_steps or 0, decay_steps), beta_1=beta_1)

        chosen = {"generator": g_optimizer or make()}
        if self.uses_discriminator:
            chosen["discriminator"] = d_optimizer or make()
        self._compile_optimizers(chosen, **kwargs)

    # ---------------------------------------------------------------------------------------------------------
    def _judge(self, condition, image):
        pair = [condition, image] if self.conditional else image
        return self.discriminator(pair, training=True)

    def train_step(self, data):
        inputs, targets = data
        inputs, targets = tf.cast(inputs, "float32"), tf.cast(targets, "float32")
        with tf.GradientTape() as g_tape:
            fake = self.generator(inputs, training=True)
            values = {}
            if self.uses_discriminator:
                with g_tape.stop_recording():
                    values.update(self._d_step(inputs, targets, tf.stop_gradient(fake)))
                g_adv = losses.generator_loss(self.adversarial, self._judge(inputs, fake))
                values["g_adv"] = g_adv
            g_l1 = losses.l1_loss(targets, fake)
            if self.loss in ("gan", "cgan"):
                g_loss = g_adv
            elif self.loss == "l1":
                g_loss = self.l1_weight * g_l1
            else:
                g_loss = g_adv + self.l1_weight * g_l1
            scaled = self.scale_loss("generator", g_loss)
        self.minimize("generator", g_tape, scaled)
        if self.ema:
            decay = weight_ema.decay(self.ema, self.optimizers()["generator"].iterations)
            weight_ema.update(self.generator, self.ema_generator, decay)
        values.update({"g_loss": g_loss, "g_l1": g_l1})
        return self.update_trackers(values)

    def _d_step(self, inputs, targets, fake):
        with tf.GradientTape() as tape:
            real_logits = self._judge(inputs, targets)
            fake_logits = self._judge(inputs, fake)
            d_loss = self.d_loss_weight * losses.discriminator_loss(self.adversarial, real_logits, fake_logits)
            scaled = self.scale_loss("discriminator", d_loss)
        self.minimize("discriminator", tape, scaled)
        threshold = _ACCURACY_THRESHOLD[self.adversarial]
        acc_real = tf.reduce_mean(tf.cast(tf.cast(real_logits, "float32") > threshold, "float32"))
        acc_fake = tf.reduce_mean(tf.cast(tf.cast(fake_logits, "float32") <= threshold, "float32"))
        return {"d_loss": d_loss, "d_acc_real": acc_real, "d_acc_fake": acc_fake}

    # ---------------------------------------------------------------------------------------------------------
    def translate(self, images, test_mode: str | None = None):
        """Translates a batch (floats in [-1, 1]) with the exported generator (the average when ``ema`` is set);
        returns float32 images in [-1, 1].

        Args:
            images: ``(batch, H, W, C)`` inputs.
            test_mode: ``"paper"`` (dropout on, batch statistics of each image on its own; moving statistics are
                left as they were) or ``"eval"`` (``training=False``); default: the trainer's ``test_mode``.
        """
        return translate(self.generators()["generator"], images, test_mode=test_mode or self.test_mode)

    def set_sample_inputs(self, inputs, targets) -> None:
        """Fixes the pairs shown by ``sample_images`` (and the SampleGrid callback) every epoch."""
        self.sample_inputs = keras.ops.convert_to_tensor(inputs, "float32")
        self.sample_targets = keras.ops.convert_to_tensor(targets, "float32")

    def sample_images(self):
        """Rows of [input, output, target] for the fixed sample pairs (``set_sample_inputs``); use ``ncols=3``."""
        if self.sample_inputs is None:
            raise ValueError("Call set_sample_inputs(inputs, targets) before using SampleGrid with Pix2Pix.")
        fake = self.translate(self.sample_inputs)
        rows = [tf.stack([self.sample_inputs[i], fake[i], self.sample_targets[i]]) for i in range(len(fake))]
        return tf.concat(rows, axis=0)


def build_pix2pix(
    image_shape: tuple = (256, 256, 3),
    *,
    loss: str = "l1+cgan",
    patch: str = "patchgan_70",
    num_downs: int | None = None,
    filters: int = 64,
    d_filters: int | None = None,
    skip: bool = True,
    dropout: float = 0.5,
    norm: str = "batch",
    **trainer_kwargs,
) -> Pix2Pix:
    """Builds the paper's generator and discriminator and wraps them in a ``Pix2Pix`` trainer (not compiled).

    Generator: ``unet_generator`` (U-Net256 with the defaults at 256 px: C64-C128-C256-C512x5, dropout 0.5 on the
    first three decoder blocks, batch norm), or its encoder-decoder ablation with ``skip=False``. Discriminator:
    a PatchGAN named in ``PATCHGAN_VARIANTS`` (``"pixelgan"`` 1x1, ``"patchgan_16"``, ``"patchgan_70"``,
    ``"patchgan_286"``), conditional for the ``"cgan"`` losses, none for ``"l1"``.

    Args:
        image_shape: ``(H, W, C)`` of inputs and targets.
        loss: one of ``PIX2PIX_LOSSES``.
        patch: PatchGAN variant name (receptive field).
        num_downs: U-Net depth; default ``log2(min(H, W))`` (a 1x1 bottleneck: 8 at 256 px, 5 at 32 px).
        filters: generator filters of the first block (64 in the paper).
        d_filters: discriminator filters of the first conv (default: ``filters``).
        skip: U-Net skips (False: the encoder-decoder ablation).
        dropout: generator dropout rate (the paper's noise z).
        norm: ``"batch"`` (paper), ``"instance"`` or ``"none"``, for both networks.
        **trainer_kwargs: passed to ``Pix2Pix`` (``adversarial``, ``l1_weight``, ``test_mode``, ``seed``, ...).

    Returns:
        A ``Pix2Pix`` trainer; call ``.compile()`` then ``.fit(...)``.

    Example:
    >>> p2p = build_pix2pix((32, 32, 3), filters=8, patch="patchgan_16")
    >>> p2p.generator.output_shape, p2p.discriminator.output_shape
    ((None, 32, 32, 3), (None, 14, 14, 1))
    """
    import math

    from kitlib.models.patchgan import PATCHGAN_VARIANTS, patchgan_discriminator
    from kitlib.models.unet import unet_generator

    if patch not in PATCHGAN_VARIANTS:
        raise ValueError(f"patch must be one of {sorted(PATCHGAN_VARIANTS)}. Received: patch={patch!r}")
    if loss not in PIX2PIX_LOSSES:
        raise ValueError(f"loss must be one of {PIX2PIX_LOSSES}. Received: loss={loss!r}")
    image_shape = tuple(image_shape)
    if num_downs is None:
        if None in image_shape[:2]:
            raise ValueError(f"Pass num_downs for images of unknown size. Received: image_shape={image_shape!r}")
        num_downs = int(math.log2(min(image_shape[:2])))
    generator = unet_generator(image_shape, num_downs=num_downs, filters=filters, norm=norm, dropout=dropout,
                               skip=skip, name="unet_generator" if skip else "encoder_decoder_generator")
    discriminator = None
    if loss != "l1":
        conditional = loss.endswith("cgan")
        discriminator = patchgan_discriminator(
            image_shape, n_layers=PATCHGAN_VARIANTS[patch], filters=d_filters or filters, norm=norm,
            condition_shape=image_shape if conditional else None, name=f"{patch}_discriminator")
    return Pix2Pix(generator, discriminator, loss=loss, **trainer_kwargs)


def run_ablation(variants: dict[str, dict], batches, test_inputs, test_targets, *, base: dict | None = None,
                 epochs: int = 1, steps_per_epoch: int | None = None, mask=None, run_root=None,
                 test_mode: str = "paper", compile_kwargs: dict | None = None,
                 verbose=0) -> tuple[dict[str, dict[str, float]], dict[str, object]]:
    """Trains one small pix2pix per variant on the same batches and scores each on the same held-out pairs.

    The paper's ablations (section 4.2-4.4) in a loop: each variant is ``build_pix2pix(**base, **variant)``, built
    after ``keras.utils.set_random_seed(base["seed"])`` (same initial state for every variant: a fair comparison),
    trained for ``epochs`` epochs of ``batches``, then ``translate`` of the test inputs in ``test_mode`` and scored
    by ``eval.paired.paired_metrics`` (whole image, and inside ``mask`` when given). With ``run_root``, each run
    lives in ``run_root/<the overrides that differ from build_pix2pix's defaults>`` (``paper_defaults`` for none),
    so re-running resumes or skips finished runs, and the same configuration in two ablations is trained once.

    Args:
        variants: ``{name: build_pix2pix keyword overrides}``, e.g. ``{"L1": {"loss": "l1"}, "cGAN": {"loss":
            "cgan"}}`` or ``{"1x1": {"patch": "pixelgan"}, "16x16": {"patch": "patchgan_16"}}``.
        batches: training ``tf.data.Dataset`` of ``(inputs, targets)`` batches (``data.prepare`` output).
        test_inputs, test_targets: held-out pairs, floats in [-1, 1] or uint8.
        base: keyword arguments shared by every variant (``image_shape``, ``filters``, ``seed``, ...).
        epochs: epochs per variant.
        steps_per_epoch: steps per epoch (default: ``batches.steps_per_epoch``), e.g. a few for a quick look.
        mask: optional hole mask for the hole metrics.
        run_root: optional folder of the run directories.
        test_mode: ``"paper"`` or ``"eval"``.
        compile_kwargs: passed to each ``Pix2Pix.compile``.
        verbose: passed to ``fit``.

    Returns:
        ``(metrics, outputs)``: ``{name: paired_metrics dict}`` and ``{name: translated test inputs}``.

    Example:
    >>> table, images = run_ablation({"L1": {"loss": "l1"}, "L1+cGAN": {}}, batches, x, y,
    ...                              base={"image_shape": (32, 32, 3), "filters": 8})   # doctest: +SKIP
    """
    import inspect
    import pathlib

    from kitlib.eval.paired import paired_metrics

    if not variants:
        raise ValueError("variants must name at least one configuration, e.g. {'L1': {'loss': 'l1'}}.")
    inputs = to_float(test_inputs)
    signatures = [inspect.signature(f).parameters.items() for f in (Pix2Pix.__init__, build_pix2pix)]
    defaults = {k: p.default for items in signatures for k, p in items if p.default is not inspect.Parameter.empty}
    metrics, outputs = {}, {}
    for name, overrides in variants.items():
        config = {**(base or {}), **overrides}
        keras.utils.set_random_seed(config.get("seed", 0))
        p2p = build_pix2pix(**config)
        p2p.compile(**(compile_kwargs or {}))
        changed = sorted((k, v) for k, v in config.items() if k not in ("image_shape", "test_mode")
                         and (k not in defaults or defaults[k] != v))
        slug = "_".join(f"{k}-{v}" for k, v in changed).replace("/", "-").replace(" ", "") or "paper_defaults"
        run_dir = None if run_root is None else pathlib.Path(run_root) / slug
        p2p.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch, run_dir=run_dir, verbose=verbose)
        outputs[name] = p2p.translate(inputs, test_mode=test_mode)
        metrics[name] = paired_metrics(outputs[name], test_targets, mask=mask)
    return metrics, outputs


def _test_mode_option(config: dict, *, steps: int | None = None, seed: int = 0) -> dict:
    """``translate`` keywords for a run: its test-time behaviour (``"paper"`` or ``"eval"``, recorded in config.json)."""
    return {"test_mode": config.get("test_mode", "eval")}


METHODS = (Method(
    name="pix2pix", title="pix2pix: paired image-to-image translation (central-square inpainting on the toy data)",
    kind="translation", notebook="05_pix2pix_inpainting", trainer=Pix2Pix, builders={"trainer": build_pix2pix},
    losses=("l1+cgan",) + tuple(x for x in PIX2PIX_LOSSES if x != "l1+cgan"), infer=translate, exports=("generator",),
    data=load_paired, default_data="toy:landscapes", custom_layers=CONV_LAYERS, infer_options=_test_mode_option,
    profiles={
        "quick": {"image_size": 32, "num_images": 40, "filters": 8, "epochs": 1, "batch_size": 1, "loss": "l1+cgan",
                  "patch": "patchgan_70", "test_mode": "paper", "ablation_steps": 4, "ema": None},
        "demo": {"image_size": 64, "num_images": 400, "filters": 16, "epochs": 6, "batch_size": 1, "loss": "l1+cgan",
                 "patch": "patchgan_70", "test_mode": "paper", "ablation_steps": 200, "ema": None},
        "full": {"image_size": 256, "num_images": 2000, "filters": 64, "epochs": 200, "batch_size": 1,
                 "loss": "l1+cgan", "patch": "patchgan_70", "test_mode": "paper", "ablation_steps": 20000, "ema": None},
    },
    # `train pix2pix --data inpaint:FOLDER` (real photos): the recipe that beat biharmonic inpainting on held-out
    # photos where the paper's did not (assets/real_data/README.md)
    setups={"photos": {p: {"loss": "l1", "batch_size": 8, "filters": f, "test_mode": "eval", "ema": 0.999}
                       for p, f in (("quick", 8), ("demo", 32), ("full", 64))}}),)
