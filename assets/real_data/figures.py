"""The figures of assets/real_data/README.md, remade from run directories (see the commands there).

``dcgan OUT.png --data data_real/anime_faces RUN_DIR...``: the first 8 held-out faces, then 8 faces of each run's
exported generator (fixed latent vectors, seed 0; a DDIM run: 20 sampling steps, seed 0), one row each.
``inpaint OUT.png --data data_real/photos RUN_DIR``: 8 held-out photos: masked input, biharmonic, pix2pix (the run's
test mode, known pixels pasted back), the photo.

Example:
    python assets/real_data/figures.py dcgan assets/real_data/dcgan_anime_64px.png --data data_real/anime_faces \\
        runs/dcgan_seed runs/dcgan_radford32
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np


def _heldout(data: pathlib.Path, size: int, n: int = 8) -> np.ndarray:
    from kitlib import data as kdata

    return np.stack(list(kdata.image_folder(data / "heldout", size, limit=n).as_numpy_iterator()))


def _small_png(path: pathlib.Path) -> pathlib.Path:
    """Re-saves a grid with a 256-colour palette (a third of the size; these figures are committed)."""
    from PIL import Image

    with Image.open(path) as img:
        small = img.convert("RGB").quantize(256)
    small.save(path, optimize=True)
    return path


def dcgan_figure(out, data, run_dirs) -> pathlib.Path:
    import keras

    from kitlib.train.checkpoint import load_generator
    from kitlib.viz import save_grid, to_uint8

    from kitlib.infer.diffusion import ddim_generate

    rows = []
    for run_dir in run_dirs:
        generator = load_generator(run_dir)
        if len(generator.inputs) == 2:  # a DDIM run's denoiser: 20 sampling steps
            rows.append(to_uint8(ddim_generate(generator, 8, steps=20, seed=0)))
            continue
        z = np.random.default_rng(0).standard_normal((8, int(generator.input_shape[-1]))).astype("float32")
        rows.append(to_uint8(keras.ops.convert_to_numpy(generator(z, training=False))))
    size = rows[0].shape[1]
    return _small_png(save_grid(np.concatenate([_heldout(data, size)] + rows), out, ncols=8, scale=1))


def inpaint_figure(out, data, run_dir) -> pathlib.Path:
    from kitlib import data as kdata
    from kitlib.eval import paired
    from kitlib.train.checkpoint import load_generator, read_run_config
    from kitlib.train.pix2pix import translate
    from kitlib.viz import save_grid, to_uint8

    generator = load_generator(run_dir)
    size = int(generator.input_shape[1])
    photos = _heldout(data, size)
    mask = kdata.inpainting_mask(size)
    masked = photos.copy()
    masked[:, mask] = 255
    x = kdata.to_float(masked)
    y = translate(generator, x, test_mode=read_run_config(run_dir).get("test_mode", "paper"))
    filled = to_uint8(paired.paste_known(np.asarray(y), np.asarray(x), mask))
    rows = [masked, paired.classical_inpaint(masked, mask), filled, photos]
    return _small_png(save_grid(np.concatenate(rows), out, ncols=8, scale=1))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=("dcgan", "inpaint"))
    parser.add_argument("out")
    parser.add_argument("run_dirs", nargs="+")
    parser.add_argument("--data", required=True, help="dataset folder holding heldout/")
    args = parser.parse_args(argv)
    data = pathlib.Path(args.data)
    if args.task == "dcgan":
        path = dcgan_figure(args.out, data, [pathlib.Path(r) for r in args.run_dirs])
    else:
        path = inpaint_figure(args.out, data, pathlib.Path(args.run_dirs[0]))
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
