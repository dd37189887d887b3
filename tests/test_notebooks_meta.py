"""The notebooks' parameters cell: PROFILE reaches runtime.pick, RUN_ROOT follows Drive / Kaggle / local; wording."""

import ast
import json
import pathlib
import re
import sys
import types

import pytest

from kitlib import runtime

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem[:2] for p in NOTEBOOKS]


def _parameters(path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    return "".join(tagged[0]["source"])


def _run(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "parameters", "exec"), namespace)
    return namespace


def _picks(source: str) -> dict[str, dict[str, object]]:
    """``{NAME: {"quick": v, "demo": v, "full": v}}`` for every ``NAME = runtime.pick(...)`` of the cell."""
    found = {}
    for node in ast.parse(source).body:
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) == "runtime.pick"):
            values = {k.arg: ast.literal_eval(k.value) for k in node.value.keywords}
            values.setdefault("full", values["demo"])
            found[node.targets[0].id] = values
    return found


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """Quick mode as in CI, no Kaggle folder, Drive stood in by a temporary folder; restores KITLIB_PROFILE."""
    monkeypatch.setenv("KITLIB_QUICK", "1")
    monkeypatch.setenv("KITLIB_PROFILE", "quick")
    monkeypatch.delenv("KITLIB_PROFILE")
    monkeypatch.setattr(runtime, "KAGGLE_WORKING", str(tmp_path / "no_kaggle"))
    monkeypatch.setattr(runtime, "COLAB_DRIVE", str(tmp_path / "drive"))
    return tmp_path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_profile_set_in_the_parameters_cell_reaches_every_pick(path, clean_env):
    source = _parameters(path)
    picks = _picks(source)
    assert len(picks) >= 3, f"{path.name}: expected runtime.pick knobs in the parameters cell"
    assert re.search(r"^PROFILE = runtime\.profile\(\)", source, re.M), f"{path.name}: no PROFILE line"
    assert source.index("runtime.use_profile(PROFILE)") < min(source.index(f"{n} =") for n in picks)
    default = _run(source)
    assert default["PROFILE"] == "quick" and all(default[n] == v["quick"] for n, v in picks.items())
    full = _run(re.sub(r"^PROFILE = .*$", 'PROFILE = "full"', source, count=1, flags=re.M))
    assert {n: full[n] for n in picks} == {n: v["full"] for n, v in picks.items()}
    assert runtime.profile() == "full" and full["RUN_DIR"].startswith("runs/full/")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_run_root_local_kaggle_and_drive(path, clean_env, monkeypatch):
    source = _parameters(path)
    assert "RUN_DIR = f\"{RUN_ROOT}/{PROFILE}/" in source and re.search(r"^DRIVE = False\b", source, re.M)
    assert _run(source)["RUN_DIR"].startswith("runs/quick/")
    kaggle = clean_env / "kaggle_working"
    kaggle.mkdir()
    monkeypatch.setattr(runtime, "KAGGLE_WORKING", str(kaggle))
    assert _run(source)["RUN_DIR"].startswith(f"{kaggle}/runs/quick/")
    mounted = []
    colab = types.ModuleType("google.colab")
    colab.drive = types.SimpleNamespace(mount=lambda where: (mounted.append(where),
                                                             (pathlib.Path(where) / "MyDrive").mkdir(parents=True)))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    on_drive = _run(re.sub(r"^DRIVE = False", "DRIVE = True", source, count=1, flags=re.M))
    assert mounted == [str(clean_env / "drive")]
    assert on_drive["RUN_DIR"].startswith(f"{clean_env}/drive/MyDrive/kitlib/runs/quick/")
    assert pathlib.Path(on_drive["RUN_ROOT"]).is_dir()


def test_run_root_without_colab_says_how_to_fix(clean_env):
    with pytest.raises(RuntimeError, match="DRIVE = False"):
        runtime.run_root(drive=True)
    (clean_env / "drive" / "MyDrive").mkdir(parents=True)  # already mounted: no Colab needed
    assert runtime.run_root(drive=True) == str(clean_env / "drive" / "MyDrive" / "kitlib" / "runs")
    with pytest.raises(ValueError, match="PROFILE must be one of"):
        runtime.use_profile("huge")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebooks_speak_to_students(path):
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"])
    for in_house in ("memoir", "seed 003", "seed-003", "the seed's", "KITLIB_PROFILE=full"):
        assert in_house not in text, f"{path.name} says {in_house!r}"
    if re.search(r"\b[Tt]he report\b|\breport's", text):
        assert re.search(r"student (report|project)", text), f"{path.name}: says 'report' without saying whose"
    assert "Which interruptions this covers" in text, f"{path.name}: the resume story names no cases"


def _cells(path, kind: str) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == kind]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_catalogue_data_is_measured_on_its_held_out_split(path):
    """A notebook that resolves ``DATA`` by name keeps the held-out split and uses it after that line (issue 26)."""
    code = _cells(path, "code")
    first = next((i for i, source in enumerate(code) if "resolve_data(" in source), None)
    if first is None:
        pytest.skip(f"{path.name} takes no DATA")
    assert re.search(r"^DATA, HELDOUT = data\.resolve_data\(", code[first], re.M), f"{path.name}: HELDOUT not kept"
    after = "\n".join(code[first:]).replace("DATA, HELDOUT = data.resolve_data(", "", 1)
    assert re.search(r"\bHELDOUT\b", after), f"{path.name}: HELDOUT is never used after resolve_data"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_training_builds_under_the_distribution_strategy(path):
    """Every ``X.compile()`` of a notebook runs inside ``with strategy.scope():`` (or in a function handed to
    ``train.fit_for_budget``, which compiles inside the model's scope), the strategy comes from ``runtime.strategy()``,
    and a markdown cell says what the scope does for a student (issue 27)."""
    code = _cells(path, "code")
    compiles = 0
    for source in code:
        tree = ast.parse(source)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "compile"
                    and ast.unparse(node.func.value) != "re"):
                continue
            compiles += 1
            scopes, up = [], parents.get(node)
            while up is not None:
                scopes.append(up)
                up = parents.get(up)
            inside = any(isinstance(s, ast.With) and any(ast.unparse(i.context_expr) == "strategy.scope()"
                                                         for i in s.items) for s in scopes)
            in_function = any(isinstance(s, ast.FunctionDef) for s in scopes)
            assert inside or in_function, f"{path.name}: {ast.unparse(node)} outside `with strategy.scope():`"
    if compiles:
        assert any("strategy = runtime.strategy()" in source for source in code), f"{path.name}: no runtime.strategy()"
        text = "\n".join(_cells(path, "markdown"))
        assert "strategy.scope()" in text and "2×T4" in text, f"{path.name}: no sentence on the strategy scope"
