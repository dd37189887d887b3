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

import math
from typing import Callable

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from kitlib.models.diffusion import SinusoidalEmbedding  # noqa: F401  (registered: exported networks load)
from kitlib.train.base import GANTrainer
from kitlib.train.optimizers import FusedAdam

DIFFUSION_LOSSES = ("mae", "mse")


def _check_rates(min_signal_rate: float, max_signal_rate: float) -> None:
    if not 0.0 < min_signal_rate < max_signal_rate < 1.0:
        raise ValueError(f"Need 0 < min_signal_rate < max_signal_rate < 1. Received: "
                         f"min_signal_rate={min_signal_rate}, max_signal_rate={max_signal_rate}")


def diffusion_schedule(diffusion_times, *, min_signal_rate: float = 0.02, max_signal_rate: float = 0.95):
    """The continuous cosine schedule: diffusion times in [0, 1] -> ``(noise_rates, signal_rates)``.

    ``t = 0`` gives ``signal_rate = max_signal_rate`` (almost clean), ``t = 1`` gives ``min_signal_rate`` (almost
    pure noise); the signal rate decreases and the noise rate increases with ``t``, and
    ``signal_rate ** 2 + noise_rate ** 2 = 1``.

    Args:
        diffusion_times: float tensor of any shape (usually ``(batch, 1, 1, 1)``).
        min_signal_rate, max_signal_rate: signal rates at ``t = 1`` and ``t = 0``.

    Returns:
        ``(noise_rates, signal_rates)``, float32 tensors of the shape of ``diffusion_times``.

    Example:
    >>> noise, signal = diffusion_schedule(np.array([0.0, 1.0], "float32"))
    >>> [round(float(v), 4) for v in signal], round(float(noise[0]) ** 2 + float(signal[0]) ** 2, 4)
    ([0.95, 0.02], 1.0)
    """
    _check_rates(min_signal_rate, max_signal_rate)
    start_angle = math.acos(max_signal_rate)
    end_angle = math.acos(min_signal_rate)
    angles = start_angle + ops.cast(diffusion_times, "float32") * (end_angle - start_angle)
    return ops.sin(angles), ops.cos(angles)


def add_noise(images, diffusion_times, noises, *, min_signal_rate: float = 0.02, max_signal_rate: float = 0.95):
    """The forward (noising) process: ``signal_rate(t) * images + noise_rate(t) * noises``.

    Args:
        images: float images in [-1, 1], ``(batch, H, W, C)``.
        diffusion_times: ``(batch, 1, 1, 1)`` (or anything that broadcasts) in [0, 1].
        noises: standard normal noise of the images' shape.
        min_signal_rate, max_signal_rate: the schedule (see ``diffusion_schedule``).

    Returns:
        The noisy images (float32 tensor).

    Example:
    >>> zeros, ones = np.zeros((1, 2, 2, 1), "float32"), np.ones((1, 2, 2, 1), "float32")
    >>> x = add_noise(zeros, np.ones((1, 1, 1, 1), "float32"), ones)
    >>> round(float(x[0, 0, 0, 0]), 4)    # noise_rate at t = 1: sqrt(1 - 0.02 ** 2)
    0.9998
    """
    noise_rates, signal_rates = diffusion_schedule(diffusion_times, min_signal_rate=min_signal_rate,
                                                   max_signal_rate=max_signal_rate)
    return signal_rates * ops.cast(images, "float32") + noise_rates * ops.cast(noises, "float32")


def ddim_step(noisy_images, pred_noises, noise_rates, signal_rates, next_noise_rates, next_signal_rates):
    """One deterministic DDIM step (η = 0) from diffusion time ``t`` to an earlier time ``t'``.

    The clean image is estimated as ``(noisy - noise_rate * pred_noise) / signal_rate`` and noised again to ``t'``
    with the *same* predicted noise. With the true noise it exactly inverts ``add_noise``.

    Returns:
        ``(pred_images, next_noisy_images)``.

    Example:
    >>> x0, eps = np.full((1, 1, 1, 1), 0.5, "float32"), np.ones((1, 1, 1, 1), "float32")
    >>> (n, s), (n2, s2) = diffusion_schedule(np.float32(0.8)), diffusion_schedule(np.float32(0.4))
    >>> pred, nxt = ddim_step(s * x0 + n * eps, eps, n, s, n2, s2)
    >>> round(float(pred[0, 0, 0, 0]), 5), round(float(nxt[0, 0, 0, 0] - (s2 * 0.5 + n2)), 5)
    (0.5, 0.0)
    """
    pred_images = (noisy_images - noise_rates * pred_noises) / signal_rates
    return pred_images, next_signal_rates * pred_images + next_noise_rates * pred_noises


def ddim_sample(network: Callable, initial_noise, *, steps: int = 20, condition=None, min_signal_rate: float = 0.02,
                max_signal_rate: float = 0.95):
    """Deterministic DDIM sampling: ``steps`` equal steps of diffusion time from ``t = 1`` down to ``t = 1/steps``.

    Args:
        network: the noise predictor, called as ``network([noisy, noise_variances(, condition)], training=False)``.
        initial_noise: standard normal ``(batch, H, W, C)``: the starting point (the same noise gives the same image).
        steps: number of network evaluations (more is slower and usually better; 20-50 is typical).
        condition: for conditional networks, the condition images (float, [-1, 1]) of the same batch size.
        min_signal_rate, max_signal_rate: the schedule the network was trained with.

    Returns:
        The final estimate of the clean images, float32 tensor (not clipped).

    Example:
    >>> oracle = lambda inputs, training: np.zeros_like(inputs[0])   # predicts "no noise": returns x / signal_rate
    >>> tuple(ddim_sample(oracle, np.zeros((2, 4, 4, 3), "float32"), steps=3).shape)
    (2, 4, 4, 3)
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an integer >= 1. Received: steps={steps!r}")
    rates = {"min_signal_rate": min_signal_rate, "max_signal_rate": max_signal_rate}
    noisy = ops.convert_to_tensor(initial_noise, "float32")
    batch = ops.shape(noisy)[0]
    extra = [] if condition is None else [ops.convert_to_tensor(condition, "float32")]
    step_size = 1.0 / steps
    pred_images = noisy
    for step in range(steps):
        times = ops.full((batch, 1, 1, 1), 1.0 - step * step_size, "float32")
        noise_rates, signal_rates = diffusion_schedule(times, **rates)
        pred_noises = ops.cast(network([noisy, noise_rates ** 2] + extra, training=False), "float32")
        next_noise_rates, next_signal_rates = diffusion_schedule(times - step_size, **rates)
        pred_images, noisy = ddim_step(noisy, pred_noises, noise_rates, signal_rates, next_noise_rates,
                                       next_signal_rates)
    return pred_images


def _as_float_images(images) -> np.ndarray:
    arr = np.asarray(images)
    if arr.dtype == np.uint8:
        return arr.astype("float32") / 127.5 - 1.0
    return arr.astype("float32")


def _is_conditional(network: keras.Model) -> bool:
    return len(network.inputs) == 3


def ddim_generate(network: keras.Model, n: int, *, steps: int = 20, seed: int = 0, batch_size: int = 64,
             min_signal_rate: float = 0.02, max_signal_rate: float = 0.95) -> np.ndarray:
    """``n`` images from an unconditional noise predictor by DDIM; float32 numpy in [-1, 1].

    The initial noise comes from ``numpy.random.default_rng(seed)``: the same seed gives the same images.

    Example:
    >>> from kitlib.models.diffusion import diffusion_unet
    >>> ddim_generate(diffusion_unet(32, widths=(8, 16), block_depth=1), 2, steps=2).shape
    (2, 32, 32, 3)
    """
    if _is_conditional(network):
        raise ValueError(f"{network.name} is conditional (it takes a condition image): "
                         "use ddim_translate(network, images).")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1. Received: n={n!r}")
    shape = tuple(network.inputs[0].shape[1:])
    noise = np.random.default_rng(seed).standard_normal((n,) + shape).astype("float32")
    out = [ddim_sample(network, noise[i: i + batch_size], steps=steps, min_signal_rate=min_signal_rate,
                       max_signal_rate=max_signal_rate) for i in range(0, n, batch_size)]
    return np.clip(np.concatenate([ops.convert_to_numpy(o) for o in out]), -1.0, 1.0)


def ddim_translate(network: keras.Model, condition, *, steps: int = 20, seed: int = 0, batch_size: int = 64,
              min_signal_rate: float = 0.02, max_signal_rate: float = 0.95) -> np.ndarray:
    """Translates condition images (uint8, or floats in [-1, 1]) with a conditional noise predictor by DDIM.

    Returns float32 numpy images in [-1, 1], one per condition image; ``seed`` fixes the initial noise.

    Example:
    >>> from kitlib.models.diffusion import diffusion_unet
    >>> net = diffusion_unet(32, widths=(8, 16), block_depth=1, condition_channels=3)
    >>> ddim_translate(net, np.zeros((2, 32, 32, 3), "uint8"), steps=2).shape
    (2, 32, 32, 3)
    """
    if not _is_conditional(network):
        raise ValueError(f"{network.name} is unconditional: use ddim_generate(network, n).")
    condition = _as_float_images(condition)
    expected = tuple(network.inputs[2].shape[1:])
    if condition.ndim != 4 or condition.shape[1:] != expected:
        raise ValueError(f"condition must be a batch of shape (N,) + {expected}. Received shape {condition.shape}; "
                         f"resize the images to {expected[:2]}.")
    shape = tuple(network.inputs[0].shape[1:])
    noise = np.random.default_rng(seed).standard_normal((len(condition),) + shape).astype("float32")
    out = [ddim_sample(network, noise[i: i + batch_size], steps=steps, condition=condition[i: i + batch_size],
                       min_signal_rate=min_signal_rate, max_signal_rate=max_signal_rate)
           for i in range(0, len(condition), batch_size)]
    return np.clip(np.concatenate([ops.convert_to_numpy(o) for o in out]), -1.0, 1.0)


def sampling_options(config: dict, *, steps: int | None = None) -> dict:
    """``{"steps", "min_signal_rate", "max_signal_rate"}`` for ``ddim_generate``/``ddim_translate`` from a run's
    config.json.

    Args:
        config: the run directory's ``config.json`` (``kitlib.train.read_run_config(run_dir)``).
        steps: sampling steps; default: the run's ``sampling_steps``.

    Example:
    >>> sampling_options({"model": {"sampling_steps": 20, "min_signal_rate": 0.02, "max_signal_rate": 0.95}}, steps=5)
    {'steps': 5, 'min_signal_rate': 0.02, 'max_signal_rate': 0.95}
    """
    model = config.get("model", {})
    missing = [k for k in ("sampling_steps", "min_signal_rate", "max_signal_rate") if k not in model]
    if missing:
        raise ValueError(f"config.json of this run lacks {missing} under 'model': was it trained by DiffusionModel?")
    return {"steps": int(steps or model["sampling_steps"]), "min_signal_rate": float(model["min_signal_rate"]),
            "max_signal_rate": float(model["max_signal_rate"])}


class DiffusionModel(GANTrainer):
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
        self.conditional = _is_conditional(network)
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
        if not self.ema_warmup:
            return ops.convert_to_tensor(self.ema, "float32")
        k = ops.cast(self.optimizers()["denoiser"].iterations, "float32")
        return ops.minimum(self.ema, (1.0 + k) / (10.0 + k))

    def update_ema(self) -> None:
        """``ema_weight <- decay * ema_weight + (1 - decay) * weight`` for every weight, moving statistics included."""
        decay = self.ema_decay()
        for weight, ema_weight in zip(self.network.weights, self.ema_network.weights):
            ema_weight.assign(decay * ema_weight + (1.0 - decay) * ops.cast(weight, ema_weight.dtype))

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
        noises = keras.random.normal(ops.shape(images), seed=self.seed_generator)
        times = keras.random.uniform((batch, 1, 1, 1), seed=self.seed_generator)
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
        conditions = _as_float_images(conditions)[: self.fixed_noise.shape[0]]
        self.sample_conditions = conditions
        self.sample_targets = None if targets is None else _as_float_images(targets)[: len(conditions)]

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
