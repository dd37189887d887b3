"""Paired image metrics (L1, PSNR, SSIM) over the whole image and inside a mask, and inpainting baselines.

Images follow the kit's convention: uint8 in [0, 255], or floats in [-1, 1] (generator outputs); NHWC or HWC.
Every metric converts both to floats in [0, 1] first, so L1 is a mean absolute error on a 0..1 intensity scale and
PSNR uses a data range of 1: ``PSNR = 10 * log10(1 / MSE)``. Values are computed per image, then averaged over
the images (the usual reporting in inpainting papers); an image identical to its target has an infinite PSNR.

Masks mark the hole (the pixels to fill) with True/1: shape ``(H, W)`` shared by every image, or ``(N, H, W)``
(a trailing channel axis of 1 is accepted). "Hole" metrics use the masked pixels only: L1 and PSNR average over
them alone; SSIM is the mean of the local SSIM map at the hole pixels (each value comes from a Gaussian window,
sigma 1.5, centred on a hole pixel, so pixels just outside a hole's border take part with a small weight: a seam
at the border lowers it, as it should).

Baselines for central-square inpainting: the masked input itself (what "doing nothing" scores) and classical
inpainting with ``skimage.restoration.inpaint_biharmonic`` (smooth biharmonic continuation of the border).

Reference: Wang et al. 2004, Image Quality Assessment: From Error Visibility to Structural Similarity,
https://doi.org/10.1109/TIP.2003.819861 ; Damelin & Hoang 2018 (biharmonic inpainting),
https://doi.org/10.1155/2018/8250305

Example:
>>> import numpy as np
>>> a = np.zeros((2, 32, 32, 3), "uint8"); b = a.copy(); b[:, 8:16, 8:16] = 255
>>> mask = np.zeros((32, 32), bool); mask[8:16, 8:16] = True
>>> m = paired_metrics(a, b, mask=mask)
>>> round(m["l1"], 4), m["hole_l1"], round(m["hole_psnr"], 1)
(0.0625, 1.0, 0.0)
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

# Higher is better for these; lower for the L1 errors.
HIGHER_IS_BETTER = {"l1": False, "psnr": True, "ssim": True}


def to_unit(images) -> np.ndarray:
    """Images (uint8 in [0, 255] or floats in [-1, 1]) as float64 in [0, 1], NHWC.

    Example:
    >>> to_unit(np.array([[[[0, 255]]]], "uint8")).ravel().tolist()
    [0.0, 1.0]
    """
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"Images must be NHWC or HWC. Received shape {arr.shape}")
    if arr.dtype == np.uint8:
        return arr.astype("float64") / 255.0
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"Images must be uint8 in [0, 255] or floats in [-1, 1]. Received dtype {arr.dtype}")
    return np.clip((arr.astype("float64") + 1.0) / 2.0, 0.0, 1.0)


def _pair(predictions, targets) -> tuple[np.ndarray, np.ndarray]:
    a, b = to_unit(predictions), to_unit(targets)
    if a.shape != b.shape:
        raise ValueError(f"predictions and targets must have the same shape. Received {a.shape} and {b.shape}")
    return a, b


def _mask(mask, shape: tuple) -> np.ndarray | None:
    """The mask as bool ``(N, H, W)`` matching images of ``shape`` (NHWC), or None."""
    if mask is None:
        return None
    m = np.asarray(mask)
    if m.ndim >= 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim == 2:
        m = np.broadcast_to(m, (shape[0],) + m.shape)
    if m.shape != shape[:3]:
        raise ValueError(f"mask must have shape (H, W) or (N, H, W) matching the images {shape}. "
                         f"Received {np.shape(mask)}")
    m = np.array(m, dtype=bool, order="C")  # a writable copy (broadcast views are read-only)
    if not m.reshape(len(m), -1).any(axis=1).all():
        raise ValueError("mask is empty for at least one image: hole metrics need at least one masked pixel per image.")
    return m


def _per_image_mean(values: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Mean over H, W, C of ``values`` (NHWC) per image, over the masked pixels only when a mask is given."""
    if mask is None:
        return values.reshape(len(values), -1).mean(axis=1)
    weights = np.broadcast_to(mask[..., None], values.shape)
    return (values * weights).reshape(len(values), -1).sum(axis=1) / weights.reshape(len(values), -1).sum(axis=1)


def l1_error(predictions, targets, *, mask=None) -> float:
    """Mean absolute error on the [0, 1] intensity scale, per image then averaged (inside ``mask`` if given).

    Example:
    >>> l1_error(np.full((1, 4, 4, 3), 255, "uint8"), np.zeros((1, 4, 4, 3), "uint8"))
    1.0
    """
    a, b = _pair(predictions, targets)
    return float(_per_image_mean(np.abs(a - b), _mask(mask, a.shape)).mean())


def psnr(predictions, targets, *, mask=None) -> float:
    """Peak signal-to-noise ratio in dB, ``10 * log10(1 / MSE)`` on the [0, 1] scale, averaged over images.

    With ``mask``, the MSE of each image is taken over the masked pixels only. An image equal to its target gives
    ``inf`` (and so does the average).

    Example:
    >>> a = np.zeros((1, 4, 4, 1)); b = np.full((1, 4, 4, 1), -0.8)     # floats in [-1, 1]: 0.5 vs 0.1
    >>> round(psnr(a, b), 4)                                            # MSE 0.16
    7.9588
    """
    a, b = _pair(predictions, targets)
    mse = _per_image_mean(np.square(a - b), _mask(mask, a.shape))
    with np.errstate(divide="ignore"):
        return float(np.mean(10.0 * np.log10(1.0 / mse)))


def ssim(predictions, targets, *, mask=None) -> float:
    """Structural similarity (Wang et al. 2004: Gaussian window sigma 1.5, K1 0.01, K2 0.03, data range 1).

    Without a mask this is ``skimage.metrics.structural_similarity`` of each image (colour channels averaged),
    averaged over images. With ``mask``, the local SSIM map of each image is averaged over the masked pixels.
    Images need height and width >= 11 (the Gaussian window).

    Example:
    >>> x = np.random.default_rng(0).integers(0, 256, (2, 16, 16, 3), dtype=np.uint8)
    >>> ssim(x, x)
    1.0
    """
    from skimage.metrics import structural_similarity

    a, b = _pair(predictions, targets)
    if min(a.shape[1:3]) < 11:
        raise ValueError(f"ssim needs images of at least 11x11 pixels (Gaussian window). Received {a.shape[1:3]}")
    m = _mask(mask, a.shape)
    values = []
    for i in range(len(a)):
        score, full = structural_similarity(a[i], b[i], channel_axis=-1, data_range=1.0, full=True,
                                            gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        values.append(score if m is None else full[m[i]].mean())
    return float(np.mean(values))


def paired_metrics(predictions, targets, *, mask=None) -> dict[str, float]:
    """L1, PSNR and SSIM of predictions against targets, and the same inside the hole when ``mask`` is given.

    Args:
        predictions: ``(N, H, W, C)`` uint8 or floats in [-1, 1].
        targets: the ground truth, same shape.
        mask: optional hole mask, ``(H, W)`` or ``(N, H, W)``, True in the hole.

    Returns:
        ``{"l1", "psnr", "ssim"}`` over whole images, plus ``{"hole_l1", "hole_psnr", "hole_ssim"}`` with a mask.

    Example:
    >>> x = np.zeros((1, 16, 16, 3), "uint8")
    >>> sorted(paired_metrics(x, x))
    ['l1', 'psnr', 'ssim']
    """
    out = {"l1": l1_error(predictions, targets), "psnr": psnr(predictions, targets), "ssim": ssim(predictions, targets)}
    if mask is not None:
        out.update({"hole_l1": l1_error(predictions, targets, mask=mask),
                    "hole_psnr": psnr(predictions, targets, mask=mask),
                    "hole_ssim": ssim(predictions, targets, mask=mask)})
    return out


def classical_inpaint(images, mask) -> np.ndarray:
    """Fills the hole of each image by biharmonic inpainting (``skimage.restoration.inpaint_biharmonic``).

    The values inside the hole are ignored; pixels outside it are returned unchanged.

    Args:
        images: masked images ``(N, H, W, C)`` (or HWC), uint8 or floats in [-1, 1].
        mask: ``(H, W)`` or ``(N, H, W)``, True in the hole.

    Returns:
        The filled images in the input's convention (uint8 stays uint8, floats come back in [-1, 1]).

    Example:
    >>> img = np.full((1, 16, 16, 3), 100, "uint8"); m = np.zeros((16, 16), bool); m[6:10, 6:10] = True
    >>> hole = img.copy(); hole[:, 6:10, 6:10] = 255
    >>> int(np.abs(classical_inpaint(hole, m).astype(int) - img).max())
    0
    """
    from skimage.restoration import inpaint_biharmonic

    arr = np.asarray(images)
    single = arr.ndim == 3
    unit = to_unit(arr)
    m = _mask(mask, unit.shape)
    filled = np.stack([inpaint_biharmonic(unit[i], m[i], channel_axis=-1) for i in range(len(unit))])
    filled = np.where(m[..., None], np.clip(filled, 0.0, 1.0), unit)
    out = np.round(filled * 255.0).astype(np.uint8) if arr.dtype == np.uint8 else (filled * 2.0 - 1.0).astype("float32")
    return out[0] if single else out


def paste_known(predictions, inputs, mask) -> np.ndarray:
    """Keeps the known pixels of ``inputs`` and takes the hole from ``predictions`` (the usual inpainting output).

    Both must use the same convention (uint8, or floats in [-1, 1]); the result has the predictions' dtype.

    Example:
    >>> p = np.ones((1, 4, 4, 1), "float32"); x = -p; m = np.zeros((4, 4), bool); m[1:3, 1:3] = True
    >>> float(paste_known(p, x, m)[0, :, :, 0].sum())
    -8.0
    """
    p, x = np.asarray(predictions), np.asarray(inputs)
    if p.shape != x.shape:
        raise ValueError(f"predictions and inputs must have the same shape. Received {p.shape} and {x.shape}")
    if (p.dtype == np.uint8) != (x.dtype == np.uint8):
        raise ValueError(f"predictions and inputs must both be uint8 or both floats in [-1, 1]. "
                         f"Received {p.dtype} and {x.dtype}; convert one with kitlib.viz.to_uint8.")
    m = _mask(mask, p.shape if p.ndim == 4 else (1,) + p.shape)
    m = m if p.ndim == 4 else m[0]
    return np.where(m[..., None], p, x.astype(p.dtype))


def inpainting_table(targets, mask, methods: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """``paired_metrics`` (whole image and hole) of each method's outputs against the same targets.

    Args:
        targets: ground-truth images ``(N, H, W, C)``.
        mask: the hole, ``(H, W)`` or ``(N, H, W)``.
        methods: ``{name: outputs}``, e.g. ``{"masked input": x, "biharmonic": classical_inpaint(x, mask),
            "pix2pix": y}``.

    Returns:
        ``{name: {"l1", "psnr", "ssim", "hole_l1", "hole_psnr", "hole_ssim"}}`` in the order given.

    Example:
    >>> t = np.zeros((1, 16, 16, 3), "uint8"); m = np.zeros((16, 16), bool); m[6:10, 6:10] = True
    >>> inpainting_table(t, m, {"perfect": t})["perfect"]["hole_ssim"]
    1.0
    """
    if not methods:
        raise ValueError("methods must name at least one set of outputs, e.g. {'masked input': inputs}.")
    return {name: paired_metrics(outputs, targets, mask=mask) for name, outputs in methods.items()}


def format_table(results: Mapping[str, Mapping[str, float]], *, columns: tuple[str, ...] | None = None,
                 title: str = "method") -> str:
    """A Markdown table of ``{row: {metric: value}}`` (e.g. ``inpainting_table``'s result), best value in bold.

    L1 columns are "lower is better", PSNR and SSIM "higher is better".

    Example:
    >>> print(format_table({"a": {"psnr": 20.0}, "b": {"psnr": 25.0}}))
    | method | psnr |
    |---|---|
    | a | 20.00 |
    | b | **25.00** |
    """
    if not results:
        raise ValueError("results is empty: nothing to tabulate.")
    columns = columns or tuple(dict.fromkeys(k for row in results.values() for k in row))
    best = {}
    for col in columns:
        values = [row[col] for row in results.values() if col in row and math.isfinite(row[col])]
        if values:
            higher = HIGHER_IS_BETTER.get(col.rsplit("_", 1)[-1], True)
            best[col] = max(values) if higher else min(values)
    lines = [f"| {title} | " + " | ".join(columns) + " |", "|" + "---|" * (len(columns) + 1)]
    for name, row in results.items():
        cells = []
        for col in columns:
            value = row.get(col)
            wide = value is not None and (abs(value) >= 10 or math.isinf(value))
            text = "" if value is None else (f"{value:.2f}" if wide else f"{value:.4f}")
            cells.append(f"**{text}**" if value is not None and len(results) > 1 and value == best.get(col) else text)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = ["to_unit", "l1_error", "psnr", "ssim", "paired_metrics", "classical_inpaint", "paste_known",
           "inpainting_table", "format_table"]
