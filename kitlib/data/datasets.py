"""The real datasets kitlib knows by name: ``DATA = "anime_faces"`` in a notebook, ``--data anime_faces`` in the CLI.

Each ``Dataset`` of ``CATALOGUE`` records where a public copy lives (a GitHub repository, the commit that holds the
files, the folder inside it), the licence the repository states, the image counts of each split, its split rule and
a manifest: the SHA-256 and size of every file (``kitlib/data/manifests/NAME.json.gz``, computed from the git blobs
at the recorded commit). ``fetch`` downloads the repository's tarball at that commit (HTTP, resumed with a Range
request after an interruption, with a progress bar), checks every file against the manifest (a file that fails is
named and fetched again on its own, never kept), splits the files and moves the finished folder into the cache in one
step, so the cache never holds half a dataset. A second call finds the cache and uses no network.

Split rules: **"hash"**: a file is held out when ``int(sha1(NAME).hexdigest()[:8], 16) % 10 == 0`` (about 10 %),
NAME the file name (for sprites the character's file name, shared by its four view-angle folders, so no held-out
character is seen from any angle); **"official"**: the dataset's own split. Training reads the train split only; the
held-out split is what the notebooks' metric cells and ``assets/real_data`` score on.

On Kaggle a dataset attached under ``/kaggle/input`` is found by name (the competition data ``gan-getting-started``,
or a dataset holding the same files, checked against the manifest), without network.

Example:
>>> sorted(CATALOGUE)[:3]
['anime_faces', 'coco_stuff', 'gan-getting-started']
>>> resolve_data(None)
(None, None)
>>> held_out("28020_2009.jpg"), held_out("0.png")
(False, True)
>>> train, heldout = resolve_data("anime_faces", root="runs")   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import hashlib
import http.client
import io
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tarfile
import urllib.error
import urllib.request
from typing import Callable, Iterable, Iterator

HELD_OUT_MODULUS = 10
MANIFESTS = pathlib.Path(__file__).with_name("manifests")
MARKER = ".kitlib-dataset.json"
# where the files come from; a mirror (or a test) sets KITLIB_ARCHIVE_URL / KITLIB_RAW_URL to other templates
ARCHIVE_URL = "https://codeload.github.com/{repo}/tar.gz/{commit}"
RAW_URL = "https://raw.githubusercontent.com/{repo}/{commit}/{path}"
KAGGLE_INPUT = "/kaggle/input"
# the held-out folder of each training folder, for specs like "monet2photo/trainA"
HELD_OUT_OF = {"train": "heldout", "trainA": "testA", "trainB": "testB"}


def held_out(key: str) -> bool:
    """True when the file named ``key`` belongs to the held-out split (about 1 in ``HELD_OUT_MODULUS``).

    >>> held_out("28020_2009.jpg"), held_out("0.png")
    (False, True)
    """
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % HELD_OUT_MODULUS == 0


def _by_file_name(key: str) -> str | None:  # anime_faces: "x.jpg" -> "train/x.jpg" or "heldout/x.jpg"
    name = key.rsplit("/", 1)[-1]
    return f"{'heldout' if held_out(name) else 'train'}/{name}"


def _by_character(key: str) -> str | None:  # pixel_characters: "0/12.png" (angle/character) -> "train/0/12.png"
    angle, _, name = key.rpartition("/")
    return f"{'heldout' if held_out(name) else 'train'}/{angle}/{name}"


def _same_place(key: str) -> str | None:  # monet2photo: trainA/, trainB/, testA/, testB/ as they are
    return key


def _photos(key: str) -> str | None:  # monet2photo's photos for inpainting: trainB -> train, testB -> heldout
    folder, _, name = key.partition("/")
    return {"trainB": f"train/{name}", "testB": f"heldout/{name}"}.get(folder)


def _spade_pairs(key: str) -> str | None:  # coco_stuff: train_img/x.jpg -> train/images/x.jpg (no *_inst maps)
    folder, _, name = key.partition("/")
    prefix, _, kind = folder.partition("_")
    split, sub = {"train": "train", "val": "heldout"}.get(prefix), {"img": "images", "label": "labels"}.get(kind)
    return f"{split}/{sub}/{name}" if split and sub else None


@dataclasses.dataclass(frozen=True)
class Dataset:
    """One entry of the catalogue.

    Args:
        name: what ``DATA``/``--data`` says.
        title: one line for ``python -m kitlib data list``.
        repo, commit, path: the public copy: GitHub ``owner/name``, the commit holding the files, the folder.
        licence: the licence as the repository states it.
        split: ``"hash"`` or ``"official"`` (module docstring).
        counts: files per split folder after ``place``.
        place: source file (relative to ``path``) -> its place in the split layout, or None to skip it.
        train, heldout: the specs a notebook trains and scores on, ``{dir}`` being the cached folder.
        cli: the spec ``python -m kitlib train`` gets (default: ``train``).
        kaggle: the Kaggle dataset holding the same files, to attach where there is no internet.
        tfds: the TFDS name holding the same images (``fetch(..., source="tfds")``), with the split names.
        notebooks: the notebooks it is meant for.
        manifest_of: the entry whose manifest file holds this one's files too (``photos``: ``monet2photo``).
    """

    name: str
    title: str
    repo: str | None
    commit: str | None
    path: str
    licence: str
    split: str
    counts: dict
    place: Callable[[str], str | None] | None
    train: str
    heldout: str | None
    cli: str | None = None
    kaggle: str | None = None
    tfds: tuple[str, dict] | None = None
    notebooks: tuple[str, ...] = ()
    manifest_of: str | None = None

    def manifest(self) -> dict[str, tuple[str, int]]:
        """``{source path: (sha256, size)}`` of every file (``kitlib/data/manifests/NAME.json.gz``)."""
        path = MANIFESTS / f"{self.manifest_of or self.name}.json.gz"
        if not path.exists():
            raise FileNotFoundError(f"The manifest of {self.name} is missing: {path}. Reinstall kitlib (the wheel holds "
                                    "kitlib/data/manifests/).")
        record = json.loads(gzip.decompress(path.read_bytes()))
        return {key: tuple(value) for key, value in record["files"].items() if self.place(key) is not None}

    @property
    def num_files(self) -> int:
        return sum(self.counts.values())


CATALOGUE = {d.name: d for d in (
    Dataset("anime_faces", "64x64 anime faces (a 20k subset of Kaggle's Anime Face Dataset)",
            "Mysterchan/Anime_DCGAN", "8cd8b12a080321f349cc1e41c72b7d87612b75d8", "images",  # parent of "Delete images"
            "none stated in the repository", "hash", {"train": 18009, "heldout": 1983}, _by_file_name,
            "{dir}/train", "{dir}/heldout", kaggle="splcher/animefacedataset", notebooks=("01", "03", "07", "08")),
    Dataset("monet2photo", "Monet paintings (A) and photos (B), 256x256, the CycleGAN authors' dataset",
            "tinayang3024/APS360-This-Monet-Painting-Does-Not-Exist", "fdf03a3bbe00b676b1dd6ffe72e5a9698d1e4aed",
            "datasets/monet2photo", "none stated in the repository (the CycleGAN authors' monet2photo)", "official",
            {"trainA": 1072, "trainB": 6287, "testA": 121, "testB": 751}, _same_place,
            "{dir}/trainB,{dir}/trainA", "{dir}/testB,{dir}/testA", kaggle="balraj98/monet2photo",
            tfds=("cycle_gan/monet2photo", {"trainA": "trainA", "trainB": "trainB", "testA": "testA", "testB": "testB"}),
            notebooks=("02", "04")),
    Dataset("photos", "monet2photo's 256x256 photos (trainB / testB), for inpainting",
            "tinayang3024/APS360-This-Monet-Painting-Does-Not-Exist", "fdf03a3bbe00b676b1dd6ffe72e5a9698d1e4aed",
            "datasets/monet2photo", "none stated in the repository (the CycleGAN authors' monet2photo)", "official",
            {"train": 6287, "heldout": 751}, _photos, "{dir}/train", "{dir}/heldout", cli="inpaint:{dir}",
            kaggle="balraj98/monet2photo", tfds=("cycle_gan/monet2photo", {"trainB": "train", "testB": "heldout"}),
            notebooks=("04", "05"), manifest_of="monet2photo"),
    Dataset("pixel_characters", "64x64 RGBA sprites (TinyHero, Universal LPC), one folder per view angle",
            "AgaMiko/pixel_character_generator", "7581fc69a67690d50aef0080a02da6fc1177fc32", "data",  # before "Removed data"
            "CC-BY-SA 3.0 and GPL 3.0 (LPC sprites, stated in the repository's README)", "hash",
            {"train": 3240, "heldout": 408}, _by_character, "{dir}/train", "{dir}/heldout", notebooks=("03",)),
    Dataset("coco_stuff", "21 COCO-Stuff photos + class-id label maps (SPADE's sample; a smoke test, not training)",
            "NVlabs/SPADE", "1eb35f1bd4857633bb0cc2db9d365c288a6ba988", "datasets/coco_stuff",
            "repository CC BY-NC-SA 4.0; COCO images: Flickr terms; COCO-Stuff labels: CC BY 4.0", "official",
            {"train": 26, "heldout": 16}, _spade_pairs, "{dir}/train", "{dir}/heldout", notebooks=("06",)),
    Dataset("gan-getting-started", "Kaggle competition \"I'm Something of a Painter Myself\": 300 Monets, 7,038 photos",
            None, None, "", "Kaggle competition rules", "none (the competition scores every photo)",
            {"monet": 300, "photo": 7038}, None, "{dir}", None, kaggle="gan-getting-started", notebooks=("02",)),
)}


def default_root() -> pathlib.Path:
    """The dataset cache: ``$KITLIB_DATA_DIR``, else the ``data`` folder of ``runtime.run_root()`` (``runs/data``
    here, ``/kaggle/working/runs/data`` on Kaggle).

    >>> str(default_root()) in (os.environ.get("KITLIB_DATA_DIR", ""), "runs/data", "/kaggle/working/runs/data")
    True
    """
    from kitlib import runtime

    return pathlib.Path(os.environ.get("KITLIB_DATA_DIR") or pathlib.Path(runtime.run_root()) / "data")


def get(name: str) -> Dataset:
    """The catalogue entry ``name``; the error lists the names.

    >>> get("photos").counts
    {'train': 6287, 'heldout': 751}
    """
    if name not in CATALOGUE:
        raise ValueError(f"No dataset named {name!r} in kitlib's catalogue; known: {', '.join(sorted(CATALOGUE))} "
                         "(python -m kitlib data list). Received: " + repr(name))
    return CATALOGUE[name]


def _progress(total: int | None, *, desc: str, unit: str = "B", initial: int = 0, enabled: bool = True):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, unit_scale=unit == "B", disable=not enabled,
                leave=False)


def _offline(dataset: Dataset, root: pathlib.Path, reason: str) -> FileNotFoundError:
    attach = (f"on Kaggle attach the dataset '{dataset.kaggle}' (Add data)" if dataset.kaggle
              else f"upload the folder {dataset.path}/ of github.com/{dataset.repo} at {dataset.commit[:7]} and pass "
                   "its path as source= (CLI: --source PATH)")
    return FileNotFoundError(f"{dataset.name} is not cached in {root} and cannot be downloaded ({reason}). Fix: run "
                             f"where there is internet (Colab), or {attach}.")


def _download(url: str, target: pathlib.Path, *, desc: str, progress: bool, timeout: float = 60) -> pathlib.Path:
    """Downloads ``url`` to ``target``, through ``target.part``: a later call continues an interrupted download
    with a Range request (or starts over when the server ignores it)."""
    if target.exists():
        return target
    part = target.with_name(target.name + ".part")
    done = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "kitlib", **({"Range": f"bytes={done}-"} if done else {})})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and done:  # the part is already whole
            os.replace(part, target)
            return target
        raise
    with response:
        if done and response.status != 206:
            done = 0  # the server sent the whole file
        length = response.headers.get("Content-Length")
        total = int(length) + done if length else None
        with open(part, "ab" if done else "wb") as out, _progress(total, desc=desc, initial=done, enabled=progress) as bar:
            while chunk := response.read1(1 << 20):
                out.write(chunk)
                bar.update(len(chunk))
    if total is not None and part.stat().st_size != total:
        raise ConnectionError(f"the download of {url} stopped at {part.stat().st_size} of {total} bytes")
    os.replace(part, target)
    return target


def _tar_members(stream: tarfile.TarFile, path: str, *, strip: int) -> Iterator[tuple[str, bytes]]:
    """``(key, bytes)`` of every file of ``stream`` under ``path`` (after dropping ``strip`` leading folders)."""
    prefix = path.strip("/") + "/"
    for member in stream:
        if not member.isfile():
            continue
        name = member.name.split("/", strip)[-1] if strip else member.name
        if name.startswith(prefix):
            yield name[len(prefix):], stream.extractfile(member).read()


def _from_folder(folder: pathlib.Path, dataset: Dataset, keys: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """The files of a folder holding the source's files: as in the repository (``KEY``), inside the source's
    folder (``images/KEY``, Kaggle's anime faces) or flat (the file name alone)."""
    for key in keys:
        candidates = [folder / key, folder / dataset.path.rsplit("/", 1)[-1] / key, folder / key.rsplit("/", 1)[-1]]
        found = next((p for p in candidates if p.is_file()), None)
        if found is not None:
            yield key, found.read_bytes()


def _from_git(git_dir: str, dataset: Dataset) -> Iterator[tuple[str, bytes]]:
    process = subprocess.Popen(["git", "--git-dir", str(git_dir), "archive", "--format=tar", dataset.commit,
                                dataset.path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as stream:
            yield from _tar_members(stream, dataset.path, strip=0)
    except tarfile.ReadError:
        pass  # git wrote nothing: its message below says why
    finally:
        process.stdout.close()
        error = process.stderr.read().decode(errors="replace").strip().splitlines()
        if process.wait():
            raise RuntimeError(f"git archive {dataset.commit[:7]} {dataset.path} in {git_dir} failed: "
                               f"{error[-1] if error else 'no message'}. Pass a clone that holds that commit.")


def _from_tfds(dataset: Dataset, root: pathlib.Path, manifest: dict) -> Iterator[tuple[str, bytes]]:
    """The original JPEG bytes of a TFDS dataset (TFDS checks the download's checksum), named by the manifest's
    file of the same SHA-256; an image the manifest does not hold is refused by its TFDS position."""
    import tensorflow_datasets as tfds

    name, splits = dataset.tfds
    builder = tfds.builder(name, data_dir=str(root / ".tfds"))
    builder.download_and_prepare()
    by_hash = {sha: key for key, (sha, _) in manifest.items()}
    for tfds_split in splits:
        ds = builder.as_dataset(split=tfds_split, decoders={"image": tfds.decode.SkipDecoding()}, shuffle_files=False)
        for i, example in enumerate(ds.as_numpy_iterator()):
            raw = example["image"]
            key = by_hash.get(hashlib.sha256(raw).hexdigest())
            if key is None:
                raise ValueError(f"Image {i} of TFDS {name} split {tfds_split} is in none of {dataset.name}'s manifest "
                                 "entries: not used. Fetch with source='github' instead.")
            yield key, raw


def _store(staging: pathlib.Path, relative: str, content: bytes) -> None:
    """Writes one verified file: through a temporary name, so a full disk never leaves a partial file."""
    target = staging / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_bytes(content)
    except OSError:
        temporary.unlink(missing_ok=True)
        raise
    os.replace(temporary, target)


def _split_digests(dataset: Dataset, manifest: dict) -> dict:
    """Per split folder: file count and a SHA-256 over the sorted (name, content hash) lines (data/README.md)."""
    lines: dict[str, list[str]] = {}
    for key, (sha, _) in manifest.items():
        split, _, rest = dataset.place(key).partition("/")
        lines.setdefault(split, []).append(f"{rest} {sha}\n")
    return {split: {"files": len(v), "sha256": hashlib.sha256("".join(sorted(v)).encode()).hexdigest()}
            for split, v in sorted(lines.items())}


def _cached(folder: pathlib.Path, dataset: Dataset) -> bool:
    marker = folder / MARKER
    if not marker.is_file():
        return False
    record = json.loads(marker.read_text())
    return record.get("commit") == dataset.commit and record.get("counts") == dataset.counts


def find_attached(name: str, input_root: str | os.PathLike | None = None) -> pathlib.Path | None:
    """The folder of dataset ``name`` attached in a Kaggle notebook (``/kaggle/input/SLUG``, SLUG the last part of
    its Kaggle name, or ``/kaggle/input/NAME``), else None.

    >>> find_attached("gan-getting-started", input_root="/nonexistent") is None
    True
    """
    dataset = get(name)
    root = pathlib.Path(input_root or os.environ.get("KITLIB_KAGGLE_INPUT") or KAGGLE_INPUT)
    slugs = [dataset.kaggle.rsplit("/", 1)[-1]] if dataset.kaggle else []
    for candidate in [root / s for s in slugs + [name, name.replace("_", "-")]]:
        if candidate.is_dir():
            return candidate
    return None


def verify(name: str, root: str | os.PathLike | None = None) -> list[str]:
    """Checks every cached file of ``name`` against its manifest; returns the files that fail (relative paths).

    >>> verify("anime_faces", "/nonexistent")   # doctest: +SKIP
    """
    dataset, folder = get(name), pathlib.Path(root or default_root()) / name
    manifest = dataset.manifest()
    bad = []
    for key, (sha, size) in manifest.items():
        path = folder / dataset.place(key)
        if not path.is_file() or path.stat().st_size != size or hashlib.sha256(path.read_bytes()).hexdigest() != sha:
            bad.append(dataset.place(key))
    return bad


def fetch(name: str | Dataset, root: str | os.PathLike | None = None, *, source: str = "auto",
          progress: bool = True, check: bool = False) -> pathlib.Path:
    """Downloads, verifies, splits and caches a catalogue dataset; returns its folder (``ROOT/NAME``).

    Args:
        name: a catalogue name (``python -m kitlib data list``) or a ``Dataset``.
        root: the cache (default ``default_root()``; notebooks pass ``f"{RUN_ROOT}/data"``, on Drive with
            ``DRIVE = True``).
        source: ``"auto"`` (an attached Kaggle dataset, else GitHub), ``"github"``, ``"tfds"`` (where the entry
            names a TFDS dataset), a local clone (``git:PATH``) or a folder holding the files (``PATH``).
        progress: show tqdm progress bars.
        check: when cached, re-hash every file and fetch again the ones that fail (named in the output).

    Returns:
        The dataset folder, holding its split folders (``train/``, ``heldout/`` ...).

    Raises:
        FileNotFoundError: not cached and no source reachable: which Kaggle dataset to attach or what to upload.
        ValueError: a file still fails its SHA-256 after a second download (named; nothing is cached).
        OSError: the disk filled up (nothing half-written is left in the cache).

    Example:
    >>> fetch("anime_faces")          # doctest: +SKIP
    PosixPath('runs/data/anime_faces')
    """
    dataset = name if isinstance(name, Dataset) else get(name)
    root = pathlib.Path(root or default_root())
    folder = root / dataset.name
    if dataset.repo is None:  # Kaggle-only (the competition data): found attached, never downloaded
        attached = find_attached(dataset.name)
        if attached is None:
            raise FileNotFoundError(f"{dataset.name} is Kaggle data that kitlib cannot download: in a Kaggle notebook "
                                    f"attach the competition '{dataset.kaggle}' (Add data -> Competitions), or pass "
                                    "the folder of its unzipped download.")
        return attached
    if _cached(folder, dataset) and not check:
        return folder
    manifest = dataset.manifest()
    staging = root / f".{dataset.name}.partial"
    if _cached(folder, dataset):  # check=True: move the failing files out and fetch them again
        bad = verify(dataset.name, root)
        if not bad:
            return folder
        print(f"{dataset.name}: {len(bad)} file(s) fail their SHA-256, fetched again: {', '.join(bad[:5])}")
        for relative in bad:
            (folder / relative).unlink(missing_ok=True)
        (folder / MARKER).unlink()
        shutil.rmtree(staging, ignore_errors=True)
        os.replace(folder, staging)
    staging.mkdir(parents=True, exist_ok=True)
    wanted = {k: v for k, v in manifest.items() if not (staging / dataset.place(k)).is_file()}
    try:
        if wanted:
            refused = _collect(dataset, root, staging, source, manifest, wanted, progress)
            if refused:
                _repair(dataset, staging, manifest, refused, progress)
    except (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", None) or err
        raise _offline(dataset, root, f"{type(err).__name__}: {reason}") from None
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise OSError(errno.ENOSPC, f"The disk is full while fetching {dataset.name} into {root} (verified files "
                                        f"so far are kept in {staging}; nothing partial is cached). Free space or "
                                        "pass another root, and fetch again", str(root)) from None
        raise
    counts = {split: sum(1 for p in (staging / split).rglob("*") if p.is_file() and not p.name.startswith("."))
              for split in dataset.counts}
    if counts != dataset.counts:
        raise ValueError(f"{dataset.name}: got {counts} files, expected {dataset.counts}; nothing was cached. The source "
                         f"does not hold {dataset.repo} at {dataset.commit[:7]}: fetch again, or pass another source.")
    record = {"name": dataset.name, "repo": dataset.repo, "commit": dataset.commit, "path": dataset.path,
              "licence": dataset.licence, "split": dataset.split, "counts": dataset.counts,
              "verified": "sha256 per file", "splits": _split_digests(dataset, manifest)}
    (staging / MARKER).write_text(json.dumps(record, indent=1) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(staging, folder)
    shutil.rmtree(root / ".downloads" / dataset.name, ignore_errors=True)
    return folder


def _collect(dataset: Dataset, root: pathlib.Path, staging: pathlib.Path, source: str, manifest: dict,
             wanted: dict, progress: bool) -> list[str]:
    """Places every wanted file of the source that matches the manifest; returns the keys that did not."""
    attached = find_attached(dataset.name) if source == "auto" else None
    sibling = next((root / d.name for d in CATALOGUE.values() if d.name != dataset.name and d.repo == dataset.repo
                    and d.commit == dataset.commit and d.place is _same_place and _cached(root / d.name, d)), None)
    if source.startswith("git:"):
        files = _from_git(source[4:], dataset)
    elif source == "tfds":
        if dataset.tfds is None:
            raise ValueError(f"{dataset.name} is not in TFDS. Pass source='github' (or 'auto').")
        files = _from_tfds(dataset, root, manifest)
    elif source not in ("auto", "github") or attached is not None or sibling is not None:
        folder = pathlib.Path(source) if source not in ("auto", "github") else attached or sibling
        if not folder.is_dir():
            raise FileNotFoundError(f"source={source!r} is not a folder. Pass a folder holding {dataset.name}'s files, "
                                    "'git:PATH' (a clone), 'github' or 'tfds'.")
        files = _from_folder(folder, dataset, wanted)
    else:
        downloads = root / ".downloads" / dataset.name
        downloads.mkdir(parents=True, exist_ok=True)
        url = os.environ.get("KITLIB_ARCHIVE_URL", ARCHIVE_URL).format(repo=dataset.repo, commit=dataset.commit)
        tarball = _download(url, downloads / f"{dataset.commit}.tar.gz", desc=f"{dataset.name} (download)",
                            progress=progress)
        try:
            with tarfile.open(tarball, mode="r|gz") as stream:
                return _place_files(dataset, staging, manifest, wanted, _tar_members(stream, dataset.path, strip=1),
                                    progress)
        except (tarfile.TarError, EOFError, gzip.BadGzipFile):
            tarball.unlink()  # a broken download is never read twice
            raise ValueError(f"The download of {dataset.name} ({url}) is not a readable tar.gz; it was deleted. "
                             "Fetch again.") from None
    return _place_files(dataset, staging, manifest, wanted, files, progress)


def _place_files(dataset, staging, manifest, wanted, files, progress) -> list[str]:
    refused, seen = [], set()
    with _progress(len(wanted) or dataset.num_files, desc=f"{dataset.name} (verify)", unit="file",
                   enabled=progress) as bar:
        for key, content in files:
            if key not in wanted or key in seen:
                continue
            seen.add(key)
            if hashlib.sha256(content).hexdigest() == wanted[key][0]:
                _store(staging, dataset.place(key), content)
            else:
                refused.append(key)
            bar.update()
    return refused + sorted(k for k in wanted if k not in seen)


def _repair(dataset: Dataset, staging: pathlib.Path, manifest: dict, keys: list[str], progress: bool) -> None:
    """Fetches the files that failed their SHA-256 (or were missing) one by one; a second failure is an error."""
    print(f"{dataset.name}: {len(keys)} file(s) failed their SHA-256 or were missing, fetched again one by one: "
          f"{', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}")
    template = os.environ.get("KITLIB_RAW_URL", RAW_URL)
    for key in keys:
        url = template.format(repo=dataset.repo, commit=dataset.commit, path=f"{dataset.path}/{key}")
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "kitlib"}), timeout=60) as r:
            content = r.read()
        if hashlib.sha256(content).hexdigest() != manifest[key][0]:
            raise ValueError(f"{dataset.path}/{key} of {dataset.name} fails its SHA-256 again after a second download "
                             f"({url}); it was not kept and nothing was cached. The source was changed: report it.")
        _store(staging, dataset.place(key), content)


def _resolve_part(part: str, root: pathlib.Path, source: str, progress: bool) -> tuple[str, str | None] | None:
    """``(train, heldout)`` of one catalogue part (``anime_faces`` or ``monet2photo/trainA``), or None when
    ``part`` is not a catalogue name (or is an existing path)."""
    name, _, sub = part.partition("/")
    if name not in CATALOGUE or pathlib.Path(part).exists():
        return None
    dataset = CATALOGUE[name]
    folder = str(fetch(name, root, source=source, progress=progress))
    if sub:
        top, _, rest = sub.partition("/")
        held = HELD_OUT_OF.get(top)
        return f"{folder}/{sub}", f"{folder}/{held}{'/' + rest if rest else ''}" if held else None
    return dataset.train.format(dir=folder), dataset.heldout.format(dir=folder) if dataset.heldout else None


def resolve_data(data, root: str | os.PathLike | None = None, *, source: str = "auto", progress: bool = True):
    """``(train, heldout)``: a notebook's ``DATA`` with every catalogue name replaced by its cached folders.

    ``"anime_faces"`` becomes its ``train/`` folder and the matching ``heldout/`` one (fetched first when not
    cached); ``"monet2photo/trainA"`` names one split folder; ``"anime_faces,pixel_characters"`` (two domains) and
    tuples resolve part by part. Anything else (None, a path, ``toy:...``) is returned as is, with no held-out spec.

    Args:
        data: the notebook's ``DATA``.
        root: the cache (notebooks: ``f"{RUN_ROOT}/data"``); default ``default_root()``.
        source, progress: as in ``fetch``.

    Returns:
        ``(train, heldout)``: what to train on, and what to score on (None when ``data`` names no held-out split).

    Example:
    >>> resolve_data("toy:faces")
    ('toy:faces', None)
    """
    if data is None:
        return None, None
    root = pathlib.Path(root or default_root())
    if isinstance(data, (tuple, list)):
        parts = [resolve_data(d, root, source=source, progress=progress) for d in data]
        held = tuple(h for _, h in parts)
        return type(data)(t for t, _ in parts), held if all(held) else None
    if not isinstance(data, str):
        return data, None
    parts = [_resolve_part(p.strip(), root, source, progress) for p in data.split(",")]
    if not any(parts):
        return data, None
    if len(parts) == 1:
        return parts[0]
    names = data.split(",")
    train = ",".join(p[0] if p else n for p, n in zip(parts, names))
    held = [p[1] if p else None for p in parts]
    return train, ",".join(held) if all(held) else None


def resolve_cli(spec: str | None, root: str | os.PathLike | None = None) -> str | None:
    """``--data`` of ``python -m kitlib train``: a catalogue name becomes the spec of its cached training split
    (``photos`` -> ``inpaint:DIR``, whose recipe holds out ``DIR/heldout``); other specs are returned as they are.

    >>> resolve_cli("toy:faces")
    'toy:faces'
    """
    if spec and spec in CATALOGUE and not pathlib.Path(spec).exists():
        dataset = CATALOGUE[spec]
        return (dataset.cli or dataset.train).format(dir=fetch(spec, root))
    if spec and spec.startswith("inpaint:"):  # inpaint:photos -> inpaint:DIR (train/ and heldout/)
        name = spec[len("inpaint:"):]
        return f"inpaint:{fetch(name, root)}" if name in CATALOGUE and not pathlib.Path(name).exists() else spec
    return resolve_data(spec, root)[0]


def describe() -> str:
    """The catalogue as a table (``python -m kitlib data list``).

    >>> describe().splitlines()[0].split()[:3]
    ['name', 'files', 'split']
    """
    lines = [f"{'name':<20} {'files':>6}  {'split':<9} source / licence"]
    for d in sorted(CATALOGUE.values(), key=lambda d: d.name):
        where = f"github.com/{d.repo} @ {d.commit[:7]}/{d.path}" if d.repo else f"Kaggle: {d.kaggle}"
        counts = ", ".join(f"{k} {v:,}" for k, v in d.counts.items())
        lines.append(f"{d.name:<20} {d.num_files:>6}  {d.split.split()[0]:<9} {where}\n"
                     f"{'':<38}{counts}; licence: {d.licence}\n{'':<38}{d.title}")
    return "\n".join(lines)


def manifest_from_git(git_dir: str | os.PathLike, dataset: Dataset) -> dict[str, tuple[str, int]]:
    """``{key: (sha256, size)}`` of the files ``dataset`` keeps, read from a clone at its commit: how the packaged
    manifests were made (``python data/fetch_real_data.py --write-manifests``)."""
    return {key: (hashlib.sha256(content).hexdigest(), len(content))
            for key, content in _from_git(str(git_dir), dataset) if dataset.place(key) is not None}


def write_manifest(dataset: Dataset, files: dict[str, tuple[str, int]], folder: str | os.PathLike = MANIFESTS) -> pathlib.Path:
    """Writes ``files`` as ``folder/NAME.json.gz`` (sorted, gzip without a timestamp: the same bytes every time)."""
    path = pathlib.Path(folder) / f"{dataset.name}.json.gz"
    record = {"name": dataset.name, "repo": dataset.repo, "commit": dataset.commit, "path": dataset.path,
              "files": {k: list(files[k]) for k in sorted(files)}}
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as out:
        out.write(json.dumps(record, separators=(",", ":")).encode())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path
