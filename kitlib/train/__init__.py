"""Trainers (``keras.Model`` subclasses with their own ``train_step``), callbacks and exact-resume checkpoints.

Example:
>>> from kitlib import train
>>> sorted(n for n in ("GAN", "Trainer", "Checkpointer") if hasattr(train, n))
['Checkpointer', 'GAN', 'Trainer']
>>> train.GANTrainer is train.Trainer   # the old name of the base class
True
"""

from kitlib.train.adain import AdaINTrainer, content_style_pairs
from kitlib.train.base import GANTrainer, Trainer
from kitlib.train.budget import budget_epochs, fit_for_budget
from kitlib.train.callbacks import (GANHealth, LossHistory, NaNGuard, RunCheckpoint, SampleGrid, SnapshotCallback,
                                    SnapshotClock, TensorBoard, TimeBudget, read_history)
from kitlib.train.checkpoint import Checkpointer, epoch_exports, load_generator, read_run_config
from kitlib.train.cyclegan import CycleGAN, CycleGANMonitor, build_cyclegan, load_unpaired, unpaired
from kitlib.train.diffusion import (DiffusionModel, add_noise, ddim_generate, ddim_sample, ddim_step, ddim_translate,
                                    diffusion_schedule, sampling_options)
from kitlib.train.gaugan import GauGAN, paint, synthesize, synthesize_folder
from kitlib.train.gan import GAN, generate, latent_interpolation
from kitlib.train.optimizers import FusedAdam
from kitlib.train.pix2pix import PIX2PIX_LOSSES, TEST_MODES, Pix2Pix, build_pix2pix, run_ablation
from kitlib.train.pix2pix import translate as translate_paired
from kitlib.train.pool import ImagePool
from kitlib.train.run_dir import run_info
from kitlib.train.schedules import LinearDecay

__all__ = [
    "Trainer", "GANTrainer", "GAN", "CycleGAN", "CycleGANMonitor", "build_cyclegan", "load_unpaired", "unpaired", "ImagePool", "GANHealth", "Checkpointer", "read_run_config", "epoch_exports", "load_generator", "generate", "latent_interpolation", "LinearDecay", "FusedAdam",
    "SnapshotClock", "SnapshotCallback",
    "AdaINTrainer", "content_style_pairs",
    "DiffusionModel", "add_noise", "ddim_generate", "ddim_sample", "ddim_step", "ddim_translate", "diffusion_schedule",
    "sampling_options",
    "GauGAN", "paint", "synthesize", "synthesize_folder",
    "PIX2PIX_LOSSES", "TEST_MODES", "Pix2Pix", "build_pix2pix", "run_ablation", "translate_paired",
    "LossHistory", "NaNGuard", "RunCheckpoint", "SampleGrid", "TensorBoard", "TimeBudget", "read_history", "run_info",
    "budget_epochs", "fit_for_budget",
]

# sketch_pad moved to kitlib.widgets (a higher layer): resolved lazily, with a DeprecationWarning.
from kitlib._deprecation import moved_names  # noqa: E402

__getattr__ = moved_names(__name__, {"sketch_pad": "kitlib.widgets.sketch_pad"})
