"""The anchors: the published recipes kitlib is compared with, re-expressed in kitlib's own code.

An anchor is a tutorial or example that users would otherwise train (keras-io's "DCGAN to generate face images",
PyTorch's ``examples/dcgan``, ...). Each lives in one module of this package whose docstring cites the source file
and the commit it follows; it keeps that recipe exactly (architecture and parameter count, losses, optimizer and
learning rate, batch size, preprocessing, update order, float32) and changes only the data path, the image size where
the method requires it, and the training budget. ``python -m kitlib bench quality METHOD --anchor NAME`` trains one
side by side with kitlib on the same data for the same minutes (``kitlib.quality``).

Every anchor module defines:

- ``PARAMETERS``: ``{network name: parameter count}`` of the published networks (tests check the built ones);
- ``build()``: the networks, ``{name: network}``;
- ``train(folder, clock, seed)``: trains on the images of ``folder`` until ``clock`` (``kitlib.train.SnapshotClock``)
  says stop, calling ``clock.tick(step, snapshot)`` after every step; ``snapshot(path)`` saves what ``sample`` reads;
- ``sample(path, n, seed)`` (DCGAN, DDIM, VAE): ``n`` generated images (uint8, ``(n, H, W, 3)``) from a snapshot;
  ``translate(path, photos)`` (CycleGAN): ``(paintings, photos again)``, uint8; ``inpaint(path, masked)`` (pix2pix):
  the outputs for uint8 masked photos.

Example:
>>> from kitlib import anchors
>>> [a.name for a in anchors.for_method("dcgan")]
['keras_io_dcgan', 'torch_dcgan']
>>> [a.name for a in anchors.for_method("cyclegan")]
['keras_io_cyclegan', 'tf_cyclegan', 'torch_cyclegan']
>>> [a.name for a in anchors.for_method("pix2pix")]
['tf_pix2pix']
>>> [a.name for a in anchors.for_method("ddim")], [a.name for a in anchors.for_method("vae")]
(['keras_io_ddim'], ['keras_io_vae'])
>>> anchors.get("torch_dcgan").framework
'torch'
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from types import ModuleType


JUNYANZ_COMMIT = "032e88438b1b2690e538c2cf399ebceb76adbea9"


@dataclasses.dataclass(frozen=True)
class Anchor:
    """One published recipe: its name, the kitlib method it is compared with, where it comes from."""

    name: str
    method: str
    title: str
    source: str  # repository and file
    commit: str
    framework: str  # "keras" or "torch"

    def available(self) -> str | None:
        """None when the anchor can run here, else a one-line reason (e.g. PyTorch is not installed)."""
        if self.framework == "torch" and importlib.util.find_spec("torch") is None:
            return (f"{self.name} skipped: PyTorch is not installed (pip install -r requirements-anchors.txt, or "
                    f"torch on Colab/Kaggle, where it is preinstalled)")
        return None

    def module(self) -> ModuleType:
        reason = self.available()
        if reason:
            raise RuntimeError(reason)
        return importlib.import_module(f"kitlib.anchors.{self.name}")


ANCHORS = {a.name: a for a in (
    Anchor("keras_io_dcgan", "dcgan", "keras-io: DCGAN to generate face images (fchollet)",
           "keras-team/keras-io examples/generative/dcgan_overriding_train_step.py",
           "cca4efba8e0b8514ae3817931696294039b3bfc9", "keras"),
    Anchor("torch_dcgan", "dcgan", "PyTorch examples/dcgan (Radford et al.)",
           "pytorch/examples dcgan/main.py", "cc8e404cbcbf3a3c326789260deed89ee04b3408", "torch"),
    Anchor("tf_cyclegan", "cyclegan", "TensorFlow tutorial: CycleGAN (U-Net generators from pix2pix)",
           "tensorflow/docs site/en/tutorials/generative/cyclegan.ipynb",
           "0fc9db129b8a570a846e8c5b3b404f4d88b12a50", "keras"),
    Anchor("keras_io_cyclegan", "cyclegan", "keras-io: CycleGAN (A_K_Nain, ResNet generators)",
           "keras-team/keras-io examples/generative/cyclegan.py", "07eb501f6db3c8b8781d3592a67cd18316d707e6",
           "keras"),
    Anchor("tf_pix2pix", "pix2pix", "TensorFlow tutorial: pix2pix (U-Net, PatchGAN, lambda 100, batch 1)",
           "tensorflow/docs site/en/tutorials/generative/pix2pix.ipynb",
           "0fc9db129b8a570a846e8c5b3b404f4d88b12a50", "keras"),
    Anchor("keras_io_ddim", "ddim", "keras-io: Denoising Diffusion Implicit Models (András Béres)",
           "keras-team/keras-io examples/generative/ddim.py", "093dad4127f0b3dc1575e65ac62a054a240e0d0f", "keras"),
    Anchor("keras_io_vae", "vae", "keras-io: Variational AutoEncoder (fchollet), widened to 64-px colour",
           "keras-team/keras-io examples/generative/vae.py", "09e02e17d5cbf21ecf8a47f10d91587f963fc80a", "keras"),
    Anchor("torch_cyclegan", "cyclegan", "junyanz/pytorch-CycleGAN-and-pix2pix (ResNet-9, LSGAN, image pool 50)",
           "junyanz/pytorch-CycleGAN-and-pix2pix models/cycle_gan_model.py, models/networks.py",
           JUNYANZ_COMMIT, "torch"),
)}


def get(name: str, method: str | None = None) -> Anchor:
    """The anchor called ``name`` (of ``method`` when given); an unknown name, or an anchor of another method, is
    refused with the list of the right ones."""
    if name not in ANCHORS:
        raise ValueError(f"anchor must be one of {sorted(ANCHORS)}. Received: anchor={name!r}")
    anchor = ANCHORS[name]
    if method is not None and anchor.method != method:
        raise ValueError(f"anchor {name!r} is a {anchor.method} recipe, not {method}. "
                         f"{method}'s anchors: {[a.name for a in for_method(method)]}")
    return anchor


def for_method(method: str) -> list[Anchor]:
    """The anchors compared with kitlib's ``method``, sorted by name."""
    return [a for a in sorted(ANCHORS.values(), key=lambda a: a.name) if a.method == method]


def unpaired_train_images(data, image_size: int):
    """``(A, B)``: every image of ``DATA/trainA`` and ``DATA/trainB`` (a junyanz-layout folder) as uint8
    ``(N, image_size, image_size, 3)`` arrays, for the CycleGAN anchors (their sources decode from TFDS or a
    folder; decoding once keeps the data path out of the time comparison)."""
    import pathlib

    import numpy as np

    from kitlib.data.folders import image_folder

    out = []
    for name in ("trainA", "trainB"):
        folder = pathlib.Path(data) / name
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder: --data must be a junyanz-layout folder with trainA/, "
                                    f"trainB/, testA/ and testB/ (data_real/monet2photo).")
        out.append(np.stack(list(image_folder(folder, image_size).as_numpy_iterator())))
    return out[0], out[1]


def float32_networks(builders: dict) -> dict:
    """``{name: builder()}`` built under the float32 policy whatever the global one (the anchors run as published);
    the global policy is restored afterwards."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        return {name: builder() for name, builder in builders.items()}
    finally:
        keras.config.set_dtype_policy(previous)


def translate_and_back(to_a, to_b, images):
    """``(to_a(x), to_b(to_a(x)))`` for each uint8 image ``x`` of ``images``, one at a time, in inference mode; uint8.
    The Keras CycleGAN anchors' ``translate`` (B -> A -> B)."""
    import numpy as np
    import tensorflow as tf

    from kitlib.images import from_pixels, to_uint8

    fakes, cycled = [], []
    for image in images:
        fake = to_a(tf.convert_to_tensor(from_pixels(image[None])), training=False)
        fakes.append(to_uint8(fake.numpy()))
        cycled.append(to_uint8(to_b(fake, training=False).numpy()))
    return np.concatenate(fakes), np.concatenate(cycled)
