"""Metrics and evaluation: weight-free distribution measures, (later) FID/KID/MiFID, PSNR/SSIM, submissions.

Example:
>>> from kitlib import eval as keval
>>> callable(keval.sliced_wasserstein)
True
"""

from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein
from kitlib.eval.labels import colorize, default_palette, label_statistics, plot_label_distribution
from kitlib.eval.paired import (classical_inpaint, format_table, inpainting_table, l1_error, paired_metrics, paste_known,
                                psnr, ssim, to_unit)

__all__ = [
    "pairwise_diversity", "sliced_wasserstein",
    "colorize", "default_palette", "label_statistics", "plot_label_distribution",
    "classical_inpaint", "format_table", "inpainting_table", "l1_error", "paired_metrics", "paste_known", "psnr", "ssim",
    "to_unit",
]
