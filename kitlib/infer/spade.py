"""Semantic image synthesis with a SPADE (GauGAN) generator: label maps -> images, one map or a folder of them.

Using a trained generator (exported as ``RUN_DIR/export/generator.keras``)::

    g = kitlib.train.load_generator("runs/06_gaugan")        # name="style_encoder" for the encoder
    images = kitlib.infer.synthesize(g, label_ids)            # (N, H, W) class ids -> (N, H, W, 3) in [-1, 1]
    python -m kitlib translate runs/06_gaugan --input label_pngs/ --out images/   # ids or palette colours

Reference: [Park et al., 2019](https://arxiv.org/abs/1903.07291), https://github.com/NVlabs/SPADE

Example:
>>> from kitlib.models.spade import spade_generator
>>> synthesize(spade_generator((32, 32, 4), ngf=2, z_dim=None, spade_hidden=4), np.zeros((32, 32), "uint8")).shape
(1, 32, 32, 3)
"""

from __future__ import annotations

import os
import pathlib

import keras
import numpy as np
import tensorflow as tf

from kitlib.data.labels import labels_to_one_hot
from kitlib.images import to_float, to_uint8


def latent_dim(generator: keras.Model) -> int | None:
    """Size of a SPADE generator's latent code, or None when it takes the label map alone (``z_dim=None``)."""
    return int(generator.inputs[1].shape[-1]) if len(generator.inputs) == 2 else None


def synthesize(generator: keras.Model, label_maps, *, z=None, style_images=None, encoder: keras.Model | None = None,
               seed: int = 0, batch_size: int = 16) -> np.ndarray:
    """Generates images from label maps with a SPADE generator (a trained or exported one).

    The latent code of each image is, in order of precedence: the style code (mean of the encoder's
    distribution) of ``style_images``; ``z``; else drawn from N(0, I) with ``seed``. Generators built with
    ``z_dim=None`` take no code.

    Args:
        generator: a ``kitlib.models.spade_generator`` (or one loaded with ``kitlib.train.load_generator``).
        label_maps: class ids ``(N, H, W)`` / ``(H, W)`` (255 = dontcare) or one-hot ``(N, H, W, C)`` floats, at
            the generator's size.
        z: ``(N, z_dim)`` or ``(z_dim,)`` (the same code for every map).
        style_images: images ``(N, H, W, 3)`` (uint8 or [-1, 1]) whose style the outputs take; needs ``encoder``.
        encoder: the run's ``spade_encoder`` (exported as ``style_encoder``).
        seed: seed of the random codes.
        batch_size: images per generator call.

    Returns:
        float32 numpy images ``(N, H, W, 3)`` in [-1, 1].

    Example:
    >>> from kitlib.models.spade import spade_generator
    >>> g = spade_generator((32, 32, 4), ngf=2, z_dim=4, spade_hidden=4)
    >>> synthesize(g, np.zeros((2, 32, 32), "uint8")).shape
    (2, 32, 32, 3)
    """
    num_classes = int(generator.inputs[0].shape[-1])
    expected = tuple(generator.inputs[0].shape[1:3])
    seg = labels_to_one_hot(label_maps, num_classes)
    if seg.shape[1:3] != expected:
        raise ValueError(f"label_maps must be {expected[0]}x{expected[1]} for this generator. Received "
                         f"{seg.shape[1]}x{seg.shape[2]}; resize them with nearest-neighbour interpolation first.")
    n = len(seg)
    z_dim = latent_dim(generator)
    if z_dim is None:
        if z is not None or style_images is not None:
            raise ValueError("This generator takes no latent code (built with z_dim=None): pass neither z nor "
                             "style_images.")
        codes = None
    elif style_images is not None:
        if encoder is None:
            raise ValueError("style_images needs the encoder: pass "
                             "encoder=load_generator(run_dir, name='style_encoder').")
        style = to_float(style_images)
        style = style[None] if style.ndim == 3 else style
        if len(style) not in (1, n):
            raise ValueError(f"style_images must hold 1 or {n} images (one per label map). Received {len(style)}.")
        codes = np.concatenate([keras.ops.convert_to_numpy(encoder(style[i: i + batch_size], training=False)[0])
                                for i in range(0, len(style), batch_size)])
        codes = np.broadcast_to(codes, (n, z_dim)).astype("float32")
    elif z is not None:
        codes = np.asarray(z, "float32")
        if codes.shape not in ((z_dim,), (n, z_dim)):
            raise ValueError(f"z must have shape ({z_dim},) or ({n}, {z_dim}). Received {codes.shape}.")
        codes = np.broadcast_to(codes, (n, z_dim)).astype("float32")
    else:
        codes = np.random.default_rng(seed).standard_normal((n, z_dim)).astype("float32")
    out = []
    for i in range(0, n, batch_size):
        x = tf.convert_to_tensor(seg[i: i + batch_size])
        inputs = x if codes is None else [x, tf.convert_to_tensor(codes[i: i + batch_size])]
        out.append(keras.ops.convert_to_numpy(generator(inputs, training=False)))
    return np.concatenate(out).astype("float32")


def synthesize_folder(generator: keras.Model, input_dir: str | os.PathLike, out_dir: str | os.PathLike, *,
                      palette=None, seed: int = 0, keep_size: bool = False) -> list[pathlib.Path]:
    """Turns every label map of a folder (class-id or colour-coded PNG/BMP, any depth) into an image.

    What ``python -m kitlib translate RUN_DIR --input DIR --out DIR`` does for a GauGAN run (with the run's
    palette). Maps are resized to the generator's size with nearest-neighbour interpolation; image ``k`` (in sorted
    order) gets the latent code drawn from ``seed + k``.

    Args:
        generator: a SPADE generator.
        input_dir: folder of label maps.
        out_dir: output folder (same relative names, ``.png``).
        palette: colours of colour-coded maps.
        seed: seed of the latent codes.
        keep_size: resize each output back to its label map's size (bicubic).

    Returns:
        The written paths.

    Raises:
        ValueError: naming the file and the offending ids or colours.
    """
    from PIL import Image

    from kitlib.data.labels import LABEL_EXTENSIONS, read_label_map

    root = pathlib.Path(input_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"Label folder {root} does not exist.")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in LABEL_EXTENSIONS)
    if not files:
        raise ValueError(f"No label maps ({', '.join(LABEL_EXTENSIONS)}) in {root}.")
    height, width = (int(v) for v in generator.inputs[0].shape[1:3])
    out, written = pathlib.Path(out_dir), []
    for k, path in enumerate(files):
        ids = read_label_map(path, palette)
        original = (ids.shape[1], ids.shape[0])
        if ids.shape != (height, width):
            ids = np.asarray(Image.fromarray(ids.astype(np.int32)).resize((width, height), Image.NEAREST))
        try:
            image = synthesize(generator, ids, seed=seed + k)[0]
        except ValueError as err:
            raise ValueError(f"Label map {path}: {err}") from None
        result = Image.fromarray(to_uint8(image))
        if keep_size and original != (width, height):
            result = result.resize(original, Image.BICUBIC)
        target = out / path.relative_to(root).with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        result.save(target)
        written.append(target)
    return written


__all__ = ["latent_dim", "synthesize", "synthesize_folder"]
