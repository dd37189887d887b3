"""kitlib: a notebook-first research kit for image generation and image-to-image translation (Keras 3 + TF).

Submodules: ``runtime`` (profiles, seeding, precision), ``data`` (tf.data pipelines, embedded toy data),
``models`` (builders), ``losses``, ``train`` (trainers with exact resume), ``eval`` (metrics), ``viz``.

Example:
>>> from kitlib import runtime
>>> runtime.profile() in runtime.PROFILES
True
"""

import os as _os

# Keep TensorFlow's C++ INFO logs (oneDNN banners, cpu_feature_guard) out of notebooks; warnings still show.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

__version__ = "0.1.0"
