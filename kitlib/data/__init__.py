"""tf.data pipelines: embedded toy data, real-dataset loaders, augmentation, and ``prepare`` (training batches).

Example:
>>> from kitlib import data
>>> batches = data.prepare(data.toy.faces(64, 32), batch_size=16, seed=0)
>>> batches.steps_per_epoch
4
"""

from kitlib.data import toy
from kitlib.data.archive import extract_archive, is_archive
from kitlib.data.pipeline import prepare, to_float, to_uint8

__all__ = ["toy", "extract_archive", "is_archive", "prepare", "to_float", "to_uint8"]
