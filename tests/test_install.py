"""The notebooks' install cell: one project address (pyproject's [project.urls]), wheels first, a clear failure."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
tomllib = pytest.importorskip("tomllib")  # Python >= 3.11


def _home() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]["Homepage"]


def _cells(path):
    return ["".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]


def _github_addresses(text: str) -> set[str]:
    """The ``github.com/OWNER/REPO`` addresses a text links to (Colab badges name them ``/github/OWNER/REPO``)."""
    found = set(re.findall(r"github\.com/([\w.-]+/[\w.-]+)", text))
    found |= set(re.findall(r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)", text))
    return {f"https://github.com/{a.removesuffix('.git')}" for a in found}


def test_every_install_cell_and_link_uses_the_pyproject_address():
    home = _home()
    assert home.startswith("https://github.com/") and home != "https://github.com/kitlib/kitlib"  # a stranger's org
    install = _cells(NOTEBOOKS[0])[1]
    assert f'"git+{home}"' in install
    for path in NOTEBOOKS:
        cells = _cells(path)
        assert cells[1] == install, f"{path.name}: cell 1 differs from 00's install cell; copy 00's"
        badges = _github_addresses(cells[0])
        assert badges == {home}, f"{path.name}: badge links to {badges}, pyproject says {home}"
        assert f"/blob/main/notebooks/{path.name}" in cells[0], path.name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = {a for a in _github_addresses(readme) if "kitlib" in a}
    assert links == {home}, f"README links to {links}; pyproject's [project.urls] Homepage is {home}"
    for path in NOTEBOOKS:
        assert f"colab.research.google.com/github/{home.removeprefix('https://github.com/')}/blob/main/notebooks/" \
               f"{path.name}" in readme, f"README has no Colab link for {path.name}"


@pytest.fixture(scope="module")
def fresh_python(tmp_path_factory):
    """A new virtualenv (pip, no kitlib, no TensorFlow) and a folder holding the kitlib wheel."""
    tmp = tmp_path_factory.mktemp("install")
    wheels = tmp / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels),
                    str(ROOT)], check=True, cwd=tmp, capture_output=True)
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True)
    return tmp / "venv" / "bin" / "python", wheels


def _run_install_cell(python, cwd, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KITLIB_WHEELS", "VIRTUAL_ENV")}
    environ.update(GIT_TERMINAL_PROMPT="0", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", **env)
    cell = _cells(NOTEBOOKS[0])[1]
    return subprocess.run([str(python), "-c", cell + "\nimport kitlib.runtime\nprint('kitlib at', kitlib.__file__)"],
                          cwd=cwd, env=environ, capture_output=True, text=True, timeout=300)


def test_install_cell_without_any_source_says_what_was_tried(fresh_python, tmp_path):
    python, _ = fresh_python
    done = _run_install_cell(python, tmp_path)
    assert done.returncode != 0
    assert "RuntimeError: kitlib could not be installed. Tried:" in done.stderr
    assert f"git+{_home()}" in done.stderr and "make wheel" in done.stderr and "Kaggle dataset" in done.stderr
    assert "CalledProcessError" not in done.stderr


def test_install_cell_installs_the_wheel_from_a_folder(fresh_python, tmp_path):
    python, wheels = fresh_python
    done = _run_install_cell(python, tmp_path, KITLIB_WHEELS=str(wheels))
    assert done.returncode == 0, done.stderr
    assert f"kitlib at {python.parents[1]}" in done.stdout  # installed into the fresh venv, not this checkout
    again = _run_install_cell(python, tmp_path)  # installed: nothing to do, no source needed
    assert again.returncode == 0 and "kitlib at" in again.stdout, again.stderr
