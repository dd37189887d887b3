"""Image folders: a PIL pre-scan that finds every bad file once, then a fast tf.data decode of the good ones.

Real folders (scraped anime faces, a Kaggle upload, a phone's photos) contain truncated downloads, web pages saved
as ``.jpg``, PNGs named ``.jpg``, animated GIFs, greyscale/RGBA/CMYK/16-bit files and thumbnails. ``scan_images``
opens and fully decodes every file once with PIL (in a thread pool; JPEGs are decoded at 1/8 scale, which still
reads every byte, so truncation is caught) and reports what it skipped and what needs converting. ``image_folder``
then streams only the good files: RGB/greyscale JPEG and PNG through ``tf.io.decode_image`` (parallel, in order),
everything else (CMYK, 16-bit, palette, alpha, GIF, BMP, WebP) through PIL, so tf.data never meets a bad file.

Example:
>>> images = image_folder("path/to/faces", 64)                       # doctest: +SKIP
>>> batches = prepare(images, 64, seed=0)                             # doctest: +SKIP
>>> print(images.scan_report.summary())                               # doctest: +SKIP
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import pathlib
import time
import warnings

import numpy as np
import tensorflow as tf
from PIL import Image, UnidentifiedImageError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
CROPS = ("center", "random", "none")
_FORMAT_EXTENSIONS = {"JPEG": (".jpg", ".jpeg"), "MPO": (".jpg", ".jpeg"), "PNG": (".png",), "BMP": (".bmp",),
                      "GIF": (".gif",), "WEBP": (".webp",)}
_SIXTEEN_BIT = ("I", "I;16", "I;16B", "I;16L", "I;16N")
_SHOW = 3  # files named per line of a report
SKIP_UNREADABLE_ENV = "KITLIB_SKIP_UNREADABLE"  # "1": train on the readable part of a partly unreadable folder
UNREADABLE_SHARE = 0.1  # more unreadable image files than this share (or any unreadable folder) is refused


@dataclasses.dataclass
class ScanReport:
    """What ``scan_images`` found in a folder.

    Attributes:
        root: the scanned folder.
        good: readable image files, sorted by relative path (the order of the dataset).
        skipped: reason -> files left out (corrupt or truncated, not an image, permission denied, smaller than
            min_size, ...).
        unreadable: sub-folders that could not be listed (permission denied): their images are left out.
        converted: original mode -> number of good files that are converted to RGB ('L', 'RGBA', 'CMYK', ...).
        animated: animated GIFs/WebPs among ``good`` (their first frame is used).
        mismatched: good files whose content is another format than their extension says (read by content).
        sizes: ``(width, height)`` of each good file.
        formats: PIL format of each good file (``"JPEG"``, ``"PNG"``, ...).
        modes: PIL mode of each good file (``"RGB"``, ``"L"``, ``"CMYK"``, ...).
        needs_pil: per good file, True when it is decoded through PIL (not ``tf.io.decode_image``).
        num_files: files with an image extension that were looked at.
        seconds: scan time.
    """

    root: pathlib.Path
    good: list[pathlib.Path] = dataclasses.field(default_factory=list)
    skipped: dict[str, list[pathlib.Path]] = dataclasses.field(default_factory=dict)
    unreadable: list[pathlib.Path] = dataclasses.field(default_factory=list)
    converted: dict[str, int] = dataclasses.field(default_factory=dict)
    animated: list[pathlib.Path] = dataclasses.field(default_factory=list)
    mismatched: list[pathlib.Path] = dataclasses.field(default_factory=list)
    sizes: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    formats: list[str] = dataclasses.field(default_factory=list)
    modes: list[str] = dataclasses.field(default_factory=list)
    needs_pil: list[bool] = dataclasses.field(default_factory=list)
    num_files: int = 0
    seconds: float = 0.0

    @property
    def num_skipped(self) -> int:
        return sum(len(v) for v in self.skipped.values())

    @property
    def has_issues(self) -> bool:
        """True when anything was skipped, converted, animated or mismatched (worth a warning)."""
        return bool(self.skipped or self.unreadable or self.converted or self.animated or self.mismatched)

    def _names(self, files) -> str:
        names = [str(_relative(f, self.root)) for f in files[:_SHOW]]
        more = f", ... (+{len(files) - _SHOW})" if len(files) > _SHOW else ""
        return ", ".join(names) + more

    def summary(self) -> str:
        """A few human-readable lines: counts per category and the first few files of each."""
        lines = [f"{len(self.good)} usable images of {self.num_files} image files in {self.root} "
                 f"(scanned in {self.seconds:.1f} s)."]
        if self.skipped:
            parts = [f"{reason}: {len(files)} ({self._names(files)})" for reason, files in self.skipped.items()]
            lines.append(f"Skipped {self.num_skipped}: " + "; ".join(parts))
        if self.unreadable:
            lines.append(f"Unreadable (permission denied): {len(self.unreadable)} folder(s), their images left out "
                         f"({self._names(self.unreadable)})")
        if self.converted:
            modes = ", ".join(f"{mode}: {n}" for mode, n in sorted(self.converted.items()))
            lines.append(f"Converted to RGB: {modes}")
        if self.animated:
            lines.append(f"Animated, first frame used: {len(self.animated)} ({self._names(self.animated)})")
        if self.mismatched:
            lines.append(f"Extension does not match the content (read by content): {len(self.mismatched)} "
                         f"({self._names(self.mismatched)})")
        return "\n".join(lines)


@dataclasses.dataclass
class _Entry:
    path: pathlib.Path
    problem: str | None = None  # skip reason, None when good
    detail: str = ""
    size: tuple[int, int] = (0, 0)
    format: str = ""
    mode: str = ""
    frames: int = 1
    transparency: bool = False


def _relative(path: pathlib.Path, root: pathlib.Path) -> pathlib.Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _check_folder(path) -> pathlib.Path:
    """The folder as a Path, or an actionable FileNotFoundError / ValueError."""
    from kitlib.data.archive import is_archive

    folder = pathlib.Path(path).expanduser()
    if not folder.exists():
        parent = folder.parent
        hint = ""
        if parent.is_dir():
            entries = sorted(p.name for p in parent.iterdir())[:8]
            hint = f" Its parent {parent} contains: {entries}."
        raise FileNotFoundError(
            f"Image folder not found: {str(path)!r} (absolute: {folder.absolute()}).{hint} Check the path; in Kaggle "
            "attach the dataset (Add data) and use /kaggle/input/<name>/..., in Colab mount Google Drive first.")
    if not folder.is_dir():
        if is_archive(folder):
            raise ValueError(f"{folder} is an archive, not a folder. Extract it first: "
                             f"folder = kitlib.data.extract_archive({str(folder)!r}).")
        raise ValueError(f"{folder} is a file, not a folder of images. Pass the folder that contains the images.")
    return folder


def _list_files(folder: pathlib.Path, recursive: bool, unreadable: list[pathlib.Path] | None = None
                ) -> tuple[list[pathlib.Path], collections.Counter]:
    """Image files (sorted by relative path) and a count of every extension seen (for error messages); the folders
    that cannot be listed are appended to ``unreadable``."""
    found, seen = [], collections.Counter()

    def cannot_list(err: OSError) -> None:
        if unreadable is not None:
            unreadable.append(pathlib.Path(err.filename))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=cannot_list):
        dirnames[:] = sorted(d for d in dirnames if recursive and not d.startswith(".") and d != "__MACOSX")
        relative = os.path.relpath(dirpath, folder)
        for name in filenames:
            if name.startswith("."):  # hidden files, macOS "._x.jpg" resource forks
                continue
            ext = os.path.splitext(name)[1].lower()
            seen[ext or "(no extension)"] += 1
            if ext in IMAGE_EXTENSIONS:
                key = name if relative == "." else f"{relative}/{name}".replace(os.sep, "/")
                found.append((key, os.path.join(dirpath, name)))
    found.sort()
    return [pathlib.Path(full) for _, full in found], seen


def _inspect(path: pathlib.Path, min_size: int | None) -> _Entry:
    """Opens and fully decodes one file with PIL; never raises for a bad file."""
    entry = _Entry(path)
    try:
        if path.stat().st_size == 0:
            entry.problem = "empty file"
            return entry
        with Image.open(path) as im:
            entry.format, entry.mode, entry.size = im.format or "", im.mode, im.size
            entry.frames = getattr(im, "n_frames", 1)
            entry.transparency = "transparency" in im.info
            if min_size and min(im.size) < min_size:
                entry.problem = "smaller than min_size"
                entry.detail = f"{im.size[0]}x{im.size[1]}"
                return entry
            if entry.format in ("JPEG", "MPO"):
                im.draft(im.mode, (max(1, im.size[0] // 8), max(1, im.size[1] // 8)))  # DCT scaling: reads all
            im.load()
    except UnidentifiedImageError:
        with open(path, "rb") as f:
            head = f.read(512).lstrip().lower()
        html = head.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")) or b"<html" in head
        entry.problem = "not an image (HTML page)" if html else "not an image"
    except PermissionError as e:  # an OSError, but not the file's fault: say what it is
        entry.problem, entry.detail = "permission denied", str(e)
    except Image.DecompressionBombError as e:
        entry.problem, entry.detail = "too large for PIL", str(e)
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        entry.problem, entry.detail = "corrupt or truncated", str(e)
    return entry


def _needs_pil(entry: _Entry) -> bool:
    """tf.io.decode_image handles RGB/greyscale JPEG and PNG; PIL converts everything else correctly."""
    native = entry.format in ("JPEG", "MPO", "PNG") and entry.mode in ("RGB", "L") and not entry.transparency
    return not native or entry.frames > 1


def scan_images(path, *, recursive: bool = True, min_size: int | None = None, limit: int | None = None,
                strict: bool = False, skip_unreadable: bool | None = None) -> ScanReport:
    """Finds the readable images of a folder with PIL, once, and reports everything odd about the others.

    Files with the extensions .jpg .jpeg .png .bmp .gif .webp (any case) are opened and fully decoded (JPEGs at
    1/8 scale, which still reads every byte, so a truncated download is caught). Hidden files and ``__MACOSX``
    folders are ignored. Skipped: empty files, non-images (e.g. an HTML page saved as .jpg), corrupt or truncated
    files, images whose shorter side is below ``min_size``. Kept and reported: files whose content is another
    format than their extension (read by content), animated GIF/WebP (first frame), non-RGB modes (converted).
    Files and sub-folders that cannot be read (permission denied) are reported as such; a sub-folder that cannot be
    listed, or unreadable files above ``UNREADABLE_SHARE`` of the image files, are refused (a ``ValueError``
    naming them) unless ``skip_unreadable``.

    Args:
        path: the folder.
        recursive: include sub-folders (any depth).
        min_size: skip images whose shorter side is smaller (e.g. thumbnails); ``None`` keeps all.
        limit: stop once this many good images are found (the first ones in sorted order).
        strict: raise a ValueError naming the first bad file instead of skipping it.
        skip_unreadable: go on with the readable part of a partly unreadable folder (default: True when the
            environment variable ``KITLIB_SKIP_UNREADABLE`` is ``1``, which is how the command line says it).

    Returns:
        A ``ScanReport``; ``report.good`` lists the usable files in sorted order.

    Example:
    >>> report = scan_images("path/to/images", min_size=32)          # doctest: +SKIP
    >>> print(report.summary())                                       # doctest: +SKIP
    """
    if min_size is not None and int(min_size) < 1:
        raise ValueError(f"min_size must be >= 1 or None. Received: min_size={min_size}")
    if limit is not None and int(limit) < 1:
        raise ValueError(f"limit must be >= 1 or None. Received: limit={limit}")
    folder = _check_folder(path)
    start = time.perf_counter()
    if skip_unreadable is None:
        skip_unreadable = os.environ.get(SKIP_UNREADABLE_ENV, "") == "1"
    unreadable = []
    files, seen = _list_files(folder, recursive, unreadable)
    if unreadable and not skip_unreadable:
        raise _unreadable_error(folder, f"{len(unreadable)} folder(s) in it cannot be listed (permission denied): "
                                f"{', '.join(str(_relative(p, folder)) for p in unreadable[:_SHOW])}", len(files))
    if not files:
        found = ", ".join(f"{ext} ({n})" for ext, n in seen.most_common(10)) or "nothing"
        hint = ""
        if not recursive and any(p.is_dir() for p in folder.iterdir()):
            hint = " It has sub-folders: pass recursive=True to look inside them."
        raise ValueError(f"No image files ({' '.join(IMAGE_EXTENSIONS)}) in {folder}"
                         f"{' or its sub-folders' if recursive else ''}. Found: {found}.{hint}")
    report = ScanReport(root=folder)
    skipped = collections.defaultdict(list)
    converted = collections.Counter()
    workers = min(16, 4 * (os.cpu_count() or 1))
    chunk = 512
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        for begin in range(0, len(files), chunk):
            for entry in pool.map(lambda p: _inspect(p, min_size), files[begin:begin + chunk]):
                report.num_files += 1
                if entry.problem:
                    if strict:
                        detail = f" ({entry.detail})" if entry.detail else ""
                        raise ValueError(f"Bad image file {entry.path}: {entry.problem}{detail}. Remove or replace "
                                         "it, or pass strict=False to skip bad files with a warning.")
                    skipped[entry.problem].append(entry.path)
                    continue
                report.good.append(entry.path)
                report.sizes.append(entry.size)
                report.formats.append(entry.format)
                report.modes.append(entry.mode)
                report.needs_pil.append(_needs_pil(entry))
                if entry.mode != "RGB":
                    converted[entry.mode] += 1
                if entry.frames > 1:
                    report.animated.append(entry.path)
                if entry.path.suffix.lower() not in _FORMAT_EXTENSIONS.get(entry.format, ()):
                    report.mismatched.append(entry.path)
            if limit is not None and len(report.good) >= limit:
                break
    if limit is not None:
        for name in ("good", "sizes", "formats", "modes", "needs_pil"):
            setattr(report, name, getattr(report, name)[:limit])
        kept = set(report.good)
        report.animated = [p for p in report.animated if p in kept]
        report.mismatched = [p for p in report.mismatched if p in kept]
    denied = skipped.get("permission denied", [])
    if len(denied) > UNREADABLE_SHARE * report.num_files and not skip_unreadable:
        raise _unreadable_error(folder, f"{len(denied)} of {report.num_files} image files in it cannot be read "
                                f"(permission denied): {', '.join(str(_relative(p, folder)) for p in denied[:_SHOW])}"
                                f"{' ...' if len(denied) > _SHOW else ''}", len(report.good))
    report.skipped = dict(skipped)
    report.unreadable = unreadable
    report.converted = dict(converted)
    report.seconds = time.perf_counter() - start
    return report


def _unreadable_error(folder: pathlib.Path, what: str, readable: int) -> ValueError:
    return ValueError(f"{folder}: {what}. Using only the readable part would silently leave those images out. Fix "
                      f"the permissions (chmod -R u+rX {folder}), or set {SKIP_UNREADABLE_ENV}=1 to go on with the "
                      f"{readable} readable image files.")


# ------------------------------------------------------------------------------------------------------ decoding
def pil_to_rgb(image: Image.Image) -> np.ndarray:
    """A PIL image (first frame) as uint8 RGB: alpha composited on white, 16-bit scaled to 8, CMYK/palette/grey
    converted.

    Example:
    >>> pil_to_rgb(Image.new("LA", (4, 2))).shape
    (2, 4, 3)
    """
    mode = image.mode
    if mode in _SIXTEEN_BIT:
        values = np.asarray(image, dtype=np.float64)
        grey = np.clip(np.round(values / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode in ("P", "L", "RGB") and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def _read_rgb(path) -> np.ndarray:
    """``tf.numpy_function`` body: the first frame of a file as uint8 RGB."""
    with Image.open(path.decode() if isinstance(path, bytes) else path) as im:
        im.seek(0)
        return np.ascontiguousarray(pil_to_rgb(im))


def decode_rgb(path: tf.Tensor, needs_pil) -> tf.Tensor:
    """Decodes one file to uint8 ``(H, W, 3)``: ``tf.io.decode_image`` or PIL (``needs_pil``: bool or bool tensor).

    Args:
        path: scalar string tensor.
        needs_pil: True for files that ``scan_images`` marked as needing PIL (CMYK, 16-bit, alpha, GIF, ...).

    Returns:
        uint8 tensor ``(H, W, 3)``.
    """
    def with_tf():
        return tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False, dtype=tf.uint8)

    def with_pil():
        return tf.numpy_function(_read_rgb, [path], tf.uint8, stateful=False)

    if isinstance(needs_pil, bool):
        image = with_pil() if needs_pil else with_tf()
    else:
        image = tf.cond(needs_pil, with_pil, with_tf)
    image.set_shape([None, None, 3])
    return image


def _to_uint8(images: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.clip_by_value(tf.round(images), 0, 255), tf.uint8)


def fit_image(image: tf.Tensor, image_size: int, crop: str = "center", *, method: str = "bilinear") -> tf.Tensor:
    """Resizes one ``(H, W, C)`` image the way ``image_folder`` does (``crop``: see there).

    ``"center"``: the central square (side = shorter side) resized to ``image_size`` (the same as resizing the
    shorter side, then centre-cropping); ``"none"``: the whole image squashed to ``image_size`` square;
    ``"random"``: the shorter side resized to ``image_size``, aspect kept (a random crop is left to augmentation).
    Downscaling is antialiased; ``method="nearest"`` is for label maps.
    """
    shape = tf.shape(image)
    h, w = shape[0], shape[1]
    if crop == "center":
        side = tf.minimum(h, w)
        image = image[(h - side) // 2:(h - side) // 2 + side, (w - side) // 2:(w - side) // 2 + side]
        target = tf.stack([image_size, image_size])
    elif crop == "none":
        target = tf.stack([image_size, image_size])
    else:
        short = tf.cast(tf.minimum(h, w), tf.float32)
        scale = image_size / short
        target = tf.stack([tf.maximum(image_size, tf.cast(tf.round(tf.cast(h, tf.float32) * scale), tf.int32)),
                           tf.maximum(image_size, tf.cast(tf.round(tf.cast(w, tf.float32) * scale), tf.int32))])
    dtype = image.dtype

    def resize():
        if method == "nearest":
            return tf.image.resize(image, target, method="nearest")
        return tf.cast(_to_uint8(tf.image.resize(image, target, method=method, antialias=True)), dtype)

    same = tf.reduce_all(tf.shape(image)[:2] == target)
    out = tf.cond(same, lambda: image, resize)
    channels = image.shape[-1]
    out.set_shape([image_size, image_size, channels] if crop != "random" else [None, None, channels])
    return out


def _warn(what: str, report: ScanReport) -> None:
    if report.has_issues:
        warnings.warn(f"{what}: {report.summary()}", stacklevel=3)


def _good_or_raise(report: ScanReport) -> None:
    if not report.good:
        raise ValueError(f"No usable image in {report.root}: every file was skipped.\n{report.summary()}\n"
                         "Fix or replace the files (or lower min_size=).")


def _files_dataset(report: ScanReport, image_size: int, crop: str) -> tf.data.Dataset:
    """Decoded, resized uint8 images of ``report.good`` in order (parallel decode, deterministic)."""
    paths = [str(p) for p in report.good]
    flags = list(report.needs_pil)

    uniform = all(flags) or not any(flags)  # one decoder for all files: no tf.cond per element

    def load(path, needs_pil):
        return fit_image(decode_rgb(path, flags[0] if uniform else needs_pil), image_size, crop)

    ds = tf.data.Dataset.from_tensor_slices((paths, flags))
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _check_args(image_size, crop, limit) -> int:
    if int(image_size) < 1:
        raise ValueError(f"image_size must be a positive int (e.g. 64). Received: image_size={image_size}")
    if crop not in CROPS:
        raise ValueError(f"crop must be one of {', '.join(map(repr, CROPS))}. Received: crop={crop!r}")
    if limit is not None and int(limit) < 1:
        raise ValueError(f"limit must be >= 1 or None (all images). Received: limit={limit}")
    return int(image_size)


def image_folder(path, image_size: int, *, crop: str = "center", limit: int | None = None, recursive: bool = True,
                 min_size: int | None = None, strict: bool = False, seed: int = 0) -> tf.data.Dataset:
    """A folder of images (any depth, mixed formats) as an unbatched dataset of uint8 ``(S, S, 3)`` images.

    The folder is pre-scanned once with PIL (``scan_images``): bad files are skipped and reported with
    ``warnings.warn`` (counts and the first few names), odd ones converted. Decoding then runs in parallel in
    tf.data, in sorted file order.

    Args:
        path: the folder.
        image_size: output side ``S``.
        crop: ``"center"`` (default): resize the shorter side to ``S`` and take the centre square.
            ``"none"``: squash the whole image to ``S x S`` (aspect not kept). ``"random"``: resize the shorter
            side to ``S`` only, keeping the aspect ratio, so that a random crop can be done by augmentation:
            ``prepare(ds, ..., augment=jitter(S, scale=1.0))`` (the elements then have different widths/heights).
        limit: use only the first ``limit`` good images (sorted order); the scan stops there too.
        recursive: include sub-folders.
        min_size: skip images whose shorter side is smaller than this (reported).
        strict: raise on the first bad file instead of skipping it.
        seed: unused by the (deterministic) loading itself; accepted so that call sites can pass one seed
            everywhere. Shuffling and augmentation take their seed in ``prepare``.

    Returns:
        An unbatched ``tf.data.Dataset`` of uint8 images with known cardinality, carrying ``scan_report``.

    Example:
    >>> images = image_folder("path/to/faces", 64, min_size=48)      # doctest: +SKIP
    >>> images.cardinality().numpy(), images.scan_report.converted   # doctest: +SKIP
    """
    del seed
    image_size = _check_args(image_size, crop, limit)
    report = scan_images(path, recursive=recursive, min_size=min_size, limit=limit, strict=strict)
    _good_or_raise(report)
    _warn(f"image_folder({str(path)!r})", report)
    ds = _files_dataset(report, image_size, crop)
    ds.scan_report = report
    return ds


def junyanz_folders(root, image_size: int, *, split: str = "train", crop: str = "center",
                    limit: int | None = None) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """The two domains of a CycleGAN dataset in the junyanz layout: ``trainA/ trainB/ testA/ testB/``.

    Reference:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks" (2017),
        https://arxiv.org/abs/1703.10593; datasets: https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix.

    Args:
        root: the dataset folder (e.g. ``monet2photo/``).
        image_size: output side.
        split: ``"train"`` or ``"test"``.
        crop, limit: as in ``image_folder`` (per domain).

    Returns:
        ``(domain_a, domain_b)``: two unbatched uint8 datasets (unpaired, possibly of different lengths).

    Example:
    >>> photos, monets = junyanz_folders("datasets/monet2photo", 256)   # doctest: +SKIP
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'. Received: split={split!r}")
    folder = _check_folder(root)
    wanted = [folder / f"{split}A", folder / f"{split}B"]
    if not all(p.is_dir() for p in wanted):
        found = sorted(p.name + "/" for p in folder.iterdir() if p.is_dir())
        hint = ""
        nested = [p for p in folder.iterdir() if p.is_dir() and (p / f"{split}A").is_dir()]
        if nested:
            hint = f" The layout is one level down: pass root={str(nested[0])!r}."
        raise ValueError(f"{folder} does not have the junyanz CycleGAN layout: expected {split}A/ and {split}B/ "
                         f"sub-folders, found {found or 'no sub-folders'}.{hint}")
    return tuple(image_folder(p, image_size, crop=crop, limit=limit) for p in wanted)
