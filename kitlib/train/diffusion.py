"""``DiffusionModel``: DDIM training and sampling (unconditional or image-conditioned) on the shared engine.

Continuous-time diffusion with the keras-io cosine schedule: a diffusion time ``t`` in [0, 1] maps to the angle
``arccos(max_signal_rate) + t * (arccos(min_signal_rate) - arccos(max_signal_rate))``, the signal rate is its cosine
and the noise rate its sine (so ``signal² + noise² = 1``); ``noisy = signal * image + noise * noise_sample``. The
network learns to predict the noise (MAE or MSE). Sampling runs deterministic DDIM steps (η = 0) from pure noise at
``t = 1``, with as many steps as asked, using the exponential moving average (EMA) of the weights.

Reference:
- [Song et al., 2020, Denoising Diffusion Implicit Models](https://arxiv.org/abs/2010.02502)
- [keras-io: Denoising Diffusion Implicit Models](https://keras.io/examples/generative/ddim/)
- [Saharia et al., 2022, Palette: Image-to-Image Diffusion Models](https://arxiv.org/abs/2111.05826)
- [Nichol & Dhariwal, 2021, Improved DDPM](https://arxiv.org/abs/2102.09672) (cosine schedule)
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kitlib.images import to_float
from kitlib.data.domains import load_images, load_paired
from kitlib.method import Method
from kitlib.models.diffusion import diffusion_unet
from kitlib.models.layers import CONV_LAYERS
# The sampling functions and the schedule are re-exported: notebooks import them from here.
from kitlib.infer.diffusion import (ddim_generate, ddim_sample, ddim_step, ddim_translate, is_conditional,  # noqa: F401
                                    sampling_options)
from kitlib.models.diffusion import SinusoidalEmbedding  # noqa: F401  (registered: exported networks load)
from kitlib.models.diffusion import _check_rates, add_noise, diffusion_schedule  # noqa: F401
from kitlib.train import ema as weight_ema
from kitlib.train.base import Trainer, replica_rows
from kitlib.train.optimizers import FusedAdam

DIFFUSION_LOSSES = ("mae", "mse")


class DiffusionModel(Trainer):
    """Trains a noise-predicting U-Net as a DDIM diffusion model, unconditional or image-conditioned (Palette).

    Each step draws a diffusion time per image and a noise sample, noises the image (``add_noise``), and trains the
    network to predict the noise (``loss``: MAE as keras-io, or MSE as DDPM); ``image_loss`` (MAE between the image
    and its one-shot estimate) is reported as a metric only. After each step an EMA copy of the weights (moving
    statistics included) is updated with decay ``min(ema, (1 + k) / (10 + k))`` at update ``k`` (the warm-up of
    ``tf.train.ExponentialMovingAverage``; without it an EMA of 0.999 would still be 70% random weights after 300
    steps of a short CPU run). The EMA network samples, is checkpointed (exact resume) and is exported as
    ``export/ema_denoiser.keras`` for ``python -m kitlib generate`` / ``translate``.

    The network is conditional when it has three inputs (``diffusion_unet(..., condition_channels=3)``); the
    training data are then ``(condition, target)`` batch pairs, e.g. (drawing, pixel art).

    Args:
        network: a ``kitlib.models.diffusion_unet`` (or any model with the same inputs and output).
        loss: ``"mae"`` (keras-io) or ``"mse"`` (DDPM).
        ema: EMA decay (0.999).
        ema_warmup: use the warm-up formula above (True) or the constant ``ema`` from the first step.
        min_signal_rate, max_signal_rate: the schedule (keras-io: 0.02 and 0.95).
        sampling_steps: DDIM steps of ``sample_images`` (sample grids), and the default of ``generate``/``translate``
            and of the CLI.
        num_samples: images in sample grids (fixed initial noise, the same every epoch).
        seed: seed of the noise and diffusion times drawn in training, and of the fixed sample noise.

    Example:
    >>> from kitlib.models.diffusion import diffusion_unet          # doctest: +SKIP
    >>> model = DiffusionModel(diffusion_unet(32, widths=(32, 64)))  # doctest: +SKIP
    >>> model.compile(); model.fit(batches, epochs=10, run_dir="runs/ddim")  # doctest: +SKIP
    >>> images = model.generate(16, steps=20)                       # doctest: +SKIP
    """

    def __init__(self, network: keras.Model, *, loss: str = "mae", ema: float = 0.999, ema_warmup: bool = True,
                 min_signal_rate: float = 0.02, max_signal_rate: float = 0.95, sampling_steps: int = 20,
                 num_samples: int = 16, seed: int = 0, name: str = "diffusion"):
        if loss not in DIFFUSION_LOSSES:
            raise ValueError(f"loss must be one of {DIFFUSION_LOSSES}. Received: loss={loss!r}")
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1). Received: ema={ema!r}")
        _check_rates(min_signal_rate, max_signal_rate)
        if isinstance(sampling_steps, bool) or not isinstance(sampling_steps, int) or sampling_steps < 1:
            raise ValueError(f"sampling_steps must be an integer >= 1. Received: sampling_steps={sampling_steps!r}")
        if len(network.inputs) not in (2, 3):
            raise ValueError(f"network must take [noisy_images, noise_variances] or [noisy_images, noise_variances, "
                             f"condition] (see kitlib.models.diffusion_unet). Received {len(network.inputs)} inputs.")
        super().__init__(loss_names=("noise_loss", "image_loss"), seed=seed, name=name)
        self.network = network
        self.ema_network = keras.Model.from_config({**network.get_config(), "name": f"ema_{network.name}"})
        self.ema_network.set_weights(network.get_weights())
        self.conditional = is_conditional(network)
        self.kind = "translation" if self.conditional else "unconditional"
        self.loss = loss
        self.ema = float(ema)
        self.ema_warmup = bool(ema_warmup)
        self.min_signal_rate = float(min_signal_rate)
        self.max_signal_rate = float(max_signal_rate)
        self.sampling_steps = int(sampling_steps)
        self.image_shape = tuple(network.inputs[0].shape[1:])
        fixed = keras.random.normal((num_samples,) + self.image_shape, seed=seed + 1)
        self.fixed_noise = keras.Variable(fixed, trainable=False, name="fixed_noise")
        self.sample_conditions = self.sample_targets = None

    # -- engine contract ----------------------------------------------------------------------------------------
    def networks(self):
        return {"denoiser": self.network, "ema_denoiser": self.ema_network}

    def generators(self):
        return {"ema_denoiser": self.ema_network}

    def extra_state(self):
        return [self.fixed_noise]

    def run_config(self):
        return {"loss": self.loss, "ema": self.ema, "ema_warmup": self.ema_warmup,
                "min_signal_rate": self.min_signal_rate, "max_signal_rate": self.max_signal_rate,
                "sampling_steps": self.sampling_steps, "conditional": self.conditional,
                "image_shape": list(self.image_shape), "network": self.network.name}

    def compile(self, optimizer=None, *, learning_rate: float = 1e-3, weight_decay: float = 1e-4, **kwargs):
        """One optimizer for the denoiser (default AdamW, lr 1e-3, weight decay 1e-4, as keras-io: ``FusedAdam`` with
        decoupled weight decay, which is what ``keras.optimizers.AdamW`` is); the EMA
        network is not trained by gradients."""
        self._compile_optimizers({"denoiser": optimizer or FusedAdam(learning_rate, weight_decay=weight_decay)}, **kwargs)

    # -- training -----------------------------------------------------------------------------------------------
    def _schedule(self, times):
        return diffusion_schedule(times, min_signal_rate=self.min_signal_rate, max_signal_rate=self.max_signal_rate)

    def ema_decay(self):
        """The decay the next EMA update uses (see the class docstring), as a float32 tensor."""
        return weight_ema.decay(self.ema, self.optimizers()["denoiser"].iterations, self.ema_warmup)

    def update_ema(self) -> None:
        """``ema_weight <- decay * ema_weight + (1 - decay) * weight`` for every weight, moving statistics included."""
        weight_ema.update(self.network, self.ema_network, self.ema_decay())

    def train_step(self, data):
        if self.conditional:
            if not isinstance(data, (tuple, list)) or len(data) != 2:
                raise ValueError("A conditional DiffusionModel trains on (condition, target) batch pairs, e.g. "
                                 "tf.data.Dataset.zip((drawings, pixel_art)).")
            condition, images = ops.cast(data[0], "float32"), ops.cast(data[1], "float32")
            extra = [condition]
        else:
            images, extra = ops.cast(data, "float32"), []
        batch = ops.shape(images)[0]
        noises = replica_rows(
            lambda rows: keras.random.normal((rows, *ops.shape(images)[1:]), seed=self.seed_generator), batch)
        times = replica_rows(lambda rows: keras.random.uniform((rows, 1, 1, 1), seed=self.seed_generator), batch)
        noise_rates, signal_rates = self._schedule(times)
        noisy = signal_rates * images + noise_rates * noises
        with tf.GradientTape() as tape:
            pred_noises = ops.cast(self.network([noisy, noise_rates ** 2] + extra, training=True), "float32")
            error = pred_noises - noises
            noise_loss = ops.mean(ops.abs(error)) if self.loss == "mae" else ops.mean(ops.square(error))
            scaled = self.scale_loss("denoiser", noise_loss)
        self.minimize("denoiser", tape, scaled)
        self.update_ema()
        pred_images = (noisy - noise_rates * pred_noises) / signal_rates
        image_loss = ops.mean(ops.abs(pred_images - images))
        return self.update_trackers({"noise_loss": noise_loss, "image_loss": image_loss})

    # -- sampling -----------------------------------------------------------------------------------------------
    def _options(self, steps):
        return {"steps": int(steps or self.sampling_steps), "min_signal_rate": self.min_signal_rate,
                "max_signal_rate": self.max_signal_rate}

    def generate(self, n: int, *, steps: int | None = None, seed: int = 0) -> np.ndarray:
        """``n`` images (float32 numpy in [-1, 1]) from the EMA network with ``steps`` DDIM steps."""
        return ddim_generate(self.ema_network, n, seed=seed, **self._options(steps))

    def translate(self, condition, *, steps: int | None = None, seed: int = 0) -> np.ndarray:
        """Translates condition images (uint8 or [-1, 1]) with the EMA network; float32 numpy in [-1, 1]."""
        return ddim_translate(self.ema_network, condition, seed=seed, **self._options(steps))

    def set_sample_inputs(self, conditions, targets=None) -> None:
        """Fixes the condition images (and optionally their targets) shown by ``sample_images`` every epoch."""
        if not self.conditional:
            raise ValueError("set_sample_inputs is for conditional models; unconditional ones sample fixed noise.")
        conditions = to_float(conditions)[: self.fixed_noise.shape[0]]
        self.sample_conditions = conditions
        self.sample_targets = None if targets is None else to_float(targets)[: len(conditions)]

    def sample_images(self, steps: int | None = None):
        """Images from the fixed sample noise with the EMA network (``sampling_steps`` DDIM steps).

        Conditional models return rows ``[condition, generated(, target)]`` for the ``set_sample_inputs`` images.
        """
        options = self._options(steps)
        if not self.conditional:
            out = ddim_sample(self.ema_network, self.fixed_noise, **options)
            return ops.convert_to_numpy(ops.clip(out, -1.0, 1.0))
        if self.sample_conditions is None:
            raise ValueError("Call set_sample_inputs(conditions, targets) before sampling a conditional model "
                             "(or using SampleGrid with it).")
        n = len(self.sample_conditions)
        out = ops.convert_to_numpy(ops.clip(ddim_sample(self.ema_network, self.fixed_noise[:n],
                                                         condition=self.sample_conditions, **options), -1.0, 1.0))
        columns = [self.sample_conditions, out] + ([] if self.sample_targets is None else [self.sample_targets])
        return np.stack(columns, axis=1).reshape((-1,) + self.image_shape)


def _sampling_options(config: dict, *, steps: int | None = None, seed: int = 0) -> dict:
    """``ddim_generate``/``ddim_translate`` keywords for a run: its sampling settings (``--steps``) and ``seed``."""
    return {**sampling_options(config, steps=steps), "seed": seed}


def _diffusion_profiles(epochs: tuple[int, int, int], **extra) -> dict:
    """Notebook 07's sizes; DDIM and Palette differ in their epochs (EPOCHS, PAIR_EPOCHS)."""
    sizes = {"quick": (32, 64, "tiny", 16, 3), "demo": (32, 2048, "small", 32, 20), "full": (64, 20000, "keras_io", 64, 50)}
    return {p: {"image_size": s, "num_images": n, "unet": unet, "loss": "mae", "batch_size": b, "epochs": e,
                "sampling_steps": steps, **extra}
            for (p, (s, n, unet, b, steps)), e in zip(sizes.items(), epochs)}


METHODS = (
    Method(name="ddim", title="DDIM: images from noise by denoising diffusion", kind="unconditional",
           notebook="07_diffusion", trainer=DiffusionModel, builders={"network": diffusion_unet},
           losses=DIFFUSION_LOSSES, infer=ddim_generate, exports=("ema_denoiser",), data=load_images,
           default_data="toy:faces", custom_layers=(SinusoidalEmbedding,) + CONV_LAYERS,
           config_match={"conditional": False}, profiles=_diffusion_profiles((1, 16, 80)),
           infer_options=_sampling_options),
    Method(name="palette", title="Palette: image-conditioned diffusion (drawing -> pixel art)", kind="translation",
           notebook="07_diffusion", trainer=DiffusionModel, builders={"network": diffusion_unet},
           losses=DIFFUSION_LOSSES, infer=ddim_translate, exports=("ema_denoiser",), data=load_paired,
           default_data="toy:pixel_art", custom_layers=(SinusoidalEmbedding,) + CONV_LAYERS,
           config_match={"conditional": True}, profiles=_diffusion_profiles((1, 8, 80), min_cell=4),
           infer_options=_sampling_options),
)
