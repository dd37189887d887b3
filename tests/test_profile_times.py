"""The profile times the parameters cells print: recorded from `kitlib demo` results, never made up."""

import json
import pathlib

import pytest

from kitlib import profile_times

NOTEBOOKS = sorted(pathlib.Path(__file__).resolve().parents[1].joinpath("notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_record_keeps_ok_notebooks_and_other_profiles(tmp_path):
    table = tmp_path / "times.json"
    results = [{"name": "01_dcgan", "status": "ok", "seconds": 391.6},
               {"name": "02_cyclegan", "status": "failed: CellExecutionError", "seconds": 12.0}]
    profile_times.record(results, "demo", machine="cpu-2", label="a 2-core CPU, test", path=table)
    profile_times.record([{"name": "01_dcgan", "status": "ok", "seconds": 40.2}], "quick", machine="cpu-2", path=table)
    saved = json.loads(table.read_text())
    assert saved["cpu-2"]["seconds"] == {"01_dcgan": {"demo": 392, "quick": 40}}  # the failed run is not a time
    assert saved["cpu-2"]["label"] == "a 2-core CPU, test"
    assert [p.name for p in tmp_path.iterdir()] == ["times.json"]  # no temporary file left

    here = profile_times.describe("01_dcgan", machine="cpu-2", table=saved)
    assert here == ("Measured for this notebook on this kind of machine (a 2-core CPU, test): "
                    "quick 40 s, demo 6.5 min; full not measured.")
    assert profile_times.describe("01_dcgan", machine="cpu-16", table=saved).startswith(
        "Not measured on this machine (a 16-core CPU). On a 2-core CPU, test: quick 40 s")
    assert profile_times.describe("02_cyclegan", machine="cpu-2", table=saved) == \
        "No time measured for this notebook yet (this machine: a 2-core CPU)."


def test_record_refuses_an_unknown_profile(tmp_path):
    with pytest.raises(ValueError, match="profile must be one of"):
        profile_times.record([], "fast", machine="cpu-2", path=tmp_path / "t.json")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_prints_its_own_measured_times(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    source = "".join(next(c for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))["source"])
    assert f'profile_times.show("{path.stem}")' in source, f"{path.name}: its parameters cell must show its own times"
    measured = [entry["seconds"][path.stem] for entry in profile_times.load().values()
                if path.stem in entry.get("seconds", {})]
    assert any({"quick", "demo"} <= set(times) for times in measured), \
        f"{path.name}: no quick and demo time in kitlib/profile_times.json (python -m kitlib demo --record-times)"
