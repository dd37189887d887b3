"""tf.data pipelines: embedded toy data, real-dataset loaders, augmentation, and ``prepare`` (training batches).

Every loader returns an UNBATCHED ``tf.data.Dataset`` of uint8 HWC RGB images (or tuples of them, label maps as
uint8 HW class ids); ``prepare`` turns it into an infinite, seed-deterministic stream of float32 batches in [-1, 1].

Example:
>>> from kitlib import data
>>> batches = data.prepare(data.toy.faces(64, 32), batch_size=16, seed=0)
>>> batches.steps_per_epoch
4
"""

from kitlib.data import toy
from kitlib.data.archive import extract_archive, is_archive
from kitlib.data.augment import diff_augment, jitter, random_jitter
from kitlib.data.datasets import CATALOGUE, fetch, resolve_data
from kitlib.data.domains import TOY_DOMAINS, load_unpaired, unpaired
from kitlib.data.folders import ScanReport, image_folder, junyanz_folders, scan_images
from kitlib.data.kaggle import count_from_filenames, gan_getting_started, read_tfrecords, write_tfrecords
from kitlib.data.labels import (SKETCH_SHAPES, colors_to_ids, label_histogram, label_map_pairs, labels_to_one_hot,
                                one_hot_labels, paint, read_label_map)
from kitlib.data.pairs import (ab_pairs, inpainting_jitter, inpainting_mask, inpainting_pair, inpainting_pairs,
                               write_inpainting_pairs)
from kitlib.data.pipeline import prepare, to_float, to_uint8
from kitlib.data.tfds import tfds_dataset

__all__ = [
    "toy", "extract_archive", "is_archive", "prepare", "to_float", "to_uint8",
    "jitter", "random_jitter", "diff_augment",
    "ScanReport", "scan_images", "image_folder", "junyanz_folders",
    "write_tfrecords", "read_tfrecords", "count_from_filenames", "gan_getting_started",
    "ab_pairs", "inpainting_jitter", "inpainting_mask", "inpainting_pair", "inpainting_pairs", "write_inpainting_pairs",
    "label_map_pairs", "one_hot_labels", "colors_to_ids", "label_histogram", "labels_to_one_hot", "paint",
    "read_label_map", "SKETCH_SHAPES", "TOY_DOMAINS", "load_unpaired", "unpaired",
    "tfds_dataset", "CATALOGUE", "fetch", "resolve_data",
]
