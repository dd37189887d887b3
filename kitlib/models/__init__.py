"""Model builders, each findable by name.

Example:
>>> from kitlib import models
>>> g, d = models.build_dcgan("seed", image_size=32)
>>> g.output_shape
(None, 32, 32, 3)
"""

from kitlib.models.dcgan import DCGAN_VARIANTS, build_dcgan, dcgan_discriminator, dcgan_generator, seed_discriminator, seed_generator
from kitlib.models.layers import InstanceNormalization, ReflectionPadding2D

__all__ = [
    "DCGAN_VARIANTS", "build_dcgan", "dcgan_discriminator", "dcgan_generator", "seed_discriminator", "seed_generator",
    "InstanceNormalization", "ReflectionPadding2D",
]
