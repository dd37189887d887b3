"""The ``--data`` spec parsers of the methods: one string (``toy:FAMILY`` or a path) -> unbatched uint8 datasets.

- ``load_images``: one domain (DCGAN, DDIM): an embedded toy family or an image folder;
- ``load_unpaired``: two unpaired domains (CycleGAN, AdaIN content/style): embedded toy families, the Kaggle
  gan-getting-started folder, a junyanz ``trainA/trainB`` folder, or two folders (Pixelization cell-size filter);
- ``load_paired``: aligned ``(condition, target)`` pairs (pix2pix, Palette): toy drawing -> pixel art, toy
  inpainting (masked photo -> photo), ``inpaint:FOLDER`` or a folder of A|B side-by-side images;
- ``load_label_maps``: ``(image, label map)`` pairs (GauGAN): the toy landscapes or ``images/`` + ``labels/``;
- ``unpaired``: zips two ``kitlib.data.prepare`` streams; an epoch is a pass over the larger domain (junyanz).

Each returns the dataset(s) and an ``info`` dict describing the source (stored in the run's config.json).

Example:
>>> a, b, info = load_unpaired("toy:drawings,pixel_art", image_size=32, num_toy=2)
>>> info["source"]
'toy:drawings,pixel_art'
"""

from __future__ import annotations

import pathlib
import re

import tensorflow as tf

TOY_DOMAINS = ("landscapes", "paintings", "drawings", "pixel_art", "faces")
TOY_IMAGE_FAMILIES = ("faces", "paintings", "drawings", "landscapes")


def load_images(spec: str | None = None, *, image_size: int, num_images: int, limit: int | None = None,
                seed: int = 0) -> tuple[tf.data.Dataset, dict]:
    """One domain of unbatched uint8 images: ``toy:FAMILY`` (``num_images`` embedded images) or an image folder.

    Args:
        spec: ``"toy:faces"`` (the default), ``"toy:paintings"``, ``"toy:drawings"``, ``"toy:landscapes"``, or a
            folder (or archive) of images.
        image_size: side of the returned images.
        num_images: embedded images to make (``limit`` overrides it).
        limit: at most this many images.
        seed: seed of the toy images.

    Example:
    >>> ds, info = load_images("toy:drawings", image_size=32, num_images=2)
    >>> info, tuple(next(iter(ds)).shape)
    ({'source': 'toy:drawings', 'num_images': 2}, (32, 32, 3))
    """
    from kitlib.data import toy
    from kitlib.data.folders import image_folder

    spec = spec or "toy:faces"
    if spec.startswith("toy:"):
        family = spec[4:]
        if family not in TOY_IMAGE_FAMILIES:
            raise ValueError(f"toy:FAMILY must name one of {TOY_IMAGE_FAMILIES}. Received: {spec!r}")
        n = limit or num_images
        if family == "landscapes":
            return toy.landscapes(n, image_size, seed=seed).map(lambda image, label: image), {"source": spec,
                                                                                               "num_images": n}
        return getattr(toy, family)(n, image_size, seed=seed), {"source": spec, "num_images": n}
    path = pathlib.Path(spec)
    return image_folder(path, image_size, limit=limit), {"source": str(path.resolve()), "limit": limit}


def load_paired(spec: str | None = None, *, image_size: int, num_images: int, limit: int | None = None,
                seed: int = 0, min_cell: int = 4) -> tuple[tf.data.Dataset, dict]:
    """Aligned ``(condition, target)`` uint8 pairs.

    Args:
        spec: ``"toy:pixel_art"`` (the default: drawing -> its pixel art, cell sizes ``min_cell``..7),
            ``"toy:landscapes"`` / ``"toy:paintings"`` (central-square inpainting: masked photo -> photo),
            ``"inpaint:FOLDER"`` (inpainting of a photo folder), or a folder of A|B side-by-side images (condition
            on the left).
        image_size: side of the images.
        num_images: embedded pairs to make (``limit`` overrides it).
        limit: at most this many pairs.
        seed: seed of the toy images.
        min_cell: smallest pixel-art cell size of ``toy:pixel_art``.

    Example:
    >>> ds, info = load_paired("toy:landscapes", image_size=32, num_images=2)
    >>> info["task"], [tuple(x.shape) for x in next(iter(ds))]
    ('inpainting', [(32, 32, 3), (32, 32, 3)])
    """
    from kitlib.data import toy
    from kitlib.data.folders import image_folder
    from kitlib.data.pairs import ab_pairs, inpainting_pairs

    spec = spec or "toy:pixel_art"
    n = limit or num_images
    if spec == "toy:pixel_art":
        art, _, drawings = toy.make_pixel_art(n, image_size, seed, cell_sizes=tuple(range(min_cell, 8)))
        return tf.data.Dataset.from_tensor_slices((drawings, art)), {"source": spec, "num_images": n,
                                                                     "min_cell": min_cell, "task": "translation"}
    if spec in ("toy:landscapes", "toy:paintings"):
        photos = (toy.make_landscapes(n, image_size, seed)[0] if spec == "toy:landscapes"
                  else toy.make_paintings(n, image_size, seed))
        return inpainting_pairs(tf.data.Dataset.from_tensor_slices(photos)), {"source": spec, "num_images": n,
                                                                              "task": "inpainting"}
    if spec.startswith("toy:"):
        raise ValueError(f"Paired toy data is toy:pixel_art, toy:landscapes or toy:paintings. Received: {spec!r}")
    if spec.startswith("inpaint:"):
        folder = pathlib.Path(spec[len("inpaint:"):])
        return inpainting_pairs(image_folder(folder, image_size, limit=limit)), {
            "source": str(folder.resolve()), "limit": limit, "task": "inpainting"}
    return ab_pairs(spec, image_size, limit=limit), {"source": str(pathlib.Path(spec).resolve()), "limit": limit,
                                                     "task": "A|B pairs, condition on the left"}


def load_label_maps(spec: str | None = None, *, image_size: int, num_images: int, limit: int | None = None,
                    seed: int = 0, num_classes: int | None = None) -> tuple[tf.data.Dataset, dict]:
    """``(image, label map)`` pairs: uint8 ``(H, W, 3)`` images and uint8 ``(H, W)`` class ids (255 = dontcare).

    Args:
        spec: ``"toy:landscapes"`` (the default: 8 classes) or a folder holding ``images/`` and ``labels/``
            (class-id PNGs with the images' file names).
        image_size: side of the images.
        num_images: embedded pairs to make (``limit`` overrides it).
        limit: at most this many pairs.
        seed: seed of the toy images.
        num_classes: classes of a folder's label maps (default: the largest id found + 1).

    Returns:
        ``(pairs, info)``; ``info`` holds ``num_classes`` and the ``palette`` of the classes' colours (None for a
        folder: the trainer then uses ``kitlib.eval.labels.default_palette``).

    Example:
    >>> ds, info = load_label_maps(None, image_size=32, num_images=2)
    >>> info["num_classes"], [tuple(x.shape) for x in next(iter(ds))]
    (8, [(32, 32, 3), (32, 32)])
    """
    import numpy as np

    from kitlib.data import toy
    from kitlib.data.labels import label_map_pairs, read_label_map

    spec = spec or "toy:landscapes"
    if spec.startswith("toy:"):
        if spec != "toy:landscapes":
            raise ValueError(f"Label maps come from toy:landscapes or a folder with images/ and labels/. "
                             f"Received: {spec!r}")
        n = limit or num_images
        return toy.landscapes(n, image_size, seed=seed), {
            "source": spec, "num_images": n, "num_classes": len(toy.LANDSCAPE_CLASSES),
            "palette": np.asarray(toy.LANDSCAPE_PALETTE).tolist()}
    root = pathlib.Path(spec)
    if not (root / "images").is_dir() or not (root / "labels").is_dir():
        raise FileNotFoundError(f"{root} must hold images/ and labels/ (label maps with the images' names).")
    if num_classes is None:
        ids = [read_label_map(p) for p in sorted((root / "labels").rglob("*.png"))]
        num_classes = int(max(int(np.max(np.where(a == 255, 0, a))) for a in ids)) + 1 if ids else 1
    pairs = label_map_pairs(root / "images", root / "labels", num_classes=num_classes, image_size=image_size,
                            limit=limit)
    return pairs, {"source": str(root.resolve()), "limit": limit, "num_classes": num_classes, "palette": None}


def _toy_domain(family: str, n: int, image_size: int, seed: int, min_cell: int | None) -> tf.data.Dataset:
    from kitlib.data import toy

    if family == "landscapes":
        return toy.landscapes(n, image_size, seed=seed).map(lambda image, label: image)
    if family == "pixel_art":
        return toy.pixel_art(n, image_size, seed=seed, min_cell=min_cell).map(lambda element: element["image"])
    return {"paintings": toy.paintings, "drawings": toy.drawings, "faces": toy.faces}[family](n, image_size, seed=seed)


def _cell_size(name: str) -> int | None:
    match = re.search(r"\d+", name)
    return int(match.group()) if match else None


def _pixel_folder(path, image_size: int, min_cell: int | None, limit: int | None) -> tuple[tf.data.Dataset, dict]:
    """A folder of images; with ``min_cell``, a Pixelization-style folder of one sub-folder per cell size."""
    from kitlib.data.folders import image_folder

    path = pathlib.Path(path)
    if min_cell is None:
        return image_folder(path, image_size, limit=limit), {"folder": str(path)}
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is not a folder.")
    cells = {p: _cell_size(p.name) for p in sorted(path.iterdir()) if p.is_dir()}
    kept = [p for p, c in cells.items() if c is not None and c >= min_cell]
    if not kept:
        raise ValueError(f"min_cell={min_cell} needs sub-folders of {path} named by cell size (e.g. '4', 'cell_4', "
                         f"'4x4'); found {[p.name for p in cells] or 'none'} with sizes {list(cells.values())}. "
                         "Pass min_cell=None to use every image.")
    parts = [image_folder(p, image_size, limit=limit) for p in kept]
    ds = parts[0]
    for part in parts[1:]:
        ds = ds.concatenate(part)
    return ds, {"folder": str(path), "cell_folders": [p.name for p in kept]}


def load_unpaired(data: str | None = None, *, image_size: int, toy: tuple[str, str] = ("landscapes", "paintings"),
                  num_toy: int = 512, min_cell: int | None = None, limit: int | None = None,
                  seed: int = 0) -> tuple[tf.data.Dataset, tf.data.Dataset, dict]:
    """The two unpaired domains (A, B) of a CycleGAN run as unbatched uint8 datasets, from one spec.

    ``data`` may be:

    - ``None`` or ``"toy"``: the embedded families named by ``toy`` (``TOY_DOMAINS``), ``num_toy`` images each
      (domain B from another seed); ``"toy:drawings,pixel_art"`` names them inline;
    - the Kaggle gan-getting-started folder (``monet_tfrec/``, ``photo_tfrec/`` or the ``_jpg`` folders): A =
      photos, B = Monet paintings;
    - a junyanz folder with ``trainA/`` and ``trainB/``;
    - ``"FOLDER_A,FOLDER_B"``: two image folders. With ``min_cell``, domain B may be a Pixelization-style folder
      with one sub-folder per cell size (named ``4``, ``cell_4``, ``4x4``...): only sizes ``>= min_cell`` are used
      (the seed-003 report kept cells larger than 3x3).

    Args:
        data: the spec above.
        image_size: side of the returned images.
        toy: the two toy families when ``data`` is None.
        num_toy: images per toy domain.
        min_cell: pixel-art cell-size filter (toy ``pixel_art`` and Pixelization folders); None keeps all.
        limit: at most this many images per real folder.
        seed: seed of the toy images.

    Returns:
        ``(domain_a, domain_b, info)``; ``info`` describes the source (stored in the run config).

    Example:
    >>> a, b, info = load_unpaired(None, image_size=32, num_toy=4)
    >>> info["source"], tuple(next(iter(b)).shape)
    ('toy:landscapes,paintings', (32, 32, 3))
    """
    from kitlib.data.folders import junyanz_folders
    from kitlib.data.kaggle import gan_getting_started

    if data is None or data == "toy" or data.startswith("toy:"):
        families = tuple(data[4:].split(",")) if data and data.startswith("toy:") else tuple(toy)
        if len(families) != 2 or any(f not in TOY_DOMAINS for f in families):
            raise ValueError(f"Toy domains must be two of {TOY_DOMAINS}, e.g. 'toy:drawings,pixel_art'. "
                             f"Received: {families}")
        a = _toy_domain(families[0], num_toy, image_size, seed, min_cell)
        b = _toy_domain(families[1], num_toy, image_size, seed + 1, min_cell)
        return a, b, {"source": "toy:" + ",".join(families), "num_images": num_toy, "min_cell": min_cell}
    if "," in data:
        path_a, path_b = (p.strip() for p in data.split(",", 1))
        a, _ = _pixel_folder(path_a, image_size, None, limit)
        b, info_b = _pixel_folder(path_b, image_size, min_cell, limit)
        return a, b, {"source": "folders", "a": str(path_a), "b": info_b, "limit": limit}
    root = pathlib.Path(data)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} does not exist. Pass None for the toy data, a gan-getting-started or junyanz "
                                "folder, or 'FOLDER_A,FOLDER_B'.")
    if any((root / f"monet_{kind}").is_dir() for kind in ("tfrec", "jpg")):
        monet, photo = gan_getting_started(root, image_size=image_size)
        return photo, monet, {"source": "gan-getting-started", "root": str(root), "a": "photo", "b": "monet"}
    if (root / "trainA").is_dir() or (root / "trainB").is_dir():
        a, b = junyanz_folders(root, image_size, limit=limit)
        return a, b, {"source": "junyanz", "root": str(root), "limit": limit}
    raise ValueError(f"{root} is neither a gan-getting-started folder (monet_tfrec/, photo_tfrec/) nor a junyanz "
                     "folder (trainA/, trainB/). For two plain image folders pass 'FOLDER_A,FOLDER_B'.")


def unpaired(batches_a: tf.data.Dataset, batches_b: tf.data.Dataset) -> tf.data.Dataset:
    """Zips two batch streams of unpaired domains into ``(a, b)`` batches for ``CycleGAN.fit``.

    With infinite ``kitlib.data.prepare`` streams (give them different seeds) the smaller domain simply repeats:
    300 Monets against 7,038 photos is fine. One epoch is a pass over the larger domain, as in junyanz's
    ``UnalignedDataset`` (``len = max(len(A), len(B))``); the result carries that ``steps_per_epoch``.

    Args:
        batches_a, batches_b: batched datasets of the same batch size, e.g. from ``kitlib.data.prepare``.

    Returns:
        A ``tf.data.Dataset`` of ``(batch_a, batch_b)`` with ``steps_per_epoch`` when both inputs have one.

    Example:
    >>> import numpy as np
    >>> from kitlib.data.pipeline import prepare
    >>> a = prepare(tf.data.Dataset.from_tensor_slices(np.zeros((8, 4, 4, 3), np.uint8)), 2, seed=0)
    >>> b = prepare(tf.data.Dataset.from_tensor_slices(np.zeros((2, 4, 4, 3), np.uint8)), 2, seed=1)
    >>> unpaired(a, b).steps_per_epoch
    4
    """
    for name, ds in (("batches_a", batches_a), ("batches_b", batches_b)):
        if not isinstance(ds, tf.data.Dataset):
            raise TypeError(f"{name} must be a tf.data.Dataset of batches. Received: {type(ds).__name__}")
    size_a, size_b = batches_a.element_spec.shape[0], batches_b.element_spec.shape[0]
    if size_a is not None and size_b is not None and size_a != size_b:
        raise ValueError(f"Both domains need the same batch size. Received: {size_a} and {size_b}")
    zipped = tf.data.Dataset.zip((batches_a, batches_b))
    steps = [getattr(ds, "steps_per_epoch", None) for ds in (batches_a, batches_b)]
    if None not in steps:
        zipped.steps_per_epoch = max(steps)
    return zipped


__all__ = ["TOY_DOMAINS", "TOY_IMAGE_FAMILIES", "load_images", "load_label_maps", "load_paired", "load_unpaired",
           "unpaired"]
