"""Neural style transfer by optimisation (Gatys et al.): the image itself is trained to match VGG19 statistics.

``style_transfer(content, style)`` starts from the content image and minimises

    style_weight * mean_l mean((G_l(x) - G_l(style))^2)  +  content_weight * mean((F(x) - F(content))^2)
    + tv_weight * total_variation(x)

with Gram matrices ``G_l`` normalised by H*W at ``block1_conv1`` ... ``block5_conv1`` and content features ``F`` at
``block5_conv2``: the TensorFlow tutorial's loss and defaults (style 1e-2, content 1e4, TV 30, Adam with learning
rate 0.02, beta_1 0.99, epsilon 0.1, pixel values clipped to [0, 1]). ``optimizer="lbfgs"`` uses SciPy's L-BFGS-B
(with the [0, 1] box as bounds) as in the paper's reference code. Several styles can be blended with weights, and
``preserve_color=True`` transfers the style to the luminance only (Gatys et al. 2016).

The loss history has one value per step for the total loss and each weighted term, and the raw total variation of
the image (``tf.image.total_variation`` of the [0, 1] image: the quality figure of the seed report, 122,820 there).

Reference: Gatys et al. 2015, https://arxiv.org/abs/1508.06576 ; Gatys et al. 2016 (colour preservation),
https://arxiv.org/abs/1606.05897 ; https://www.tensorflow.org/tutorials/generative/style_transfer

Example:
>>> import numpy as np
>>> content = np.full((32, 32, 3), 128, np.uint8)
>>> style = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
>>> image, history = style_transfer(content, style, steps=2, size=32, vgg=None, progress=False)
>>> image.shape, image.dtype, len(history["loss"])
((32, 32, 3), dtype('uint8'), 2)
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

from kitlib import losses
from kitlib.images import to_uint8
from kitlib.method import Method
from kitlib.models.vgg import CONTENT_LAYERS, STYLE_LAYERS, VGGPreprocess, downsampling, vgg19

OPTIMIZERS = ("adam", "lbfgs")
HISTORY_KEYS = ("loss", "style", "content", "tv", "total_variation", "seconds")


# ---------------------------------------------------------------------------------------------------------- images


def load_image(source, max_size: int | None = None, *, square: bool = False) -> np.ndarray:
    """Reads an image as uint8 RGB ``(H, W, 3)``, optionally centre-cropped to a square and resized.

    Args:
        source: a file path, a PIL image, or an array ``(H, W, 3)`` / ``(H, W)`` / ``(1, H, W, 3)``: uint8, or
            floats in [-1, 1] (kitlib's convention).
        max_size: resize (Lanczos) so that the longer side is ``max_size`` pixels, keeping the aspect ratio.
        square: centre-crop to a square first.

    Returns:
        uint8 numpy array ``(H, W, 3)``.

    Example:
    >>> import numpy as np
    >>> load_image(np.zeros((40, 80, 3), np.uint8), 32).shape
    (16, 32, 3)
    """
    from PIL import Image

    if isinstance(source, (str, os.PathLike)):
        if not os.path.isfile(source):
            raise FileNotFoundError(f"Image file {source} does not exist.")
        with Image.open(source) as img:
            arr = np.asarray(img.convert("RGB"))
    elif isinstance(source, Image.Image):
        arr = np.asarray(source.convert("RGB"))
    else:
        arr = np.asarray(source)
        if arr.ndim == 4 and arr.shape[0] == 1:
            arr = arr[0]
        if arr.ndim == 2:
            arr = np.repeat(arr[..., None], 3, axis=-1)
        if arr.ndim != 3 or arr.shape[-1] not in (3, 4):
            raise ValueError(f"An image must be (H, W, 3), (H, W) or (1, H, W, 3). Received shape {arr.shape}.")
        arr = arr[..., :3]
        if arr.dtype != np.uint8:
            arr = to_uint8(arr)
    if square:
        h, w = arr.shape[:2]
        side = min(h, w)
        arr = arr[(h - side) // 2: (h - side) // 2 + side, (w - side) // 2: (w - side) // 2 + side]
    if max_size is not None:
        if int(max_size) < 1:
            raise ValueError(f"max_size must be >= 1. Received: max_size={max_size!r}")
        h, w = arr.shape[:2]
        scale = int(max_size) / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if size != (w, h):
            arr = np.asarray(Image.fromarray(np.ascontiguousarray(arr)).resize(size, Image.LANCZOS))
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _yiq(rgb: np.ndarray) -> np.ndarray:
    return tf.image.rgb_to_yiq(tf.convert_to_tensor(rgb, tf.float32)).numpy()


def combine_luminance(luminance_from, colors_from) -> np.ndarray:
    """An RGB image with the luminance (YIQ ``Y``) of one image and the chroma (``I``, ``Q``) of another.

    This is the colour-preservation step of Gatys et al. 2016: style transfer runs on luminance only, then the
    result's ``Y`` is put back with the content's ``I`` and ``Q`` (YIQ as ``tf.image.rgb_to_yiq``). Values are
    clipped to [0, 1], so saturated colours may shift slightly.

    Args:
        luminance_from: float RGB in [0, 1], ``(..., H, W, 3)``.
        colors_from: float RGB in [0, 1], same shape.

    Returns:
        float32 RGB in [0, 1].

    Example:
    >>> import numpy as np
    >>> gray, red = np.full((1, 1, 3), 0.5, "float32"), np.array([[[0.6, 0.3, 0.3]]], "float32")
    >>> out = combine_luminance(gray, red)
    >>> bool(out[0, 0, 0] > out[0, 0, 1])
    True
    """
    y = _yiq(np.asarray(luminance_from, "float32"))[..., :1]
    iq = _yiq(np.asarray(colors_from, "float32"))[..., 1:]
    rgb = tf.image.yiq_to_rgb(tf.convert_to_tensor(np.concatenate([y, iq], axis=-1))).numpy()
    return np.clip(rgb, 0.0, 1.0).astype("float32")


def _luminance_rgb(rgb: np.ndarray, match_to: np.ndarray | None = None) -> np.ndarray:
    """Grey RGB of the luminance, optionally with its mean/std matched to another image's luminance (the paper's
    luminance histogram matching of the style to the content)."""
    y = _yiq(rgb)[..., 0]
    if match_to is not None:
        ref = _yiq(match_to)[..., 0]
        y = (y - y.mean()) / (y.std() + 1e-6) * ref.std() + ref.mean()
    return np.repeat(np.clip(y, 0.0, 1.0)[..., None], 3, axis=-1).astype("float32")


# -------------------------------------------------------------------------------------------------- optimisation


def _value_range(vgg: keras.Model) -> tuple[float, float]:
    for layer in vgg.layers:
        if isinstance(layer, VGGPreprocess):
            return layer.value_range
    raise ValueError(f"vgg must be a model from kitlib.models.vgg.vgg19 (with a VGGPreprocess layer). "
                     f"Received a model named {vgg.name!r} without one.")


def _as_style_list(style) -> list:
    if isinstance(style, (list, tuple)):
        return list(style)
    if isinstance(style, np.ndarray) and style.ndim == 4 and style.shape[0] > 1:
        return list(style)
    return [style]


def style_transfer(
    content,
    style,
    *,
    steps: int = 1000,
    size: int = 512,
    style_size: int | None = None,
    vgg: keras.Model | str | os.PathLike | None = "imagenet",
    optimizer: str = "adam",
    learning_rate: float = 0.02,
    style_weight: float = 1e-2,
    content_weight: float = 1e4,
    tv_weight: float = 30.0,
    style_blend: Sequence[float] | None = None,
    preserve_color: bool = False,
    content_layers: Sequence[str] = CONTENT_LAYERS,
    style_layers: Sequence[str] = STYLE_LAYERS,
    progress: bool | int = True,
) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Gatys et al. style transfer by optimising the pixels (TensorFlow-tutorial loss and defaults).

    Reference: Gatys et al. 2015, https://arxiv.org/abs/1508.06576 ;
    https://www.tensorflow.org/tutorials/generative/style_transfer

    Args:
        content: the content image (path, PIL image, uint8 array, or float array in [-1, 1]).
        style: a style image, or a list of style images to blend (see ``style_blend``).
        steps: optimisation steps (Adam updates, or L-BFGS iterations). The tutorial runs 1000.
        size: the content image is resized so that its longer side is ``size`` pixels (tutorial: 512).
        style_size: same for the style images (default: ``size``).
        vgg: ``"imagenet"``, a weights path, ``None`` (random weights: code path only, not style transfer), or a
            model from ``kitlib.models.vgg.vgg19`` returning at least ``content_layers`` and ``style_layers``
            (reuse one model across calls to avoid rebuilding it).
        optimizer: ``"adam"`` (tutorial) or ``"lbfgs"`` (SciPy L-BFGS-B, bounds [0, 1]; ``learning_rate`` unused).
        learning_rate: Adam's learning rate (beta_1 0.99 and epsilon 0.1 as in the tutorial).
        style_weight, content_weight, tv_weight: loss weights (tutorial: 1e-2, 1e4, 30).
        style_blend: one non-negative weight per style image (normalised to sum 1; default equal): the style
            term is the weighted sum of each style's loss.
        preserve_color: transfer the style to the luminance only and keep the content's colours (YIQ chroma);
            the style's luminance is first matched to the content's mean and standard deviation.
        content_layers, style_layers: VGG19 layer names.
        progress: print a progress line ~10 times (True), every N steps (an int), or never (False).

    Returns:
        ``(image, history)``: the stylised image as uint8 ``(H, W, 3)``, and a dict of per-step lists:
        ``loss`` (total), ``style``, ``content``, ``tv`` (weighted terms), ``total_variation`` (raw TV of the
        [0, 1] image, the seed report's figure) and ``seconds`` (since the start).

    Example:
    >>> import numpy as np
    >>> x = np.full((32, 32, 3), 100, np.uint8)
    >>> image, history = style_transfer(x, [x, 255 - x], style_blend=[1, 3], steps=1, size=32, vgg=None,
    ...                                 progress=False)
    >>> sorted(history)
    ['content', 'loss', 'seconds', 'style', 'total_variation', 'tv']
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}. Received: optimizer={optimizer!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1. Received: steps={steps!r}")
    content_layers, style_layers = tuple(content_layers), tuple(style_layers)
    if not content_layers or not style_layers:
        raise ValueError("content_layers and style_layers must each name at least one VGG19 layer.")
    needed = content_layers + style_layers
    min_size = max(downsampling(n) for n in needed)
    if int(size) < min_size or (style_size is not None and int(style_size) < min_size):
        raise ValueError(f"size and style_size must be >= {min_size} px for the layers {needed} (each pooling "
                         f"halves the image). Received: size={size!r}, style_size={style_size!r}")
    if min(style_weight, content_weight, tv_weight) < 0:
        raise ValueError(f"Loss weights must be >= 0. Received: {style_weight=}, {content_weight=}, {tv_weight=}")
    styles = _as_style_list(style)
    blend = np.ones(len(styles)) if style_blend is None else np.asarray(style_blend, "float64")
    if blend.shape != (len(styles),) or (blend < 0).any() or blend.sum() <= 0:
        raise ValueError(f"style_blend must hold {len(styles)} non-negative weights (one per style image) with a "
                         f"positive sum. Received: style_blend={style_blend!r}")
    blend = blend / blend.sum()

    if not isinstance(vgg, keras.Model):
        vgg = vgg19(vgg, needed, value_range=(0.0, 1.0))
    missing = [n for n in needed if n not in vgg.output]
    if missing:
        raise ValueError(f"The vgg model does not return the layers {missing}; build it with "
                         f"vgg19(weights, layers={needed!r}).")
    low, high = _value_range(vgg)

    content_rgb = load_image(content, size).astype("float32") / 255.0
    style_rgbs = [load_image(s, style_size or size).astype("float32") / 255.0 for s in styles]
    if preserve_color:
        style_rgbs = [_luminance_rgb(s, match_to=content_rgb) for s in style_rgbs]
        start_rgb = _luminance_rgb(content_rgb)
    else:
        start_rgb = content_rgb

    def features(image01):
        feats = vgg(low + (high - low) * image01, training=False)
        return [feats[n] for n in content_layers], [feats[n] for n in style_layers]

    content_targets = [tf.constant(f) for f in features(start_rgb[None])[0]]
    style_targets = [[tf.constant(losses.gram_matrix(f)) for f in features(s[None])[1]] for s in style_rgbs]

    def terms(image):
        c_feats, s_feats = features(image)
        s_loss = tf.add_n([float(w) * losses.style_loss(s_feats, t) for w, t in zip(blend, style_targets)])
        s_term = style_weight * s_loss
        c_term = content_weight * losses.content_loss(c_feats, content_targets)
        raw_tv = losses.total_variation_loss(image)
        return {"loss": s_term + c_term + tv_weight * raw_tv, "style": s_term, "content": c_term,
                "tv": tv_weight * raw_tv, "total_variation": raw_tv}

    every = max(1, int(steps) // 10) if progress is True else int(progress)
    history: dict[str, list[float]] = {k: [] for k in HISTORY_KEYS}
    start = time.perf_counter()

    def record(values) -> None:
        for k, v in values.items():
            history[k].append(float(v))
        history["seconds"].append(time.perf_counter() - start)
        step = len(history["loss"])
        if every and (step % every == 0 or step == int(steps)):
            rate = step / max(history["seconds"][-1], 1e-9)
            print(f"step {step}/{steps}  loss {history['loss'][-1]:.4g} (style {history['style'][-1]:.3g}, "
                  f"content {history['content'][-1]:.3g}, tv {history['tv'][-1]:.3g})  total variation "
                  f"{history['total_variation'][-1]:.6g}  {rate:.2f} steps/s", flush=True)

    init = tf.constant(start_rgb[None])
    if optimizer == "adam":
        result = _run_adam(terms, init, int(steps), float(learning_rate), record)
    else:
        result = _run_lbfgs(terms, init, int(steps), record)
    out = result[0]
    if preserve_color:
        out = combine_luminance(out, content_rgb)
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8), history


def _run_adam(terms, init, steps: int, learning_rate: float, record) -> np.ndarray:
    image = tf.Variable(init, name="stylised_image")
    opt = keras.optimizers.Adam(learning_rate, beta_1=0.99, epsilon=0.1)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            values = terms(image)
        grad = tape.gradient(values["loss"], image)
        opt.apply([grad], [image])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return values

    for _ in range(steps):
        record(step())
    return image.numpy()


def _run_lbfgs(terms, init, steps: int, record) -> np.ndarray:
    from scipy.optimize import Bounds, minimize

    shape = tuple(init.shape)

    @tf.function
    def value_and_grad(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            values = terms(image)
        return values, tape.gradient(values["loss"], image)

    last: dict = {}

    def evaluate(flat):
        values, grad = value_and_grad(tf.constant(flat.reshape(shape), tf.float32))
        last.update(x=flat.copy(), values=values)
        return float(values["loss"]), grad.numpy().astype("float64").ravel()

    def on_iteration(xk):
        if not np.array_equal(xk, last.get("x")):
            evaluate(xk)
        record(last["values"])

    x0 = init.numpy().astype("float64").ravel()
    result = minimize(evaluate, x0, jac=True, method="L-BFGS-B", bounds=Bounds(0.0, 1.0), callback=on_iteration,
                      options={"maxiter": steps})
    return result.x.reshape(shape).astype("float32")


# --------------------------------------------------------------------------------------------------------- speed


def gatys_speed(size: int = 256, *, steps: int = 10, warmup: int = 2, optimizer: str = "adam") -> dict:
    """Measures Gatys optimisation steps per second at ``size`` px (random VGG weights: speed does not depend on
    them) with the active precision policy.

    Args:
        size: image side in pixels (square content and style).
        steps: timed steps, after ``warmup`` untimed ones (tracing included there).
        warmup: steps excluded from the timing (>= 1).
        optimizer: ``"adam"`` or ``"lbfgs"``.

    Returns:
        ``{"size", "steps", "optimizer", "iterations_per_second", "seconds_per_iteration", "precision"}``.

    Example:
    >>> gatys_speed(32, steps=1, warmup=1)["size"]
    32
    """
    if int(warmup) < 1 or int(steps) < 1:
        raise ValueError(f"steps and warmup must be >= 1. Received: {steps=}, {warmup=}")
    rng = np.random.default_rng(0)
    content = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    style = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    _, history = style_transfer(content, style, steps=steps + warmup, size=size, vgg=None, optimizer=optimizer,
                                progress=False)
    seconds = (history["seconds"][-1] - history["seconds"][warmup - 1]) / (len(history["seconds"]) - warmup)
    return {"size": int(size), "steps": int(steps), "optimizer": optimizer, "iterations_per_second": 1.0 / seconds,
            "seconds_per_iteration": seconds, "precision": keras.mixed_precision.global_policy().name}


__all__ = ["OPTIMIZERS", "HISTORY_KEYS", "load_image", "combine_luminance", "style_transfer", "gatys_speed"]


METHODS = (Method(
    name="gatys", title="Gatys et al.: neural style transfer by optimising the image (VGG19 features)",
    kind="stylization", notebook="04_style_transfer", trainer=None, builders={"features": vgg19}, losses=(),
    infer=style_transfer, exports=(), custom_layers=(VGGPreprocess,),
    profiles={
        "quick": {"image_size": 64, "steps": 4, "optimizer": "adam", "vgg_weights": None},
        "demo": {"image_size": 128, "steps": 120, "optimizer": "adam", "vgg_weights": "auto"},
        "full": {"image_size": 512, "steps": 1000, "optimizer": "adam", "vgg_weights": "imagenet"},
    }),)
