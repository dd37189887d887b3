"""kitlib.data.datasets: the real-dataset catalogue, its download, verification, split and cache, offline.

The download code runs against sources built here: a bare git repository of generated images, and an HTTP server on
the loopback address serving its tarball (with Range requests) and its raw files, as GitHub does."""

import errno
import hashlib
import http.server
import io
import os
import pathlib
import re
import signal
import subprocess
import sys
import tarfile
import threading
import time

import numpy as np
import pytest
from PIL import Image

from kitlib import cli
from kitlib.data import datasets

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAME = "tiny_faces"


def _git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@t"}).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A bare repository whose commit holds ``images/`` (30 noise PNGs) and a README: ``(bare_dir, commit)``."""
    work = tmp_path_factory.mktemp("work")
    rng = np.random.default_rng(0)
    (work / "images").mkdir()
    for i in range(30):
        Image.fromarray(rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)).save(work / "images" / f"face_{i}.png")
    (work / "README.md").write_text("tiny\n")
    _git("init", "-q", cwd=work)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "images", cwd=work)
    bare = tmp_path_factory.mktemp("bare") / "tiny.git"
    _git("clone", "-q", "--bare", str(work), str(bare))
    return bare, _git("rev-parse", "HEAD", cwd=work).decode().strip()


def _dataset(commit, kaggle=None):
    probe = datasets.Dataset(NAME, "test faces", "kit/tiny", commit, "images", "none", "hash", {}, datasets._by_file_name,
                             "{dir}/train", "{dir}/heldout", kaggle=kaggle)
    held = sum(datasets.held_out(f"face_{i}.png") for i in range(30))
    return datasets.Dataset(**{**probe.__dict__, "counts": {"train": 30 - held, "heldout": held}})


@pytest.fixture
def tiny(repo, tmp_path, monkeypatch):
    """The test dataset in the catalogue, its manifest written from the bare repository."""
    bare, commit = repo
    dataset = _dataset(commit, kaggle="someone/tiny-faces")
    manifests = tmp_path / "manifests"
    datasets.write_manifest(dataset, datasets.manifest_from_git(bare, dataset), manifests)
    monkeypatch.setattr(datasets, "MANIFESTS", manifests)
    monkeypatch.setitem(datasets.CATALOGUE, NAME, dataset)
    monkeypatch.setenv("KITLIB_KAGGLE_INPUT", str(tmp_path / "kaggle_input"))
    return dataset


class _Server:
    """GitHub's two addresses for one repository: the commit's tar.gz (Range requests honoured, optionally
    throttled) and raw files. ``tamper`` names files served with other bytes (in the tarball, or raw too)."""

    def __init__(self, bare, commit):
        self.bare, self.commit = bare, commit
        self.requests, self.tamper_archive, self.tamper_raw, self.delay = [], set(), set(), 0.0
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Range")))
                if self.path.startswith("/archive/"):
                    body, chunked = server.archive(), True
                else:
                    name = self.path.split(f"/raw/{commit}/", 1)[1]
                    body, chunked = _git("--git-dir", str(bare), "show", f"{commit}:{name}"), False
                    if name.rsplit("/", 1)[-1] in server.tamper_raw:
                        body = body + b"tampered"
                start = int(re.match(r"bytes=(\d+)-", self.headers["Range"]).group(1)) if self.headers.get("Range") else 0
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                step = 4096 if chunked else len(body)
                for i in range(start, len(body), step):
                    self.wfile.write(body[i:i + step])
                    time.sleep(server.delay)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def archive(self) -> bytes:
        plain = _git("--git-dir", str(self.bare), "archive", "--format=tar", f"--prefix=tiny-{self.commit}/", self.commit)
        out = io.BytesIO()
        with tarfile.open(fileobj=io.BytesIO(plain)) as src, tarfile.open(fileobj=out, mode="w:gz") as dst:
            for member in src:
                content = src.extractfile(member).read() if member.isfile() else None
                if content is not None and member.name.rsplit("/", 1)[-1] in self.tamper_archive:
                    content = content[:-1] + bytes([content[-1] ^ 1])
                dst.addfile(member, io.BytesIO(content) if content is not None else None)
        return out.getvalue()


@pytest.fixture
def server(repo, monkeypatch):
    srv = _Server(*repo)
    monkeypatch.setenv("KITLIB_ARCHIVE_URL", srv.base + "/archive/{commit}.tar.gz")
    monkeypatch.setenv("KITLIB_RAW_URL", srv.base + "/raw/{commit}/{path}")
    yield srv
    srv.httpd.shutdown()


def _blob(repo, name):
    return _git("--git-dir", str(repo[0]), "show", f"{repo[1]}:images/{name}")


def test_first_fetch_then_cached_without_network(tiny, server, repo, tmp_path):
    train, heldout = datasets.resolve_data(NAME, tmp_path / "cache", progress=False)
    folder = tmp_path / "cache" / NAME
    assert (train, heldout) == (f"{folder}/train", f"{folder}/heldout")
    for split, count in tiny.counts.items():
        files = sorted((folder / split).iterdir())
        assert len(files) == count and all(datasets.held_out(f.name) == (split == "heldout") for f in files)
        assert all(f.read_bytes() == _blob(repo, f.name) for f in files)
    assert not (folder.parent / ".downloads" / NAME).exists() and not (folder.parent / f".{NAME}.partial").exists()
    seen = len(server.requests)
    server.httpd.shutdown()  # no network from here on
    assert datasets.resolve_data(NAME, tmp_path / "cache", progress=False) == (train, heldout)
    assert len(server.requests) == seen == 1


def test_download_resumes_after_a_kill(tiny, server, tmp_path):
    server.delay = 0.02
    cache = tmp_path / "cache"
    # the child process fetches the same dataset: its entry is rebuilt there from the same fields
    script = ("import pathlib\nfrom kitlib.data import datasets as d\n"
              f"d.MANIFESTS = pathlib.Path({str(datasets.MANIFESTS)!r})\n"
              f"d.CATALOGUE[{NAME!r}] = d.Dataset({NAME!r}, 't', 'kit/tiny', {tiny.commit!r}, 'images', 'none', 'hash', "
              f"{tiny.counts!r}, d._by_file_name, '{{dir}}/train', '{{dir}}/heldout')\n"
              f"d.fetch({NAME!r}, {str(cache)!r}, progress=False)\n")
    child = subprocess.Popen([sys.executable, "-c", script], env=os.environ.copy())
    part = cache / ".downloads" / NAME / f"{tiny.commit}.tar.gz.part"
    deadline = time.time() + 60
    while not (part.exists() and part.stat().st_size > 8192) and time.time() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    done = part.stat().st_size
    assert done > 0 and not (cache / NAME).exists()
    server.delay = 0.0
    datasets.fetch(NAME, cache, progress=False)
    ranges = [r for path, r in server.requests if path.startswith("/archive/") and r]
    assert ranges and int(ranges[-1][len("bytes="):-1]) >= done
    assert datasets.verify(NAME, cache) == []


def test_a_tampered_file_is_named_and_fetched_again(tiny, server, repo, tmp_path, capsys):
    bad = next(f"face_{i}.png" for i in range(30) if not datasets.held_out(f"face_{i}.png"))
    server.tamper_archive.add(bad)
    folder = datasets.fetch(NAME, tmp_path / "cache", progress=False)
    assert bad in capsys.readouterr().out
    assert (folder / "train" / bad).read_bytes() == _blob(repo, bad)
    assert (f"/raw/{repo[1]}/images/{bad}", None) in server.requests
    # tampered in the cache: `data fetch` re-checks every file, names it and fetches it again
    (folder / "train" / bad).write_bytes(b"not the file")
    assert cli.main(["data", "fetch", NAME, "--out", str(tmp_path / "cache")]) == 0
    assert bad in capsys.readouterr().out and (folder / "train" / bad).read_bytes() == _blob(repo, bad)


def test_a_file_bad_twice_is_refused_and_nothing_cached(tiny, server, tmp_path):
    bad = "face_3.png"
    server.tamper_archive.add(bad)
    server.tamper_raw.add(bad)
    with pytest.raises(ValueError, match=f"images/{bad} of {NAME} fails its SHA-256 again"):
        datasets.fetch(NAME, tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / NAME).exists()
    assert not list((tmp_path / "cache").rglob(bad))


def test_offline_says_what_to_attach_in_one_line(tiny, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KITLIB_ARCHIVE_URL", "http://127.0.0.1:9/{repo}/{commit}.tar.gz")  # nothing listens there
    with pytest.raises(FileNotFoundError) as err:
        datasets.resolve_data(NAME, tmp_path / "cache", progress=False)
    message = str(err.value)
    assert "\n" not in message and "someone/tiny-faces" in message and "not cached" in message
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert cli.main(["data", "fetch", NAME, "--out", str(tmp_path / "cache")]) == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and "Traceback" not in stderr


def test_kaggle_inputs_are_found_by_name(tiny, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("KITLIB_ARCHIVE_URL", "http://127.0.0.1:9/{repo}/{commit}.tar.gz")  # offline
    kaggle = tmp_path / "kaggle_input"
    with pytest.raises(FileNotFoundError, match="attach the competition 'gan-getting-started'"):
        datasets.resolve_data("gan-getting-started")
    (kaggle / "gan-getting-started" / "monet_jpg").mkdir(parents=True)
    assert datasets.resolve_data("gan-getting-started") == (str(kaggle / "gan-getting-started"), None)
    attached = kaggle / "tiny-faces" / "images"  # a Kaggle dataset holding the same files: copied and verified
    attached.mkdir(parents=True)
    for i in range(30):
        (attached / f"face_{i}.png").write_bytes(_blob(repo, f"face_{i}.png"))
    train, heldout = datasets.resolve_data(NAME, tmp_path / "cache", progress=False)
    assert len(os.listdir(train)) == tiny.counts["train"] and len(os.listdir(heldout)) == tiny.counts["heldout"]


def test_disk_full_leaves_no_partial_data(tiny, server, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    real_store, calls = datasets._store, []

    def store(staging, relative, content):  # the disk fills up at the sixth file
        calls.append(relative)
        if len(calls) == 6:
            partial = staging / (relative + ".tmp")
            partial.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(content[:10])
            partial.unlink()
            raise OSError(errno.ENOSPC, "No space left on device")
        real_store(staging, relative, content)

    monkeypatch.setattr(datasets, "_store", store)
    with pytest.raises(OSError, match="disk is full") as err:
        datasets.fetch(NAME, cache, progress=False)
    assert err.value.errno == errno.ENOSPC and "\n" not in str(err.value)
    assert not (cache / NAME).exists()
    manifest = {tiny.place(k): sha for k, (sha, _) in tiny.manifest().items()}
    kept = [p for p in (cache / f".{NAME}.partial").rglob("*") if p.is_file()]
    assert len(kept) == 5 and all(hashlib.sha256(p.read_bytes()).hexdigest() ==
                                  manifest[p.relative_to(cache / f".{NAME}.partial").as_posix()] for p in kept)
    monkeypatch.setattr(datasets, "_store", real_store)  # space again: the next call completes the rest
    datasets.fetch(NAME, cache, progress=False)
    assert datasets.verify(NAME, cache) == []


def test_disk_full_while_downloading_the_tarball(tiny, server, tmp_path, monkeypatch):
    class FullDisk(io.BufferedWriter):
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(datasets, "open", lambda path, mode: FullDisk(io.FileIO(path, mode)), raising=False)
    with pytest.raises(OSError, match="disk is full"):
        datasets.fetch(NAME, tmp_path / "cache", progress=False)
    assert not (tmp_path / "cache" / NAME).exists()


def test_git_source_and_its_one_line_error(tiny, repo, tmp_path):
    folder = datasets.fetch(NAME, tmp_path / "a", source=f"git:{repo[0]}", progress=False)
    assert datasets.verify(NAME, tmp_path / "a") == [] and (folder / datasets.MARKER).is_file()
    with pytest.raises(RuntimeError, match=r"git archive .* failed: .*\. Pass a clone") as err:
        datasets.fetch(NAME, tmp_path / "b", source=f"git:{tmp_path / 'missing.git'}", progress=False)
    assert "\n" not in str(err.value)


def test_specs_resolve_part_by_part(tiny, server, tmp_path):
    cache = tmp_path / "cache"
    folder = cache / NAME
    assert datasets.resolve_data(f"{NAME}/train,toy:faces", cache, progress=False) == (f"{folder}/train,toy:faces", None)
    assert datasets.resolve_data((f"{NAME}/train", f"{NAME}/heldout"), cache) == (
        (f"{folder}/train", f"{folder}/heldout"), None)
    assert datasets.resolve_cli(NAME, cache) == f"{folder}/train"
    assert datasets.resolve_cli(f"inpaint:{NAME}", cache) == f"inpaint:{folder}"
    assert datasets.resolve_data("some/folder") == ("some/folder", None)


def test_catalogue_manifests_match_the_readme():
    """Every packaged manifest has the catalogue's counts, and its split digests are those data/README.md lists."""
    readme = (ROOT / "data" / "README.md").read_text()
    for dataset in datasets.CATALOGUE.values():
        if dataset.repo is None:
            continue
        digests = datasets._split_digests(dataset, dataset.manifest())
        assert {k: v["files"] for k, v in digests.items()} == dataset.counts, dataset.name
        if dataset.name != "photos":  # its digests are monet2photo's trainB / testB
            assert all(v["sha256"][:16] in readme for v in digests.values()), dataset.name
    assert "data/manifests/*.json.gz" in (ROOT / "pyproject.toml").read_text()


def test_data_list_names_every_dataset(capsys):
    assert cli.main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in datasets.CATALOGUE)
