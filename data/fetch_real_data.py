"""Fetch kitlib's real evaluation datasets from public GitHub history and split them deterministically.

Every dataset is one record of ``SOURCES``: repository URL, the commit that holds the files, the path inside it,
the licence the repository states, and the split rule. The script clones each repository (``git clone --bare
--filter=blob:none``, so only the blobs it extracts are downloaded), runs ``git archive COMMIT PATH``, and lays the
files out under ``--out`` (default ``data_real/`` next to the repository; never commit it):

    anime_faces/{train,heldout}/*.jpg            64-px anime faces, held out by file-name hash
    monet2photo/{trainA,trainB,testA,testB}/     Monet paintings (A) and photos (B), the dataset's own split
    photos/{train,heldout}/*.jpg                 monet2photo's photos (trainB / testB): inpainting
    pixel_characters/{train,heldout}/{0,1,2,3}/  64-px RGBA sprites, one folder per view angle, held out by
                                                 character (the same file name in the four angle folders)
    coco_stuff/{train,heldout}/{images,labels}/  COCO-Stuff images + class-id label maps, SPADE's own split

Held-out by hash: a file is held out when ``int(sha1(KEY).hexdigest()[:8], 16) % 10 == 0`` (about 10 %), KEY the
file name (anime) or the character's file name shared by its angle folders (pixel art). Training never reads a
held-out folder. ``OUT/MANIFEST.json`` lists the counts and a SHA-256 of each folder's sorted (name, bytes) list,
so a re-fetch can be checked against the committed record in ``data/README.md``.

Example:
    python data/fetch_real_data.py --out data_real                      # all datasets (~400 MB of git objects)
    python data/fetch_real_data.py --only anime_faces --out data_real
    python data/fetch_real_data.py --git-dir Mysterchan/Anime_DCGAN=/path/to/bare.git   # use a local clone
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import tempfile

SOURCES = {
    "anime_faces": {
        "repo": "Mysterchan/Anime_DCGAN",
        "commit": "8cd8b12a080321f349cc1e41c72b7d87612b75d8",  # parent of e78b0fe "Delete images directory"
        "path": "images",
        "licence": "none stated in the repository",
        "split": "hash",
    },
    "monet2photo": {
        "repo": "tinayang3024/APS360-This-Monet-Painting-Does-Not-Exist",
        "commit": "fdf03a3bbe00b676b1dd6ffe72e5a9698d1e4aed",
        "path": "datasets/monet2photo",
        "licence": "none stated in the repository (monet2photo is the CycleGAN authors' dataset)",
        "split": "official",
    },
    "pixel_characters": {
        "repo": "AgaMiko/pixel_character_generator",
        "commit": "7581fc69a67690d50aef0080a02da6fc1177fc32",  # last commit before 0a3b569 "Removed data folder"
        "path": "data",
        "licence": "CC-BY-SA 3.0 and GPL 3.0 (LPC sprites, stated in the repository's README)",
        "split": "hash",
    },
    "coco_stuff": {
        "repo": "NVlabs/SPADE",
        "commit": "1eb35f1bd4857633bb0cc2db9d365c288a6ba988",
        "path": "datasets/coco_stuff",
        "licence": "repository: CC BY-NC-SA 4.0 (COCO images: Flickr terms, COCO-Stuff labels: CC BY 4.0)",
        "split": "official",
    },
}
HELD_OUT_MODULUS = 10


def held_out(key: str) -> bool:
    """True when the file named ``key`` belongs to the held-out split (about 1 in ``HELD_OUT_MODULUS``).

    >>> held_out("28020_2009.jpg"), held_out("0.png")
    (False, True)
    """
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % HELD_OUT_MODULUS == 0


def _git(*args, cwd=None) -> bytes:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True)
    if result.returncode:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout


def extract(name: str, record: dict, cache: pathlib.Path, git_dirs: dict[str, str]) -> pathlib.Path:
    """Clones (or reuses) the record's repository and extracts ``record['path']`` at its commit; returns the
    folder that holds the extracted path."""
    git_dir = git_dirs.get(record["repo"])
    if git_dir is None:
        git_dir = cache / (record["repo"].replace("/", "+") + ".git")
        if not git_dir.exists():
            print(f"cloning https://github.com/{record['repo']} ...", flush=True)
            _git("clone", "--bare", "--filter=blob:none", f"https://github.com/{record['repo']}", str(git_dir))
    raw = cache / "raw" / name
    if raw.exists():
        shutil.rmtree(raw)
    raw.mkdir(parents=True)
    with tempfile.TemporaryFile() as archive:
        archive.write(_git("--git-dir", str(git_dir), "archive", record["commit"], record["path"]))
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(raw, filter="data")
    return raw / record["path"]


def _place(src: pathlib.Path, dst: pathlib.Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def layout(name: str, src: pathlib.Path, out: pathlib.Path) -> None:
    """Arranges the extracted files of dataset ``name`` into its train/held-out folders under ``out``."""
    if name == "anime_faces":
        for f in sorted(src.iterdir()):
            _place(f, out / name / ("heldout" if held_out(f.name) else "train") / f.name)
    elif name == "pixel_characters":
        for f in sorted(src.rglob("*.png")):
            angle = f.parent.name
            _place(f, out / name / ("heldout" if held_out(f.name) else "train") / angle / f.name)
    elif name == "monet2photo":
        for part in ("trainA", "trainB", "testA", "testB"):
            for f in sorted((src / part).iterdir()):
                _place(f, out / name / part / f.name)
        for part, split in (("trainB", "train"), ("testB", "heldout")):
            for f in sorted((src / part).iterdir()):
                _place(f, out / "photos" / split / f.name)
    elif name == "coco_stuff":
        for prefix, split in (("train", "train"), ("val", "heldout")):
            for kind, folder in (("img", "images"), ("label", "labels")):
                for f in sorted((src / f"{prefix}_{kind}").iterdir()):
                    _place(f, out / name / split / folder / f.name)
    else:
        raise ValueError(f"No layout for dataset {name!r}; known: {sorted(SOURCES)}")


def manifest(folder: pathlib.Path) -> dict:
    """File count and SHA-256 over the sorted (relative name, content hash) list of every file under ``folder``."""
    digest, count = hashlib.sha256(), 0
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(f"{f.relative_to(folder).as_posix()} {hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
        count += 1
    return {"files": count, "sha256": digest.hexdigest()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "data_real"))
    parser.add_argument("--only", nargs="*", choices=sorted(SOURCES), help="datasets to fetch (default: all)")
    parser.add_argument("--git-dir", action="append", default=[], metavar="OWNER/NAME=PATH",
                        help="use an existing (bare) clone of a repository instead of cloning it")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    git_dirs = dict(item.split("=", 1) for item in args.git_dir)
    cache = out / ".cache"
    cache.mkdir(parents=True, exist_ok=True)
    record_path = out / "MANIFEST.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    for name in args.only or sorted(SOURCES):
        source = SOURCES[name]
        for stale in [out / name] + ([out / "photos"] if name == "monet2photo" else []):
            if stale.exists():
                shutil.rmtree(stale)
        layout(name, extract(name, source, cache, git_dirs), out)
        folders = [out / name] + ([out / "photos"] if name == "monet2photo" else [])
        for folder in folders:
            splits = {p.name: manifest(p) for p in sorted(folder.iterdir()) if p.is_dir()}
            record[folder.name] = {**source, "splits": splits}
            print(f"{folder.name}: " + ", ".join(f"{k} {v['files']} files" for k, v in splits.items()), flush=True)
        shutil.rmtree(cache / "raw" / name)
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"Wrote {record_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
