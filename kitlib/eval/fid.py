"""FID, KID and MiFID (the Kaggle "I'm Something of a Painter Myself" metric) on feature vectors.

The maths works on any features (``frechet_distance``, ``kernel_distance``, ``memorization_distance``, ``mifid``);
``distribution_scores`` runs a ``FeatureExtractor`` over images and computes all of them with the sample counts.

Feature extractors:

- ``inception_extractor``: InceptionV3 ImageNet, 2048-d global-average-pooled features (the FID features), from a
  weights file: an explicit path, the Keras cache (``~/.keras/models`` or ``$KERAS_HOME/models``), or a download when
  ``download=True`` and the machine is online (Kaggle with internet on, Colab). Only these numbers are called FID /
  KID / MiFID. Kaggle's scorer uses the original TF Inception graph (its own resizing), so even these are an
  estimate of the leaderboard score, not the score.
- ``metric_extractor``: what a notebook calls: InceptionV3 from a file (given, cached or attached as a Kaggle
  dataset), else downloaded when the machine is online, and only then the random projection below, with the reason.
- ``random_projection_extractor``: a fixed random projection of 16x16 thumbnails. It needs no weights and is
  meant for offline runs and tests: its distances move with colour and layout differences, but they are NOT FID and
  are NOT comparable to Kaggle scores; ``DistributionScores`` then names them "FD", "KD", "MiFD".

MiFID exactly as the competition defines it (Kaggle's demo code, also torchmetrics'
``MemorizationInformedFrechetInceptionDistance``): rows of features that sum to 0 are dropped, rows are L2-normalised,
``d = 1 - |cos|`` between every generated and every training image, the memorization distance is the mean over
generated images of the minimum over training images, ``d_thr = d if d < 0.1 else 1`` and
``MiFID = FID / (d_thr + 1e-14)``.

Reference:
- [Heusel et al., 2017, GANs Trained by a Two Time-Scale Update Rule (FID)](https://arxiv.org/abs/1706.08500)
- [Binkowski et al., 2018, Demystifying MMD GANs (KID)](https://arxiv.org/abs/1801.01401)
- [Bai et al., 2021, On Training Sample Memorization: Lessons from Benchmarking Generative Modeling with a
  Large-scale Competition (MiFID)](https://arxiv.org/abs/2106.03062)

Example:
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(size=(200, 8)), rng.normal(1.0, 1.0, size=(200, 8))
>>> frechet_distance(a, a) < 1e-6 < frechet_distance(a, b)
True
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Callable

import numpy as np

from kitlib import runtime
from kitlib.images import to_float

MEMORIZATION_EPS = 0.1
MIFID_EPSILON = 10e-15  # as written in the Kaggle scorer (= 1e-14)
INCEPTION_FILES = ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                   "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")
ATTACHED_ROOT = "/kaggle/input"  # Kaggle datasets attached to a notebook


def _features(x, name: str, min_rows: int = 2) -> np.ndarray:
    arr = np.asarray(x, dtype="float64")
    if arr.ndim != 2 or len(arr) < min_rows:
        raise ValueError(f"{name} must be a 2-D array of n >= {min_rows} feature vectors. Received shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or inf values: check the images and the feature extractor.")
    return arr


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, ``np.cov``) covariance of feature vectors ``(n, d)``.

    Example:
    >>> mu, sigma = feature_statistics(np.array([[0.0], [2.0]]))
    >>> float(mu[0]), float(sigma[0, 0])
    (1.0, 2.0)
    """
    x = _features(features, "features")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def frechet_distance_from_statistics(mu1, sigma1, mu2, sigma2, *, eps: float = 1e-6) -> float:
    """Fréchet distance between two Gaussians: ``|mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``.

    Same computation as the TTUR / pytorch-fid reference: ``scipy.linalg.sqrtm``; when the product is singular
    (fewer samples than dimensions) ``eps`` is added to both diagonals; a tiny imaginary part from round-off is
    dropped.

    Args:
        mu1, sigma1: mean ``(d,)`` and covariance ``(d, d)`` of the first set.
        mu2, sigma2: same for the second set.
        eps: diagonal offset used only when the matrix square root is not finite.

    Returns:
        A float >= 0 (up to round-off).

    Example:
    >>> float(round(frechet_distance_from_statistics(np.zeros(1), np.eye(1), np.ones(1), np.eye(1)), 6))
    1.0
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype("float64"), np.atleast_1d(mu2).astype("float64")
    sigma1, sigma2 = np.atleast_2d(sigma1).astype("float64"), np.atleast_2d(sigma2).astype("float64")
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"Statistics do not match: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs "
                         f"{sigma2.shape}. Compute both with the same feature extractor.")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(mu1)) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def frechet_distance(features_a, features_b) -> float:
    """FID when the features are InceptionV3 pool features: Fréchet distance of the two feature Gaussians.

    Args:
        features_a, features_b: ``(n_a, d)`` and ``(n_b, d)`` feature vectors.

    Returns:
        A float; 0 for identical sets. It is biased upward for small n: compare values computed with the same n.

    Example:
    >>> float(round(frechet_distance(np.array([[0.0], [2.0]]), np.array([[1.0], [3.0]])), 6))
    1.0
    """
    return frechet_distance_from_statistics(*feature_statistics(features_a), *feature_statistics(features_b))


def kernel_distance(features_a, features_b, *, subsets: int = 100, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """KID: unbiased MMD^2 with the cubic polynomial kernel ``(x.y / d + 1)^3``, mean and std over random subsets.

    As in Binkowski et al. and torch-fidelity: each subset draws ``m = min(subset_size, n_a, n_b)`` vectors of each
    set without replacement.

    Args:
        features_a, features_b: ``(n_a, d)`` and ``(n_b, d)`` feature vectors.
        subsets: number of random subsets.
        subset_size: vectors per subset (capped by the smaller set).
        seed: seed of the subset draws.

    Returns:
        ``(mean, std)`` over the subsets (std is 0 for one subset).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a = rng.normal(size=(50, 4))
    >>> kid, _ = kernel_distance(a, a + 3.0, subsets=5, subset_size=20)
    >>> kid > 0.1
    True
    """
    a, b = _features(features_a, "features_a"), _features(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"Feature sizes differ: {a.shape[1]} vs {b.shape[1]}. Use the same feature extractor.")
    if subsets < 1 or subset_size < 2:
        raise ValueError(f"subsets must be >= 1 and subset_size >= 2. Received: {subsets=}, {subset_size=}")
    m = min(subset_size, len(a), len(b))
    dim = a.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx = (x @ x.T / dim + 1.0) ** 3
        k_yy = (y @ y.T / dim + 1.0) ** 3
        k_xy = (x @ y.T / dim + 1.0) ** 3
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values.append(within - 2.0 * k_xy.mean())
    return float(np.mean(values)), float(np.std(values))


def memorization_distance(generated_features, train_features) -> float:
    """Kaggle's memorization distance: mean over generated images of the minimum ``1 - |cos|`` to training images.

    Rows that sum to exactly 0 are dropped first, as in the competition code.

    Args:
        generated_features: ``(n_gen, d)`` features of the submitted images.
        train_features: ``(n_train, d)`` features of the training images (the 300 Monet paintings).

    Returns:
        A float in [0, 1]; small values mean generated images are near-copies of training images.

    Example:
    >>> memorization_distance(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0]]))
    0.5
    """
    gen = _features(generated_features, "generated_features", min_rows=1)
    train = _features(train_features, "train_features", min_rows=1)
    gen, train = gen[gen.sum(axis=1) != 0], train[train.sum(axis=1) != 0]
    if not len(gen) or not len(train):
        raise ValueError("Every feature row sums to 0: the feature extractor returned no information.")
    gen = gen / np.linalg.norm(gen, axis=1, keepdims=True)
    train = train / np.linalg.norm(train, axis=1, keepdims=True)
    distances = 1.0 - np.abs(gen @ train.T)
    return float(distances.min(axis=1).mean())


def thresholded_memorization(distance: float, eps: float = MEMORIZATION_EPS) -> float:
    """``d`` if ``d < eps`` else 1 (the competition's ``distance_thresholding`` with eps 0.1).

    Example:
    >>> thresholded_memorization(0.05), thresholded_memorization(0.3)
    (0.05, 1.0)
    """
    return float(distance) if distance < eps else 1.0


def mifid(fid: float, distance: float, *, eps: float = MEMORIZATION_EPS) -> float:
    """Memorization-informed FID: ``fid / (thresholded_memorization(distance) + 1e-14)``.

    With ``distance >= 0.1`` (no memorization) MiFID equals FID; copying training images (distance near 0) blows it
    up.

    Example:
    >>> round(mifid(50.0, 0.4), 6), round(mifid(50.0, 0.05), 6)
    (50.0, 1000.0)
    """
    return float(fid) / (thresholded_memorization(distance, eps) + MIFID_EPSILON)


# --------------------------------------------------------------------------------------------- feature extractors


@dataclasses.dataclass(frozen=True)
class FeatureExtractor:
    """A named image -> feature-vector function.

    Args:
        name: what the features are (printed next to every score).
        fn: maps a float32 batch ``(n, H, W, 3)`` in [-1, 1] to ``(n, d)`` features.
        inception: True only for InceptionV3 ImageNet features: then the scores are FID / KID / MiFID.
    """

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    inception: bool = False

    def __call__(self, images, *, batch_size: int = 32) -> np.ndarray:
        """Features of ``images`` (uint8, floats in [-1, 1], an array or an iterable of batches)."""
        chunks = []
        for batch in _batches(images, batch_size):
            chunks.append(np.asarray(self.fn(batch), dtype="float32").reshape(len(batch), -1))
        if not chunks:
            raise ValueError("No images to extract features from.")
        return np.concatenate(chunks)


def _to_float(batch) -> np.ndarray:
    arr = np.asarray(batch)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"images must be RGB batches (n, H, W, 3). Received shape {arr.shape}")
    return to_float(arr)


def _batches(images, batch_size: int):
    """Yields float [-1, 1] batches from an array or any iterable of arrays/tensors (e.g. a batched tf.data)."""
    if hasattr(images, "shape") and len(getattr(images, "shape", ())) == 4:
        arr = np.asarray(images)
        for start in range(0, len(arr), batch_size):
            yield _to_float(arr[start: start + batch_size])
        return
    for batch in images:
        yield _to_float(batch)


def find_inception_weights(path: str | os.PathLike | None = None) -> pathlib.Path | None:
    """Locates InceptionV3 ImageNet weights: ``path`` if given, else the Keras cache, else an attached Kaggle
    dataset; None when absent.

    Searched: ``$KERAS_HOME/models`` and ``~/.keras/models``, then ``/kaggle/input/**`` for the Keras Applications
    files (with or without top).

    Example:
    >>> find_inception_weights("/nonexistent/weights.h5") is None
    True
    """
    if path is not None:
        path = pathlib.Path(path)
        return path if path.is_file() else None
    roots = [pathlib.Path(os.environ["KERAS_HOME"]) / "models"] if os.environ.get("KERAS_HOME") else []
    roots.append(pathlib.Path.home() / ".keras" / "models")
    for root in roots:
        for name in INCEPTION_FILES:
            if (root / name).is_file():
                return root / name
    for name in INCEPTION_FILES:  # a Kaggle dataset holding the file, at any depth
        attached = sorted(pathlib.Path(ATTACHED_ROOT).glob(f"**/{name}")) if os.path.isdir(ATTACHED_ROOT) else []
        if attached:
            return attached[0]
    return None


def inception_extractor(weights: str | os.PathLike | None = None, *, download: bool = False) -> FeatureExtractor:
    """InceptionV3 (ImageNet) 2048-d pool features at 299x299: the features of FID, KID and MiFID.

    Args:
        weights: a weights ``.h5`` file (with or without top); default: the Keras cache (``find_inception_weights``).
        download: when no file is found, let Keras download the weights (needs internet: Kaggle with internet on,
            Colab).

    Returns:
        A ``FeatureExtractor`` with ``inception=True``.

    Raises:
        FileNotFoundError: no weights file and ``download=False``, or the download failed (offline). The message
            says where to put the file.

    Example:
    >>> extractor = inception_extractor(download=True)   # doctest: +SKIP
    """
    import keras

    found = find_inception_weights(weights)
    if weights is not None and found is None:
        raise FileNotFoundError(f"InceptionV3 weights file {weights} does not exist.")
    if found is None and not download:
        raise FileNotFoundError(
            "No InceptionV3 ImageNet weights on this machine (looked in ~/.keras/models and $KERAS_HOME/models for "
            f"{INCEPTION_FILES[0]}). Pass download=True on a machine with internet, or copy the file there / pass "
            "weights='path/to/file.h5'.")
    kwargs = dict(include_top=False, pooling="avg", input_shape=(299, 299, 3))
    try:
        if found is None:
            model = keras.applications.InceptionV3(weights="imagenet", **kwargs)
        elif "notop" in found.name:
            model = keras.applications.InceptionV3(weights=str(found), **kwargs)
        else:  # full model file: build with top, load, keep the pool features
            full = keras.applications.InceptionV3(weights=str(found))
            model = keras.Model(full.input, full.get_layer("avg_pool").output)
    except Exception as err:  # the download fails offline with a URL/OS error
        raise FileNotFoundError(f"Could not get InceptionV3 ImageNet weights ({type(err).__name__}: {err}). "
                                "Without them there is no FID; use a machine with internet or a local file.") from None

    def features(batch):
        x = keras.ops.image.resize(batch, (299, 299), interpolation="bilinear")
        return keras.ops.convert_to_numpy(model(x, training=False))

    return FeatureExtractor("InceptionV3 ImageNet pool (2048-d)", features, inception=True)


def metric_extractor(weights: str | os.PathLike | None = None) -> tuple[FeatureExtractor, str]:
    """The features for FID / KID / MiFID on this machine, and a sentence saying which and why.

    In order: InceptionV3 from ``weights``, the Keras cache or an attached Kaggle dataset; InceptionV3 downloaded
    when the machine is online (Colab, Kaggle with internet on); only then the weight-free
    ``random_projection_extractor``, whose scores are named FD / KD / MiFD and are not comparable to Kaggle's.

    Example:
    >>> extractor, why = metric_extractor()   # doctest: +SKIP
    >>> print(why)                             # doctest: +SKIP
    """
    found = find_inception_weights(weights)
    if weights is not None and found is None:
        raise FileNotFoundError(f"InceptionV3 weights file {weights} does not exist. Fix: correct the path, or set it "
                                "to None to use the Keras cache, an attached Kaggle dataset or a download.")
    if found is not None:
        return inception_extractor(found), f"FID / KID / MiFID with InceptionV3 ImageNet weights from {found}."
    if runtime.online():
        try:
            return inception_extractor(download=True), "FID / KID / MiFID with InceptionV3 ImageNet weights " \
                                                       "downloaded into the Keras cache."
        except FileNotFoundError as err:
            reason = f"the download failed ({err})"
    else:
        reason = "this machine is offline"
    return random_projection_extractor(), (
        f"FID / KID / MiFID SKIPPED: no InceptionV3 ImageNet weights file (Keras cache, {ATTACHED_ROOT}) and {reason}. "
        f"Showing weight-free stand-ins instead (FD / KD / MiFD, NOT comparable to Kaggle). Fix: turn the internet "
        f"on, or attach {INCEPTION_FILES[0]} as a dataset, or pass its path.")


def random_projection_extractor(*, thumbnail: int = 16, dim: int = 128, seed: int = 0) -> FeatureExtractor:
    """A weight-free fallback: a fixed random projection of ``thumbnail``-px area-downsampled images.

    NOT Inception: the distances it gives track colour and layout, they are not FID and are not comparable to
    Kaggle scores. Use it to run the metric code offline and to compare checkpoints of one run with each other.

    Args:
        thumbnail: side of the thumbnail (area averaging).
        dim: number of projections (feature size).
        seed: seed of the projection matrix (fixed: the same seed gives the same features everywhere).

    Returns:
        A ``FeatureExtractor`` with ``inception=False``.

    Example:
    >>> f = random_projection_extractor(dim=8)
    >>> f(np.zeros((2, 32, 32, 3), "uint8")).shape
    (2, 8)
    """
    import tensorflow as tf

    if thumbnail < 1 or dim < 1:
        raise ValueError(f"thumbnail and dim must be >= 1. Received: {thumbnail=}, {dim=}")
    inputs = thumbnail * thumbnail * 3
    projection = np.random.default_rng(seed).standard_normal((inputs, dim)).astype("float32") / np.sqrt(inputs)

    def features(batch):
        small = tf.image.resize(batch, (thumbnail, thumbnail), method="area", antialias=True).numpy()
        return small.reshape(len(batch), -1) @ projection

    return FeatureExtractor(f"random projection of {thumbnail}px thumbnails ({dim}-d; NOT Inception)", features)


# ----------------------------------------------------------------------------------------------------- all scores


@dataclasses.dataclass
class DistributionScores:
    """FID / KID / MiFID (or, with non-Inception features, FD / KD / MiFD) and the sample counts behind them."""

    features: str
    inception: bool
    fid: float
    kid_mean: float
    kid_std: float
    memorization_distance: float | None
    mifid: float | None
    n_generated: int
    n_reference: int
    n_train: int | None

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        fid, kid, mi = ("FID", "KID", "MiFID") if self.inception else ("FD", "KD", "MiFD")
        lines = [f"features: {self.features}"]
        if not self.inception:
            lines.append("  NOT Inception features: these are not FID/KID/MiFID and NOT comparable to Kaggle scores.")
        lines.append(f"  {fid} {self.fid:.3f}  (n_generated={self.n_generated}, n_reference={self.n_reference})")
        lines.append(f"  {kid} {self.kid_mean:.5f} ± {self.kid_std:.5f}")
        if self.mifid is not None:
            lines.append(f"  memorization distance {self.memorization_distance:.4f} (threshold {MEMORIZATION_EPS}; "
                         f"n_train={self.n_train})  {mi} {self.mifid:.3f}")
        return "\n".join(lines)


def distribution_scores(generated, reference, *, extractor: FeatureExtractor, train=None, kid_subsets: int = 100,
                        kid_subset_size: int = 1000, batch_size: int = 32, seed: int = 0) -> DistributionScores:
    """Computes FID, KID ± std and (with ``train``) the memorization distance and MiFID, with the counts used.

    Args:
        generated: generated images (uint8 or [-1, 1]; an array or an iterable of batches).
        reference: real images of the target domain.
        extractor: ``inception_extractor()`` for real FID; ``random_projection_extractor()`` offline (labelled).
        train: the training images of the target domain for the memorization distance (Kaggle: the Monet set,
            usually also the reference); None skips MiFID.
        kid_subsets, kid_subset_size: see ``kernel_distance``.
        batch_size: feature-extraction batch size for array inputs.
        seed: seed of the KID subsets.

    Returns:
        A ``DistributionScores`` (``print`` it; ``as_dict()`` for logging).

    Example:
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.uniform(-1, 1, (20, 32, 32, 3)), rng.uniform(-1, 1, (20, 32, 32, 3))
    >>> s = distribution_scores(a, b, extractor=random_projection_extractor(dim=8), train=b, kid_subsets=2)
    >>> s.n_generated, s.inception
    (20, False)
    """
    gen = extractor(generated, batch_size=batch_size)
    ref = extractor(reference, batch_size=batch_size)
    fid = frechet_distance(gen, ref)
    kid_mean, kid_std = kernel_distance(gen, ref, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
    distance = mi = None
    n_train = None
    if train is not None:
        train_feats = extractor(train, batch_size=batch_size)
        n_train = len(train_feats)
        distance = memorization_distance(gen, train_feats)
        mi = mifid(fid, distance)
    return DistributionScores(extractor.name, extractor.inception, fid, kid_mean, kid_std, distance, mi, len(gen),
                              len(ref), n_train)
