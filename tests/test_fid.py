"""FID / KID / MiFID maths against hand-computed and independent reference values; extractors; labelled output."""

import numpy as np
import pytest

from kitlib.eval import fid


def _reference_fid(a, b):
    """Independent FID: Tr((S1 S2)^(1/2)) = Tr((S1^(1/2) S2 S1^(1/2))^(1/2)), square roots by eigendecomposition."""
    def psd_sqrt(m):
        w, v = np.linalg.eigh(m)
        return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = psd_sqrt(s1)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(psd_sqrt(root @ s2 @ root)))


def test_frechet_distance_hand_and_reference_values():
    # 1-D: means 1 and 2, unbiased variances 2 and 2 -> 1 + 2 + 2 - 2 * 2 = 1
    assert fid.frechet_distance([[0.0], [2.0]], [[1.0], [3.0]]) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 6))
    b = rng.normal(0.5, 1.5, size=(300, 6)) @ rng.normal(size=(6, 6))
    assert fid.frechet_distance(a, b) == pytest.approx(_reference_fid(a, b), rel=1e-6)
    assert fid.frechet_distance(a, b) == pytest.approx(fid.frechet_distance(b, a), rel=1e-6)
    assert abs(fid.frechet_distance(a, a)) < 1e-6
    # fewer samples than dimensions: singular covariances still give a finite value
    assert np.isfinite(fid.frechet_distance(rng.normal(size=(5, 20)), rng.normal(size=(7, 20))))


def test_kernel_distance_matches_brute_force_unbiased_mmd():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(12, 3)), rng.normal(0.7, 1.0, size=(12, 3))

    def k(u, v):
        return (u @ v / 3 + 1.0) ** 3

    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    mean, std = fid.kernel_distance(x, y, subsets=4, subset_size=100)  # m = 12: every subset is a permutation
    assert mean == pytest.approx(xx + yy - 2 * xy, rel=1e-9)
    assert std == pytest.approx(0.0, abs=1e-12)
    same, _ = fid.kernel_distance(rng.normal(size=(200, 3)), rng.normal(size=(200, 3)), subsets=10, subset_size=50)
    assert abs(same) < mean


def test_memorization_distance_as_kaggle_defines_it():
    generated = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])  # the all-zero row is dropped
    train = np.array([[-1.0, 0.0], [0.6, 0.8]])
    # 1 - |cos|, min over train: (1,0)->0 (|cos| with (-1,0) is 1); (0,1)->0.2; (1,1)/sqrt2->1-1.4/sqrt2
    expected = (0.0 + 0.2 + (1 - 1.4 / np.sqrt(2))) / 3
    assert fid.memorization_distance(generated, train) == pytest.approx(expected, rel=1e-9)
    assert fid.thresholded_memorization(0.099) == 0.099
    assert fid.thresholded_memorization(0.1) == 1.0  # d < eps strictly
    assert fid.mifid(40.0, 0.5) == pytest.approx(40.0)
    assert fid.mifid(40.0, 0.02) == pytest.approx(40.0 / 0.02)
    with pytest.raises(ValueError, match="sums to 0"):
        fid.memorization_distance(np.zeros((2, 3)), train[:, :1].repeat(3, axis=1))


def test_distribution_scores_with_fallback_features_are_labelled_not_fid():
    rng = np.random.default_rng(2)
    real = rng.integers(0, 256, (24, 32, 32, 3), dtype=np.uint8)
    fake = rng.integers(0, 128, (20, 32, 32, 3), dtype=np.uint8)
    extractor = fid.random_projection_extractor(dim=16)
    scores = fid.distribution_scores(fake, real, extractor=extractor, train=real, kid_subsets=5, kid_subset_size=10)
    assert (scores.n_generated, scores.n_reference, scores.n_train) == (20, 24, 24)
    assert not scores.inception and scores.fid > 0 and scores.memorization_distance > 0
    text = str(scores)
    assert "NOT comparable to Kaggle" in text
    labels = [line.split()[0] for line in text.splitlines()[2:]]
    assert labels == ["FD", "KD", "memorization"] and text.splitlines()[-1].split()[-2] == "MiFD"
    copies = fid.distribution_scores(real[:10], real, extractor=extractor, train=real, kid_subsets=2)
    assert copies.memorization_distance == pytest.approx(0.0, abs=1e-6)  # copies of training images
    assert copies.mifid > 1e6 * max(copies.fid, 1e-6)  # ...are punished by MiFID
    again = fid.random_projection_extractor(dim=16)(real[:4])
    np.testing.assert_array_equal(again, extractor(real[:4]))  # fixed projection: same features every time


def test_inception_weights_are_looked_up_not_invented(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert fid.find_inception_weights() is None
    with pytest.raises(FileNotFoundError, match="No InceptionV3 ImageNet weights"):
        fid.inception_extractor()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fid.inception_extractor(tmp_path / "missing.h5")


def test_inception_extractor_loads_a_weights_file_from_the_keras_cache(tmp_path, monkeypatch):
    """Plumbing only: a weights file in the Keras cache is found and loaded (here random weights written by the test
    itself, never used as a score)."""
    import keras

    h5py = pytest.importorskip("h5py")
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    folder = tmp_path / "keras" / "models"
    folder.mkdir(parents=True)
    model = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg", input_shape=(299, 299, 3))
    with h5py.File(folder / fid.INCEPTION_FILES[0], "w") as handle:
        legacy.save_weights_to_hdf5_group(handle, model)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert fid.find_inception_weights() == folder / fid.INCEPTION_FILES[0]
    extractor = fid.inception_extractor()
    features = extractor(np.zeros((2, 32, 32, 3), np.uint8))
    assert extractor.inception and features.shape == (2, 2048) and np.isfinite(features).all()
