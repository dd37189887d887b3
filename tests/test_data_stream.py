"""Image folders past the memory budget are streamed (decoded again each pass), with the same batches and the same
exact resume as cached ones; `bench data` reports whether the folder was cached and the peak memory."""

import numpy as np
import pytest

from kitlib import data
from kitlib.data.bench import PeakMemory, data_throughput, write_jpeg_folder
from kitlib.data.pipeline import decoded_mb, memory_budget_mb


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return write_jpeg_folder(tmp_path_factory.mktemp("jpegs"), 40, 16)


def _stream(folder, k, **kwargs):
    batches = data.prepare(data.image_folder(folder, 16), 8, seed=3, augment=data.jitter(16), **kwargs)
    return batches, [b.numpy() for b in batches.take(k)]


def test_over_budget_folder_streams_the_same_batches_and_resumes_exactly(folder, monkeypatch):
    cached, expected = _stream(folder, 12, cache=True)  # 12 batches = 2.4 passes over 40 images
    monkeypatch.setenv("KITLIB_CACHE_MB", "0.01")      # 40 decoded 16-px images take 0.03 MB
    streamed, got = _stream(folder, 12)
    assert cached.cached and not streamed.cached
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    resumed = [b.numpy() for b in streamed.skip(7).take(5)]  # a new stream skipped to step 7, as fit resumes
    for a, b in zip(expected[7:], resumed):
        np.testing.assert_array_equal(a, b)


def test_within_budget_folder_is_cached(folder, monkeypatch):
    monkeypatch.setenv("KITLIB_CACHE_MB", "1")
    assert _stream(folder, 1)[0].cached
    assert decoded_mb(data.image_folder(folder, 16)) == pytest.approx(40 * 16 * 16 * 3 / 2**20)


def test_memory_budget_from_the_environment(monkeypatch):
    monkeypatch.setenv("KITLIB_CACHE_MB", "512")
    assert memory_budget_mb() == 512
    monkeypatch.setenv("KITLIB_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="KITLIB_CACHE_MB must be a number of megabytes"):
        memory_budget_mb()
    monkeypatch.delenv("KITLIB_CACHE_MB")
    assert memory_budget_mb() > 0


def test_bad_cache_argument_is_refused(folder):
    with pytest.raises(ValueError, match="cache must be True, False or 'auto'"):
        data.prepare(data.image_folder(folder, 16), 8, cache="disk")


def test_throughput_reports_caching_and_peak_memory(folder):
    cached = data_throughput(folder, image_size=16, batch_size=8, cache=True)
    streamed = data_throughput(folder, image_size=16, batch_size=8, cache=False, passes=1)
    assert cached["cached"] and not streamed["cached"]
    assert cached["num_images"] == streamed["num_images"] == 40
    for result in (cached, streamed):
        assert result["peak_rss_mb"] >= result["rss_before_mb"] > 0
        assert result["decoded_mb"] == pytest.approx(40 * 16 * 16 * 3 / 2**20)


def test_peak_memory_sees_a_temporary_allocation():
    with PeakMemory(interval=0.005) as memory:
        block = np.ones(64 * 2**20 // 8)  # 64 MB, touched
        block.sum()
        del block
    assert memory.peak_mb - memory.start_mb > 32


def test_bench_data_prints_the_caching_and_the_memory_growth():
    from kitlib import bench

    result = bench.run("data", image_size=32, batch_size=4, steps=8, warmup=1)
    assert result["cached"] and result["decoded_mb"] == pytest.approx(8 * 32 * 32 * 3 / 2**20)
    assert "cached in memory: resident memory grew by" in bench.format_result(result)
