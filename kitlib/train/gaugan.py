"""``GauGAN``: semantic image synthesis with SPADE (label map -> image) on the shared engine (notebook 06).

The losses and settings are those of NVlabs/SPADE's ``pix2pix_model.py`` and ``pix2pix_trainer.py``. One train
step generates once: a discriminator step on the detached fake, then the generator step against the updated D (the
junyanz pix2pix order). SPADE runs the generator step first and generates again for the discriminator step; the
single pass saves about a fifth of the step (a generator forward pass), which matters on CPUs.

- Generator (and encoder) loss: hinge ``-mean(D(fake))`` averaged over the discriminator scales
  + ``feature_matching_weight`` (10) x discriminator feature matching (per scale the sum over layers of
  ``L1(fake features, real features)``, averaged over scales)
  + ``vgg_weight`` (10) x VGG19 perceptual loss (``sum_i w_i L1(relu_i_1(fake), relu_i_1(real))``,
  ``w = 1/32, 1/16, 1/8, 1/4, 1``) when ImageNet VGG19 weights are available, otherwise left out with a printed
  message (a random VGG is never used silently)
  + ``kl_weight`` (0.05) x KL divergence of the encoder's style code, when there is an encoder.
- Discriminator loss: hinge ``mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))`` averaged over scales. D sees
  ``concat(label one-hot, image)``; fake and real pairs go through D as one batch, as in the reference.
- Optimisers (TTUR): Adam with beta = (0, 0.9), lr 1e-4 for the generator (and encoder), 4e-4 for D.

Differences from the reference: the KL term is the per-sample mean over the batch (``losses.kl_divergence``)
where SPADE sums over the batch; the perceptual loss uses Keras' Caffe-style VGG19 weights with their own
preprocessing where SPADE feeds [-1, 1] images to torchvision's VGG19.

Reference: [Park et al., 2019, Semantic Image Synthesis with Spatially-Adaptive Normalization](
https://arxiv.org/abs/1903.07291), https://github.com/NVlabs/SPADE

Using a trained generator (exported as ``RUN_DIR/export/generator.keras``)::

    g = kitlib.train.load_generator("runs/06_gaugan")        # name="style_encoder" for the encoder
    images = kitlib.train.gaugan.synthesize(g, label_ids)   # (N, H, W) class ids -> (N, H, W, 3) in [-1, 1]
    python -m kitlib translate runs/06_gaugan --input label_pngs/ --out images/   # ids or palette colours
"""

from __future__ import annotations

import io
import os
import pathlib
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from kitlib import losses
from kitlib.data.labels import LABEL_EXTENSIONS, colors_to_ids, one_hot_labels
from kitlib.data.toy import DONTCARE_ID
from kitlib.eval.labels import colorize, default_palette
from kitlib.train.base import GANTrainer
from kitlib.train.optimizers import FusedAdam
from kitlib.train.schedules import LinearDecay

VGG_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")  # relu1_1 .. relu5_1
VGG_LAYER_WEIGHTS = (1.0 / 32, 1.0 / 16, 1.0 / 8, 1.0 / 4, 1.0)
SKETCH_SHAPES = ("rectangle", "ellipse", "triangle")


def vgg_perceptual_loss(extractor: keras.Model, fake, real, *, layers=VGG_LAYERS, layer_weights=VGG_LAYER_WEIGHTS):
    """SPADE's VGG loss: ``sum_i w_i * mean|phi_i(fake) - phi_i(real)|`` with the real features held constant.

    Args:
        extractor: a feature model returning ``{layer_name: features}`` (``kitlib.models.vgg.vgg19``) or a list
            of features in ``layers`` order, taking images in [-1, 1].
        fake, real: ``(batch, H, W, 3)`` images in [-1, 1].
        layers: names of the layers used, in order (relu1_1 ... relu5_1).
        layer_weights: one weight per layer (1/32, 1/16, 1/8, 1/4, 1).

    Returns:
        float32 scalar.
    """
    def features(images):
        out = extractor(images, training=False)
        return [out[name] for name in layers] if isinstance(out, dict) else list(out)

    fake_feats, real_feats = features(fake), features(real)
    if len(fake_feats) != len(layer_weights):
        raise ValueError(f"The extractor returned {len(fake_feats)} feature maps for {len(layer_weights)} layer "
                         "weights; return one per layer of `layers`.")
    terms = [w * losses.l1_loss(tf.stop_gradient(tf.cast(r, "float32")), f)
             for w, f, r in zip(layer_weights, fake_feats, real_feats)]
    return tf.add_n(terms)


def resolve_vgg(vgg: Any = "auto", *, image_size: int | None = None) -> tuple[keras.Model | None, str]:
    """The VGG19 feature model of the perceptual loss, or None with the reason, never random weights unannounced.

    Args:
        vgg: ``"auto"`` (ImageNet VGG19 from the Keras cache, or downloaded when online; None when unavailable),
            a path to the VGG19 ``.h5`` weights file, a ready feature ``keras.Model``, or None (disabled).
        image_size: input size of the model (None: any).

    Returns:
        ``(model_or_None, message)``.
    """
    if vgg is None:
        return None, "VGG perceptual loss disabled (vgg=None)."
    if isinstance(vgg, keras.Model):
        return vgg, f"VGG perceptual loss uses the feature model {vgg.name!r} given (its weights are the caller's)."
    if not isinstance(vgg, (str, os.PathLike)):
        raise ValueError(f"vgg must be 'auto', a weights path, a keras.Model or None. Received: vgg={vgg!r}")
    from kitlib.models import vgg as kvgg

    weights, message = kvgg.resolve_vgg_weights(vgg)
    if weights is None:
        return None, (f"VGG perceptual loss DISABLED: no ImageNet VGG19 weights here (looked in "
                      f"{kvgg.vgg19_cache_path()}, no internet). GauGAN trains with the hinge + feature-matching "
                      f"(+ KL) losses only. To enable it, download {kvgg.VGG19_WEIGHTS_URL} to that path.")
    shape = (image_size, image_size, 3) if image_size else (None, None, 3)
    model = kvgg.vgg19(weights, VGG_LAYERS, input_shape=shape, value_range=(-1.0, 1.0), name="vgg19_perceptual")
    return model, f"VGG perceptual loss enabled: {message}"


def _z_dim(generator: keras.Model) -> int | None:
    return int(generator.inputs[1].shape[-1]) if len(generator.inputs) == 2 else None


def labels_to_one_hot(label_maps, num_classes: int, *, dontcare: int = DONTCARE_ID) -> np.ndarray:
    """Class-id maps ``(N, H, W)`` or ``(H, W)`` -> float32 one-hot ``(N, H, W, num_classes)``; ``dontcare`` -> zeros.

    Already one-hot inputs (a last axis of ``num_classes``, float) are returned as float32. Raises ``ValueError``
    naming the offending ids when a value is neither a class id nor ``dontcare``.

    Example:
    >>> labels_to_one_hot(np.array([[0, 2, 255]]), 3)[0, 0].tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    arr = np.asarray(label_maps)
    if np.issubdtype(arr.dtype, np.floating) and arr.ndim == 4 and arr.shape[-1] == num_classes:
        return arr.astype("float32")
    if arr.ndim == 4 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"label_maps must be class ids (N, H, W) or (H, W), or one-hot (N, H, W, {num_classes}). "
                         f"Received shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"label_maps of class ids must hold integers. Received dtype {arr.dtype} with fractions.")
        arr = arr.astype(np.int64)
    bad = ((arr < 0) | (arr >= num_classes)) & (arr != dontcare)
    if bad.any():
        values = sorted(np.unique(arr[bad]).tolist())
        raise ValueError(f"label ids must be in 0..{num_classes - 1} (or {dontcare} = dontcare). Received ids "
                         f"{values[:10]} in {int(bad.sum())} pixels; remap them or raise num_classes.")
    lut = np.concatenate([np.eye(num_classes, dtype="float32"), np.zeros((1, num_classes), "float32")])
    return lut[np.where(arr == dontcare, num_classes, arr)]


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
    z_dim = _z_dim(generator)
    if z_dim is None:
        if z is not None or style_images is not None:
            raise ValueError("This generator takes no latent code (built with z_dim=None): pass neither z nor "
                             "style_images.")
        codes = None
    elif style_images is not None:
        if encoder is None:
            raise ValueError("style_images needs the encoder: pass "
                             "encoder=load_generator(run_dir, name='style_encoder').")
        style = np.asarray(style_images)
        style = style.astype("float32") / 127.5 - 1.0 if style.dtype == np.uint8 else style.astype("float32")
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


def paint(label_map, class_id: int, shape: str = "rectangle", box=(0.0, 0.0, 1.0, 1.0)) -> np.ndarray:
    """Returns a copy of a class-id map with a filled shape painted in ``class_id`` (a GauGAN brush stroke).

    Args:
        label_map: integer class ids ``(H, W)``.
        class_id: the class painted (0..254, or 255 to erase to dontcare).
        shape: ``"rectangle"``, ``"ellipse"`` (inscribed in the box) or ``"triangle"`` (apex at the top centre of
            the box, base along its bottom edge: a mountain).
        box: ``(left, top, right, bottom)`` as fractions of the width and height.

    Returns:
        uint8 ``(H, W)`` class ids.

    Example:
    >>> sky = np.zeros((4, 4), np.uint8)
    >>> paint(sky, 3, "rectangle", (0, 0.5, 1, 1)).tolist()
    [[0, 0, 0, 0], [0, 0, 0, 0], [3, 3, 3, 3], [3, 3, 3, 3]]
    """
    if shape not in SKETCH_SHAPES:
        raise ValueError(f"shape must be one of {SKETCH_SHAPES}. Received: shape={shape!r}")
    if not 0 <= int(class_id) <= 255:
        raise ValueError(f"class_id must be in 0..255. Received: class_id={class_id!r}")
    x0, y0, x1, y1 = (float(v) for v in box)
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"box must be (left, top, right, bottom) with right > left and bottom > top. Received: {box}")
    labels = np.array(label_map, dtype=np.uint8, copy=True)
    if labels.ndim != 2:
        raise ValueError(f"label_map must be (H, W) class ids. Received shape {labels.shape}")
    h, w = labels.shape
    y, x = (np.mgrid[0:h, 0:w] + 0.5) / np.array([h, w])[:, None, None]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if shape == "rectangle":
        mask = (x >= x0) & (x < x1) & (y >= y0) & (y < y1)
    elif shape == "ellipse":
        mask = ((x - cx) / ((x1 - x0) / 2)) ** 2 + ((y - cy) / ((y1 - y0) / 2)) ** 2 <= 1.0
    else:
        mask = (y >= y0) & (y < y1) & (np.abs(x - cx) <= (y - y0) / (y1 - y0) * (x1 - x0) / 2)
    labels[mask] = int(class_id)
    return labels


def read_label_map(path: str | os.PathLike, palette=None) -> np.ndarray:
    """Reads a label PNG/BMP as class ids: greyscale or palette-index images hold ids, RGB ones are colour-coded.

    Args:
        path: the file.
        palette: ``(num_classes, 3)`` colours, needed for colour-coded sketches (exact colours, lossless files).

    Returns:
        integer ``(H, W)`` class ids (not range-checked; ``labels_to_one_hot`` and ``synthesize`` check them).

    Raises:
        ValueError: naming the file, for colours that are not in the palette or a colour file without palette.
    """
    from PIL import Image

    with Image.open(path) as im:
        if im.mode in ("RGB", "RGBA"):
            rgb = np.asarray(im.convert("RGB"))
            if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
                return rgb[..., 0]
            if palette is None:
                raise ValueError(f"Label map {path} is colour-coded: pass the palette of the classes' colours.")
            try:
                return colors_to_ids(rgb, palette)
            except ValueError as err:
                raise ValueError(f"Label map {path}: {err}") from None
        if im.mode in ("L", "P") or im.mode.startswith("I"):
            return np.asarray(im).astype(np.int64)
        raise ValueError(f"Label map {path} has PIL mode {im.mode!r}: save class ids as a greyscale PNG or colours "
                         "as an RGB PNG.")


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
        result = Image.fromarray(np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8))
        if keep_size and original != (width, height):
            result = result.resize(original, Image.BICUBIC)
        target = out / path.relative_to(root).with_suffix(".png")
        target.parent.mkdir(parents=True, exist_ok=True)
        result.save(target)
        written.append(target)
    return written


def _png(image: np.ndarray, scale: int) -> bytes:
    from PIL import Image

    img = Image.fromarray(image)
    buffer = io.BytesIO()
    img.resize((img.width * scale, img.height * scale), Image.NEAREST).save(buffer, format="PNG")
    return buffer.getvalue()


def sketch_pad(generator: keras.Model, palette, class_names=None, *, label_map=None, seed: int = 0):
    """An ipywidgets sketch pad, the GauGAN demo: pick a class, place a shape, paint, and see the image it becomes.

    The same as headless calls of ``paint`` (one per stroke) and ``synthesize``. *New style* draws another latent
    code for the same sketch; *Undo* removes the last stroke.

    Args:
        generator: a SPADE generator.
        palette: ``(num_classes, 3)`` class colours.
        class_names: one name per class (default: the ids).
        label_map: the starting sketch ``(H, W)`` (default: class 0 everywhere).
        seed: the first latent code's seed.

    Returns:
        The widget (display it as a cell's last expression), or None when ipywidgets is not installed.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        print("ipywidgets is not installed; sketch headless: label_map = paint(label_map, class_id, shape, box), "
              "then synthesize(generator, label_map).")
        return None
    palette = np.asarray(palette, np.uint8)
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(palette))]
    height, width = (int(v) for v in generator.inputs[0].shape[1:3])
    start = np.zeros((height, width), np.uint8) if label_map is None else np.asarray(label_map, np.uint8)
    state = {"strokes": [start], "seed": seed}
    scale = max(1, 192 // width)
    legend = widgets.HTML(" ".join(
        f'<span style="background:rgb{tuple(int(v) for v in c)};padding:0 8px;border:1px solid #444"></span> {n}'
        for c, n in zip(palette, names)))
    brush = widgets.Dropdown(options=[(n, i) for i, n in enumerate(names)], description="class")
    shape = widgets.ToggleButtons(options=SKETCH_SHAPES, value="rectangle")
    xs = widgets.FloatRangeSlider(value=(0.2, 0.8), min=0, max=1, step=0.02, description="left-right")
    ys = widgets.FloatRangeSlider(value=(0.4, 0.7), min=0, max=1, step=0.02, description="top-bottom")
    buttons = [widgets.Button(description=d) for d in ("Paint", "Undo", "New style")]
    sketch_view, image_view = widgets.Image(format="png"), widgets.Image(format="png")

    def render():
        labels = state["strokes"][-1]
        image = synthesize(generator, labels, seed=state["seed"])[0]
        sketch_view.value = _png(colorize(labels, palette), scale)
        image_view.value = _png(np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8), scale)

    def on_paint(_):
        box = (xs.value[0], ys.value[0], xs.value[1], ys.value[1])
        if box[2] > box[0] and box[3] > box[1]:
            state["strokes"].append(paint(state["strokes"][-1], brush.value, shape.value, box))
            render()

    def on_undo(_):
        if len(state["strokes"]) > 1:
            state["strokes"].pop()
            render()

    def on_style(_):
        state["seed"] += 1
        render()

    for button, handler in zip(buttons, (on_paint, on_undo, on_style)):
        button.on_click(handler)
    render()
    return widgets.VBox([legend, widgets.HBox([brush, shape]), xs, ys, widgets.HBox(buttons),
                         widgets.HBox([sketch_view, image_view])])


class GauGAN(GANTrainer):
    """Trains a SPADE generator ``G(label one-hot, z) -> image`` against a multiscale discriminator (GauGAN).

    Batches are ``(images, labels)``: images float in [-1, 1] ``(B, H, W, 3)``; labels class ids ``(B, H, W)``
    (uint8/int; 255 and any id >= num_classes become an all-zero "dontcare" vector) or one-hot ``(B, H, W, C)``.
    This is what ``kitlib.data.prepare(kitlib.data.toy.landscapes(...))`` and
    ``prepare(kitlib.data.labels.label_map_pairs(...))`` yield.

    Args:
        generator: ``models.spade_generator`` (inputs ``[label, z]``, or ``label`` alone when built with
            ``z_dim=None``).
        discriminator: ``models.multiscale_discriminator`` on ``[label, image]`` returning per-scale
            ``[features..., logits]``.
        encoder: optional ``models.spade_encoder`` (VAE style encoder; needs a generator with ``z``). Without it the
            codes are drawn from N(0, I).
        vgg: perceptual-loss network: ``"auto"`` (ImageNet VGG19 when available, otherwise the loss is disabled
            with a printed message), a path to the VGG19 ``.h5`` weights, a feature ``keras.Model`` taking [-1, 1]
            images (returning ``{layer: features}`` for ``VGG_LAYERS`` or a list of 5 features), or None.
        feature_matching_weight: lambda_feat (10); 0 disables.
        vgg_weight: lambda_vgg (10); 0 disables.
        kl_weight: lambda_kld (0.05), used with an encoder.
        palette: ``(num_classes, 3)`` uint8 colours for the label column of sample grids (default: a generated
            palette); stored in the run config so ``python -m kitlib translate`` can read colour-coded sketches.
        num_samples: fixed latent codes for sample grids.
        seed: seed of the trainer's random generator and of the fixed codes.

    Example:
    >>> from kitlib.models.spade import build_gaugan                      # doctest: +SKIP
    >>> g, d, e = build_gaugan(64, num_classes=8, ngf=16, ndf=32)          # doctest: +SKIP
    >>> gaugan = GauGAN(g, d, e, palette=kitlib.data.toy.LANDSCAPE_PALETTE); gaugan.compile()   # doctest: +SKIP
    >>> batches = kitlib.data.prepare(kitlib.data.toy.landscapes(512, 64), 8)                 # doctest: +SKIP
    >>> gaugan.fit(batches, epochs=5, run_dir="runs/gaugan")                                  # doctest: +SKIP
    """

    kind = "translation"

    def __init__(self, generator: keras.Model, discriminator: keras.Model, encoder: keras.Model | None = None, *,
                 vgg: Any = "auto", feature_matching_weight: float = 10.0, vgg_weight: float = 10.0,
                 kl_weight: float = 0.05, palette=None, num_samples: int = 8, seed: int = 0, name: str = "gaugan"):
        if len(generator.inputs) not in (1, 2):
            raise ValueError(f"generator must take [label, z] or label alone. Received a model with "
                             f"{len(generator.inputs)} inputs; build it with models.spade_generator.")
        if len(discriminator.inputs) != 2:
            raise ValueError(f"discriminator must take [label, image] (models.multiscale_discriminator). Received a "
                             f"model with {len(discriminator.inputs)} input(s).")
        num_classes = int(generator.inputs[0].shape[-1])
        if int(discriminator.inputs[0].shape[-1]) != num_classes:
            raise ValueError(f"generator and discriminator disagree on the number of classes: "
                             f"{num_classes} vs {int(discriminator.inputs[0].shape[-1])}.")
        z_dim = _z_dim(generator)
        if encoder is not None:
            if z_dim is None:
                raise ValueError("An encoder needs a generator with a latent input: build it with z_dim=... "
                                 "(or pass encoder=None).")
            if int(encoder.output[0].shape[-1]) != z_dim:
                raise ValueError(f"encoder codes have size {int(encoder.output[0].shape[-1])} but the generator's z "
                                 f"has size {z_dim}; build both with the same z_dim.")
        for arg, value in (("feature_matching_weight", feature_matching_weight), ("vgg_weight", vgg_weight),
                           ("kl_weight", kl_weight)):
            if value < 0:
                raise ValueError(f"{arg} must be >= 0. Received: {arg}={value}")
        image_size = int(generator.output_shape[1])
        vgg_model, vgg_message = resolve_vgg(vgg, image_size=image_size) if vgg_weight > 0 else (
            None, "VGG perceptual loss disabled (vgg_weight=0).")
        print(vgg_message)
        names = ["g_loss", "g_adv"]
        names += ["g_feat"] if feature_matching_weight > 0 else []
        names += ["g_vgg"] if vgg_model is not None else []
        names += ["g_kl"] if encoder is not None else []
        names += ["d_loss", "d_real", "d_fake"]
        super().__init__(loss_names=names, seed=seed, name=name)
        self.generator, self.discriminator, self.encoder = generator, discriminator, encoder
        self.vgg = vgg_model
        self.vgg_message = vgg_message
        self.num_classes = num_classes
        self.z_dim = z_dim
        self.feature_matching_weight = float(feature_matching_weight)
        self.vgg_weight = float(vgg_weight) if vgg_model is not None else 0.0
        self.kl_weight = float(kl_weight) if encoder is not None else 0.0
        palette = default_palette(num_classes) if palette is None else np.asarray(palette, np.uint8)
        if palette.shape != (num_classes, 3):
            raise ValueError(f"palette must have shape ({num_classes}, 3). Received {palette.shape}.")
        self.palette = palette  # numpy: not tracked by Keras
        if z_dim is not None:
            fixed = keras.random.normal((num_samples, z_dim), seed=seed + 1)
            self.fixed_latents = keras.Variable(fixed, trainable=False, name="fixed_latents")
        else:
            self.fixed_latents = None
        self.sample_labels = self.sample_real = None

    # -- engine contract ------------------------------------------------------------------------------------------
    def networks(self):
        nets = {"generator": self.generator, "discriminator": self.discriminator}
        if self.encoder is not None:
            nets["encoder"] = self.encoder
        return nets

    def generators(self):
        """Exports the generator and, when there is one, the encoder as ``style_encoder`` (for style-guided synthesis).

        Run configs list exports in sorted order and ``load_generator`` / ``translate`` default to the first, so the
        encoder's export name must sort after ``generator``.
        """
        nets = {"generator": self.generator}
        if self.encoder is not None:
            nets["style_encoder"] = self.encoder
        return nets

    def extra_state(self):
        return [] if self.fixed_latents is None else [self.fixed_latents]

    def run_config(self):
        return {
            "adversarial": "hinge", "feature_matching_weight": self.feature_matching_weight,
            "vgg_weight": self.vgg_weight, "kl_weight": self.kl_weight,
            "vgg": None if self.vgg is None else self.vgg.name,
            "num_classes": self.num_classes, "z_dim": self.z_dim, "palette": self.palette.tolist(),
            "image_shape": list(self.generator.output_shape[1:]),
            **{k: v.name for k, v in self.networks().items()},
        }

    def compile(self, *, g_learning_rate: float = 1e-4, d_learning_rate: float = 4e-4, beta_1: float = 0.0,
                beta_2: float = 0.9, constant_steps: int | None = None, decay_steps: int = 0,
                optimizers: dict | None = None, **kwargs):
        """Adam per network with SPADE's TTUR settings: G (and encoder) 1e-4, D 4e-4, beta = (0, 0.9).

        Args:
            g_learning_rate, d_learning_rate: learning rates (the reference's ``lr / 2`` and ``lr * 2``, lr 2e-4).
            beta_1, beta_2: Adam betas of all optimizers.
            constant_steps, decay_steps: optimizer steps at constant LR, then of linear decay to 0 (SPADE's
                ``niter`` / ``niter_decay``); ``decay_steps=0`` keeps the LR constant.
            optimizers: optional ``{network_name: optimizer}`` overriding the defaults.
            **kwargs: passed to ``keras.Model.compile``.
        """
        def make(lr):
            schedule = LinearDecay(lr, constant_steps or 0, decay_steps) if decay_steps else lr
            return FusedAdam(schedule, beta_1=beta_1, beta_2=beta_2)

        chosen = {"generator": make(g_learning_rate), "discriminator": make(d_learning_rate)}
        if self.encoder is not None:
            chosen["encoder"] = make(g_learning_rate)
        chosen.update(optimizers or {})
        self._compile_optimizers(chosen, **kwargs)
        self.build_optimizers()  # slots now: a step that creates variables would be traced twice

    # -- training -------------------------------------------------------------------------------------------------
    def _segmap(self, labels):
        """Class ids (B, H, W) -> one-hot float (dontcare 255 gives zeros); one-hot maps pass through."""
        if labels.shape.rank == 4 and labels.shape[-1] == self.num_classes and labels.dtype.is_floating:
            return tf.cast(labels, "float32")
        return one_hot_labels(labels[..., 0] if labels.shape.rank == 4 else labels, self.num_classes)

    def _generate(self, seg, real, training: bool):
        """Returns ``(fake, kl)``: the style code from the encoder (reparameterised) or N(0, I)."""
        kl = None
        if self.encoder is not None:
            mu, logvar = self.encoder(real, training=training)
            eps = keras.random.normal(tf.shape(mu), seed=self.seed_generator)
            z = tf.cast(mu, "float32") + tf.exp(0.5 * tf.cast(logvar, "float32")) * eps
            kl = losses.kl_divergence(mu, logvar)
        elif self.z_dim is not None:
            z = keras.random.normal((tf.shape(seg)[0], self.z_dim), seed=self.seed_generator)
        inputs = seg if self.z_dim is None else [seg, z]
        return self.generator(inputs, training=training), kl

    def _discriminate(self, seg, fake, real):
        """D on fake and real pairs in one batch; returns (fake outputs, real outputs), each per scale."""
        n = tf.shape(fake)[0]
        outputs = self.discriminator([tf.concat([seg, seg], 0), tf.concat([tf.cast(fake, "float32"), real], 0)],
                                     training=True)
        return [[t[:n] for t in scale] for scale in outputs], [[t[n:] for t in scale] for scale in outputs]

    def train_step(self, data):
        images, labels = data
        real = tf.cast(images, "float32")
        seg = self._segmap(labels)
        with tf.GradientTape() as tape:
            fake, kl = self._generate(seg, real, training=True)
            with tape.stop_recording():
                values = self._d_step(seg, tf.stop_gradient(fake), real)
            pred_fake, pred_real = self._discriminate(seg, fake, real)
            g_adv = losses.generator_loss("hinge", [scale[-1] for scale in pred_fake])
            g_loss = values["g_adv"] = g_adv
            if self.feature_matching_weight > 0:
                g_feat = losses.feature_matching_loss([s[:-1] for s in pred_real], [s[:-1] for s in pred_fake],
                                                      layer_reduction="sum")
                values["g_feat"] = g_feat
                g_loss += self.feature_matching_weight * g_feat
            if self.vgg is not None:
                g_vgg = vgg_perceptual_loss(self.vgg, fake, real)
                values["g_vgg"] = g_vgg
                g_loss += self.vgg_weight * g_vgg
            if kl is not None:
                values["g_kl"] = kl
                g_loss += self.kl_weight * kl
            scaled = self.scale_loss("generator", g_loss)
        if self.encoder is not None:
            self.minimize_joint(("generator", "encoder"), tape, scaled)
        else:
            self.minimize("generator", tape, scaled)
        values["g_loss"] = g_loss
        return self.update_trackers(values)

    def _d_step(self, seg, fake, real):
        with tf.GradientTape() as tape:
            pred_fake, pred_real = self._discriminate(seg, fake, real)
            d_real, d_fake = losses.discriminator_loss_terms(
                "hinge", [s[-1] for s in pred_real], [s[-1] for s in pred_fake])
            d_loss = d_real + d_fake
            scaled = self.scale_loss("discriminator", d_loss)
        self.minimize("discriminator", tape, scaled)
        return {"d_loss": d_loss, "d_real": d_real, "d_fake": d_fake}

    # -- inference ------------------------------------------------------------------------------------------------
    def synthesize(self, label_maps, z=None, *, style_images=None, seed: int = 0) -> np.ndarray:
        """Images (float32 numpy in [-1, 1]) for label maps; see the module-level ``synthesize``.

        Args:
            label_maps: class ids ``(N, H, W)`` / ``(H, W)`` or one-hot ``(N, H, W, C)``.
            z: latent codes ``(N, z_dim)`` or ``(z_dim,)``; default random from ``seed``.
            style_images: images whose style (encoder code) the outputs take (needs the encoder).
            seed: seed of the random codes.
        """
        return synthesize(self.generator, label_maps, z=z, style_images=style_images, encoder=self.encoder, seed=seed)

    def colorize(self, label_maps) -> np.ndarray:
        """Class ids or one-hot maps -> uint8 colour images with the trainer's palette (dontcare: black)."""
        seg = labels_to_one_hot(label_maps, self.num_classes)
        return colorize(np.where(seg.sum(-1) > 0, seg.argmax(-1), DONTCARE_ID), self.palette)

    def set_sample_inputs(self, labels, images) -> None:
        """Fixes the label maps and real images shown by ``sample_images`` (and ``SampleGrid``) every epoch."""
        self.sample_labels = labels_to_one_hot(keras.ops.convert_to_numpy(labels), self.num_classes)
        real = keras.ops.convert_to_numpy(images)
        self.sample_real = real.astype("float32") / 127.5 - 1.0 if real.dtype == np.uint8 else real.astype("float32")

    def sample_images(self):
        """Rows of [label colours, generated, real] for the fixed sample inputs; show with ``ncols=3`` (or 6).

        The codes are the fixed latent vectors, or with an encoder the style code (mean) of each real image, as
        SPADE's test mode uses the encoder on the real image.
        """
        if self.sample_labels is None:
            raise ValueError("Call set_sample_inputs(labels, images) before using SampleGrid with GauGAN.")
        n = len(self.sample_labels)
        if self.encoder is not None:
            fake = self.synthesize(self.sample_labels, style_images=self.sample_real)
        elif self.fixed_latents is not None:
            z = keras.ops.convert_to_numpy(self.fixed_latents)[np.arange(n) % len(self.fixed_latents)]
            fake = self.synthesize(self.sample_labels, z=z)
        else:
            fake = self.synthesize(self.sample_labels)
        colours = self.colorize(self.sample_labels).astype("float32") / 127.5 - 1.0
        return np.stack([colours, fake, self.sample_real], axis=1).reshape(3 * n, *fake.shape[1:])


__all__ = [
    "GauGAN", "SKETCH_SHAPES", "VGG_LAYERS", "VGG_LAYER_WEIGHTS", "labels_to_one_hot", "paint", "read_label_map",
    "resolve_vgg", "sketch_pad", "synthesize", "synthesize_folder", "vgg_perceptual_loss",
]
