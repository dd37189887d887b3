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
- ``sample(path, n, seed)``: ``n`` generated images (uint8, ``(n, H, W, 3)``) from a snapshot.

Example:
>>> from kitlib import anchors
>>> [a.name for a in anchors.for_method("dcgan")]
['keras_io_dcgan', 'torch_dcgan']
>>> anchors.get("torch_dcgan").framework
'torch'
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from types import ModuleType


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
)}


def get(name: str) -> Anchor:
    """The anchor called ``name``; an unknown name is refused with the list of known ones."""
    if name not in ANCHORS:
        raise ValueError(f"anchor must be one of {sorted(ANCHORS)}. Received: anchor={name!r}")
    return ANCHORS[name]


def for_method(method: str) -> list[Anchor]:
    """The anchors compared with kitlib's ``method``, sorted by name."""
    return [a for a in sorted(ANCHORS.values(), key=lambda a: a.name) if a.method == method]
