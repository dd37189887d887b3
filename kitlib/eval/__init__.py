"""Metrics and evaluation: weight-free distribution measures, FID/KID/MiFID, PSNR/SSIM, pixel-grid score, submissions.

Example:
>>> from kitlib import eval as keval
>>> callable(keval.sliced_wasserstein)
True
"""

from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein
from kitlib.eval.fid import (DistributionScores, FeatureExtractor, distribution_scores, frechet_distance,
                             inception_extractor, kernel_distance, memorization_distance, mifid,
                             random_projection_extractor)
from kitlib.eval.labels import colorize, default_palette, label_statistics, plot_label_distribution
from kitlib.eval.pixel import pixel_grid_score, pixel_grid_scores
from kitlib.eval.segmentation import (class_iou, format_fidelity, label_fidelity, mean_iou, pixel_accuracy, segment,
                                    train_segmenter)
from kitlib.eval.submission import SubmissionReport, validate_submission, write_submission
from kitlib.eval.paired import (classical_inpaint, format_table, inpainting_table, l1_error, paired_metrics, paste_known,
                                psnr, ssim, to_unit)

__all__ = [
    "pairwise_diversity", "sliced_wasserstein",
    "DistributionScores", "FeatureExtractor", "distribution_scores", "frechet_distance", "inception_extractor",
    "kernel_distance", "memorization_distance", "mifid", "random_projection_extractor",
    "pixel_grid_score", "pixel_grid_scores", "SubmissionReport", "validate_submission", "write_submission",
    "colorize", "default_palette", "label_statistics", "plot_label_distribution",
    "class_iou", "format_fidelity", "label_fidelity", "mean_iou", "pixel_accuracy", "segment", "train_segmenter",
    "classical_inpaint", "format_table", "inpainting_table", "l1_error", "paired_metrics", "paste_known", "psnr", "ssim",
    "to_unit",
]
