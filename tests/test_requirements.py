"""The version promises hold together: every floor in requirements.txt is what the floor job installs, and CI runs it."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _specs(name: str) -> dict[str, str]:
    """``{package: version}`` of the ``>=`` or ``==`` lines of a requirements/constraints file (markers ignored)."""
    specs = {}
    for line in (ROOT / name).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*(?:>=|==)\s*([0-9][^\s;,]*)", line)
        if match:
            specs[match.group(1).lower().replace("_", "-")] = match.group(2)
    return specs


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def test_floor_constraints_install_exactly_the_requirement_floors():
    floors, pinned = _specs("requirements.txt"), _specs("constraints-floor.txt")
    for package, floor in floors.items():
        installed = pinned.get("tensorflow-cpu" if package == "tensorflow" else package)
        assert installed is not None, f"constraints-floor.txt does not pin {package} (requirements.txt: >={floor})"
        # the floor job installs the floor itself, or its first patch release where the floor names only X.Y
        assert _release(installed)[:len(_release(floor))] == _release(floor) or (
            len(_release(floor)) == 2 and _release(installed)[:2] == _release(floor)), (
            f"requirements.txt promises {package}>={floor} but the floor job installs {installed}")


def test_newest_constraints_satisfy_the_floors():
    floors, pinned = _specs("requirements.txt"), _specs("constraints.txt")
    for package, floor in floors.items():
        installed = pinned.get("tensorflow-cpu" if package == "tensorflow" else package)
        assert installed is not None and _release(installed) >= _release(floor), (package, floor, installed)


def test_ci_runs_both_stacks():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test test-floor$", ci, re.M), ci
    makefile = (ROOT / "Makefile").read_text()
    assert "test-floor:" in makefile and "constraints-floor.txt" in makefile
