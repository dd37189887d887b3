"""Time-to-quality: kitlib and the published recipes it is compared with, trained on the same real data for the same
minutes, every snapshot scored on a held-out split (``python -m kitlib bench quality``).

Each *system* (``kitlib``, or an anchor of ``kitlib.anchors``) trains in its own process on ``DATA/train`` and is
snapshotted when its training clock passes each budget (``kitlib.train.SnapshotClock``: wall-clock time from before
the data is read to the snapshot, the snapshots' own saving time left out). After training, the same process scores
every snapshot on ``DATA/heldout`` with one metric for every system and appends one JSON line per (system, budget)
to ``OUT/quality.jsonl``; ``plot`` draws quality against minutes, one curve per system, and ``table`` writes the
README's markdown table from those lines.

Metric (unconditional methods: DCGAN, DDIM, VAE): the sliced Wasserstein distance (``kitlib.eval.diversity.sliced_wasserstein``)
between as many generated images as there are held-out images and the held-out images, divided by the real-vs-real
floor (the same number of training images against the held-out ones): 1.0 would be as close as real data gets. Next
to it the diversity ratio (mean pairwise L1 of generated / held-out images; far below 1 = mode collapse).
CycleGAN (``DATA``: a junyanz folder): the same SWD / floor, between held-out photos translated to paintings and
the held-out paintings (floor: as many training paintings against them; untouched photos as the other end); next to
it the share of translations a domain judge (``kitlib.eval.judge``, trained on the training split only) calls
paintings, the cycle L1 and a weight-free FD.
pix2pix (central-square inpainting, ``DATA`` with ``train/`` and ``heldout/`` photos): PSNR and SSIM in the hole of
held-out 256-px photos, next to the masked input and biharmonic inpainting.

``jobs=2`` trains two systems at once, each pinned to its own core (``os.sched_setaffinity``): every system gets one
core for the same wall-clock minutes, i.e. the same CPU-minutes, side by side on one machine. ``jobs=1`` (default)
gives each system the whole machine in turn.

Example:
    python -m kitlib bench quality dcgan --data data_real/anime_faces --minutes 2,5,10,20 --anchor all --jobs 2
    python -m kitlib bench quality dcgan --data data_real/anime_faces --minutes 8         # kitlib only
    python -m kitlib bench quality cyclegan --data data_real/monet2photo --anchor all --jobs 2
    python -m kitlib bench quality pix2pix --data data_real/photos --anchor tf_pix2pix --jobs 2
    python -m kitlib bench quality ddim --data data_real/anime_faces --anchor keras_io_ddim --jobs 2
    python -m kitlib bench quality vae --data data_real/anime_faces --anchor keras_io_vae --jobs 2
    python -m kitlib bench quality --table runs/quality/quality.jsonl                    # the README table
"""

from __future__ import annotations

import datetime
import json
import math
import os
import pathlib
import subprocess
import sys
import time
from typing import Callable

import numpy as np

SYSTEM_KITLIB = "kitlib"
METHODS = ("dcgan", "cyclegan", "pix2pix", "ddim", "vae")  # what bench quality measures (each with its metric below)
# Each method's headline number (the plot's curve, the table's cell, "reaches in N min") and its direction.
HEADLINE = {"dcgan": ("swd_over_floor", "lower"), "ddim": ("swd_over_floor", "lower"),
            "vae": ("swd_over_floor", "lower"), "cyclegan": ("swd_over_floor", "lower"),
            "pix2pix": ("hole_psnr", "higher")}
SCORED_PHOTOS = 40  # held-out photos translated per CycleGAN snapshot (a 256-px ResNet-9 pass takes seconds on one core)
SWD_SIZE = 128  # CycleGAN's SWD compares 128-px thumbnails (area-downsampled) of translations and held-out paintings
# Images generated per snapshot where sampling is costly, else as many as held-out images. DDIM: each image takes 20
# network passes, and keras-io's U-Net at 64 px takes about 4 s of one core per image; the floor then uses as many
# training images, so 1.0 still means "as close as real data gets" at that sample size.
SCORED_SAMPLES = {"ddim": 256}
SCORED_INPAINTINGS = 100  # held-out photos inpainted per pix2pix snapshot (at 256 px)
INPAINTING_SIZE = 256  # the held-out photos' own size, the TF tutorial's; every system is scored at it
RESULTS_FILE = "quality.jsonl"
MANIFEST_FILE = "snapshots.json"  # per system: its snapshots (minutes, step, path), written before scoring
BASELINES_FILE = "inpainting_baselines.json"  # pix2pix: the masked-input and biharmonic scores, computed once


# ------------------------------------------------------------------------------------------------ kitlib's systems
class _KitlibDCGAN:
    """``python -m kitlib train dcgan --data DATA/train --image-size 64 --minutes M`` with every other default."""

    # recipes.train_dcgan options a variant may set (--set KEY=VALUE); the data, size, seed and budget are the bench's
    OPTIONS = ("batch_size", "filters", "lr", "loss", "ema", "diff_augment", "half_batch", "variant", "precision",
               "limit")

    @staticmethod
    def train(folder, clock, seed: int = 0, **options) -> None:
        from kitlib import recipes
        from kitlib.train.callbacks import SnapshotCallback

        def snapshot(path):
            callback.model.generators()["generator"].save(f"{path}.keras")

        callback = SnapshotCallback(clock, snapshot)
        # The recipe's own budget is the last mark plus a margin: the clock (which leaves snapshot time out) stops it.
        recipes.train_dcgan(data=str(folder), out=clock.folder / "run", image_size=64, seed=seed,
                            minutes=clock.marks[-1] + 1.0, callbacks=[callback], resume=False, **options)

    @staticmethod
    def sample(path, n: int, seed: int = 0) -> np.ndarray:
        import keras

        import kitlib.models.layers  # noqa: F401  (registers kitlib layers)
        from kitlib.images import to_uint8

        generator = keras.models.load_model(f"{path}.keras", compile=False)
        latents = np.random.default_rng(seed).standard_normal((n, int(generator.input_shape[-1]))).astype("float32")
        return np.concatenate([to_uint8(keras.ops.convert_to_numpy(generator(latents[i:i + 256], training=False)))
                               for i in range(0, n, 256)])


class _KitlibCycleGAN:
    """``python -m kitlib train cyclegan --data DATA --minutes M`` with every other default (DATA: a junyanz-layout
    folder); the translations are made at the held-out images' own size."""

    OPTIONS = ("batch_size", "image_size", "filters", "generator", "discriminator", "loss", "precision", "limit",
               "load_size")

    @staticmethod
    def train(folder, clock, seed: int = 0, **options) -> None:
        from kitlib import recipes
        from kitlib.train.callbacks import SnapshotCallback
        from kitlib.train.checkpoint import write_json_atomic

        def snapshot(path):
            gan = callback.model
            gan.generator_ab.save_weights(f"{path}.ab.weights.h5")
            gan.generator_ba.save_weights(f"{path}.ba.weights.h5")
            write_json_atomic(f"{path}.json", gan.architecture)

        callback = SnapshotCallback(clock, snapshot)
        # The recipe plans its learning-rate decay over the budget from the speed of its constant first half, and
        # its last epoch ends before the budget by less than an epoch and a restart: a budget of 1.5 minutes more
        # than the last mark lets the clock take that mark first, the rate nearly decayed (kitlib's last point is,
        # if anything, a little pessimistic).
        recipes.train_cyclegan(data=str(folder), out=clock.folder / "run", seed=seed,
                               minutes=clock.marks[-1] + 1.5, callbacks=[callback], resume=False, **options)

    @staticmethod
    def translate(path, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(F(images), G(F(images)))``: domain B -> A -> B at the images' size, in inference mode; uint8."""
        from kitlib.images import to_uint8
        from kitlib.infer.cyclegan import translate_unpaired
        from kitlib.train.checkpoint import read_json
        from kitlib.train.cyclegan import build_generator

        architecture = read_json(f"{path}.json")
        g_ab, g_ba = (build_generator(architecture, name=n, image_size=None) for n in ("generator_ab", "generator_ba"))
        g_ab.load_weights(f"{path}.ab.weights.h5")
        g_ba.load_weights(f"{path}.ba.weights.h5")
        fakes = translate_unpaired(g_ba, images, batch_size=1)
        return to_uint8(fakes), to_uint8(translate_unpaired(g_ab, fakes, batch_size=1))


class _KitlibPix2Pix:
    """``python -m kitlib train pix2pix --data inpaint:DATA/train --minutes M`` with every other default (the
    real-photo recipe, 64 px). It inpaints the 256-px held-out photos at its own size: the known pixels are
    downscaled alone (area average over known pixels only), the centred hole is cut again at the model's size, and
    the output is scaled back up (bicubic); the scoring keeps the known pixels, for every system. Downscaling the
    masked photo as it is lets the hole's white bleed into the rows beside the hole, and the model, trained on exact
    holes, continues that white into the hole: measured on the 20-minute snapshot, 10.9 dB in the hole instead of
    17.5."""

    OPTIONS = ("batch_size", "image_size", "filters", "loss", "ema", "test_mode", "precision", "limit", "patch")

    @staticmethod
    def train(folder, clock, seed: int = 0, **options) -> None:
        from kitlib import recipes
        from kitlib.train.callbacks import SnapshotCallback
        from kitlib.train.checkpoint import write_json_atomic

        def snapshot(path):
            p2p = callback.model
            p2p.generators()["generator"].save(f"{path}.keras")
            write_json_atomic(f"{path}.json", {"test_mode": p2p.test_mode})

        callback = SnapshotCallback(clock, snapshot)
        recipes.train_pix2pix(data=f"inpaint:{folder}", out=clock.folder / "run", seed=seed,
                              minutes=clock.marks[-1] + 1.0, callbacks=[callback], resume=False, **options)

    @staticmethod
    def inpaint(path, masked: np.ndarray) -> np.ndarray:
        """The model's outputs for uint8 photos with the centred hole painted white, at the photos' size; uint8."""
        import keras
        import tensorflow as tf

        import kitlib.models.layers  # noqa: F401  (registers kitlib layers)
        from kitlib.data import inpainting_mask
        from kitlib.images import from_pixels, to_uint8
        from kitlib.infer.pix2pix import translate
        from kitlib.train.checkpoint import read_json

        generator = keras.models.load_model(f"{path}.keras", compile=False)
        size = tuple(int(n) for n in generator.input_shape[1:3])
        known = (~inpainting_mask(masked.shape[1:3]))[None, :, :, None].astype("float32")
        total = tf.image.resize(tf.convert_to_tensor(masked, tf.float32) * known, size, method="area").numpy()
        weight = tf.image.resize(known, size, method="area").numpy()
        small = np.where(weight > 0, total / np.maximum(weight, 1e-6), 255.0)
        small[:, inpainting_mask(size)] = 255.0
        y = translate(generator, from_pixels(small), test_mode=read_json(f"{path}.json")["test_mode"])
        return to_uint8(tf.image.resize(y, masked.shape[1:3], method="bicubic").numpy())


class _KitlibDDIM:
    """``python -m kitlib train ddim --data DATA/train --image-size 64 --minutes M`` with every other default; samples
    from the EMA network with the run's sampling steps."""

    OPTIONS = ("batch_size", "variant", "loss", "sampling_steps", "precision", "limit")

    @staticmethod
    def train(folder, clock, seed: int = 0, **options) -> None:
        from kitlib import recipes
        from kitlib.train.callbacks import SnapshotCallback
        from kitlib.train.checkpoint import write_json_atomic

        def snapshot(path):
            model = callback.model
            model.generators()["ema_denoiser"].save(f"{path}.keras")
            write_json_atomic(f"{path}.json", model._options(None))

        callback = SnapshotCallback(clock, snapshot)
        recipes.train_ddim(data=str(folder), out=clock.folder / "run", image_size=64, seed=seed,
                           minutes=clock.marks[-1] + 1.0, callbacks=[callback], resume=False, **options)

    @staticmethod
    def sample(path, n: int, seed: int = 0) -> np.ndarray:
        import keras

        import kitlib.models.diffusion  # noqa: F401  (registers kitlib layers)
        import kitlib.models.layers  # noqa: F401
        from kitlib.images import to_uint8
        from kitlib.infer.diffusion import ddim_generate
        from kitlib.train.checkpoint import read_json

        network = keras.models.load_model(f"{path}.keras", compile=False)
        return to_uint8(ddim_generate(network, n, seed=seed, **read_json(f"{path}.json")))


class _KitlibVAE:
    """``python -m kitlib train vae --data DATA/train --image-size 64 --minutes M`` with every other default; samples
    the decoder at ``z ~ N(0, I)``."""

    OPTIONS = ("batch_size", "latent_dim", "filters", "sigma", "precision", "limit")

    @staticmethod
    def train(folder, clock, seed: int = 0, **options) -> None:
        from kitlib.train.callbacks import SnapshotCallback
        from kitlib.train.vae import train_vae

        callback = SnapshotCallback(clock, lambda path: callback.model.decoder.save(f"{path}.keras"))
        train_vae(data=str(folder), out=clock.folder / "run", image_size=64, seed=seed,
                  minutes=clock.marks[-1] + 1.0, callbacks=[callback], resume=False, **options)

    sample = staticmethod(_KitlibDCGAN.sample)  # a decoder is sampled as a generator is: z ~ N(0, I), output in [-1, 1]


KITLIB_SYSTEMS = {"dcgan": _KitlibDCGAN, "cyclegan": _KitlibCycleGAN, "pix2pix": _KitlibPix2Pix,
                  "ddim": _KitlibDDIM, "vae": _KitlibVAE}


def _system(method: str, name: str):
    """The object with ``train`` and ``sample`` (unconditional), ``translate`` (CycleGAN) or ``inpaint`` (pix2pix)
    for system ``name``."""
    if name == SYSTEM_KITLIB:
        return KITLIB_SYSTEMS[method]
    from kitlib import anchors

    return anchors.get(name, method=method).module()


# ------------------------------------------------------------------------------------------------------- scoring
SPLITS = {"dcgan": ("train", "heldout"), "ddim": ("train", "heldout"), "vae": ("train", "heldout"),
          "cyclegan": ("trainA", "trainB", "testA", "testB"),
          "pix2pix": ("train", "heldout")}


def _split(data, name: str) -> pathlib.Path:
    folder = pathlib.Path(data) / name
    if not folder.is_dir():
        if name in SPLITS["cyclegan"]:
            raise FileNotFoundError(f"{folder} is not a folder: --data must be a junyanz-layout folder with trainA/, "
                                    f"trainB/, testA/ and testB/ (python data/fetch_real_data.py --out data_real "
                                    f"makes data_real/monet2photo).")
        raise FileNotFoundError(f"{folder} is not a folder: --data must hold train/ and heldout/ image folders "
                                f"(python data/fetch_real_data.py --out data_real makes data_real/anime_faces and "
                                f"data_real/photos).")
    return folder


def _check_data(method: str, data) -> None:
    for name in SPLITS[method]:
        _split(data, name)


def _images(folder, image_size: int) -> np.ndarray:
    from kitlib.data.folders import image_folder

    return np.stack(list(image_folder(folder, image_size).as_numpy_iterator()))


def floor(data, image_size: int = 64, seed: int = 0, samples: int | None = None) -> dict:
    """The real-vs-real floor: SWD between ``samples`` training images (default ``len(heldout)``; a seeded draw) and
    the held-out ones: what as many generated images are compared with."""
    from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein

    heldout = _images(_split(data, "heldout"), image_size)
    train = _images(_split(data, "train"), image_size)
    samples = min(samples or len(heldout), len(train))
    pick = np.sort(np.random.default_rng(seed).choice(len(train), samples, replace=False))
    return {"heldout": heldout, "swd_floor": sliced_wasserstein(heldout, train[pick], seed=seed)["swd"],
            "heldout_diversity": pairwise_diversity(heldout), "train_images": len(train), "samples": samples}


def score(images: np.ndarray, reference: dict, seed: int = 0) -> dict:
    """SWD, SWD / floor and diversity ratio of generated uint8 ``images`` against ``floor(...)``'s held-out set."""
    from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein

    swd = sliced_wasserstein(reference["heldout"], images, seed=seed)
    floor_swd = reference["swd_floor"]
    return {"swd": swd["swd"], "swd_floor": floor_swd, "swd_over_floor": swd["swd"] / floor_swd,
            "swd_levels": [swd[k] for k in sorted(k for k in swd if k.startswith("swd_level_"))],  # finest first
            "diversity_ratio": pairwise_diversity(images) / reference["heldout_diversity"]}


def translation_reference(data, seed: int = 0, judge_folder=None) -> dict:
    """What every CycleGAN snapshot is scored against (translation B -> A; monet2photo: photo -> Monet).

    ``SCORED_PHOTOS`` held-out B images (a seeded draw from ``testB``) to translate, and the held-out A images
    (``testA``) they are compared with. Headline: SWD between ``SWD_SIZE``-px thumbnails of the translations and of
    the held-out A images, over the floor (as many ``trainA`` images against them); untouched B images score
    ``swd_photos_over_floor`` and blurred ones ``swd_blurred_photos_over_floor`` (the control: smoothing a photo
    brings it nearer to paintings without painting it). Also: the domain judge (``kitlib.eval.judge``, trained on ``trainA`` vs ``trainB``
    only, cached in ``judge_folder``) with its ends on the whole held-out split (untouched B, A, and blurred B
    images), and the weight-free random-projection Frechet distance to the held-out A images (``kitlib.eval.fid``).
    """
    from kitlib.eval import judge as kjudge
    from kitlib.eval.diversity import sliced_wasserstein
    from kitlib.eval.fid import frechet_distance, random_projection_extractor

    held_a, held_b = (_images(_split(data, n), 256) for n in ("testA", "testB"))
    folder = pathlib.Path(judge_folder or pathlib.Path(data) / ".kitlib_judge")
    train = {}

    def training_images():
        train["a"], train["b"] = (_images(_split(data, n), 256) for n in ("trainA", "trainB"))
        return train["a"], train["b"]

    judge = kjudge.load_or_train_judge(folder, training_images, seed=seed)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(held_b), min(SCORED_PHOTOS, len(held_b)), replace=False))
    photos = held_b[pick]
    train_a = train["a"] if "a" in train else _images(_split(data, "trainA"), 256)
    paintings = train_a[np.sort(rng.choice(len(train_a), min(len(photos), len(train_a)), replace=False))]
    held_small = _thumbnails(held_a)
    floor_swd = sliced_wasserstein(held_small, _thumbnails(paintings), seed=seed)["swd"]
    extractor = random_projection_extractor(seed=seed)
    features_a = extractor(held_a)
    return {"photos": photos, "judge": judge, "features_a": features_a, "extractor": extractor,
            "heldout_small": held_small, "swd_floor": floor_swd, "seed": seed,
            "swd_photos_over_floor": sliced_wasserstein(held_small, _thumbnails(photos), seed=seed)["swd"] / floor_swd,
            "swd_blurred_photos_over_floor": sliced_wasserstein(
                held_small, _thumbnails(kjudge.blurred(photos)), seed=seed)["swd"] / floor_swd,
            "judge_photos": kjudge.domain_share(judge, held_b), "judge_monets": kjudge.domain_share(judge, held_a),
            "judge_blurred_photos": kjudge.domain_share(judge, kjudge.blurred(held_b)),
            "fd_photos": frechet_distance(extractor(photos), features_a), "heldout_images": len(photos),
            "heldout_a": len(held_a), "heldout_b": len(held_b)}


def _thumbnails(images: np.ndarray) -> np.ndarray:
    """uint8 ``SWD_SIZE``-px area-downsampled copies (CycleGAN's SWD)."""
    from kitlib.eval.judge import thumbnails

    return np.clip(np.round(thumbnails(images, SWD_SIZE)), 0, 255).astype("uint8")


def score_translations(fakes: np.ndarray, cycled: np.ndarray, reference: dict) -> dict:
    """SWD / floor against the held-out targets, judge share, cycle L1 (mean |x - G(F(x))| in [0, 1] pixel units)
    and FD of B -> A translations (uint8)."""
    from kitlib.eval.diversity import sliced_wasserstein
    from kitlib.eval.fid import frechet_distance
    from kitlib.eval.judge import domain_share

    photos = reference["photos"]
    swd = sliced_wasserstein(reference["heldout_small"], _thumbnails(fakes), seed=reference["seed"])
    floor_swd = reference["swd_floor"]
    return {"swd": swd["swd"], "swd_floor": floor_swd, "swd_over_floor": swd["swd"] / floor_swd,
            "swd_levels": [swd[k] for k in sorted(k for k in swd if k.startswith("swd_level_"))],
            "judge_share": domain_share(reference["judge"], fakes),
            "cycle_l1": float(np.mean(np.abs(cycled.astype("float32") - photos.astype("float32"))) / 255.0),
            "fd": frechet_distance(reference["extractor"](fakes), reference["features_a"]),
            **{k: reference[k] for k in ("swd_photos_over_floor", "swd_blurred_photos_over_floor", "judge_photos",
                                         "judge_monets",
                                         "judge_blurred_photos", "fd_photos")}}


def inpainting_reference(data, seed: int = 0, cache=None) -> dict:
    """What every pix2pix snapshot is scored against: ``SCORED_INPAINTINGS`` held-out photos (a seeded draw from
    ``DATA/heldout``, at ``INPAINTING_SIZE``), their centred square of 1/9 of the area painted white (the inputs), and
    the two baselines as the scale's ends: the masked input itself and biharmonic inpainting (seconds per 256-px
    photo: computed once per ``cache`` JSON file, which records the data, seed and count it belongs to)."""
    from kitlib.anchors.tf_pix2pix import inpainting_inputs
    from kitlib.data import inpainting_mask
    from kitlib.eval.paired import classical_inpaint, paired_metrics
    from kitlib.train.checkpoint import read_json, write_json_atomic

    held = _images(_split(data, "heldout"), INPAINTING_SIZE)
    pick = np.sort(np.random.default_rng(seed).choice(len(held), min(SCORED_INPAINTINGS, len(held)), replace=False))
    photos = held[pick]
    masked, mask = inpainting_inputs(photos), inpainting_mask(INPAINTING_SIZE)
    key = {"data": str(pathlib.Path(data).resolve()), "seed": seed, "photos": len(photos)}
    saved = read_json(cache) if cache is not None and pathlib.Path(cache).exists() else {}
    if saved.get("key") == key:
        ends = saved["ends"]
    else:
        ends = {f"{name}_{metric}": value
                for name, outputs in (("masked", masked), ("biharmonic", classical_inpaint(masked, mask)))
                for metric, value in paired_metrics(outputs, photos, mask=mask).items() if metric.startswith("hole_")}
        if cache is not None:
            pathlib.Path(cache).parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(cache, {"key": key, "ends": ends})
    return {"photos": photos, "masked": masked, "mask": mask, "ends": ends, "heldout_images": len(photos)}


def score_inpainting(outputs: np.ndarray, reference: dict) -> dict:
    """Hole PSNR / SSIM / L1 of uint8 ``outputs`` (the known pixels pasted back) against the held-out photos, with
    the masked-input and biharmonic ends."""
    from kitlib.eval.paired import paired_metrics, paste_known

    pasted = paste_known(outputs, reference["masked"], reference["mask"])
    scores = paired_metrics(pasted, reference["photos"], mask=reference["mask"])
    return {**{k: v for k, v in scores.items() if k.startswith("hole_")}, **reference["ends"]}


def _machine() -> dict:
    from kitlib import runtime

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    flags = runtime._cpu_flags()
    return {"cpu": model or "unknown", "cpu_flags": list(flags), "cores_used": len(os.sched_getaffinity(0)),
            "amx": "amx_tile" in flags}


def system_name(system: str, options: dict | None = None) -> str:
    """The label of a system in the results: ``kitlib``, ``kitlib batch_size=32,lr=0.0004`` for a variant."""
    return system + (" " + ",".join(f"{k}={v}" for k, v in sorted(options.items())) if options else "")


def parse_options(items) -> dict:
    """``["batch_size=32", "lr=4e-4"]`` -> ``{"batch_size": 32, "lr": 0.0004}`` (values read as JSON, else text)."""
    options = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set takes KEY=VALUE with a train option name, e.g. --set batch_size=32. "
                             f"Received: {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run_system(method: str, system: str, data, budgets, out, *, seed: int = 0,
               options: dict | None = None) -> list[dict]:
    """Trains ``system`` on ``DATA/train`` with snapshots at ``budgets`` (minutes), scores each on ``DATA/heldout``,
    appends the lines to ``OUT/quality.jsonl`` and returns them. Run it in a fresh process (``run`` does).
    ``options``: keyword arguments of kitlib's recipe (``recipes.train_dcgan``) for a variant of kitlib's defaults."""
    if method not in METHODS:
        raise ValueError(f"bench quality measures {METHODS} so far. Received: method={method!r}")
    if options and system != SYSTEM_KITLIB:
        raise ValueError(f"--set changes kitlib's recipe only; anchors follow their source. Received: {system!r}")
    impl = _system(method, system)
    _check_data(method, data)
    train_folder = pathlib.Path(data) if method == "cyclegan" else _split(data, "train")  # CycleGAN: trainA, trainB
    label = system_name(system, options)
    folder = pathlib.Path(out) / method / label.replace(" ", "_").replace(",", "_")
    from kitlib.train.callbacks import SnapshotClock
    from kitlib.train.checkpoint import write_json_atomic

    clock = SnapshotClock(budgets, folder / "snapshots")
    cpu_start = time.process_time()
    clock.start()
    impl.train(train_folder, clock, seed=seed, **(options or {}))
    cpu_seconds = time.process_time() - cpu_start
    if not clock.done:
        raise RuntimeError(f"{system} stopped training before its last budget ({clock.marks[-1]:g} min): "
                           f"snapshots at {[s['minutes'] for s in clock.snapshots]}")
    manifest = {"method": method, "system": system, "label": label, "options": options or {}, "seed": seed,
                "data": str(pathlib.Path(data).resolve()), "cpu_seconds_whole_run": round(cpu_seconds, 1),
                "date": datetime.date.today().isoformat(), "machine": _machine(), "snapshots": clock.snapshots}
    write_json_atomic(folder / MANIFEST_FILE, manifest)  # the training is kept even if scoring fails
    return score_run(folder, out)


def score_run(folder, out) -> list[dict]:
    """Scores every snapshot listed in ``FOLDER/snapshots.json`` on the held-out split of its data and appends one
    line per snapshot to ``OUT/quality.jsonl`` (as each is scored); returns the lines. ``bench quality --rescore``
    calls it on runs already trained."""
    from kitlib.train.checkpoint import read_json
    from kitlib.viz import save_grid

    manifest = read_json(pathlib.Path(folder) / MANIFEST_FILE)
    method = manifest["method"]
    impl = _system(method, manifest["system"])
    seed = manifest["seed"]
    if method == "cyclegan":
        reference = translation_reference(manifest["data"], seed=seed, judge_folder=pathlib.Path(out) / "judge")
        counts = {k: reference[k] for k in ("heldout_images", "heldout_a", "heldout_b")}
    elif method == "pix2pix":
        reference = inpainting_reference(manifest["data"], seed=seed, cache=pathlib.Path(out) / BASELINES_FILE)
        counts = {"heldout_images": reference["heldout_images"]}
    else:
        reference = floor(manifest["data"], seed=seed, samples=SCORED_SAMPLES.get(method))
        counts = {"heldout_images": len(reference["heldout"]), "train_images": reference["train_images"],
                  "generated_images": reference["samples"]}
    lines = []
    for snap in manifest["snapshots"]:
        if method == "cyclegan":
            fakes, cycled = impl.translate(snap["path"], reference["photos"])
            save_grid(np.concatenate([reference["photos"][:6], fakes[:6]]), f"{snap['path']}.png", ncols=6)
            scores = score_translations(fakes, cycled, reference)
        elif method == "pix2pix":
            outputs = impl.inpaint(snap["path"], reference["masked"])
            save_grid(np.concatenate([reference["masked"][:6], outputs[:6]]), f"{snap['path']}.png", ncols=6)
            scores = score_inpainting(outputs, reference)
        else:
            images = impl.sample(snap["path"], reference["samples"], seed=seed)
            save_grid(images[:32], f"{snap['path']}.png", ncols=8)
            scores = score(images, reference, seed=seed)
        line = {
            "method": method, "system": manifest["label"],
            **({"options": manifest["options"]} if manifest["options"] else {}),
            "budget_minutes": snap["minutes"], "steps": snap["step"], "train_seconds": round(snap["seconds"], 1),
            **scores, **counts, "data": manifest["data"], "seed": seed,
            "cpu_seconds_whole_run": manifest["cpu_seconds_whole_run"], "date": manifest["date"],
            **manifest["machine"],
        }
        with open(pathlib.Path(out) / RESULTS_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        lines.append(line)
    return lines


def systems_for(method: str, anchor_names) -> tuple[list[str], list[str]]:
    """``(systems to run, skip messages)``: kitlib first, then the anchors asked for (``"all"``: every one of the
    method's); an anchor that cannot run here (PyTorch missing) is skipped with a one-line message."""
    from kitlib import anchors

    wanted = [a.name for a in anchors.for_method(method)] if "all" in anchor_names else list(anchor_names)
    run, skipped = [SYSTEM_KITLIB], []
    for name in wanted:
        reason = anchors.get(name, method=method).available()
        (skipped.append(reason) if reason else run.append(name))
    return run, skipped


def run(method: str, data, budgets, out, *, anchors=(), jobs: int = 1, seed: int = 0, kitlib: bool = True,
        variants=()) -> list[dict]:
    """Runs every system in its own process (``jobs`` at a time, each then pinned to its own cores), then plots.

    ``variants``: lists of ``KEY=VALUE`` recipe options, each trained as one more kitlib system. Returns every line
    of ``OUT/quality.jsonl`` for ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"bench quality measures {METHODS} so far. Received: method={method!r}")
    _check_data(method, data)
    names, skipped = systems_for(method, anchors)
    systems = ([(SYSTEM_KITLIB, [])] if kitlib else []) + [(SYSTEM_KITLIB, list(v)) for v in variants]
    systems += [(name, []) for name in names if name != SYSTEM_KITLIB]
    for _, variant in systems:  # refused here, before anything trains
        unknown = sorted(set(parse_options(variant)) - set(KITLIB_SYSTEMS[method].OPTIONS))
        if unknown:
            raise ValueError(f"--set: {method} variants take {list(KITLIB_SYSTEMS[method].OPTIONS)}. "
                             f"Received: {unknown}")
    for message in skipped:
        print(message, flush=True)
    out = pathlib.Path(out)
    if method == "cyclegan":  # the judge is trained once, here, before the systems start (they share it)
        print("training the domain judge on the training split (once per output folder) ...", flush=True)
        translation_reference(data, seed=seed, judge_folder=out / "judge")
    if method == "pix2pix":  # so are the baselines (biharmonic inpainting takes seconds per photo)
        print("scoring the baselines (masked input, biharmonic inpainting) on the held-out photos ...", flush=True)
        inpainting_reference(data, seed=seed, cache=out / BASELINES_FILE)
    cores = sorted(os.sched_getaffinity(0))
    jobs = max(1, min(jobs, len(systems), len(cores)))
    share = len(cores) // jobs
    out.mkdir(parents=True, exist_ok=True)
    minutes = ",".join(f"{b:g}" for b in budgets)
    pending, running, failed = list(systems), [], []
    while pending or running:
        while pending and len(running) < jobs:
            slot = next(i for i in range(jobs) if i not in [r[2] for r in running])
            system, variant = pending.pop(0)
            pinned = cores[slot * share:(slot + 1) * share] if jobs > 1 else cores
            command = [sys.executable, "-m", "kitlib", "bench", "quality", method, "--data", str(data),
                       "--minutes", minutes, "--out", str(out), "--seed", str(seed), "--system", system,
                       *[f"--set={item}" for item in variant]]
            system = system_name(system, parse_options(variant))
            print(f"{system}: training for {max(budgets):g} min on core(s) {pinned} ...", flush=True)
            log = open(out / f"{method}_{system.replace(' ', '_')}.log", "w", encoding="utf-8")  # noqa: SIM115
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       preexec_fn=lambda p=pinned: os.sched_setaffinity(0, p))
            running.append((process, system, slot, log))
        time.sleep(1.0)
        for item in list(running):
            process, system, _, log = item
            if process.poll() is not None:
                log.close()
                running.remove(item)
                print(f"{system}: {'done' if process.returncode == 0 else 'FAILED'} (log: {log.name})", flush=True)
                if process.returncode:
                    failed.append(system)
    lines = read(out / RESULTS_FILE, method) if (out / RESULTS_FILE).exists() else []
    if lines:
        plot(lines, out / f"{method}_quality.png")
        print(table(lines))
    if failed:
        raise RuntimeError(f"bench quality: {', '.join(failed)} failed; see the logs in {out}")
    return lines


def read(path, method: str | None = None) -> list[dict]:
    """The JSON lines of ``path`` (for ``method`` only when given); the latest line wins per (system, budget)."""
    latest = {}
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if method is None or item["method"] == method:
                latest[(item["method"], item["system"], item["budget_minutes"])] = item
    return sorted(latest.values(), key=lambda d: (d["method"], d["system"] != SYSTEM_KITLIB, d["system"],
                                                    d["budget_minutes"]))


def _headline(method: str) -> tuple[str, bool]:
    """``(key, higher_is_better)`` of ``method``'s headline number."""
    key, direction = HEADLINE[method]
    return key, direction == "higher"


LABELS = {"swd_over_floor": "SWD / real-vs-real floor (lower is better)",
          "hole_psnr": "PSNR in the hole, dB (higher is better)"}


def plot(lines: list[dict], path) -> pathlib.Path:
    """The method's headline number against training minutes, one curve per system, saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key, higher = _headline(lines[0]["method"])
    fig, ax = plt.subplots(figsize=(6, 4))
    for system in dict.fromkeys(d["system"] for d in lines):
        rows = [d for d in lines if d["system"] == system]
        ax.plot([d["budget_minutes"] for d in rows], [d[key] for d in rows], marker="o", label=system,
                linewidth=2.5 if system == SYSTEM_KITLIB else 1.5)
    ax.set_xlabel("training minutes (wall clock, same cores for every system)")
    ax.set_ylabel(LABELS[key])
    first = lines[0]
    if first["method"] == "cyclegan":  # the two ends: real paintings (the floor) and untouched photos
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", linestyle=":", linewidth=1, label="real held-out paintings (floor)")
        ax.axhline(first["swd_photos_over_floor"], color="grey", linestyle="--", linewidth=1,
                   label="untouched photos")
    elif key == "hole_psnr":  # the classical baseline every learned inpainting should beat
        ax.axhline(first["biharmonic_hole_psnr"], color="grey", linestyle=":", linewidth=1,
                   label="biharmonic inpainting")
    else:
        ax.set_yscale("log")
        ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"{lines[0]['method']}: held-out quality against training time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return pathlib.Path(path)


def minutes_to_reach(rows: list[dict], target: float) -> float | None:
    """The first budget at which a system's headline number is at least as good as ``target`` (None if never)."""
    key, higher = _headline(rows[0]["method"]) if rows else ("swd_over_floor", False)
    return next((d["budget_minutes"] for d in sorted(rows, key=lambda d: d["budget_minutes"])
                 if (d[key] >= target if higher else d[key] <= target)), None)


def _cell(d: dict) -> str:
    if d["method"] == "cyclegan":
        return f"{d['swd_over_floor']:.2f}× ({d['judge_share']:.0%}, {d['cycle_l1']:.3f})"
    if d["method"] == "pix2pix":
        return f"{d['hole_psnr']:.2f} dB ({d['hole_ssim']:.3f})"
    return f"{d['swd_over_floor']:.2f}× ({d['diversity_ratio']:.2f})"


def table(lines: list[dict], budgets=None) -> str:
    """Markdown: the headline number per system at ``budgets`` (default: every budget measured), and the minutes
    kitlib needs to reach each anchor's quality at its longest budget. DCGAN: SWD / floor (diversity ratio);
    CycleGAN: SWD / floor (judge share, cycle L1); pix2pix: hole PSNR (hole SSIM)."""
    systems = list(dict.fromkeys(d["system"] for d in lines))
    by = {(d["system"], d["budget_minutes"]): d for d in lines}
    budgets = sorted({d["budget_minutes"] for d in lines}) if budgets is None else budgets
    shown = [b for b in budgets if any((s, float(b)) in by for s in systems)]
    rows = ["| system | " + " | ".join(f"{b:g} min" for b in shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for system in systems:
        cells = [_cell(by[(system, float(b))]) if (system, float(b)) in by else "n/a" for b in shown]
        rows.append(f"| {system} | " + " | ".join(cells) + " |")
    first = lines[0]
    key, _ = _headline(first["method"])
    kit = [d for d in lines if d["system"] == SYSTEM_KITLIB]
    notes = []
    for system in systems:
        if system == SYSTEM_KITLIB or not kit:
            continue
        last = max((d for d in lines if d["system"] == system), key=lambda d: d["budget_minutes"])
        reach = minutes_to_reach(kit, last[key])
        value = f"{last[key]:.2f} dB" if first["method"] == "pix2pix" else f"{last[key]:.2f}×"
        notes.append(f"- kitlib reaches {system}'s {last['budget_minutes']:g}-minute quality ({value}) in "
                     + (f"{reach:g} min" if reach is not None else "more than its longest budget"))
    if first["method"] == "cyclegan":
        head = (f"SWD / real-vs-real floor between {first['heldout_images']} held-out photos translated to paintings "
                f"and the {first['heldout_a']} held-out paintings ({SWD_SIZE}-px thumbnails; untouched photos: "
                f"{first['swd_photos_over_floor']:.2f}×"
                + (f", blurred photos {first['swd_blurred_photos_over_floor']:.2f}×"
                   if "swd_blurred_photos_over_floor" in first else "")
                + f"); in brackets the share the domain judge calls paintings "
                f"(untouched photos {first['judge_photos']:.0%}, blurred photos "
                f"{first['judge_blurred_photos']:.0%}, held-out paintings {first['judge_monets']:.0%}) and the cycle "
                f"L1 in [0, 1] pixels. {first['cpu']}, {first['cores_used']} core(s) per system, {first['date']}.")
    elif first["method"] == "pix2pix":
        head = (f"PSNR in the hole (SSIM in the hole) on {first['heldout_images']} held-out {INPAINTING_SIZE}-px "
                f"photos, known pixels kept; the baselines: the masked input {first['masked_hole_psnr']:.2f} dB "
                f"({first['masked_hole_ssim']:.3f}), biharmonic inpainting {first['biharmonic_hole_psnr']:.2f} dB "
                f"({first['biharmonic_hole_ssim']:.3f}). {first['cpu']}, {first['cores_used']} core(s) per system, "
                f"{first['date']}.")
    else:
        head = (f"SWD / real-vs-real floor (diversity ratio) on {first['heldout_images']} held-out images; "
                f"{first['cpu']}, {first['cores_used']} core(s) per system, {first['date']}.")
    return "\n".join([head, "", *rows, "", *notes])


def parse_minutes(text: str) -> list[float]:
    """``"2,5,10,20"`` -> ``[2.0, 5.0, 10.0, 20.0]``; refuses anything but positive numbers, naming the value."""
    try:
        values = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError:
        values = []
    if not values or values[0] <= 0 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"--minutes must be positive numbers separated by commas, e.g. 2,5,10,20. Received: {text!r}")
    return values
