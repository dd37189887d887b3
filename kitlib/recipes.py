"""Headless training recipes behind ``python -m kitlib train MODEL``: the same steps as the notebooks.

Each recipe builds data, models and trainer at the sizes of the active profile, read from the method registry
(``kitlib.methods.get(NAME).defaults()``: the values of the notebook's parameters cell), trains into a run directory
(resuming if it holds a checkpoint) and returns its path. Every recipe builds and compiles its trainer inside
``runtime.strategy().scope()``: data-parallel over several GPUs, or over several machines with ``TF_CONFIG``
(README, "More than one machine"); ``batch_size`` is then the global batch (default: the profile's per replica).

Example:
>>> from kitlib.recipes import RECIPES
>>> "dcgan" in RECIPES
True
"""

from __future__ import annotations

import functools
import pathlib
from typing import Callable


def _defaults(method: str, setup: str | None = None, profile: str | None = None) -> dict:
    """The registry's defaults of ``method`` for ``profile`` (default: the active one)."""
    from kitlib import methods

    return methods.get(method).defaults(profile, setup)


def _data(method: str, data: str | None, **kwargs):
    """``(dataset, info)`` from the method's data parser (``Method.data``) for ``data``, else its ``default_data``."""
    from kitlib import methods

    entry = methods.get(method)
    return entry.data(data or entry.default_data, **kwargs)


def _replicas(method: str, batch_size: int | None, setup: str | None = None):
    """``(strategy, batch_size)``: ``runtime.strategy()`` (several GPUs, logical CPUs, or machines with ``TF_CONFIG``)
    and the run's global batch: ``batch_size`` if given, else the registry's batch per replica times the replicas.
    A global batch that the replicas cannot share evenly is refused, naming both numbers and the fix."""
    from kitlib import runtime

    strategy = runtime.strategy()
    replicas = strategy.num_replicas_in_sync
    batch_size = batch_size or _defaults(method, setup)["batch_size"] * replicas
    if batch_size % replicas:
        raise ValueError(f"batch_size is the global batch, split evenly over the {replicas} replicas (GPUs or "
                         f"machines) training together. Received: batch_size={batch_size}; pass a multiple of "
                         f"{replicas}, e.g. {(batch_size // replicas + 1) * replicas}.")
    return strategy, batch_size


def _time_budget(minutes) -> list:
    """``[TimeBudget(minutes)]`` when a budget is set (made first, so it covers data loading), else ``[]``."""
    from kitlib.train.callbacks import TimeBudget

    return [] if minutes is None else [TimeBudget(minutes)]


def _budget_epochs(epochs, minutes, method: str, setup: str | None = None) -> int:
    """The run's epochs: the user's, else ``train.budget_epochs`` of the registry's for the active profile (with a
    budget, ``UNTIL_BUDGET_EPOCHS``: the budget ends the run; a recipe whose learning rate depends on the run's
    length plans its epochs with ``train.fit_for_budget``)."""
    if epochs:
        return epochs
    from kitlib.train.budget import budget_epochs

    return budget_epochs(_defaults(method, setup)["epochs"], minutes)


def _fit(model, batches, *, callbacks: list, compile_for=None, **kwargs) -> None:
    """``model.fit(..., verbose=2)`` (``train.fit_for_budget`` with ``compile_for``: a schedule that depends on the
    run's length); a tripped ``NaNGuard`` raises ``RuntimeError`` with its message (the CLI then exits non-zero)."""
    from kitlib import train

    if compile_for is None:
        model.fit(batches, callbacks=callbacks, verbose=2, **kwargs)
    else:
        train.fit_for_budget(model, batches, callbacks=callbacks, compile_for=compile_for, verbose=2, **kwargs)
    for callback in callbacks:
        if isinstance(callback, train.NaNGuard) and callback.tripped:
            raise RuntimeError(callback.message)


def train_dcgan(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
                limit=None, resume=True, variant=None, loss=None, minutes=None, filters=None,
                diff_augment=None, lr=None, half_batch=None, ema=None, callbacks=()) -> pathlib.Path:
    """DCGAN (notebook 01) on toy faces or an image folder.

    Defaults (the registry's, as notebook 01): Radford et al.'s DCGAN at width ``filters=32`` with a 0.999 average of
    the generator's weights, batches of 8 on a CPU profile; on real anime faces it beat the seed report's networks
    (``variant="seed"``, with ``half_batch=True``, the report's discriminator discipline), the 64-filter Radford
    DCGAN and larger batches at a fixed CPU budget (assets/real_data/, ``python -m kitlib bench quality dcgan``). ``filters`` sets the Radford networks' width, ``diff_augment`` a DiffAugment policy (e.g.
    ``"color,translation"``), ``lr`` both Adam learning rates (default 2e-4, beta_1 0.5), ``ema`` the decay of the
    generator's weight average that is exported and sampled (0 turns it off). ``callbacks``: more Keras callbacks for
    ``fit`` (``kitlib.quality`` adds its snapshot clock).
    """
    budget = _time_budget(minutes)
    from kitlib import data as kdata
    from kitlib import runtime, train
    from kitlib.models.dcgan import build_dcgan
    from kitlib.train.run_dir import data_identity

    runtime.setup(seed=seed, precision=precision)
    d = _defaults("dcgan")
    strategy, batch_size = _replicas("dcgan", batch_size)
    image_size, loss = image_size or d["image_size"], loss or d["loss"]
    epochs = _budget_epochs(epochs, minutes, "dcgan")
    images, data_info = _data("dcgan", data, image_size=image_size, num_images=d["num_images"], limit=limit, seed=seed)
    batches = kdata.prepare(images, batch_size, seed=seed)
    variant = variant or d["variant"]
    half_batch = d["half_batch"] if half_batch is None else half_batch
    if variant == "radford":
        filters = filters or d["filters"]
    ema = d["ema"] if ema is None else (ema or None)
    with strategy.scope():  # networks, optimizers and weight average on every replica
        generator, discriminator = build_dcgan(variant, image_size=image_size,
                                               **({"filters": filters} if filters else {}))
        gan = train.GAN(generator, discriminator, loss=loss, half_batch=half_batch, diff_augment=diff_augment,
                        ema=ema, seed=seed)
        gan.compile(*(train.FusedAdam(lr, beta_1=0.5) for _ in range(2)) if lr else ())
    run_dir = pathlib.Path(out)
    run_info = dict(data=data_identity(data, data_info), batch_size=batch_size, image_size=image_size, variant=variant,
                    filters=filters, diff_augment=diff_augment, lr=lr, ema=ema)
    callbacks = [train.SampleGrid(run_dir, show=False), train.LossHistory(run_dir), train.NaNGuard(), *budget,
                 *callbacks]
    _fit(gan, batches, epochs=epochs, run_dir=run_dir, resume=resume, callbacks=callbacks, run_info=run_info)
    return run_dir


def _diffusion_run(model, batches, *, out, epochs, resume, budget=(), callbacks=(), **config) -> pathlib.Path:
    """Trains a ``DiffusionModel`` built and compiled under the run's strategy."""
    from kitlib import train
    from kitlib.train.run_dir import data_identity

    run_dir = pathlib.Path(out)
    config["data"] = data_identity(config["data"].get("source"), config["data"])
    callbacks = [train.SampleGrid(run_dir, show=False, ncols=6 if model.conditional else 8), train.LossHistory(run_dir),
                 train.NaNGuard(), *budget, *callbacks]
    _fit(model, batches, epochs=epochs, run_dir=run_dir, resume=resume, callbacks=callbacks, run_info=config)
    return run_dir


def train_ddim(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
               limit=None, resume=True, variant=None, loss=None, sampling_steps=None, minutes=None,
               callbacks=()) -> pathlib.Path:
    """Unconditional DDIM (notebook 07) on toy faces or an image folder; ``callbacks`` run after the recipe's own."""
    budget = _time_budget(minutes)
    from kitlib import data as kdata
    from kitlib import runtime
    from kitlib.models.diffusion import DIFFUSION_UNET_VARIANTS, diffusion_unet
    from kitlib.train.diffusion import DiffusionModel

    runtime.setup(seed=seed, precision=precision)
    d = _defaults("ddim")
    strategy, batch_size = _replicas("ddim", batch_size)
    image_size, loss = image_size or d["image_size"], loss or d["loss"]
    epochs = _budget_epochs(epochs, minutes, "ddim")
    variant, sampling_steps = variant or d["unet"], sampling_steps or d["sampling_steps"]
    images, data_info = _data("ddim", data, image_size=image_size, num_images=d["num_images"], limit=limit, seed=seed)
    batches = kdata.prepare(images, batch_size, seed=seed)
    with strategy.scope():  # network, optimizer and weight average on every replica
        network = diffusion_unet(image_size, **DIFFUSION_UNET_VARIANTS[variant])
        model = DiffusionModel(network, loss=loss, sampling_steps=sampling_steps, seed=seed)
        model.compile()
    return _diffusion_run(model, batches, out=out, epochs=epochs, resume=resume, budget=budget, callbacks=callbacks,
                          data=data_info, batch_size=batch_size, image_size=image_size, variant=variant)


def train_palette(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
                  limit=None, resume=True, variant=None, loss=None, sampling_steps=None,
                  min_cell=None, minutes=None, callbacks=()) -> pathlib.Path:
    """Image-conditioned diffusion (Palette, notebook 07): drawing -> pixel art on the embedded exact pairs
    (``toy:pixel_art``, the default), or a folder of A|B side-by-side pairs (condition on the left); ``callbacks``
    run after the recipe's own."""
    import numpy as np
    import tensorflow as tf

    from kitlib import data as kdata
    from kitlib import runtime
    from kitlib.models.diffusion import DIFFUSION_UNET_VARIANTS, diffusion_unet
    from kitlib.train.diffusion import DiffusionModel

    budget = _time_budget(minutes)
    spec = data or "toy:pixel_art"
    if spec.startswith("toy:") and spec != "toy:pixel_art":
        raise ValueError(f"train palette needs (condition, target) pairs: --data toy:pixel_art or a folder of A|B "
                         f"images. Received: {spec!r}")
    runtime.setup(seed=seed, precision=precision)
    d = _defaults("palette")
    strategy, batch_size = _replicas("palette", batch_size)
    image_size, loss = image_size or d["image_size"], loss or d["loss"]
    epochs = _budget_epochs(epochs, minutes, "palette")
    variant, sampling_steps, min_cell = variant or d["unet"], sampling_steps or d["sampling_steps"], min_cell or d["min_cell"]
    if spec == "toy:pixel_art":
        n = limit or d["num_images"]
        art, _, drawings = kdata.toy.make_pixel_art(n, image_size, seed, cell_sizes=tuple(range(min_cell, 8)))
        pairs = tf.data.Dataset.from_tensor_slices((drawings, art))
        data_info = {"source": spec, "num_images": n, "min_cell": min_cell}
    else:
        from kitlib.data.pairs import ab_pairs

        pairs = ab_pairs(spec, image_size, limit=limit)
        data_info = {"source": str(pathlib.Path(spec).resolve()), "limit": limit}
    conditions, targets = (np.stack(x) for x in zip(*pairs.take(8).as_numpy_iterator()))
    batches = kdata.prepare(pairs, batch_size, seed=seed)
    with strategy.scope():  # network, optimizer and weight average on every replica
        network = diffusion_unet(image_size, condition_channels=3, **DIFFUSION_UNET_VARIANTS[variant])
        model = DiffusionModel(network, loss=loss, sampling_steps=sampling_steps, num_samples=8, seed=seed)
        model.compile()
    model.set_sample_inputs(conditions, targets)
    return _diffusion_run(model, batches, out=out, epochs=epochs, resume=resume, budget=budget, callbacks=callbacks,
                          data=data_info, batch_size=batch_size, image_size=image_size, variant=variant)


def train_cyclegan(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
                   limit=None, resume=True, generator=None, discriminator=None, loss=None, filters=None,
                   min_cell=None, num_toy=None, minutes=None, load_size=None, callbacks=()) -> pathlib.Path:
    """CycleGAN (notebooks 02 and 03): toy landscapes -> paintings by default.

    ``load_size``: images are read at this size and the networks train on random ``image_size`` windows of them
    (flipped at random), instead of whole images resized to ``image_size``; the generators stay fully convolutional,
    so ``translate`` works at ``load_size`` (or any size) with the same weights. ``callbacks`` are added to ``fit``.

    ``--data`` as in ``kitlib.train.cyclegan.load_unpaired``: ``toy:drawings,pixel_art``, a gan-getting-started or
    junyanz folder, or ``FOLDER_A,FOLDER_B``. Specs that name pixel art use the seed-003 recipe (seed U-Net and
    PatchGAN, BCE, cell sizes >= ``min_cell``, pixel-grid score tracked); the others the junyanz/Kaggle one (ResNet
    generator, PatchGAN 70x70). The first 4 images of each domain are held out for the per-epoch measurements.
    Data-parallel under ``runtime.strategy()`` (several GPUs, or several machines with ``TF_CONFIG``), as notebook
    02: ``batch_size`` is the global batch (default: the profile's per replica); the image pool is replica-aware.
    """
    from kitlib import data as kdata
    from kitlib import runtime, train
    from kitlib.data.domains import load_unpaired, unpaired
    from kitlib.train.budget import saved_epochs
    from kitlib.train.cyclegan import CycleGANMonitor, build_cyclegan
    from kitlib.train.run_dir import data_identity

    budget = _time_budget(minutes)
    runtime.setup(seed=seed, precision=precision)
    setup = "pixel_art" if "pixel" in (data or "").lower() else None  # notebook 03's setup, else notebook 02's
    pixel, d = setup is not None, _defaults("cyclegan", setup)
    strategy, batch_size = _replicas("cyclegan", batch_size, setup)
    image_size, filters = image_size or d["image_size"], filters or d["filters"]
    if not epochs and minutes is None and resume:  # resumed without --epochs: the run keeps its own length
        epochs = saved_epochs(out)
    epochs = _budget_epochs(epochs, minutes, "cyclegan", setup)
    num_toy, min_cell = num_toy or d["num_images"], min_cell or d["min_cell"]
    generator, discriminator = generator or d["generator"], discriminator or d["discriminator"]
    loss = loss or d["loss"]
    if load_size is not None and load_size < image_size:
        raise ValueError(f"load_size must be >= image_size (the windows are cut from the loaded images). "
                         f"Received: load_size={load_size}, image_size={image_size}")
    domain_a, domain_b, info = load_unpaired(data, image_size=load_size or image_size, num_toy=num_toy + 4,
                                             limit=limit, seed=seed, min_cell=min_cell if pixel else None)
    held_a, held_b = (next(iter(d.take(4).batch(4))).numpy() for d in (domain_a, domain_b))
    if load_size:  # the per-epoch measurements see the centre window
        o = (load_size - image_size) // 2
        held_a, held_b = (h[:, o:o + image_size, o:o + image_size] for h in (held_a, held_b))
        augment = kdata.jitter(image_size, resize=False)
    else:
        augment = kdata.jitter(image_size, scale=1.0 if pixel else 286 / 256)  # a resize would make cells irregular
    batches = unpaired(kdata.prepare(domain_a.skip(4), batch_size, seed=seed, augment=augment),
                       kdata.prepare(domain_b.skip(4), batch_size, seed=seed + 1, augment=augment))
    steps = d["steps_per_epoch"] or batches.steps_per_epoch  # None (pixel art): a pass over the larger domain
    def compile_for(epochs):  # junyanz: constant learning rate for the first half of the epochs, then linear to 0
        gan.compile(constant_steps=(epochs - epochs // 2) * steps, decay_steps=(epochs // 2) * steps)

    with strategy.scope():  # networks, optimizers and the image pool on every replica
        gan = build_cyclegan(generator, discriminator, image_size=image_size, filters=filters, loss=loss, seed=seed)
    gan.set_sample_inputs(held_a, held_b, cycle=True)
    run_dir = pathlib.Path(out)
    run_info = dict(data=data_identity(data, info), batch_size=batch_size, image_size=image_size,
                    **({"load_size": load_size} if load_size else {}))
    callbacks = [CycleGANMonitor(held_a, held_b, pixel_grid="ab" if pixel else None),
                 train.SampleGrid(run_dir, show=False, ncols=6), train.LossHistory(run_dir), train.NaNGuard(), *budget,
                 *callbacks]
    # --minutes without --epochs: the decay follows the budget (train.fit_for_budget plans it)
    _fit(gan, batches, epochs=epochs, compile_for=compile_for, steps_per_epoch=steps, run_dir=run_dir, resume=resume,
         callbacks=callbacks, run_info=run_info)
    return run_dir


def train_gaugan(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
                 limit=None, resume=True, num_classes=None, ngf=None, use_encoder=None, minutes=None,
                 callbacks=()) -> pathlib.Path:
    """GauGAN / SPADE (notebook 06) on the toy landscapes + label maps (``toy:landscapes``, the default), or a folder
    holding ``images/`` and ``labels/`` (class-id PNGs with the images' file names; ``num_classes`` defaults to the
    largest id found + 1, 255 = dontcare). The exported generator turns label PNGs into images with
    ``python -m kitlib translate RUN_DIR --input LABELS --out IMAGES``. Toy runs end with ``gaugan_label_fidelity``
    (``RUN_DIR/label_fidelity.md`` and ``.json``)."""
    import numpy as np

    from kitlib import data as kdata
    from kitlib import runtime, train
    from kitlib.data.labels import read_label_map
    from kitlib.eval.labels import default_palette
    from kitlib.models.spade import build_gaugan
    from kitlib.train.gaugan import GauGAN
    from kitlib.train.run_dir import data_identity

    budget = _time_budget(minutes)
    spec = data or "toy:landscapes"
    if spec.startswith("toy:") and spec != "toy:landscapes":
        raise ValueError(f"train gaugan needs label maps: --data toy:landscapes or a folder with images/ and labels/. "
                         f"Received: {spec!r}")
    runtime.setup(seed=seed, precision=precision)
    d = _defaults("gaugan")
    strategy, batch_size = _replicas("gaugan", batch_size)
    image_size, ngf = image_size or d["image_size"], ngf or d["ngf"]
    epochs = _budget_epochs(epochs, minutes, "gaugan")
    use_encoder = d["use_encoder"] if use_encoder is None else use_encoder
    if spec == "toy:landscapes":
        n = limit or d["num_images"]
        pairs = kdata.toy.landscapes(n, image_size, seed=seed)
        num_classes, palette = len(kdata.toy.LANDSCAPE_CLASSES), kdata.toy.LANDSCAPE_PALETTE
        data_info = {"source": spec, "num_images": n}
    else:
        root = pathlib.Path(spec)
        if not (root / "images").is_dir() or not (root / "labels").is_dir():
            raise FileNotFoundError(f"{root} must hold images/ and labels/ (label maps with the images' names).")
        if num_classes is None:
            ids = [read_label_map(p) for p in sorted((root / "labels").rglob("*.png"))]
            num_classes = int(max(int(np.max(np.where(a == 255, 0, a))) for a in ids)) + 1 if ids else 1
        pairs = kdata.label_map_pairs(root / "images", root / "labels", num_classes=num_classes,
                                      image_size=image_size, limit=limit)
        palette = default_palette(num_classes)
        data_info = {"source": str(root.resolve()), "limit": limit, "num_classes": num_classes}
    batches = kdata.prepare(pairs, batch_size, seed=seed)
    images, labels = next(iter(batches))
    with strategy.scope():  # networks and optimizers on every replica
        generator, discriminator, encoder = build_gaugan(image_size, num_classes, ngf=ngf, ndf=min(64, 2 * ngf),
                                                         spade_hidden=min(128, 2 * ngf), use_encoder=use_encoder)
        gaugan = GauGAN(generator, discriminator, encoder, palette=palette, seed=seed)
        gaugan.compile()
    gaugan.set_sample_inputs(labels[:4], images[:4])
    run_dir = pathlib.Path(out)
    run_info = dict(data=data_identity(data, data_info), batch_size=batch_size, image_size=image_size, ngf=ngf)
    callbacks = [train.SampleGrid(run_dir, show=False, ncols=6), train.LossHistory(run_dir), train.NaNGuard(), *budget,
                 *callbacks]
    _fit(gaugan, batches, epochs=epochs, run_dir=run_dir, resume=resume, callbacks=callbacks, run_info=run_info)
    if spec == "toy:landscapes" and runtime.is_chief():  # another worker's run directory is temporary
        gaugan_label_fidelity(run_dir, seed=seed)
    return run_dir


def gaugan_label_fidelity(run_dir, *, seed: int = 0, num_train: int | None = None, epochs: int | None = None,
                          num_test: int | None = None, filters: int | None = None) -> dict:
    """Label fidelity of a GauGAN run on ``toy:landscapes``: do generated images show the classes of their maps?

    ``kitlib.eval.segmentation.measure_label_fidelity`` on the run's exported generator (notebook 06 calls it on the
    generator it trained): a small U-Net segmenter trained on ``num_train`` fresh toy landscapes (seed
    ``seed + 1000``, not the GAN's training images) reads one generated image per held-out label map (seed
    ``seed + 2000``, random style codes, as from a sketch) and the real images of those maps (its ceiling); both are
    scored against the maps, next to the real images scored against other images' maps (a baseline: a generator
    ignoring its map). Writes ``RUN_DIR/label_fidelity.md``, ``RUN_DIR/label_fidelity.json`` and
    ``RUN_DIR/label_fidelity.png`` (rows: label map, real image, generated image, its segmentation) and prints the
    table. ``train_gaugan`` calls it after training; call it on a finished run to measure again without retraining.

    Args:
        run_dir: a ``train_gaugan`` run directory trained on ``toy:landscapes``.
        seed: seed of the segmenter's data and weights, the held-out maps and the style codes.
        num_train: segmenter training images (default by profile: 64 quick, 512 demo, 2048 full).
        epochs: segmenter epochs, batches of 8 (15 quick, 5 demo, 10 full).
        num_test: held-out label maps (16 quick, 256 demo, 512 full).
        filters: segmenter width (8 quick, 16 demo and full).

    Returns:
        ``kitlib.eval.segmentation.label_fidelity``'s dict, plus ``step`` (the run's last saved step) and
        ``segmenter`` (its settings).

    Example:
    >>> from kitlib import runtime; _ = runtime.setup(seed=0)                   # doctest: +SKIP
    >>> gaugan_label_fidelity("runs/gaugan")["generated"]["pixel_accuracy"]     # doctest: +SKIP
    """
    import keras
    import numpy as np

    from kitlib import methods
    from kitlib.data import toy
    from kitlib.eval import segmentation
    from kitlib.eval.labels import colorize
    from kitlib.train.checkpoint import META_FILE, load_generator, read_json, read_run_config, write_json_atomic
    from kitlib.viz import save_grid

    run_dir = pathlib.Path(run_dir)
    config = read_run_config(run_dir)
    source = (config.get("data") or {}).get("source")
    method = methods.for_run(config)
    if method.name != "gaugan" or source != "toy:landscapes":
        raise ValueError(f"gaugan_label_fidelity needs a GauGAN run trained on toy:landscapes (python -m kitlib "
                         f"train gaugan). {run_dir} holds method {method.name!r} on data {source!r}.")
    with keras.saving.custom_object_scope(method.custom_objects()):
        generator = load_generator(run_dir)
    measured = segmentation.measure_label_fidelity(generator, seed=seed, num_train=num_train, num_test=num_test,
                                                   epochs=epochs, filters=filters)
    result, settings = measured.scores, measured.scores["segmenter"]
    shown = slice(0, min(8, len(measured.label_ids)))   # rows: label map, real, generated, segmentation of generated
    save_grid(np.concatenate([colorize(measured.label_ids[shown], toy.LANDSCAPE_PALETTE), measured.real[shown],
                              measured.generated[shown],
                              colorize(segmentation.segment(measured.segmenter, measured.generated[shown]),
                                       toy.LANDSCAPE_PALETTE)]),
              run_dir / "label_fidelity.png", ncols=shown.stop, scale=2)
    meta = run_dir / META_FILE
    result["step"] = read_json(meta).get("step") if meta.exists() else None
    text = (f"Label fidelity of {run_dir} at step {result['step']}: a U-Net segmenter (filters {settings['filters']}, "
            f"{settings['epochs']} epochs on {settings['num_train']} toy landscapes, seed {settings['train_seed']}) "
            f"labels {result['num_images']} images generated from held-out maps (seed {settings['test_seed']}, random "
            f"style codes) and the real images of those maps, scored against their own maps and against shuffled "
            f"ones.\n\n"
            f"{segmentation.format_fidelity(result, toy.LANDSCAPE_CLASSES)}\n")
    (run_dir / "label_fidelity.md").write_text(text)
    write_json_atomic(run_dir / "label_fidelity.json", result)
    print(text)
    return result


def _inpainting_source(spec: str, *, image_size: int, num_images: int, limit: int | None, seed: int):
    """uint8 photos to inpaint: ``toy:landscapes``/``toy:paintings`` (embedded) or ``inpaint:FOLDER``; returns
    ``(photos, held_out)``, ``held_out`` being every photo of ``FOLDER/heldout`` when FOLDER holds ``train/`` and
    ``heldout/`` (then ``photos`` are those of ``train/``; the layout of ``data/fetch_real_data.py``), else None."""
    import numpy as np

    from kitlib import data as kdata

    if spec.startswith("toy:"):
        family = spec[4:]
        n = limit or num_images
        if family == "landscapes":
            return kdata.toy.make_landscapes(n, image_size, seed)[0], None
        if family == "paintings":
            return kdata.toy.make_paintings(n, image_size, seed), None
        raise ValueError(f"--data toy:FAMILY must be toy:landscapes or toy:paintings for pix2pix inpainting. "
                         f"Received: {spec!r}")
    def load(folder, limit=None):
        return np.stack(list(kdata.image_folder(folder, image_size, limit=limit).as_numpy_iterator()))

    root = pathlib.Path(spec[len("inpaint:"):])
    if (root / "train").is_dir() and (root / "heldout").is_dir():
        return load(root / "train", limit), load(root / "heldout")
    return load(root, limit), None


def train_pix2pix(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
                  limit=None, resume=True, loss=None, patch="patchgan_70", filters=None,
                  test_mode=None, minutes=None, ema=None, callbacks=()) -> pathlib.Path:
    """pix2pix (notebook 05): central-square inpainting of toy landscapes/paintings or of a photo folder
    (``inpaint:FOLDER``), or any A|B side-by-side folder (input on the left).

    Inpainting runs hold out ``FOLDER/heldout`` when FOLDER holds ``train/`` and ``heldout/`` (the layout of
    ``data/fetch_real_data.py``), else the last 10% of the images (at most 64), and write the evaluation table
    (whole image and hole: L1/PSNR/SSIM for pix2pix, the masked input and biharmonic inpainting) to
    ``RUN_DIR/metrics.md`` and ``metrics.json``.

    Defaults: the paper's recipe (L1 + conditional GAN, batch 1, ``"paper"`` test mode), except on real photos
    (``inpaint:FOLDER``, the registry's ``"photos"`` setup), where L1 alone, batch 8, 32 filters at 64 px, the ``"eval"`` test mode and a 0.999 weight
    average of the generator (``ema``; 0 turns it off) beat biharmonic inpainting in the hole on held-out photos
    (assets/real_data/) and the paper's recipe did not. With an average, the table also scores the trained weights.
    """
    import tensorflow as tf

    from kitlib import data as kdata
    from kitlib import runtime, train
    from kitlib.eval import paired
    from kitlib.train.checkpoint import write_json_atomic
    from kitlib.infer.pix2pix import translate
    from kitlib.train.pix2pix import build_pix2pix
    from kitlib.train.run_dir import data_identity

    budget = _time_budget(minutes)
    runtime.setup(seed=seed, precision=precision)
    spec = data or "toy:landscapes"
    photos = spec.startswith("inpaint:")
    setup = "photos" if photos else None  # the registry's real-photo recipe, else the paper's
    d = _defaults("pix2pix", setup)
    image_size = image_size or d["image_size"]
    strategy, batch_size = _replicas("pix2pix", batch_size, setup)
    loss, test_mode = loss or d["loss"], test_mode or d["test_mode"]
    epochs = _budget_epochs(epochs, minutes, "pix2pix", setup)
    filters = filters or d["filters"]
    ema = d["ema"] if ema is None else (ema or None)
    test = None
    if spec.startswith(("toy:", "inpaint:")):
        images, held = _inpainting_source(spec, image_size=image_size, num_images=d["num_images"], limit=limit,
                                          seed=seed)
        if held is None:  # no heldout/ folder: the last 10% (at most 64) of the photos
            n_test = min(64, max(1, len(images) // 10))
            images, held = images[:-n_test], images[-n_test:]
        mask = kdata.inpainting_mask(image_size)
        masked, held_masked = images.copy(), held.copy()
        masked[:, mask] = 255
        held_masked[:, mask] = 255
        # jitter each photo, then cut the centred hole (the holes stay like the test ones)
        batches = kdata.prepare(tf.data.Dataset.from_tensor_slices(images), batch_size, seed=seed,
                                augment=kdata.inpainting_jitter(image_size))
        sample = masked[:4], images[:4]
        test = held_masked, held
        data_info = {"source": spec, "task": "inpainting", "num_images": len(images) + len(held),
                     "held_out": len(held)}
    else:
        pairs = kdata.ab_pairs(spec, image_size, limit=limit)
        batches = kdata.prepare(pairs, batch_size, seed=seed, augment=kdata.jitter(image_size))
        sample = next(iter(pairs.take(4).batch(4)))
        data_info = {"source": str(pathlib.Path(spec).resolve()), "task": "A|B pairs, input on the left",
                     "limit": limit}
    with strategy.scope():  # networks, optimizers and weight average on every replica
        p2p = build_pix2pix((image_size, image_size, 3), loss=loss, patch=patch, filters=filters,
                            test_mode=test_mode, ema=ema, seed=seed)
        p2p.compile()
    p2p.set_sample_inputs(*(kdata.to_float(x) for x in sample))
    run_dir = pathlib.Path(out)
    run_info = dict(data=data_identity(data, data_info), batch_size=batch_size, image_size=image_size, filters=filters,
                         test_mode=test_mode, ema=ema)
    callbacks = [train.SampleGrid(run_dir, show=False, ncols=3), train.LossHistory(run_dir), train.NaNGuard(), *budget,
                 *callbacks]
    _fit(p2p, batches, epochs=epochs, run_dir=run_dir, resume=resume, callbacks=callbacks, run_info=run_info)
    if test is not None and runtime.is_chief():  # another worker's run directory is temporary
        inputs, targets = test
        other = "eval" if test_mode == "paper" else "paper"
        outputs = {mode: p2p.translate(kdata.to_float(inputs), test_mode=mode) for mode in (test_mode, other)}
        table = paired.inpainting_table(targets, mask, {
            "masked input": inputs, "biharmonic": paired.classical_inpaint(inputs, mask),
            f"pix2pix ({test_mode} test mode)": outputs[test_mode],
            f"pix2pix ({test_mode}) + known pixels": paired.paste_known(outputs[test_mode], kdata.to_float(inputs), mask),
            f"pix2pix ({other} test mode)": outputs[other],
            **({f"pix2pix ({test_mode}), trained weights (no average)": translate(
                p2p.generator, kdata.to_float(inputs), test_mode=test_mode)} if ema else {})})
        text = paired.format_table(table)
        (run_dir / "metrics.md").write_text(f"Held-out {len(targets)} images, step {int(p2p.global_step.numpy())}\n\n"
                                            f"{text}\n")
        write_json_atomic(run_dir / "metrics.json", table)
        print(text)
    return run_dir


RECIPES: dict[str, Callable[..., pathlib.Path]] = {"cyclegan": train_cyclegan, "dcgan": train_dcgan, "gaugan": train_gaugan, "ddim": train_ddim, "palette": train_palette, "pix2pix": train_pix2pix}


def recipe(name: str) -> Callable[..., pathlib.Path]:
    """The training function of ``python -m kitlib train NAME``: ``RECIPES[name]``, else the one the method's
    registry entry brings (``Method.recipe``).

    Example:
    >>> recipe("dcgan").__name__
    'train_dcgan'
    """
    from kitlib import methods

    if name in RECIPES:
        return RECIPES[name]
    method = methods.get(name)
    if method.recipe is None:
        raise ValueError(f"Method {name!r} has no headless recipe (train it in notebooks/{method.notebook}.ipynb). "
                         f"Trainable from the command line: {trainable()}")
    return _replicated(name, method.recipe)


def _replicated(name: str, method_recipe: Callable[..., pathlib.Path]) -> Callable[..., pathlib.Path]:
    """A registry entry's own recipe (the VAE's ``train_vae``) run under ``runtime.strategy()`` as the recipes above:
    it builds and compiles inside ``strategy.scope()``, and ``batch_size`` is the global batch (``_replicas``)."""

    @functools.wraps(method_recipe)
    def run(**kwargs) -> pathlib.Path:
        strategy, kwargs["batch_size"] = _replicas(name, kwargs.get("batch_size"))
        with strategy.scope():
            return method_recipe(**kwargs)
    return run


def trainable() -> list[str]:
    """The methods ``python -m kitlib train`` offers, sorted.

    Example:
    >>> "dcgan" in trainable() and "gatys" not in trainable()
    True
    """
    from kitlib import methods

    return [m.name for m in methods.all() if m.name in RECIPES or m.recipe is not None]


def train(model: str, **kwargs) -> pathlib.Path:
    """Runs the recipe named ``model`` (see ``RECIPES``) after checking its arguments: ``None`` means the profile's
    default, any other count (epochs, batch size, image size, limit...) must be >= 1; ``out`` must be a new or empty
    folder or a kitlib run, and not inside the ``data`` folder.

    Example:
    >>> train("dcgan", out="runs/x", epochs=0)
    Traceback (most recent call last):
    ...
    ValueError: epochs must be >= 1 (or None for the profile's default). Received: epochs=0
    """
    from kitlib.train.run_dir import check_not_inside, check_run_dir, data_paths

    if model not in trainable():
        raise ValueError(f"model must be one of {trainable()}. Received: model={model!r}")
    for key, value in kwargs.items():
        if key != "seed" and isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ValueError(f"{key} must be >= 1 (or None for the profile's default). Received: {key}={value}")
    if kwargs.get("out") is not None:
        check_run_dir(kwargs["out"])
        for path in data_paths(kwargs.get("data")):
            check_not_inside(kwargs["out"], path)
    return recipe(model)(**{k: v for k, v in kwargs.items() if v is not None})
