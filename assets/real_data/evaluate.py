"""Scores kitlib runs on the held-out splits of ``data/fetch_real_data.py`` (see assets/real_data/README.md).

``dcgan RUN_DIR``: sliced Wasserstein distance (``kitlib.eval.diversity.sliced_wasserstein``) between as many
generated faces as there are held-out faces and the held-out faces, the real-vs-real floor (the same number of
training faces, sorted-order sample with a fixed seed, vs the held-out faces) and the diversity ratio.
``inpaint RUN_DIR``: hole and whole-image L1/PSNR/SSIM of the run's generator (its test mode and the other one,
and with the known pixels pasted back) vs biharmonic inpainting and the masked input, on every held-out photo.
Each writes ``RUN_DIR/heldout_metrics.json`` and prints it.

Example:
    python assets/real_data/evaluate.py dcgan runs/dcgan --data data_real/anime_faces
    python assets/real_data/evaluate.py inpaint runs/inpaint --data data_real/photos
"""

from __future__ import annotations

import argparse
import json
import pathlib

import numpy as np


def _folder(path, image_size: int) -> np.ndarray:
    from kitlib import data as kdata

    return np.stack(list(kdata.image_folder(path, image_size).as_numpy_iterator()))


def score_dcgan(run_dir: pathlib.Path, data: pathlib.Path, seed: int = 0) -> dict:
    import keras

    from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein
    from kitlib.train.checkpoint import META_FILE, load_generator, read_json
    from kitlib.viz import save_grid, to_uint8

    generator = load_generator(run_dir)
    size = int(generator.output_shape[1])
    heldout = _folder(data / "heldout", size)
    train = _folder(data / "train", size)
    rng = np.random.default_rng(seed)
    train_sample = train[np.sort(rng.choice(len(train), len(heldout), replace=False))]
    latents = rng.standard_normal((len(heldout), int(generator.input_shape[-1]))).astype("float32")
    fake = np.concatenate([to_uint8(keras.ops.convert_to_numpy(generator(latents[i:i + 256], training=False)))
                           for i in range(0, len(latents), 256)])
    save_grid(fake[:64], run_dir / "heldout_samples.png", ncols=8)
    meta = run_dir / META_FILE
    result = {
        "step": read_json(meta).get("step") if meta.exists() else None, "images": len(heldout),
        "swd": sliced_wasserstein(heldout, fake, seed=seed),
        "swd_floor_train_vs_heldout": sliced_wasserstein(heldout, train_sample, seed=seed),
        "diversity_ratio": pairwise_diversity(fake) / pairwise_diversity(heldout),
    }
    result["swd_over_floor"] = result["swd"]["swd"] / result["swd_floor_train_vs_heldout"]["swd"]
    return result


def score_inpaint(run_dir: pathlib.Path, data: pathlib.Path) -> dict:
    from kitlib import data as kdata
    from kitlib.eval import paired
    from kitlib.train.checkpoint import load_generator, read_run_config
    from kitlib.train.pix2pix import translate

    config = read_run_config(run_dir)
    generator = load_generator(run_dir)
    size = int(generator.input_shape[1])
    targets = _folder(data / "heldout", size)
    mask = kdata.inpainting_mask(size)
    inputs = targets.copy()
    inputs[:, mask] = 255
    x = kdata.to_float(inputs)
    mode = config.get("test_mode", "paper")
    other = "eval" if mode == "paper" else "paper"
    outputs = {m: np.asarray(translate(generator, x, test_mode=m)) for m in (mode, other)}
    table = paired.inpainting_table(targets, mask, {
        "masked input": inputs, "biharmonic": paired.classical_inpaint(inputs, mask),
        f"pix2pix ({mode} test mode)": outputs[mode],
        f"pix2pix ({mode}) + known pixels": paired.paste_known(outputs[mode], np.asarray(x), mask),
        f"pix2pix ({other} test mode)": outputs[other]})
    print(paired.format_table(table))
    return {"images": len(targets), "table": table}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=("dcgan", "inpaint"))
    parser.add_argument("run_dir")
    parser.add_argument("--data", required=True, help="dataset folder holding train/ and heldout/")
    args = parser.parse_args(argv)
    run_dir, data = pathlib.Path(args.run_dir), pathlib.Path(args.data)
    result = score_dcgan(run_dir, data) if args.task == "dcgan" else score_inpaint(run_dir, data)
    (run_dir / "heldout_metrics.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
