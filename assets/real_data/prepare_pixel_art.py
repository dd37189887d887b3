"""Real sprites as a pixel-art target domain: ``pixel_characters`` (64-px RGBA sprites, see data/README.md) laid on
white, taken down to ``64 / CELL`` pixels by nearest sampling (every CELL-th pixel: the sprite's own colours, no
blending) and scaled back up by CELL with nearest, so each sprite pixel is a CELL x CELL cell at 64 px.

The output is a Pixelization-style folder (one sub-folder per cell size), which ``load_unpaired``'s pixel-art setup
reads (``min_cell``); the held-out characters stay held out.

Example:
    python assets/real_data/prepare_pixel_art.py --data data_real/pixel_characters --out data_real/pixel_art_cells
    python -m kitlib train cyclegan --data data_real/photos/train,data_real/pixel_art_cells/train --image-size 64
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
from PIL import Image


def cells(image: Image.Image, cell: int) -> Image.Image:
    """``image`` (any mode; transparency on white) as ``cell``-pixel cells at its own size."""
    from kitlib.data.folders import pil_to_rgb

    rgb = pil_to_rgb(image)
    small = rgb[cell // 2::cell, cell // 2::cell]
    return Image.fromarray(np.repeat(np.repeat(small, cell, axis=0), cell, axis=1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="pixel_characters folder (train/ and heldout/)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--cell", type=int, default=4)
    args = parser.parse_args(argv)
    for split in ("train", "heldout"):
        target = pathlib.Path(args.out) / split / str(args.cell)
        target.mkdir(parents=True, exist_ok=True)
        files = sorted((pathlib.Path(args.data) / split).rglob("*.png"))
        for f in files:
            cells(Image.open(f), args.cell).save(target / f"{f.parent.name}_{f.name}")
        print(f"{split}: {len(files)} sprites -> {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
