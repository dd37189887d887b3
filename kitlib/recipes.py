"""Headless training recipes behind ``python -m kitlib train MODEL``: the same steps as the notebooks.

Each recipe builds data, models and trainer at the sizes of the active profile (``kitlib.runtime.pick``), trains
into a run directory (resuming if it holds a checkpoint) and returns its path.

Example:
>>> from kitlib.recipes import RECIPES
>>> "dcgan" in RECIPES
True
"""

from __future__ import annotations

import pathlib
from typing import Callable


def _images(data: str | None, *, default_family: str, image_size: int, limit: int | None, seed: int):
    """Unbatched uint8 images: ``toy:FAMILY`` (embedded data) or an image folder."""
    from kitlib import data as kdata
    from kitlib import runtime

    spec = data or f"toy:{default_family}"
    if spec.startswith("toy:"):
        family = spec[4:]
        n = limit or runtime.pick(quick=64, demo=2048, full=20000)
        makers = {"faces": kdata.toy.faces, "paintings": kdata.toy.paintings, "drawings": kdata.toy.drawings}
        if family not in makers:
            raise ValueError(f"--data toy:FAMILY must name one of {sorted(makers)} for this model. Received: {spec!r}")
        return makers[family](n, image_size=image_size, seed=seed), {"source": spec, "num_images": n}
    path = pathlib.Path(spec)
    return kdata.image_folder(path, image_size, limit=limit), {"source": str(path.resolve()), "limit": limit}


def train_dcgan(*, data=None, out, epochs=None, batch_size=None, image_size=None, seed=0, precision="auto",
                limit=None, resume=True, variant="seed", loss="bce") -> pathlib.Path:
    """DCGAN (notebook 01) on toy faces or an image folder."""
    from kitlib import data as kdata
    from kitlib import runtime, train
    from kitlib.models.dcgan import build_dcgan

    runtime.setup(seed=seed, precision=precision)
    image_size = image_size or runtime.pick(quick=32, demo=64, full=64)
    batch_size = batch_size or runtime.pick(quick=16, demo=64, full=64)
    epochs = epochs or runtime.pick(quick=1, demo=10, full=100)
    images, data_info = _images(data, default_family="faces", image_size=image_size, limit=limit, seed=seed)
    batches = kdata.prepare(images, batch_size, seed=seed)
    generator, discriminator = build_dcgan(variant, image_size=image_size)
    gan = train.GAN(generator, discriminator, loss=loss, seed=seed)
    gan.compile()
    run_dir = pathlib.Path(out)
    gan.write_run_config(run_dir, data=data_info, batch_size=batch_size, image_size=image_size, variant=variant)
    callbacks = [train.SampleGrid(run_dir, show=False), train.LossHistory(run_dir), train.NaNGuard()]
    gan.fit(batches, epochs=epochs, run_dir=run_dir, resume=resume, callbacks=callbacks, verbose=2)
    return run_dir


RECIPES: dict[str, Callable[..., pathlib.Path]] = {"dcgan": train_dcgan}


def train(model: str, **kwargs) -> pathlib.Path:
    """Runs the recipe named ``model`` (see ``RECIPES``)."""
    if model not in RECIPES:
        raise ValueError(f"model must be one of {sorted(RECIPES)}. Received: model={model!r}")
    return RECIPES[model](**{k: v for k, v in kwargs.items() if v is not None})
