"""Fetch kitlib's real evaluation datasets into one folder: a thin front to ``kitlib.data.datasets``.

The catalogue (sources, commits, licences, counts, split rules and a SHA-256 per file) lives in the package, so the
same data is one line away in a notebook (``DATA = "anime_faces"``) or the CLI (``python -m kitlib data fetch
anime_faces``). This script fetches several at once into ``--out`` (default ``data_real/`` next to the repository;
never commit it), each as ``OUT/NAME/`` with its split folders and ``.kitlib-dataset.json`` (counts and the SHA-256
of each split's sorted (name, content hash) list, the prefixes of the table in ``data/README.md``).

Example:
    python data/fetch_real_data.py --out data_real                      # every dataset, from GitHub
    python data/fetch_real_data.py --only anime_faces --out data_real
    python data/fetch_real_data.py --git-dir Mysterchan/Anime_DCGAN=/path/to/bare.git   # from a local clone
    python data/fetch_real_data.py --write-manifests --git-dir OWNER/NAME=PATH ...      # maintainers: the manifests
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from kitlib.data import datasets


def main(argv=None) -> int:
    names = sorted(name for name, d in datasets.CATALOGUE.items() if d.repo)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[2] / "data_real"))
    parser.add_argument("--only", nargs="*", choices=names, help="datasets to fetch (default: all)")
    parser.add_argument("--git-dir", action="append", default=[], metavar="OWNER/NAME=PATH",
                        help="use an existing (bare) clone of a repository instead of downloading it")
    parser.add_argument("--write-manifests", action="store_true",
                        help="recompute kitlib/data/manifests/ from the --git-dir clones instead of fetching")
    args = parser.parse_args(argv)
    git_dirs = dict(item.split("=", 1) for item in args.git_dir)
    for name in args.only or names:
        dataset = datasets.get(name)
        clone = git_dirs.get(dataset.repo)
        if args.write_manifests:
            if dataset.manifest_of is None and clone:
                print(f"wrote {datasets.write_manifest(dataset, datasets.manifest_from_git(clone, dataset))}")
            continue
        try:
            folder = datasets.fetch(dataset, args.out, source=f"git:{clone}" if clone else "auto")
        except (OSError, ValueError, RuntimeError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"{name}: " + ", ".join(f"{k} {v:,} files" for k, v in dataset.counts.items()) + f" in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
