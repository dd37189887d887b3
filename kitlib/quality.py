"""Time-to-quality: kitlib and the published recipes it is compared with, trained on the same real data for the same
minutes, every snapshot scored on a held-out split (``python -m kitlib bench quality``).

Each *system* (``kitlib``, or an anchor of ``kitlib.anchors``) trains in its own process on ``DATA/train`` and is
snapshotted when its training clock passes each budget (``kitlib.train.SnapshotClock``: wall-clock time from before
the data is read to the snapshot, the snapshots' own saving time left out). After training, the same process scores
every snapshot on ``DATA/heldout`` with one metric for every system and appends one JSON line per (system, budget)
to ``OUT/quality.jsonl``; ``plot`` draws quality against minutes, one curve per system, and ``table`` writes the
README's markdown table from those lines.

Metric (unconditional methods): the sliced Wasserstein distance (``kitlib.eval.diversity.sliced_wasserstein``)
between as many generated images as there are held-out images and the held-out images, divided by the real-vs-real
floor (the same number of training images against the held-out ones): 1.0 would be as close as real data gets. Next
to it the diversity ratio (mean pairwise L1 of generated / held-out images; far below 1 = mode collapse).

``jobs=2`` trains two systems at once, each pinned to its own core (``os.sched_setaffinity``): every system gets one
core for the same wall-clock minutes, i.e. the same CPU-minutes, side by side on one machine. ``jobs=1`` (default)
gives each system the whole machine in turn.

Example:
    python -m kitlib bench quality dcgan --data data_real/anime_faces --minutes 2,5,10,20 --anchor all --jobs 2
    python -m kitlib bench quality dcgan --data data_real/anime_faces --minutes 8         # kitlib only
    python -m kitlib bench quality --table runs/quality/quality.jsonl                    # the README table
"""

from __future__ import annotations

import datetime
import json
import math
import os
import pathlib
import subprocess
import sys
import time
from typing import Callable

import numpy as np

SYSTEM_KITLIB = "kitlib"
METHODS = ("dcgan",)  # methods bench quality can measure today (each with its metric below)
RESULTS_FILE = "quality.jsonl"
MANIFEST_FILE = "snapshots.json"  # per system: its snapshots (minutes, step, path), written before scoring


# ------------------------------------------------------------------------------------------------ kitlib's systems
class _KitlibDCGAN:
    """``python -m kitlib train dcgan --data DATA/train --image-size 64 --minutes M`` with every other default."""

    # recipes.train_dcgan options a variant may set (--set KEY=VALUE); the data, size, seed and budget are the bench's
    OPTIONS = ("batch_size", "filters", "lr", "loss", "ema", "diff_augment", "half_batch", "variant", "precision",
               "limit")

    @staticmethod
    def train(folder, clock, seed: int = 0, **options) -> None:
        from kitlib import recipes
        from kitlib.train.callbacks import SnapshotCallback

        def snapshot(path):
            callback.model.generators()["generator"].save(f"{path}.keras")

        callback = SnapshotCallback(clock, snapshot)
        # The recipe's own budget is the last mark plus a margin: the clock (which leaves snapshot time out) stops it.
        recipes.train_dcgan(data=str(folder), out=clock.folder / "run", image_size=64, seed=seed,
                            minutes=clock.marks[-1] + 1.0, callbacks=[callback], resume=False, **options)

    @staticmethod
    def sample(path, n: int, seed: int = 0) -> np.ndarray:
        import keras

        import kitlib.models.layers  # noqa: F401  (registers kitlib layers)
        from kitlib.images import to_uint8

        generator = keras.models.load_model(f"{path}.keras", compile=False)
        latents = np.random.default_rng(seed).standard_normal((n, int(generator.input_shape[-1]))).astype("float32")
        return np.concatenate([to_uint8(keras.ops.convert_to_numpy(generator(latents[i:i + 256], training=False)))
                               for i in range(0, n, 256)])


KITLIB_SYSTEMS = {"dcgan": _KitlibDCGAN}


def _system(method: str, name: str):
    """The object with ``train``/``sample`` for system ``name`` of ``method``."""
    if name == SYSTEM_KITLIB:
        return KITLIB_SYSTEMS[method]
    from kitlib import anchors

    anchor = anchors.get(name)
    if anchor.method != method:
        raise ValueError(f"anchor {name!r} is a {anchor.method} recipe, not {method}. "
                         f"{method}'s anchors: {[a.name for a in anchors.for_method(method)]}")
    return anchor.module()


# ------------------------------------------------------------------------------------------------------- scoring
def _split(data, name: str) -> pathlib.Path:
    folder = pathlib.Path(data) / name
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder: --data must hold train/ and heldout/ image folders "
                                f"(python data/fetch_real_data.py --out data_real makes data_real/anime_faces).")
    return folder


def _images(folder, image_size: int) -> np.ndarray:
    from kitlib.data.folders import image_folder

    return np.stack(list(image_folder(folder, image_size).as_numpy_iterator()))


def floor(data, image_size: int = 64, seed: int = 0) -> dict:
    """The real-vs-real floor: SWD between ``len(heldout)`` training images (seeded sample) and the held-out ones."""
    from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein

    heldout = _images(_split(data, "heldout"), image_size)
    train = _images(_split(data, "train"), image_size)
    pick = np.sort(np.random.default_rng(seed).choice(len(train), min(len(heldout), len(train)), replace=False))
    return {"heldout": heldout, "swd_floor": sliced_wasserstein(heldout, train[pick], seed=seed)["swd"],
            "heldout_diversity": pairwise_diversity(heldout), "train_images": len(train)}


def score(images: np.ndarray, reference: dict, seed: int = 0) -> dict:
    """SWD, SWD / floor and diversity ratio of generated uint8 ``images`` against ``floor(...)``'s held-out set."""
    from kitlib.eval.diversity import pairwise_diversity, sliced_wasserstein

    swd = sliced_wasserstein(reference["heldout"], images, seed=seed)
    floor_swd = reference["swd_floor"]
    return {"swd": swd["swd"], "swd_floor": floor_swd, "swd_over_floor": swd["swd"] / floor_swd,
            "swd_levels": [swd[k] for k in sorted(k for k in swd if k.startswith("swd_level_"))],  # finest first
            "diversity_ratio": pairwise_diversity(images) / reference["heldout_diversity"]}


def _machine() -> dict:
    from kitlib import runtime

    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    flags = runtime._cpu_flags()
    return {"cpu": model or "unknown", "cpu_flags": list(flags), "cores_used": len(os.sched_getaffinity(0)),
            "amx": "amx_tile" in flags}


def system_name(system: str, options: dict | None = None) -> str:
    """The label of a system in the results: ``kitlib``, ``kitlib batch_size=32,lr=0.0004`` for a variant."""
    return system + (" " + ",".join(f"{k}={v}" for k, v in sorted(options.items())) if options else "")


def parse_options(items) -> dict:
    """``["batch_size=32", "lr=4e-4"]`` -> ``{"batch_size": 32, "lr": 0.0004}`` (values read as JSON, else text)."""
    options = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--set takes KEY=VALUE with a train option name, e.g. --set batch_size=32. "
                             f"Received: {item!r}")
        try:
            options[key] = json.loads(value)
        except json.JSONDecodeError:
            options[key] = value
    return options


def run_system(method: str, system: str, data, budgets, out, *, seed: int = 0,
               options: dict | None = None) -> list[dict]:
    """Trains ``system`` on ``DATA/train`` with snapshots at ``budgets`` (minutes), scores each on ``DATA/heldout``,
    appends the lines to ``OUT/quality.jsonl`` and returns them. Run it in a fresh process (``run`` does).
    ``options``: keyword arguments of kitlib's recipe (``recipes.train_dcgan``) for a variant of kitlib's defaults."""
    if method not in METHODS:
        raise ValueError(f"bench quality measures {METHODS} so far. Received: method={method!r}")
    if options and system != SYSTEM_KITLIB:
        raise ValueError(f"--set changes kitlib's recipe only; anchors follow their source. Received: {system!r}")
    impl = _system(method, system)
    train_folder = _split(data, "train")
    _split(data, "heldout")
    label = system_name(system, options)
    folder = pathlib.Path(out) / method / label.replace(" ", "_").replace(",", "_")
    from kitlib.train.callbacks import SnapshotClock
    from kitlib.train.checkpoint import write_json_atomic

    clock = SnapshotClock(budgets, folder / "snapshots")
    cpu_start = time.process_time()
    clock.start()
    impl.train(train_folder, clock, seed=seed, **(options or {}))
    cpu_seconds = time.process_time() - cpu_start
    if not clock.done:
        raise RuntimeError(f"{system} stopped training before its last budget ({clock.marks[-1]:g} min): "
                           f"snapshots at {[s['minutes'] for s in clock.snapshots]}")
    manifest = {"method": method, "system": system, "label": label, "options": options or {}, "seed": seed,
                "data": str(pathlib.Path(data).resolve()), "cpu_seconds_whole_run": round(cpu_seconds, 1),
                "date": datetime.date.today().isoformat(), "machine": _machine(), "snapshots": clock.snapshots}
    write_json_atomic(folder / MANIFEST_FILE, manifest)  # the training is kept even if scoring fails
    return score_run(folder, out)


def score_run(folder, out) -> list[dict]:
    """Scores every snapshot listed in ``FOLDER/snapshots.json`` on the held-out split of its data and appends one
    line per snapshot to ``OUT/quality.jsonl`` (as each is scored); returns the lines. ``bench quality --rescore``
    calls it on runs already trained."""
    from kitlib.train.checkpoint import read_json
    from kitlib.viz import save_grid

    manifest = read_json(pathlib.Path(folder) / MANIFEST_FILE)
    impl = _system(manifest["method"], manifest["system"])
    seed = manifest["seed"]
    reference = floor(manifest["data"], seed=seed)
    lines = []
    for snap in manifest["snapshots"]:
        images = impl.sample(snap["path"], len(reference["heldout"]), seed=seed)
        save_grid(images[:32], f"{snap['path']}.png", ncols=8)
        line = {
            "method": manifest["method"], "system": manifest["label"],
            **({"options": manifest["options"]} if manifest["options"] else {}),
            "budget_minutes": snap["minutes"], "steps": snap["step"], "train_seconds": round(snap["seconds"], 1),
            **score(images, reference, seed=seed), "heldout_images": len(reference["heldout"]),
            "train_images": reference["train_images"], "data": manifest["data"], "seed": seed,
            "cpu_seconds_whole_run": manifest["cpu_seconds_whole_run"], "date": manifest["date"],
            **manifest["machine"],
        }
        with open(pathlib.Path(out) / RESULTS_FILE, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        lines.append(line)
    return lines


def systems_for(method: str, anchor_names) -> tuple[list[str], list[str]]:
    """``(systems to run, skip messages)``: kitlib first, then the anchors asked for (``"all"``: every one of the
    method's); an anchor that cannot run here (PyTorch missing) is skipped with a one-line message."""
    from kitlib import anchors

    wanted = [a.name for a in anchors.for_method(method)] if "all" in anchor_names else list(anchor_names)
    run, skipped = [SYSTEM_KITLIB], []
    for name in wanted:
        anchor = anchors.get(name)
        if anchor.method != method:
            raise ValueError(f"anchor {name!r} is a {anchor.method} recipe, not {method}. "
                             f"{method}'s anchors: {[a.name for a in anchors.for_method(method)]}")
        reason = anchor.available()
        (skipped.append(reason) if reason else run.append(name))
    return run, skipped


def run(method: str, data, budgets, out, *, anchors=(), jobs: int = 1, seed: int = 0, kitlib: bool = True,
        variants=()) -> list[dict]:
    """Runs every system in its own process (``jobs`` at a time, each then pinned to its own cores), then plots.

    ``variants``: lists of ``KEY=VALUE`` recipe options, each trained as one more kitlib system. Returns every line
    of ``OUT/quality.jsonl`` for ``method``.
    """
    if method not in METHODS:
        raise ValueError(f"bench quality measures {METHODS} so far. Received: method={method!r}")
    _split(data, "train"), _split(data, "heldout")
    names, skipped = systems_for(method, anchors)
    systems = ([(SYSTEM_KITLIB, [])] if kitlib else []) + [(SYSTEM_KITLIB, list(v)) for v in variants]
    systems += [(name, []) for name in names if name != SYSTEM_KITLIB]
    for _, variant in systems:  # refused here, before anything trains
        unknown = sorted(set(parse_options(variant)) - set(KITLIB_SYSTEMS[method].OPTIONS))
        if unknown:
            raise ValueError(f"--set: {method} variants take {list(KITLIB_SYSTEMS[method].OPTIONS)}. "
                             f"Received: {unknown}")
    for message in skipped:
        print(message, flush=True)
    cores = sorted(os.sched_getaffinity(0))
    jobs = max(1, min(jobs, len(systems), len(cores)))
    share = len(cores) // jobs
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    minutes = ",".join(f"{b:g}" for b in budgets)
    pending, running, failed = list(systems), [], []
    while pending or running:
        while pending and len(running) < jobs:
            slot = next(i for i in range(jobs) if i not in [r[2] for r in running])
            system, variant = pending.pop(0)
            pinned = cores[slot * share:(slot + 1) * share] if jobs > 1 else cores
            command = [sys.executable, "-m", "kitlib", "bench", "quality", method, "--data", str(data),
                       "--minutes", minutes, "--out", str(out), "--seed", str(seed), "--system", system,
                       *[f"--set={item}" for item in variant]]
            system = system_name(system, parse_options(variant))
            print(f"{system}: training for {max(budgets):g} min on core(s) {pinned} ...", flush=True)
            log = open(out / f"{method}_{system.replace(' ', '_')}.log", "w", encoding="utf-8")  # noqa: SIM115
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       preexec_fn=lambda p=pinned: os.sched_setaffinity(0, p))
            running.append((process, system, slot, log))
        time.sleep(1.0)
        for item in list(running):
            process, system, _, log = item
            if process.poll() is not None:
                log.close()
                running.remove(item)
                print(f"{system}: {'done' if process.returncode == 0 else 'FAILED'} (log: {log.name})", flush=True)
                if process.returncode:
                    failed.append(system)
    lines = read(out / RESULTS_FILE, method)
    if lines:
        plot(lines, out / f"{method}_quality.png")
        print(table(lines))
    if failed:
        raise RuntimeError(f"bench quality: {', '.join(failed)} failed; see the logs in {out}")
    return lines


def read(path, method: str | None = None) -> list[dict]:
    """The JSON lines of ``path`` (for ``method`` only when given); the latest line wins per (system, budget)."""
    latest = {}
    for line in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            if method is None or item["method"] == method:
                latest[(item["method"], item["system"], item["budget_minutes"])] = item
    return sorted(latest.values(), key=lambda d: (d["method"], d["system"] != SYSTEM_KITLIB, d["system"],
                                                    d["budget_minutes"]))


def plot(lines: list[dict], path) -> pathlib.Path:
    """SWD / floor against training minutes, one curve per system (log scale), saved to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for system in dict.fromkeys(d["system"] for d in lines):
        rows = [d for d in lines if d["system"] == system]
        ax.plot([d["budget_minutes"] for d in rows], [d["swd_over_floor"] for d in rows], marker="o", label=system,
                linewidth=2.5 if system == SYSTEM_KITLIB else 1.5)
    ax.set_xlabel("training minutes (wall clock, same cores for every system)")
    ax.set_ylabel("SWD / real-vs-real floor (lower is better)")
    ax.set_yscale("log")
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"{lines[0]['method']}: held-out quality against training time")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return pathlib.Path(path)


def minutes_to_reach(rows: list[dict], target: float) -> float | None:
    """The first budget at which a system's SWD / floor is at or below ``target`` (None if never)."""
    return next((d["budget_minutes"] for d in sorted(rows, key=lambda d: d["budget_minutes"])
                 if d["swd_over_floor"] <= target), None)


def table(lines: list[dict], budgets=None) -> str:
    """Markdown: SWD / floor (diversity) per system at ``budgets`` (default: every budget measured), and the minutes
    kitlib needs to reach each anchor's quality at its longest budget."""
    systems = list(dict.fromkeys(d["system"] for d in lines))
    by = {(d["system"], d["budget_minutes"]): d for d in lines}
    budgets = sorted({d["budget_minutes"] for d in lines}) if budgets is None else budgets
    shown = [b for b in budgets if any((s, float(b)) in by for s in systems)]
    rows = ["| system | " + " | ".join(f"{b:g} min" for b in shown) + " |", "|---" * (len(shown) + 1) + "|"]
    for system in systems:
        cells = []
        for b in shown:
            d = by.get((system, float(b)))
            cells.append("n/a" if d is None else f"{d['swd_over_floor']:.2f}× ({d['diversity_ratio']:.2f})")
        rows.append(f"| {system} | " + " | ".join(cells) + " |")
    kit = [d for d in lines if d["system"] == SYSTEM_KITLIB]
    notes = []
    for system in systems:
        if system == SYSTEM_KITLIB or not kit:
            continue
        last = max((d for d in lines if d["system"] == system), key=lambda d: d["budget_minutes"])
        reach = minutes_to_reach(kit, last["swd_over_floor"])
        notes.append(f"- kitlib reaches {system}'s {last['budget_minutes']:g}-minute quality "
                     f"({last['swd_over_floor']:.2f}×) in " + (f"{reach:g} min" if reach is not None else
                                                                 "more than its longest budget"))
    first = lines[0]
    head = (f"SWD / real-vs-real floor (diversity ratio) on {first['heldout_images']} held-out images; "
            f"{first['cpu']}, {first['cores_used']} core(s) per system, {first['date']}.")
    return "\n".join([head, "", *rows, "", *notes])


def parse_minutes(text: str) -> list[float]:
    """``"2,5,10,20"`` -> ``[2.0, 5.0, 10.0, 20.0]``; refuses anything but positive numbers, naming the value."""
    try:
        values = sorted({float(x) for x in text.split(",") if x.strip()})
    except ValueError:
        values = []
    if not values or values[0] <= 0 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"--minutes must be positive numbers separated by commas, e.g. 2,5,10,20. Received: {text!r}")
    return values
