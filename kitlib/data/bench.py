"""Input-pipeline throughput: how fast ``prepare(image_folder(...))`` streams a folder of JPEGs.

Run through the CLI (``python -m kitlib bench data``) or directly.

Example:
>>> result = data_throughput(num_images=2000)                 # doctest: +SKIP
>>> result["images_per_second"] > 2000                        # doctest: +SKIP
True
"""

from __future__ import annotations

import os
import pathlib
import resource
import tempfile
import threading
import time

import numpy as np
from PIL import Image


def write_jpeg_folder(folder, num_images: int, image_size: int, *, seed: int = 0, quality: int = 90) -> pathlib.Path:
    """Writes ``num_images`` varied JPEGs (colour gradients, blobs and noise) of ``image_size`` square into
    ``folder``, spread over 10 sub-folders like a real dataset.

    Example:
    >>> import tempfile
    >>> len(list(write_jpeg_folder(tempfile.mkdtemp(), 3, 16).rglob("*.jpg")))
    3
    """
    folder = pathlib.Path(folder)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:image_size, 0:image_size].astype(np.float32) / max(1, image_size - 1)
    for i in range(num_images):
        a, b, c = rng.uniform(0, 255, (3, 3)).astype(np.float32)
        t = rng.uniform(0, 1)
        base = a * (1 - yy[..., None]) * t + b * yy[..., None] * (1 - t) + c * xx[..., None] * 0.5
        cy, cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.35)
        blob = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r)[..., None]
        image = np.where(blob, rng.uniform(0, 255, 3), base) + rng.normal(0, 8, (image_size, image_size, 3))
        sub = folder / f"part{i % 10}"
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(sub / f"img_{i:06d}.jpg", quality=quality)
    return folder


def rss_mb() -> float:
    """This process's resident memory now (Linux ``/proc``; elsewhere its peak so far, ``ru_maxrss``)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        scale = 1 if os.uname().sysname == "Darwin" else 1024  # bytes on macOS, KiB on Linux
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


class PeakMemory:
    """Context manager sampling ``rss_mb()`` every ``interval`` seconds in a thread: ``peak_mb``, ``start_mb``.

    Example:
    >>> with PeakMemory() as memory:
    ...     block = bytearray(50 * 2**20)
    >>> memory.peak_mb >= memory.start_mb
    True
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.start_mb = self.peak_mb = 0.0
        self._stop = threading.Event()

    def _sample(self):
        while not self._stop.wait(self.interval):
            self.peak_mb = max(self.peak_mb, rss_mb())

    def __enter__(self):
        self.start_mb = self.peak_mb = rss_mb()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


def data_throughput(folder=None, *, num_images: int = 10_000, image_size: int = 64, batch_size: int = 64,
                    augment: bool = True, passes: int = 2, cache="auto") -> dict:
    """Times ``passes`` full passes of ``prepare(image_folder(folder, image_size), batch_size)`` (decode, resize,
    cache or stream, shuffle, jitter, batch), excluding the PIL pre-scan, which is timed separately, and samples
    the resident memory meanwhile: a cached folder grows it by about its decoded size, a streamed one does not.

    Args:
        folder: a folder of images; ``None`` writes ``num_images`` JPEGs to a temporary folder (deleted after).
        num_images: images to write (only when ``folder`` is None).
        image_size: decode/resize size.
        batch_size: batch size of ``prepare``.
        augment: apply ``jitter(image_size)`` (resize-up, random crop, flip).
        passes: passes over the folder (the first fills an in-memory cache, later ones read it).
        cache: ``prepare``'s ``cache``: ``"auto"`` (in memory within ``KITLIB_CACHE_MB``, else streamed), True,
            False.

    Returns:
        ``{"images_per_second", "num_images", "scan_seconds", "image_size", "batch_size", "seconds", "cached",
        "decoded_mb", "rss_before_mb", "peak_rss_mb", "peak_rss_growth_mb", "first_pass_seconds"}``
        (``num_images`` and ``images_per_second`` per pass, ``seconds`` over every pass).

    Example:
    >>> data_throughput(num_images=300, image_size=32)["num_images"]     # doctest: +SKIP
    300
    """
    from kitlib.data.augment import jitter
    from kitlib.data.folders import image_folder
    from kitlib.data.pipeline import prepare

    from kitlib.data.pipeline import decoded_mb

    if int(num_images) < 1 or int(image_size) < 1 or int(batch_size) < 1 or int(passes) < 1:
        raise ValueError(f"num_images, image_size, batch_size and passes must be >= 1. Received: {num_images}, "
                         f"{image_size}, {batch_size}, {passes}")
    with tempfile.TemporaryDirectory(prefix="kitlib_bench_") as tmp:
        if folder is None:
            folder = write_jpeg_folder(tmp, int(num_images), int(image_size))
        start = time.perf_counter()
        images = image_folder(folder, int(image_size))
        scan_seconds = time.perf_counter() - start
        count = int(images.cardinality())
        batches = prepare(images, min(int(batch_size), count), seed=0, repeat=False, drop_remainder=False,
                          augment=jitter(int(image_size)) if augment else None, cache=cache)
        times = []
        with PeakMemory() as memory:
            for _ in range(int(passes)):
                start = time.perf_counter()
                seen = sum(int(batch.shape[0]) for batch in batches)
                times.append(time.perf_counter() - start)
    seconds = sum(times)
    return {"images_per_second": seen * len(times) / seconds, "num_images": seen, "scan_seconds": scan_seconds,
            "image_size": int(image_size), "batch_size": int(batch_size), "seconds": seconds,
            "first_pass_seconds": times[0], "cached": batches.cached, "decoded_mb": decoded_mb(images),
            "rss_before_mb": memory.start_mb, "peak_rss_mb": memory.peak_mb,
            "peak_rss_growth_mb": memory.peak_mb - memory.start_mb}
