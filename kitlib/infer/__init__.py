"""Inference: using trained (or exported) networks, separate from training them.

One module per method family, each a set of plain functions over ``keras.Model`` objects (no trainer needed):

- ``gan``: ``generate``, ``latent_interpolation`` (unconditional generators: DCGAN ...);
- ``diffusion``: ``ddim_generate``, ``ddim_translate``, ``ddim_sample``, ``sampling_options`` (DDIM / Palette);
- ``pix2pix``: ``translate`` in the paper's or the Keras test mode (``TEST_MODES``);
- ``spade``: ``synthesize``, ``synthesize_folder`` (GauGAN: label maps -> images);
- ``cyclegan``: ``translate_unpaired`` (a CycleGAN generator, one direction).

Example:
>>> from kitlib import infer
>>> from kitlib.models.dcgan import report_generator
>>> infer.generate(report_generator(8, 32), 2).shape
(2, 32, 32, 3)
"""

from kitlib.infer.cyclegan import translate_unpaired
from kitlib.infer.diffusion import ddim_generate, ddim_sample, ddim_translate, sampling_options
from kitlib.infer.gan import generate, latent_interpolation
from kitlib.infer.pix2pix import TEST_MODES
from kitlib.infer.pix2pix import translate as translate_paired
from kitlib.infer.spade import synthesize, synthesize_folder

__all__ = [
    "TEST_MODES", "ddim_generate", "ddim_sample", "ddim_translate", "generate", "latent_interpolation",
    "sampling_options", "synthesize", "synthesize_folder", "translate_paired", "translate_unpaired",
]
