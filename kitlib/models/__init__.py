"""Model builders, each findable by name (submodules stay importable: ``from kitlib.models import adain``).

Example:
>>> from kitlib import models
>>> g, d = models.build_dcgan("seed", image_size=32)
>>> g.output_shape
(None, 32, 32, 3)
"""

from kitlib.models.adain import ADAIN_LAYERS, AdaIN, adain_decoder, adain_encoder, stylize
from kitlib.models.dcgan import (DCGAN_DISCRIMINATOR_NORMS, DCGAN_VARIANTS, build_dcgan, dcgan_discriminator,
                                 dcgan_generator, report_discriminator, report_generator, seed_discriminator,
                                 seed_generator)
from kitlib.models.diffusion import DIFFUSION_UNET_VARIANTS, SinusoidalEmbedding, diffusion_unet
from kitlib.models.layers import InstanceNormalization, ReflectionPadding2D
from kitlib.models.patchgan import PATCHGAN_VARIANTS, patchgan_discriminator, receptive_field, seed_patchgan_discriminator
from kitlib.models.resnet import RESNET_VARIANTS, resnet_generator
from kitlib.models.segmenter import build_segmenter
from kitlib.models.spade import (SPADE, UPSAMPLING_LAYERS, SPADEResBlock, build_gaugan, multiscale_discriminator,
                                 spade_encoder, spade_generator)
from kitlib.models.unet import UNET_VARIANTS, seed_unet_generator, unet_generator
from kitlib.models.vgg import (CONTENT_LAYERS, STYLE_LAYERS, VGGPreprocess, preprocess_input, resolve_vgg_weights,
                               vgg19)

__all__ = [
    "DCGAN_DISCRIMINATOR_NORMS", "DCGAN_VARIANTS", "build_dcgan", "dcgan_discriminator", "dcgan_generator",
    "report_discriminator", "report_generator", "seed_discriminator", "seed_generator",
    "InstanceNormalization", "ReflectionPadding2D",
    "PATCHGAN_VARIANTS", "patchgan_discriminator", "receptive_field", "seed_patchgan_discriminator",
    "RESNET_VARIANTS", "resnet_generator", "build_segmenter", "UNET_VARIANTS", "seed_unet_generator", "unet_generator",
    "ADAIN_LAYERS", "AdaIN", "adain_decoder", "adain_encoder", "stylize",
    "SPADE", "SPADEResBlock", "UPSAMPLING_LAYERS", "build_gaugan", "multiscale_discriminator", "spade_encoder",
    "spade_generator",
    "DIFFUSION_UNET_VARIANTS", "SinusoidalEmbedding", "diffusion_unet",
    "CONTENT_LAYERS", "STYLE_LAYERS", "VGGPreprocess", "preprocess_input", "resolve_vgg_weights", "vgg19",
]
