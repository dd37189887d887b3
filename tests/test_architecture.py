"""kitlib's imports point downwards (the layers of docs/ARCHITECTURE.md) and never form a cycle; no stale doc links."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kitlib"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"


def read_layers(text: str) -> dict[str, int]:
    """``{module prefix: layer}`` from the fenced ``layers`` block of ARCHITECTURE.md."""
    block = re.search(r"```layers\n(.*?)```", text, re.S)
    if block is None:
        raise AssertionError(f"{ARCHITECTURE} has no ```layers block (one line per layer: 'N prefix prefix ...').")
    layers = {}
    for line in block.group(1).strip().splitlines():
        level, *prefixes = line.split()
        layers.update({p: int(level) for p in prefixes})
    return layers


def module_files(package: pathlib.Path) -> dict[str, pathlib.Path]:
    files = {}
    for path in package.rglob("*.py"):
        parts = (package.name,) + path.relative_to(package).with_suffix("").parts
        files[".".join(parts).removesuffix(".__init__")] = path
    return files


def imports_of(name: str, path: pathlib.Path, modules: dict) -> set[str]:
    """kitlib modules that ``name`` imports anywhere (module level or inside functions), resolved to files."""
    base = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                prefix = base
                for _ in range(node.level - 1):
                    prefix = prefix.rpartition(".")[0]
                module = f"{prefix}.{module}" if module else prefix
            targets = [f"{module}.{a.name}" for a in node.names] + [module]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target.startswith("kitlib") and target != name and target != "kitlib":
                found.add(target)
    return found


def layer_of(module: str, layers: dict[str, int]) -> int | None:
    matches = [p for p in layers if module == p or module.startswith(p + ".")]
    return layers[max(matches, key=len)] if matches else None


def graph_and_layers(package: pathlib.Path, layers: dict[str, int]):
    modules = module_files(package)
    graph = {m: imports_of(m, f, modules) for m, f in modules.items() if m != package.name}
    return graph, {m: layer_of(m, layers) for m in graph}


def violations(graph: dict, levels: dict) -> list[str]:
    problems = [f"{m} is in no layer of docs/ARCHITECTURE.md: add its prefix to the ```layers block"
                for m, level in levels.items() if level is None]
    for module, targets in graph.items():
        for target in targets:
            if levels[module] is not None and levels[target] is not None and levels[target] > levels[module]:
                problems.append(f"{module} (layer {levels[module]}) imports {target} (layer {levels[target]}): "
                                "move what it needs down, or pass it in")
    return problems


def cycles(graph: dict) -> list[list[str]]:
    """Strongly connected components of more than one module (edges into package __init__ re-exports ignored)."""
    edges = {m: {t for t in ts if not any(k.startswith(t + ".") for k in graph)} for m, ts in graph.items()}
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_imports_point_downwards_and_form_no_cycle():
    graph, levels = graph_and_layers(PACKAGE, read_layers(ARCHITECTURE.read_text(encoding="utf-8")))
    assert not violations(graph, levels), "\n".join(violations(graph, levels))
    assert not cycles(graph), f"import cycles: {cycles(graph)}"


def _write_package(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    package = root / "kitlib"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    return package


def test_checker_catches_an_upward_import_inside_a_function_and_a_cycle(tmp_path):
    package = _write_package(tmp_path, {
        "viz.py": "def f():\n    from kitlib.train.gan import generate\n",
        "train/__init__.py": "", "train/gan.py": "from kitlib import viz\n",
        "train/base.py": "from kitlib.train import callbacks\n", "train/callbacks.py": "import kitlib.train.base\n",
        "orphan.py": "",
    })
    layers = read_layers("```layers\n0 kitlib.viz\n1 kitlib.train\n```")
    graph, levels = graph_and_layers(package, layers)
    problems = violations(graph, levels)
    assert any("kitlib.viz (layer 0) imports kitlib.train.gan (layer 1)" in p for p in problems)
    assert any(p.startswith("kitlib.orphan is in no layer") for p in problems)
    assert sorted(cycles(graph)) == [["kitlib.train.base", "kitlib.train.callbacks"],
                                     ["kitlib.train.gan", "kitlib.viz"]]


@pytest.mark.parametrize("path", ["kitlib", "README.md"])
def test_no_reference_to_a_missing_design_document(path):
    files = [ROOT / path] if (ROOT / path).is_file() else sorted((ROOT / path).rglob("*.py"))
    stale = [str(f.relative_to(ROOT)) for f in files if "DESIGN.md" in f.read_text(encoding="utf-8")]
    assert not stale, f"{stale} cite DESIGN.md, which the repository does not have: cite docs/ARCHITECTURE.md"
