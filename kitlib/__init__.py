"""kitlib: a notebook-first research kit for image generation and image-to-image translation (Keras 3 + TF).

Submodules: ``runtime`` (profiles, seeding, precision), ``data`` (tf.data pipelines, embedded toy data),
``models`` (builders), ``losses``, ``train`` (trainers with exact resume), ``eval`` (metrics), ``viz``.

Example:
>>> from kitlib import runtime
>>> runtime.profile() in runtime.PROFILES
True
"""

# Importing kitlib (any part) keeps TensorFlow's C++ log lines out of notebooks and the CLI (errors still show);
# KITLIB_VERBOSE=1 brings them back. See kitlib.runtime.quiet_tensorflow.
from kitlib import runtime as _runtime  # noqa: F401  (stdlib only: TensorFlow is not imported here)

__version__ = "0.1.0"
