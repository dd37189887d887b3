"""Metrics and evaluation: weight-free distribution measures, (later) FID/KID/MiFID, PSNR/SSIM, submissions.

Example:
>>> from kitlib import eval as keval
>>> callable(keval.sliced_wasserstein)
True
"""

from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein

__all__ = ["pairwise_diversity", "sliced_wasserstein"]
