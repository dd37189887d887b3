"""Makes the result figures in assets/ from finished run directories (the commands are in README.md).

Usage:
    python assets/figures.py pixel-art runs/pixel64 assets/03_pixel_art_64px.png
    python assets/figures.py pix2pix runs/pix2pix64 assets/05_pix2pix_inpainting_64px.png

The GauGAN figure and table need no script: ``python -m kitlib train gaugan`` writes them to
``RUN_DIR/label_fidelity.png`` and ``.md``; notebook 07 writes its comparison table itself.
"""

from __future__ import annotations

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HELD_OUT_SEED = 1000  # toy images of this seed were never seen in training (runs use seed 0)


def pixel_art(run_dir: pathlib.Path, out: pathlib.Path, n: int = 8) -> str:
    """Unseen toy drawings and their drawing -> pixel-art translations, each with its pixel-grid score, next to the
    per-epoch score of the held-out batch from ``history.csv``."""
    from kitlib.data import to_float, toy
    from kitlib.eval.pixel import pixel_grid_scores
    from kitlib.train import load_generator, read_history, read_run_config
    from kitlib.viz import to_uint8

    config = read_run_config(run_dir)
    generator = load_generator(run_dir, name="generator_ab")
    size = int(generator.input_shape[1])
    drawings = toy.make_drawings(64, size, seed=HELD_OUT_SEED)
    outputs = to_uint8(np.clip(generator.predict(to_float(drawings), verbose=0), -1, 1))
    art = toy.make_pixel_art(64, size, seed=HELD_OUT_SEED, cell_sizes=(4, 5, 6, 7))[0]
    score = {name: pixel_grid_scores(x)[0] for name, x in (("in", drawings), ("out", outputs), ("art", art))}
    score3 = {name: pixel_grid_scores(x, min_cell=3)[0] for name, x in (("in", drawings), ("out", outputs))}
    rows = read_history(run_dir)
    summary = (f"pixel-grid score on {len(drawings)} unseen drawings: {score['in'].mean():.2f} -> "
               f"{score['out'].mean():.2f} (cells >= 3 only: {score3['in'].mean():.2f} -> {score3['out'].mean():.2f}); "
               f"real toy pixel art {score['art'].mean():.2f}; step {int(rows[-1]['step'])}")

    fig = plt.figure(figsize=(13, 4.2))
    grid = fig.add_gridspec(2, n + 3)
    for i in range(n):
        for row, (images, key) in enumerate(((drawings, "in"), (outputs, "out"))):
            ax = fig.add_subplot(grid[row, i])
            ax.imshow(images[i], interpolation="nearest")
            ax.set_title(f"{score[key][i]:.2f}", fontsize=8)
            ax.axis("off")
    fig.text(0.01, 0.72, "drawing", rotation=90, fontsize=10)
    fig.text(0.01, 0.22, "→ pixel art", rotation=90, fontsize=10)
    ax = fig.add_subplot(grid[:, n + 1:])
    epochs = [int(r["epoch"]) for r in rows]
    ax.plot(epochs, [r["val_pixel_grid"] for r in rows], "o-", label="held-out drawings → pixel art")
    ax.axhline(score["in"].mean(), color="grey", ls="--", label=f"input drawings {score['in'].mean():.2f}")
    ax.axhline(score["art"].mean(), color="green", ls=":", label=f"real toy pixel art {score['art'].mean():.2f}")
    ax.set(xlabel="epoch", ylim=(0, 1.05), title="pixel-grid score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    model = config["model"]
    fig.suptitle(f"CycleGAN drawing → pixel art ({model['architecture'].get('generator')}, {model['loss']}), "
                 f"{size} px toy data, {int(rows[-1]['step'])} steps on a 2-core CPU. " + summary.split(";")[0],
                 fontsize=10)
    fig.savefig(out, dpi=100, bbox_inches="tight")
    return summary


def pix2pix(run_dir: pathlib.Path, out: pathlib.Path, n: int = 6) -> str:
    """Held-out masked inputs, biharmonic fills, pix2pix fills and targets, with the hole PSNR of each image."""
    from kitlib.data import inpainting_mask, to_float, toy
    from kitlib.eval import paired
    from kitlib.train import load_generator, read_run_config
    from kitlib.train.pix2pix import translate
    from kitlib.viz import to_uint8

    config = read_run_config(run_dir)
    size, data = int(config["image_size"]), config["data"]
    # the recipe holds out the last images of the toy set it trained on
    targets = toy.make_landscapes(data["num_images"], size, 0)[0][-data["held_out"]:]
    mask = inpainting_mask(size)
    inputs = targets.copy()
    inputs[:, mask] = 255
    filled = {"biharmonic": paired.classical_inpaint(inputs, mask),
              "pix2pix": to_uint8(translate(load_generator(run_dir), to_float(inputs), test_mode=config["test_mode"]))}
    filled["pix2pix"][:, ~mask] = inputs[:, ~mask]  # known pixels kept, as an inpainting tool would
    columns = {"masked input": inputs, **filled, "target": targets}
    fig, axes = plt.subplots(len(columns), n, figsize=(1.6 * n, 1.7 * len(columns)))
    for r, (name, images) in enumerate(columns.items()):
        for i in range(n):
            ax = axes[r, i]
            ax.imshow(images[i], interpolation="nearest")
            ax.set_xticks([]), ax.set_yticks([])
            if name in filled:
                ax.set_title(f"{paired.psnr(images[i:i + 1], targets[i:i + 1], mask=mask):.1f} dB", fontsize=8)
            if i == 0:
                ax.set_ylabel(name, fontsize=9)
    table = paired.inpainting_table(targets, mask, {k: v for k, v in filled.items()})
    summary = ", ".join(f"{k} {v['hole_psnr']:.2f} dB" for k, v in table.items())
    fig.suptitle(f"pix2pix ({config['model']['loss']}) central-square inpainting, {size} px toy landscapes, "
                 f"held-out images; hole PSNR: {summary}", fontsize=9)
    fig.savefig(out, dpi=100, bbox_inches="tight")
    return summary


FIGURES = {"pixel-art": pixel_art, "pix2pix": pix2pix}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figure", choices=sorted(FIGURES))
    parser.add_argument("run_dir", type=pathlib.Path)
    parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args()
    print(FIGURES[args.figure](args.run_dir, args.out))
