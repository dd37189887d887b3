"""DDIM sampling of kitlib's diffusion networks: unconditional generation and image-conditioned translation.

The noise predictor is a ``kitlib.models.diffusion_unet`` (or any model with its inputs); the schedule is
``kitlib.models.diffusion.diffusion_schedule``. Sampling runs deterministic DDIM steps (eta = 0) from pure noise at
``t = 1``. Trainers (``kitlib.train.DiffusionModel``) and the CLI call these functions.

Reference: [Song et al., 2020, Denoising Diffusion Implicit Models](https://arxiv.org/abs/2010.02502);
[keras-io DDIM](https://keras.io/examples/generative/ddim/)

Example:
>>> from kitlib.models.diffusion import diffusion_unet
>>> ddim_generate(diffusion_unet(32, widths=(8, 16), block_depth=1), 1, steps=1).shape
(1, 32, 32, 3)
"""

from __future__ import annotations

from typing import Callable

import keras
import numpy as np
from keras import ops

from kitlib.images import to_float
from kitlib.models.diffusion import diffusion_schedule

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


def is_conditional(network: keras.Model) -> bool:
    """True for an image-conditioned noise predictor (inputs ``[noisy, noise_variances, condition]``)."""
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
    if is_conditional(network):
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
    if not is_conditional(network):
        raise ValueError(f"{network.name} is unconditional: use ddim_generate(network, n).")
    condition = to_float(condition)
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


__all__ = ["ddim_generate", "ddim_sample", "ddim_step", "ddim_translate", "is_conditional", "sampling_options"]
