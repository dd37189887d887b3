"""kitlib: a notebook-first research kit for image generation and image-to-image translation (Keras 3 + TF).

Submodules: ``runtime`` (profiles, seeding, precision), ``data`` (tf.data pipelines, embedded toy data),
``models`` (builders), ``losses``, ``train`` (trainers with exact resume), ``eval`` (metrics), ``viz``.

Example:
>>> from kitlib import runtime
>>> runtime.profile() in runtime.PROFILES
True
"""

__version__ = "0.1.0"
