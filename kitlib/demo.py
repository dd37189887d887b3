"""Runs the notebooks headless (papermill) and writes a gallery page of their figures.

``make demo`` calls ``python -m kitlib demo --profile demo --out runs/demo``: every ``notebooks/NN_*.ipynb`` is
executed with ``KITLIB_PROFILE`` set, the executed copies go to ``runs/demo/``, every image a notebook displayed is
extracted to ``runs/demo/NN_name/figure_K.png``, and ``runs/demo/index.html`` shows, per notebook, one sentence of what
it shows (notebook metadata ``kitlib.summary``), its headline number (``viz.headline``), its best figure (the last
figure of the cell tagged ``gallery``) with a caption (``kitlib.caption``), and the other figures folded away.

Example:
>>> from kitlib.demo import find_notebooks
>>> isinstance(find_notebooks("notebooks"), list)
True
"""

from __future__ import annotations

import base64
import html
import json
import os
import pathlib
import shutil
import time


def find_notebooks(folder: str | os.PathLike = "notebooks") -> list[pathlib.Path]:
    """The numbered notebooks (``NN_*.ipynb``) of ``folder``, in order."""
    folder = pathlib.Path(folder)
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def extract_images(notebook_path: str | os.PathLike, out_dir: str | os.PathLike) -> list[pathlib.Path]:
    """Writes every PNG output of an executed notebook to ``out_dir/figure_K.png``; returns the paths."""
    nb = json.loads(pathlib.Path(notebook_path).read_text(encoding="utf-8"))
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("image/png")
            if data:
                path = out_dir / f"figure_{len(paths) + 1:02d}.png"
                path.write_bytes(base64.b64decode("".join(data) if isinstance(data, list) else data))
                paths.append(path)
    return paths


HEADLINE_MIME = "application/vnd.kitlib.headline+json"  # as kitlib.viz.HEADLINE_MIME (demo imports no TensorFlow)


def gallery_entry(notebook_path: str | os.PathLike) -> dict:
    """What the gallery says about an executed notebook: ``{"summary", "caption", "headline", "best"}``.

    ``summary`` and ``caption`` come from the notebook's metadata ``kitlib``; ``headline`` is the text of the last
    ``viz.headline`` output (None when there is none); ``best`` is the index, among all the notebook's figures, of
    the last figure of the cell tagged ``gallery`` (a training cell's last epoch), else of the notebook's last figure.
    """
    nb = json.loads(pathlib.Path(notebook_path).read_text(encoding="utf-8"))
    meta = nb.get("metadata", {}).get("kitlib", {})
    entry = {"summary": meta.get("summary", ""), "caption": meta.get("caption", ""), "headline": None, "best": None}
    count = 0
    for cell in nb.get("cells", []):
        tagged = "gallery" in cell.get("metadata", {}).get("tags", [])
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if HEADLINE_MIME in data:
                found = data[HEADLINE_MIME]
                note = f" ({found['note']})" if found.get("note") else ""
                entry["headline"] = f"{found['label']}: {found['value']:.4g}{note}"
            if "image/png" in data:
                if tagged:
                    entry["best"] = count
                count += 1
    if entry["best"] is None and count:
        entry["best"] = count - 1
    return entry


def notebook_methods(stem: str) -> list[str]:
    """The registry's methods whose story is the notebook ``stem``, as ``"title (python -m kitlib train NAME)"``.

    Example:
    >>> notebook_methods("07_diffusion")[0].startswith("DDIM")
    True
    """
    from kitlib import methods, recipes

    trainable = recipes.trainable()
    return [m.title + (f" (python -m kitlib train {m.name})" if m.name in trainable else "")
            for m in methods.all() if m.notebook == stem]


def write_gallery(out_dir: str | os.PathLike, results: list[dict]) -> pathlib.Path:
    """Writes ``out_dir/index.html`` from ``[{"name", "status", "seconds", "images", "notebook"}]``, each optionally
    with ``gallery_entry``'s keys: the sentence, the headline number, the best figure with its caption, then the
    other figures in a folded ``<details>``."""
    out_dir = pathlib.Path(out_dir)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>kitlib demo gallery</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:1200px}img{max-width:100%;border:1px solid #ddd;"
        "margin:4px}section{margin-bottom:3em}.fail{color:#b00}.ok{color:#070}.headline{font-size:1.3em}"
        "figure{margin:0}figcaption{color:#444;font-style:italic}details{margin-top:1em}</style></head><body>",
        "<h1>kitlib demo gallery</h1>",
        f"<p>Generated {time.strftime('%Y-%m-%d %H:%M')} by <code>make demo</code> on the embedded data.</p><ul>",
    ]
    for r in results:
        parts.append(f"<li><a href='#{html.escape(r['name'])}'>{html.escape(r['name'])}</a> "
                     f"<span class='{'ok' if r['status'] == 'ok' else 'fail'}'>{html.escape(r['status'])}</span> "
                     f"({r['seconds']:.0f} s)</li>")
    parts.append("</ul>")
    for r in results:
        parts.append(f"<section id='{html.escape(r['name'])}'><h2>{html.escape(r['name'])}</h2>")
        if r.get("methods"):
            parts.append(f"<p class='methods'>{'<br>'.join(html.escape(m) for m in r['methods'])}</p>")
        if r.get("summary"):
            parts.append(f"<p class='summary'>{html.escape(r['summary'])}</p>")
        if r.get("headline"):
            parts.append(f"<p class='headline'><strong>{html.escape(r['headline'])}</strong></p>")
        images, best = list(r["images"]), r.get("best")
        if best is not None and 0 <= best < len(images):
            top = images.pop(best)
            parts.append(f"<figure><img src='{html.escape(top)}'><figcaption>{html.escape(r.get('caption') or '')}"
                         "</figcaption></figure>")
        parts.append(f"<details><summary>{len(images)} more figure(s), the executed notebook, time</summary>")
        parts.append(f"<p>executed notebook: <a href='{html.escape(r['notebook'])}'>{html.escape(r['notebook'])}</a>"
                     f" — {r['seconds']:.0f} s — <span class='{'ok' if r['status'] == 'ok' else 'fail'}'>"
                     f"{html.escape(r['status'])}</span></p>")
        for img in images:
            parts.append(f"<img src='{html.escape(img)}' loading='lazy'>")
        parts.append("</details></section>")
    parts.append("</body></html>")
    path = out_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


DEMO_MARKER = ".kitlib-demo"  # written into every demo output folder: the demo rewrites only such folders


def check_demo_out(out: str | os.PathLike) -> pathlib.Path:
    """Raises a ``ValueError`` naming the fix unless ``out`` is missing, empty or an earlier demo output (it holds
    ``DEMO_MARKER``): the demo replaces ``OUT/work``, ``index.html`` and ``results.json``, never a user's files.

    Example:
    >>> import tempfile; check_demo_out(tempfile.mkdtemp()).is_dir()
    True
    """
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder. Pass the path of a new folder (the demo creates it).")
    if out.is_dir() and not (out / DEMO_MARKER).is_file() and any(out.iterdir()):
        names = sorted(p.name for p in out.iterdir())
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise ValueError(f"--out {out} is not empty ({shown}) and is not a demo output folder (it has no "
                         f"{DEMO_MARKER}); the demo writes only into a new folder or its own earlier output. Pass "
                         "another --out (a new folder).")
    return out


def run_demo(*, profile: str = "demo", out: str | os.PathLike = "runs/demo", notebooks: str | os.PathLike = "notebooks",
             only: list[str] | None = None, timeout: int = 1800) -> pathlib.Path:
    """Executes the notebooks in ``profile`` into ``out`` and writes the gallery; returns the index.html path.

    A failing notebook is reported in the gallery (and makes the command exit non-zero) but does not stop the
    others. ``out`` must be new, empty or an earlier demo output (``check_demo_out``); ``only`` that matches no
    notebook is refused before anything is written.
    """
    import papermill

    out = pathlib.Path(out).resolve()
    paths = find_notebooks(notebooks)
    if not paths:
        raise FileNotFoundError(f"No numbered notebooks (NN_*.ipynb) found in {pathlib.Path(notebooks).resolve()}.")
    if only:
        chosen = [p for p in paths if any(p.name.startswith(o) or p.stem == o for o in only)]
        if not chosen:
            raise ValueError(f"--only {' '.join(only)} matches none of the numbered notebooks in "
                             f"{pathlib.Path(notebooks).resolve()}: {', '.join(p.name[:2] for p in paths)}. Pass "
                             "their number (e.g. --only 00 01) or their name.")
        paths = chosen
    check_demo_out(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text("This folder is the output of `python -m kitlib demo`; the demo rewrites it.\n",
                                   encoding="utf-8")
    workdir = out / "work"  # notebooks run here: their relative run directories land in OUT/work/runs/
    shutil.rmtree(workdir, ignore_errors=True)  # a demo is a fresh run, never a resume of an older code version
    workdir.mkdir()
    os.environ["KITLIB_PROFILE"] = profile
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    results = []
    for path in paths:
        target = out / path.name
        start = time.time()
        print(f"[demo] running {path.name} (profile {profile}) ...", flush=True)
        try:
            papermill.execute_notebook(str(path), str(target), cwd=str(workdir), kernel_name="python3",
                                       progress_bar=False, execution_timeout=timeout,
                                       # a cell's last outputs may arrive after its reply: nbclient's default 4 s
                                       # failed the demo on a loaded machine (papermill's autosave took 41 s)
                                       iopub_timeout=120,
                                       parameters={}, log_output=False,
                                       # the kernel's own start-up warnings (e.g. "running over TCP") are not the
                                       # notebook's output: keep them off the terminal unless they are errors
                                       extra_arguments=["--IPKernelApp.log_level=ERROR"])
            status = "ok"
        except Exception as err:  # reported in the gallery and the exit code
            status = f"failed: {type(err).__name__}: {str(err).splitlines()[0][:300] if str(err) else ''}"
        seconds = time.time() - start
        images = extract_images(target, out / path.stem) if target.exists() else []
        results.append({"name": path.stem, "status": status, "seconds": seconds, "notebook": path.name,
                        "images": [str(p.relative_to(out)) for p in images], "methods": notebook_methods(path.stem),
                        **(gallery_entry(target) if target.exists() else gallery_entry(path))})
        print(f"[demo] {path.name}: {status} in {seconds:.0f} s, {len(images)} figures", flush=True)
    index = write_gallery(out, results)
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return index
