"""What each run profile costs per notebook, as measured: the line a notebook's parameters cell prints.

The measurements live in ``profile_times.json`` next to this file, one entry per kind of machine (``"cpu-2"``: a CPU
with 2 cores; ``"cuda-1x Tesla T4"``: one T4), written by ``python -m kitlib demo --profile P --record-times``
from the wall time of each executed notebook. Nothing is estimated: a profile never run on a machine of that kind
is reported as not measured.

Example:
>>> table = {"cpu-2": {"label": "a 2-core CPU", "seconds": {"01_dcgan": {"quick": 40, "demo": 390}}}}
>>> print(describe("01_dcgan", machine="cpu-2", table=table))
Measured for this notebook on this kind of machine (a 2-core CPU): quick 40 s, demo 6.5 min; full not measured.
>>> print(describe("01_dcgan", machine="cuda-1x Tesla T4", table=table))
Not measured on this machine (1x Tesla T4). On a 2-core CPU: quick 40 s, demo 6.5 min; full not measured.
"""

from __future__ import annotations

import json
import os
import pathlib
import time

from kitlib import runtime
from kitlib.runtime import PROFILES

TABLE_PATH = pathlib.Path(__file__).with_name("profile_times.json")


def load(path: str | os.PathLike = TABLE_PATH) -> dict:
    """The measured table: ``{machine: {"label": ..., "measured": ..., "seconds": {notebook: {profile: s}}}}``."""
    path = pathlib.Path(path)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def machine_key() -> str:
    """This machine's kind: ``"cuda-<count>x <name>"`` (or ``"metal-..."``) with GPUs, else ``"cpu-<cores>"``."""
    device = runtime.detect_device()
    return f"{device.kind}-{device.num_gpus}x {device.names[0]}" if device.num_gpus else f"cpu-{os.cpu_count()}"


def _label(machine: str) -> str:
    kind, what = machine.split("-", 1)
    return f"a {what}-core CPU" if kind == "cpu" else what


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min" if seconds < 5400 else \
        f"{seconds / 3600:.1f} h"


def _costs(times: dict) -> str:
    done = [f"{p} {_duration(times[p])}" for p in PROFILES if p in times]
    missing = [p for p in PROFILES if p not in times]
    return ", ".join(done) + (f"; {' and '.join(missing)} not measured" if missing else "") + "."


def describe(notebook: str, *, machine: str | None = None, table: dict | None = None) -> str:
    """One sentence: what ``quick``/``demo``/``full`` took for ``notebook`` (its file name without ``.ipynb``) on this
    kind of machine, or, when never measured here, on the machines that were."""
    table = load() if table is None else table
    machine = machine_key() if machine is None else machine
    here = table.get(machine, {}).get("seconds", {}).get(notebook)
    if here:
        label = table[machine].get("label", _label(machine))
        return f"Measured for this notebook on this kind of machine ({label}): {_costs(here)}"
    elsewhere = [f"On {entry.get('label', _label(key))}: {_costs(entry['seconds'][notebook])}"
                 for key, entry in table.items() if notebook in entry.get("seconds", {})]
    return " ".join([f"Not measured on this machine ({_label(machine)}).", *elsewhere]) if elsewhere else \
        f"No time measured for this notebook yet (this machine: {_label(machine)})."


def show(notebook: str) -> None:
    """Prints ``describe(notebook)``; the parameters cell of every notebook calls it."""
    print(describe(notebook))


def record(results: list[dict], profile: str, *, machine: str | None = None, label: str | None = None,
           path: str | os.PathLike = TABLE_PATH) -> pathlib.Path:
    """Writes the wall time of each notebook that ran ``ok`` in ``results`` (``kitlib demo``'s results.json) as
    ``profile`` on this kind of machine into the table; failed notebooks are left out. Returns the table's path."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}. Received: profile={profile!r}")
    table = load(path)
    machine = machine_key() if machine is None else machine
    entry = table.setdefault(machine, {"label": label or _label(machine), "seconds": {}})
    if label:
        entry["label"] = label
    for result in results:
        if result.get("status") == "ok":
            entry["seconds"].setdefault(result["name"], {})[profile] = round(float(result["seconds"]))
    entry["measured"] = time.strftime("%Y-%m-%d")
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.tmp")  # written whole, then renamed over the table: never half-written
    tmp.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
