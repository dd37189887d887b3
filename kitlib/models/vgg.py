"""VGG19 feature extractor by layer names, its input preprocessing, and where its ImageNet weights come from.

Neural style transfer measures content and style with the activations of an ImageNet-trained VGG19. This module
builds the convolutional part of VGG19 (the Keras layer names ``block1_conv1`` ... ``block5_pool``) only as deep as
the layers asked for, with the preprocessing inside the model, and loads the Keras ImageNet weights file
``vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5`` (80 MB) by layer name.

Where the weights come from (``vgg19(weights=...)``):

- ``"imagenet"``: the Keras cache (``~/.keras/models/`` or ``$KERAS_HOME/models/``), downloaded there first when the
  machine has internet (Colab, Kaggle);
- a path to that ``.h5`` file (or any legacy Keras ``.h5`` holding the same layer names);
- ``None``: random weights, which only exercise the code path: style transfer needs the trained ones.

``resolve_vgg_weights`` picks one of those for notebooks and says plainly which, so that random-weight output is
never shown as the real method.

Example:
>>> import numpy as np
>>> vgg = vgg19(weights=None, layers=("block1_conv1", "block2_conv1"))
>>> feats = vgg(np.zeros((1, 32, 32, 3), "float32"))
>>> tuple(feats["block2_conv1"].shape)
(1, 16, 16, 128)
"""

from __future__ import annotations

import os
import pathlib
import socket
from collections.abc import Sequence

import keras
from keras import ops

VGG19_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
VGG19_WEIGHTS_URL = f"https://storage.googleapis.com/tensorflow/keras-applications/vgg19/{VGG19_WEIGHTS_FILE}"
VGG19_WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"  # the file_hash keras.applications.VGG19 checks

# (block, number of 3x3 convolutions, filters) of VGG19's convolutional part (configuration "E").
_VGG19_BLOCKS = ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512))
VGG19_LAYERS = tuple(
    name
    for block, convs, _ in _VGG19_BLOCKS
    for name in [f"block{block}_conv{i}" for i in range(1, convs + 1)] + [f"block{block}_pool"]
)
CONTENT_LAYERS = ("block5_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
# Caffe-style preprocessing of the original VGG weights: BGR channel order, ImageNet mean subtracted, no scaling.
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


def _check_value_range(value_range) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be a pair (low, high). Received: value_range={value_range!r}") from None
    if not high > low:
        raise ValueError(f"value_range must have high > low. Received: value_range={value_range!r}")
    return low, high


def preprocess_input(images, value_range: tuple[float, float] = (0.0, 255.0)):
    """VGG19 preprocessing: rescale to [0, 255], RGB -> BGR, subtract the ImageNet channel means.

    With the default ``value_range`` this equals ``keras.applications.vgg19.preprocess_input`` (Caffe mode).

    Args:
        images: RGB images ``(..., H, W, 3)`` with values in ``value_range``.
        value_range: ``(low, high)`` of the input values: ``(0, 255)`` (Keras), ``(0, 1)`` (the TensorFlow
            style-transfer tutorial) or ``(-1, 1)`` (kitlib's image convention).

    Returns:
        float32 tensor, same shape, in VGG's input space.

    Example:
    >>> import numpy as np
    >>> [round(float(v), 3) for v in preprocess_input(np.zeros((1, 1, 1, 3)))[0, 0, 0]]
    [-103.939, -116.779, -123.68]
    """
    low, high = _check_value_range(value_range)
    x = ops.cast(images, "float32")
    if (low, high) != (0.0, 255.0):
        x = (x - low) * (255.0 / (high - low))
    return ops.flip(x, axis=-1) - ops.convert_to_tensor(IMAGENET_BGR_MEAN, "float32")


@keras.saving.register_keras_serializable(package="kitlib")
class VGGPreprocess(keras.layers.Layer):
    """``preprocess_input`` as a layer (so a VGG feature model takes plain RGB images in ``value_range``).

    Args:
        value_range: ``(low, high)`` of the images the model receives.

    Example:
    >>> import numpy as np
    >>> tuple(VGGPreprocess((0.0, 1.0))(np.zeros((1, 4, 4, 3), "float32")).shape)
    (1, 4, 4, 3)
    """

    def __init__(self, value_range: tuple[float, float] = (0.0, 1.0), **kwargs):
        super().__init__(**kwargs)
        self.value_range = _check_value_range(value_range)

    def call(self, inputs):
        return ops.cast(preprocess_input(inputs, self.value_range), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range)}


# ------------------------------------------------------------------------------------------------------- weights


def vgg19_cache_path() -> pathlib.Path:
    """Where Keras keeps the VGG19 weights file: ``$KERAS_HOME/models/...`` or ``~/.keras/models/...``.

    Example:
    >>> vgg19_cache_path().name
    'vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5'
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return pathlib.Path(home) / "models" / VGG19_WEIGHTS_FILE


def _how_to_provide() -> str:
    return (f"Fix: on a machine with internet, download {VGG19_WEIGHTS_URL} and copy it to {vgg19_cache_path()} "
            "(then weights='imagenet' finds it), or pass its path as weights='path/to/"
            f"{VGG19_WEIGHTS_FILE}'.")


def _internet(host: str = "storage.googleapis.com", timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _imagenet_file() -> pathlib.Path:
    """The cached ImageNet weights file, downloading it first when it is missing and the machine is online."""
    cached = vgg19_cache_path()
    if cached.is_file():
        return cached
    if not _internet():
        raise FileNotFoundError(f"VGG19 ImageNet weights are not in the Keras cache ({cached}) and this machine "
                                f"cannot reach the internet. {_how_to_provide()}")
    try:
        path = keras.utils.get_file(VGG19_WEIGHTS_FILE, VGG19_WEIGHTS_URL, cache_subdir="models",
                                    file_hash=VGG19_WEIGHTS_MD5)
    except Exception as err:  # urllib/HTTP errors: report them with the fix
        raise FileNotFoundError(f"Downloading the VGG19 ImageNet weights failed ({err}). {_how_to_provide()}") from err
    return pathlib.Path(path)


def resolve_vgg_weights(preference: str | os.PathLike | None = "auto") -> tuple[str | None, str]:
    """Chooses the VGG19 weights a notebook can use here, with a plain message saying which.

    Args:
        preference: ``"auto"``: the ImageNet weights when they are in the Keras cache or can be downloaded,
            otherwise random weights (``None``) with a message saying so; ``"imagenet"``: the same but an error
            when they are unavailable; a path: that weights file (an error when it does not exist); ``None``:
            random weights, on purpose.

    Returns:
        ``(weights, message)``: ``weights`` is ``"imagenet"``, a path string or ``None`` (random), ready for
        ``vgg19(weights=...)``; ``message`` says where the weights come from and, for random weights, that
        results show the code path only and are not style transfer.

    Example:
    >>> weights, message = resolve_vgg_weights(None)
    >>> weights is None and "RANDOM" in message
    True
    """
    random_note = ("the VGG19 network has RANDOM weights: results only show that the code runs, they are NOT style "
                   "transfer (which needs ImageNet-trained features).")
    if preference is None:
        return None, f"Random weights as asked (weights=None): {random_note}"
    if isinstance(preference, str) and preference in ("auto", "imagenet"):
        cached = vgg19_cache_path()
        if cached.is_file():
            return "imagenet", f"VGG19 ImageNet weights found in the Keras cache: {cached}"
        if _internet():
            return "imagenet", f"VGG19 ImageNet weights will be downloaded (80 MB) to {cached}"
        if preference == "imagenet":
            raise FileNotFoundError(f"VGG19 ImageNet weights are not in the Keras cache ({cached}) and this machine "
                                    f"cannot reach the internet. {_how_to_provide()}")
        return None, (f"No VGG19 ImageNet weights: not in the Keras cache ({cached}) and no internet, so "
                      f"{random_note} {_how_to_provide()}")
    if not isinstance(preference, (str, os.PathLike)):
        raise ValueError(f"preference must be 'auto', 'imagenet', None or a path. Received: preference={preference!r}")
    path = pathlib.Path(preference).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file {path} does not exist. {_how_to_provide()}")
    return str(path), f"VGG19 weights loaded from {path}"


def load_vgg19_weights(model: keras.Model, path: str | os.PathLike) -> keras.Model:
    """Loads a legacy Keras ``.h5`` weights file into the VGG19 layers of ``model``, by layer name.

    Accepts the Keras ImageNet file (``layer_names`` at the root) and whole models saved as ``.h5``
    (``model_weights`` group). Every ``blockN_convM`` layer of ``model`` must be in the file: a truncated or
    foreign file raises instead of leaving some layers random.

    Args:
        model: a model from ``vgg19`` (or any model with VGG19-named convolutions).
        path: the ``.h5`` file.

    Returns:
        ``model``, with its weights set.
    """
    import h5py
    import numpy as np

    path = pathlib.Path(path)
    if path.suffix not in (".h5", ".hdf5") or path.name.endswith(".weights.h5"):
        raise ValueError(f"VGG19 weights must be a legacy Keras .h5 file such as {VGG19_WEIGHTS_FILE}. Received: "
                         f"{path}. (A Keras 3 '.weights.h5' is tied to a whole model: load it with "
                         "model.load_weights.)")
    convs = [layer for layer in model.layers if layer.name in VGG19_LAYERS and layer.weights]
    with h5py.File(path, "r") as handle:
        group = handle["model_weights"] if "layer_names" not in handle.attrs and "model_weights" in handle else handle
        if "layer_names" not in group.attrs:
            raise ValueError(f"{path} is not a Keras weights file (no 'layer_names' attribute). {_how_to_provide()}")
        names = {n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["layer_names"]}
        missing = [layer.name for layer in convs if layer.name not in names]
        if missing:
            raise ValueError(f"{path} has no weights for the layers {missing}. Expected the VGG19 file "
                             f"{VGG19_WEIGHTS_FILE}. {_how_to_provide()}")
        for layer in convs:
            layer_group = group[layer.name]
            weight_names = [n.decode() if isinstance(n, bytes) else str(n) for n in layer_group.attrs["weight_names"]]
            values = [np.asarray(layer_group[n]) for n in weight_names]
            expected = [tuple(w.shape) for w in layer.weights]
            if [v.shape for v in values] != expected:
                raise ValueError(f"{path}: layer {layer.name} holds weights of shapes {[v.shape for v in values]}, "
                                 f"expected {expected} (VGG19 kernel and bias).")
            layer.set_weights(values)
    return model


# ---------------------------------------------------------------------------------------------------------- model


def vgg19(
    weights: str | os.PathLike | None = "imagenet",
    layers: Sequence[str] = CONTENT_LAYERS + STYLE_LAYERS,
    *,
    input_shape: tuple = (None, None, 3),
    value_range: tuple[float, float] = (0.0, 1.0),
    trainable: bool = False,
    name: str = "vgg19_features",
) -> keras.Model:
    """VGG19 feature extractor returning ``{layer_name: activations}``, built only as deep as needed.

    The model takes RGB images in ``value_range`` and applies VGG's preprocessing itself (a ``VGGPreprocess``
    layer named ``preprocess``). Layer names are those of ``keras.applications.VGG19`` (``VGG19_LAYERS``), and
    ``blockN_convM`` outputs are after the ReLU (``relu N_M`` of the papers).

    Reference: Simonyan & Zisserman 2014, https://arxiv.org/abs/1409.1556 ;
    https://www.tensorflow.org/tutorials/generative/style_transfer

    Args:
        weights: ``"imagenet"`` (Keras cache, downloaded when online), a path to the ``.h5`` weights file, or
            ``None`` for random weights (Keras default initialiser; code path only). See ``resolve_vgg_weights``.
        layers: names from ``VGG19_LAYERS`` whose activations the model returns.
        input_shape: ``(H, W, 3)``; ``None`` sizes accept any image size.
        value_range: ``(low, high)`` of the input images, e.g. ``(0, 1)`` or ``(-1, 1)``.
        trainable: VGG stays frozen by default (gradients still flow to the input image).
        name: model name.

    Returns:
        A ``keras.Model`` whose output is a dict ``{layer_name: (batch, h, w, c)}``.

    Example:
    >>> import numpy as np
    >>> vgg = vgg19(None, ("block5_conv2",), value_range=(-1.0, 1.0))
    >>> tuple(vgg(np.zeros((1, 64, 48, 3), "float32"))["block5_conv2"].shape)
    (1, 4, 3, 512)
    """
    layers = tuple(layers)
    if not layers:
        raise ValueError("layers must name at least one VGG19 layer, e.g. ('block5_conv2',).")
    unknown = [n for n in layers if n not in VGG19_LAYERS]
    if unknown:
        raise ValueError(f"Unknown VGG19 layer names {unknown}. Valid names: {', '.join(VGG19_LAYERS)}.")
    if len(input_shape) != 3 or input_shape[-1] != 3:
        raise ValueError(f"input_shape must be (height, width, 3). Received: input_shape={input_shape!r}")
    _check_value_range(value_range)
    source = None
    if weights == "imagenet":
        source = _imagenet_file()
    elif weights is not None:
        if not isinstance(weights, (str, os.PathLike)):
            raise ValueError(f"weights must be 'imagenet', None or a path to {VGG19_WEIGHTS_FILE}. "
                             f"Received: weights={weights!r}")
        source = pathlib.Path(weights).expanduser()
        if not source.is_file():
            raise FileNotFoundError(f"VGG19 weights file {source} does not exist. {_how_to_provide()}")

    deepest = max(VGG19_LAYERS.index(n) for n in layers)
    inputs = keras.Input(input_shape, name="image")
    x = VGGPreprocess(value_range, name="preprocess")(inputs)
    outputs = {}
    for layer_name in VGG19_LAYERS[: deepest + 1]:
        if layer_name.endswith("pool"):
            x = keras.layers.MaxPooling2D(2, strides=2, name=layer_name)(x)
        else:
            block = int(layer_name[5])
            filters = _VGG19_BLOCKS[block - 1][2]
            x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu", name=layer_name)(x)
        if layer_name in layers:
            outputs[layer_name] = x
    model = keras.Model(inputs, outputs, name=name)
    if source is not None:
        load_vgg19_weights(model, source)
    model.trainable = bool(trainable)
    return model


def downsampling(layer: str) -> int:
    """How many times smaller than the input the activations of a VGG19 layer are (2 ** pools before it).

    Example:
    >>> downsampling("block5_conv2")
    16
    """
    if layer not in VGG19_LAYERS:
        raise ValueError(f"Unknown VGG19 layer name {layer!r}. Valid names: {', '.join(VGG19_LAYERS)}.")
    pools = sum(1 for n in VGG19_LAYERS[: VGG19_LAYERS.index(layer)] if n.endswith("pool"))
    return 2 ** pools


__all__ = [
    "VGG19_LAYERS", "CONTENT_LAYERS", "STYLE_LAYERS", "VGG19_WEIGHTS_FILE", "VGG19_WEIGHTS_URL", "IMAGENET_BGR_MEAN",
    "preprocess_input", "VGGPreprocess", "vgg19", "vgg19_cache_path", "resolve_vgg_weights", "load_vgg19_weights",
    "downsampling",
]
