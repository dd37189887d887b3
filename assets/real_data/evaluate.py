"""Scores kitlib runs on the held-out splits of ``data/fetch_real_data.py`` (see assets/real_data/README.md).

``dcgan RUN_DIR``: sliced Wasserstein distance (``kitlib.eval.diversity.sliced_wasserstein``) between as many
generated faces as there are held-out faces and the held-out faces, the real-vs-real floor (the same number of
training faces, sorted-order sample with a fixed seed, vs the held-out faces) and the diversity ratio.
``inpaint RUN_DIR``: hole and whole-image L1/PSNR/SSIM of the run's generator (its test mode and the other one,
and with the known pixels pasted back) vs biharmonic inpainting and the masked input, on every held-out photo.
``cyclegan RUN_DIR``: the run's photo -> Monet generator on every held-out photo (``testB``); weight-free distribution
scores (``kitlib.eval.fid``'s FD / KD / MiFD stand-ins: no Inception weights here) of the translated photos and of
the photos as they are, each against the held-out Monets (``testA``), memorization against the training Monets.
``submission RUN_DIR``: writes the Kaggle ``images.zip`` (every photo of ``trainB`` + ``testB``, 7,038, at 256 px)
with ``kitlib.eval.submission.write_submission`` and reports its wall time (run it under ``/usr/bin/time -v`` for
the peak memory).
``gaugan RUN_DIR``: label fidelity (``kitlib.eval.segmentation.measure_label_fidelity``) with a segmenter trained on
the real ``train`` pairs and scored on the ``heldout`` maps: the run's generated images, the real images of those
maps (the segmenter's ceiling) and real images against shuffled maps (the baseline of a generator that ignores its
map).
``pixel RUN_DIR``: pixel-grid score (``kitlib.eval.pixel.pixel_grid_score``, cells >= 3 px) of the run's
drawing -> pixel-art translations of every held-out face, of the faces themselves and of the held-out sprites
(``--data`` = the anime-faces folder, ``--target`` = ``prepare_pixel_art.py``'s folder).
``dcgan RUN_DIR --trained``: for a run with a generator weight average (``ema``), score the trained generator of the
last checkpoint instead of the exported average (the two side by side, from one run). Each writes ``RUN_DIR/heldout_metrics.json`` and prints it.

Example:
    python assets/real_data/evaluate.py dcgan runs/dcgan --data data_real/anime_faces
    python assets/real_data/evaluate.py inpaint runs/inpaint --data data_real/photos
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib

import numpy as np


def _folder(path, image_size: int) -> np.ndarray:
    from kitlib import data as kdata

    return np.stack(list(kdata.image_folder(path, image_size).as_numpy_iterator()))


def _trained_generator(run_dir: pathlib.Path, exported):
    """The trained (not averaged) generator of ``run_dir``'s last checkpoint, in ``exported``'s architecture."""
    import keras
    import tensorflow as tf

    generator = keras.models.clone_model(exported)
    path = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
    tf.train.Checkpoint(net_generator=generator).read(path).expect_partial().assert_existing_objects_matched()
    return generator


def score_dcgan(run_dir: pathlib.Path, data: pathlib.Path, seed: int = 0, trained: bool = False,
                ddim_steps: int | None = None) -> dict:
    """``ddim_steps``: the run is a DDIM run (``train ddim``), sampled with that many steps."""
    import time

    import keras

    from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein
    from kitlib.train.checkpoint import META_FILE, load_generator, read_json
    from kitlib.viz import save_grid, to_uint8

    generator = load_generator(run_dir)
    if trained:
        generator = _trained_generator(run_dir, generator)
    size = int(generator.output_shape[1])
    heldout = _folder(data / "heldout", size)
    train = _folder(data / "train", size)
    rng = np.random.default_rng(seed)
    train_sample = train[np.sort(rng.choice(len(train), len(heldout), replace=False))]
    start = time.perf_counter()
    if ddim_steps:
        from kitlib.infer.diffusion import ddim_generate

        fake = to_uint8(ddim_generate(generator, len(heldout), steps=ddim_steps, seed=seed, batch_size=256))
    else:
        latents = rng.standard_normal((len(heldout), int(generator.input_shape[-1]))).astype("float32")
        fake = np.concatenate([to_uint8(keras.ops.convert_to_numpy(generator(latents[i:i + 256], training=False)))
                               for i in range(0, len(latents), 256)])
    sampling_seconds = time.perf_counter() - start
    save_grid(fake[:64], run_dir / f"heldout_samples{'_trained' if trained else ''}.png", ncols=8)
    meta = run_dir / META_FILE
    result = {
        "generator": "trained (checkpoint)" if trained else "exported", "sampling_seconds": sampling_seconds,
        "ddim_steps": ddim_steps, "step": read_json(meta).get("step") if meta.exists() else None, "images": len(heldout),
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


def score_cyclegan(run_dir: pathlib.Path, data: pathlib.Path) -> dict:
    from kitlib.eval import fid
    from kitlib.train.checkpoint import load_generator

    generator = load_generator(run_dir, name="generator_ab")
    size = int(generator.input_shape[1] or 64)
    photos, monets, train_monets = (_folder(data / name, size) for name in ("testB", "testA", "trainA"))
    from kitlib.infer.cyclegan import translate_unpaired

    translated = translate_unpaired(generator, photos)
    extractor, why = fid.metric_extractor()
    scores = {name: fid.distribution_scores(images, monets, extractor=extractor, train=train_monets,
                                            kid_subset_size=100)
              for name, images in (("translated photos", translated), ("photos as they are", photos))}
    from kitlib.viz import save_grid

    save_grid(np_interleave(photos[:8], translated[:8]), run_dir / "heldout_translations.png", ncols=8)
    return {"features": why, "image_size": size, "photos": len(photos), "monets": len(monets),
            **{name: dataclasses.asdict(s) for name, s in scores.items()}}


def score_gaugan(run_dir: pathlib.Path, data: pathlib.Path, segmenter_epochs: int = 300) -> dict:
    from kitlib import data as kdata
    from kitlib.eval.segmentation import measure_label_fidelity
    from kitlib.train.checkpoint import load_generator, read_run_config
    from kitlib.viz import save_grid
    from kitlib.eval.labels import colorize, default_palette

    generator = load_generator(run_dir)
    size, num_classes = int(generator.inputs[0].shape[1]), int(generator.inputs[0].shape[-1])
    splits = []
    for split in ("train", "heldout"):
        pairs = kdata.label_map_pairs(data / split / "images", data / split / "labels", num_classes=num_classes,
                                      image_size=size)
        images, labels = (np.stack(x) for x in zip(*pairs.as_numpy_iterator()))
        splits.append((images, labels))
    held = len(splits[1][0])
    measured = measure_label_fidelity(generator, (np.concatenate([splits[0][0], splits[1][0]]),
                                                  np.concatenate([splits[0][1], splits[1][1]])), num_test=held,
                                      epochs=segmenter_epochs)
    palette = default_palette(num_classes)
    save_grid(np.concatenate([colorize(measured.label_ids, palette), measured.real, measured.generated]),
              run_dir / "heldout_label_maps.png", ncols=held)
    return {"config_source": read_run_config(run_dir).get("data", {}).get("source"), "train_pairs": len(splits[0][0]),
            "heldout_pairs": held, "num_classes": num_classes, "image_size": size, **measured.scores}


def score_pixel(run_dir: pathlib.Path, data: pathlib.Path, target: pathlib.Path) -> dict:
    from kitlib.eval.pixel import pixel_grid_score
    from kitlib.infer.cyclegan import translate_unpaired
    from kitlib.images import to_uint8
    from kitlib.train.checkpoint import load_generator
    from kitlib.viz import save_grid

    generator = load_generator(run_dir, name="generator_ab")
    size = int(generator.input_shape[1] or 64)
    faces, sprites = _folder(data / "heldout", size), _folder(target / "heldout", size)
    translated = to_uint8(translate_unpaired(generator, faces))
    save_grid(np.concatenate([faces[:8], translated[:8], sprites[:8]]), run_dir / "heldout_pixel_art.png", ncols=8)
    return {"image_size": size, "faces": len(faces), "sprites": len(sprites),
            **{name: pixel_grid_score(images, min_cell=3)
               for name, images in (("translated faces", translated), ("faces as they are", faces),
                                    ("held-out sprites", sprites))}}


def np_interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows of ``a`` then ``b`` (a figure of inputs over outputs)."""
    from kitlib.images import to_uint8

    return np.concatenate([to_uint8(a), to_uint8(b)])


def time_submission(run_dir: pathlib.Path, data: pathlib.Path) -> dict:
    import time

    import tensorflow as tf

    from kitlib.eval.submission import write_submission
    from kitlib.train.checkpoint import load_generator

    generator = load_generator(run_dir, name="generator_ab")
    files = sorted(str(f) for name in ("trainB", "testB") for f in (data / name).iterdir())
    photos = tf.data.Dataset.from_tensor_slices(files).map(
        lambda f: tf.image.resize(tf.image.decode_jpeg(tf.io.read_file(f), channels=3), (256, 256))).batch(32)
    start = time.perf_counter()
    report = write_submission(generator, photos, run_dir / "images.zip")
    return {"photos": len(files), "seconds": time.perf_counter() - start, "count": report.count,
            "image_size": report.image_size, "zip_mb": (run_dir / "images.zip").stat().st_size / 2**20}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", choices=("dcgan", "inpaint", "cyclegan", "submission", "gaugan", "pixel"))
    parser.add_argument("--target", default=None, help="pixel: the pixel-art folder (train/ and heldout/)")
    parser.add_argument("run_dir")
    parser.add_argument("--data", required=True, help="dataset folder holding train/ and heldout/")
    parser.add_argument("--ddim-steps", type=int, default=None,
                        help="dcgan: the run is a DDIM run; sample it with this many steps")
    parser.add_argument("--trained", action="store_true",
                        help="dcgan: score the checkpoint's trained generator, not the exported weight average")
    args = parser.parse_args(argv)
    run_dir, data = pathlib.Path(args.run_dir), pathlib.Path(args.data)
    if args.task == "pixel":
        result = score_pixel(run_dir, data, pathlib.Path(args.target))
    elif args.task == "dcgan":
        result = score_dcgan(run_dir, data, trained=args.trained, ddim_steps=args.ddim_steps)
    else:
        result = {"inpaint": score_inpaint, "cyclegan": score_cyclegan, "submission": time_submission,
                  "gaugan": score_gaugan}[args.task](
            run_dir, data)
    name = {"submission": "submission_time.json"}.get(args.task, "heldout_metrics_trained.json" if args.trained
                                                       else "heldout_metrics.json")
    (run_dir / name).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
