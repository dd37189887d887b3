"""Image grids, side-by-side comparisons and loss curves (matplotlib; plotting functions return None).

Images may be uint8 in [0, 255] or floats in [-1, 1] (the GAN convention), NHWC or HWC.

Example:
>>> import numpy as np
>>> grid = image_grid(np.zeros((6, 8, 8, 3), "uint8"), ncols=3)
>>> grid.shape
(17, 26, 3)
"""

from __future__ import annotations

import os
import pathlib
from typing import Sequence

import numpy as np

from kitlib._deprecation import moved_names
from kitlib.history import read_history
from kitlib.images import to_uint8  # noqa: F401  (also public here: viz.to_uint8)


def image_grid(images, ncols: int = 8, *, pad: int = 1, pad_value: int = 255) -> np.ndarray:
    """Tiles N images into one uint8 array with ``ncols`` columns and ``pad`` pixels between tiles."""
    arr = to_uint8(np.asarray(images))
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"image_grid expects NHWC or HWC images. Received shape {arr.shape}")
    if arr.shape[-1] == 1:
        arr = np.repeat(arr, 3, axis=-1)
    n, h, w, c = arr.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    grid = np.full((nrows * h + (nrows - 1) * pad, ncols * w + (ncols - 1) * pad, c), pad_value, np.uint8)
    for i, img in enumerate(arr):
        r, col = divmod(i, ncols)
        grid[r * (h + pad): r * (h + pad) + h, col * (w + pad): col * (w + pad) + w] = img
    return grid


def save_grid(images, path: str | os.PathLike, ncols: int = 8, *, scale: int | None = None) -> pathlib.Path:
    """Saves an image grid as PNG (upscaled with nearest neighbour so small images stay visible)."""
    from PIL import Image

    grid = image_grid(images, ncols)
    tile = to_uint8(np.asarray(images)).shape[-3]
    scale = scale or max(1, 96 // tile)  # small images (32 px) are enlarged so that faces stay visible
    img = Image.fromarray(grid)
    if scale > 1:
        img = img.resize((grid.shape[1] * scale, grid.shape[0] * scale), Image.NEAREST)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython

        shell = get_ipython()
        return shell is not None and "Terminal" not in type(shell).__name__
    except ImportError:
        return False


def show_file(path: str | os.PathLike, title: str | None = None) -> None:
    """Displays a PNG inline in a notebook (prints the path elsewhere)."""
    if _in_notebook():
        from IPython.display import Image, display

        if title:
            print(title)
        display(Image(filename=str(path)))
    else:
        print(f"{title + ': ' if title else ''}{path}")


def show_images(images, *, ncols: int = 8, title: str | None = None, titles: Sequence[str] | None = None,
                size: float = 1.6) -> None:
    """Shows images in a matplotlib grid (with per-image titles if given)."""
    import matplotlib.pyplot as plt

    arr = to_uint8(np.asarray(images))
    if arr.ndim == 3:
        arr = arr[None]
    n = len(arr)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if title else 0)), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(arr[i].squeeze(), cmap="gray" if arr.shape[-1] == 1 else None, interpolation="nearest")
            if titles is not None and i < len(titles):
                ax.set_title(str(titles[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def side_by_side(columns: dict[str, np.ndarray], *, rows: int | None = None, size: float = 2.0) -> None:
    """Shows aligned image columns, e.g. ``{"input": x, "output": y, "target": t}`` (one row per example)."""
    import matplotlib.pyplot as plt

    names = list(columns)
    arrays = [to_uint8(np.asarray(columns[k])) for k in names]
    n = min(len(a) for a in arrays) if rows is None else rows
    fig, axes = plt.subplots(n, len(names), figsize=(size * len(names), size * n), squeeze=False)
    for r in range(n):
        for c, (name, arr) in enumerate(zip(names, arrays)):
            ax = axes[r, c]
            ax.imshow(arr[r].squeeze(), interpolation="nearest")
            ax.axis("off")
            if r == 0:
                ax.set_title(name)
    fig.tight_layout()
    plt.show()


def plot_history(history, keys: Sequence[str] | None = None, *, title: str = "training history",
                 save_to: str | os.PathLike | None = None) -> None:
    """Plots loss curves from a ``keras.callbacks.History``, a dict of lists, or a run directory's history.csv."""
    import matplotlib.pyplot as plt

    if hasattr(history, "history"):
        series = dict(history.history)
        x = list(range(1, len(next(iter(series.values()), [])) + 1))
    elif isinstance(history, (str, os.PathLike)):
        rows = read_history(history)
        series = {k: [r.get(k, np.nan) for r in rows] for k in dict.fromkeys(k for r in rows for k in r)}
        x = series.pop("epoch", list(range(1, len(rows) + 1)))
        series.pop("step", None)
    else:
        series = dict(history)
        x = list(range(1, len(next(iter(series.values()), [])) + 1))
    keys = [k for k in (keys or series) if k in series]
    if not keys:
        raise ValueError(f"No values to plot. Available: {sorted(series)}")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for k in keys:
        ax.plot(x, series[k], marker="o" if len(x) < 30 else None, label=k)
    ax.set_xlabel("epoch")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if save_to:
        pathlib.Path(save_to).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(save_to, dpi=100)
    plt.show()


HEADLINE_MIME = "application/vnd.kitlib.headline+json"


def headline(label: str, value: float, *, note: str = "") -> str:
    """Shows a notebook's headline number; ``make demo``'s gallery opens the notebook's section with it.

    In a notebook the output also carries ``{label, value, note}`` under ``HEADLINE_MIME``; elsewhere it prints.
    Returns the line shown.

    Example:
    >>> line = headline("hole PSNR (dB)", 19.96, note="biharmonic inpainting: 18.4")
    headline: hole PSNR (dB) = 19.96 (biharmonic inpainting: 18.4)
    """
    text = f"headline: {label} = {float(value):.4g}" + (f" ({note})" if note else "")
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display({"text/plain": text, HEADLINE_MIME: {"label": label, "value": float(value), "note": note}}, raw=True)
    else:
        print(text)
    return text


# generator_picker loads run directories (a higher layer): it lives in kitlib.widgets now.
__getattr__ = moved_names(__name__, {"generator_picker": "kitlib.widgets.generator_picker"})
