"""fid.metric_extractor: an InceptionV3 file (cache, attached dataset), else a download when online, else stand-ins."""

import pytest

from kitlib import runtime
from kitlib.eval import fid


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    """No Keras cache, no Kaggle input; InceptionV3 construction recorded instead of run."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(fid, "ATTACHED_ROOT", str(tmp_path / "kaggle_input"))
    calls = []

    def inception(weights=None, *, download=False):
        calls.append((weights, download))
        if weights is None and not download:
            raise AssertionError("metric_extractor asked for Inception without a file or a download")
        return fid.FeatureExtractor("InceptionV3 (stub)", lambda batch: batch, inception=True)

    monkeypatch.setattr(fid, "inception_extractor", inception)
    return tmp_path, calls


def test_offline_without_a_file_falls_back_and_says_why(no_weights, monkeypatch):
    _, calls = no_weights
    monkeypatch.setattr(runtime, "online", lambda *a, **k: False)
    extractor, why = fid.metric_extractor()
    assert not extractor.inception and calls == []
    assert "SKIPPED" in why and "offline" in why and "NOT comparable" in why and "attach" in why


def test_online_downloads_even_off_kaggle(no_weights, monkeypatch):
    _, calls = no_weights
    monkeypatch.setattr(runtime, "online", lambda *a, **k: True)
    extractor, why = fid.metric_extractor()
    assert extractor.inception and calls == [(None, True)] and "downloaded" in why


def test_a_failed_download_is_named(no_weights, monkeypatch):
    monkeypatch.setattr(runtime, "online", lambda *a, **k: True)

    def broken(weights=None, *, download=False):
        raise FileNotFoundError("HTTP Error 403")

    monkeypatch.setattr(fid, "inception_extractor", broken)
    extractor, why = fid.metric_extractor()
    assert not extractor.inception and "the download failed (HTTP Error 403)" in why


def test_an_attached_kaggle_dataset_is_used_before_the_internet(no_weights, monkeypatch):
    tmp_path, calls = no_weights
    monkeypatch.setattr(runtime, "online", lambda *a, **k: pytest.fail("looked online although a file is attached"))
    attached = tmp_path / "kaggle_input" / "inception-v3" / "weights" / fid.INCEPTION_FILES[0]
    attached.parent.mkdir(parents=True)
    attached.write_bytes(b"h5")
    extractor, why = fid.metric_extractor()
    assert extractor.inception and calls == [(attached, False)] and str(attached) in why
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fid.metric_extractor(tmp_path / "missing.h5")
