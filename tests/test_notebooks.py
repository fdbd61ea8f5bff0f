"""Lesson notebooks: built by notebooks/build.py, named by lesson, and their solutions pass."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
FILENAME = re.compile(r"^2-\d+-\d+-[a-z0-9]+(?:-[a-z0-9]+)*\.ipynb$")

by_name = pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.name for path in NOTEBOOKS])


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A fresh build of every notebook, made by running the builder as a learner would."""
    out = tmp_path_factory.mktemp("built")
    subprocess.run(
        [sys.executable, str(NOTEBOOK_DIR / "build.py"), "--out", str(out)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    return out


def test_every_lesson_spec_has_a_committed_notebook(built):
    assert NOTEBOOKS, "no notebooks under notebooks/: run python notebooks/build.py"
    assert sorted(p.name for p in built.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]


@by_name
def test_builder_reproduces_committed_notebook(path, built):
    assert (built / path.name).read_bytes() == path.read_bytes(), (
        f"{path.name} is out of date: run python notebooks/build.py"
    )


@by_name
def test_filename_is_series_module_lesson_slug(path):
    assert FILENAME.match(path.name), f"{path.name} should look like 2-2-1-datasets-and-dataloaders"


@by_name
def test_every_exercise_is_followed_by_a_solution_and_a_check(path):
    cells = nbformat.read(path, as_version=4).cells
    code_tags = [tags(cell) for cell in cells if cell.cell_type == "code"]
    exercises = [i for i, cell_tags in enumerate(code_tags) if "exercise" in cell_tags]
    assert exercises, f"{path.name} has no cell tagged 'exercise'"
    for number, i in enumerate(exercises, start=1):
        assert code_tags[i + 1 : i + 3] == [["solution"], ["check"]], (
            f"{path.name}: exercise {number} needs a solution cell, then a check cell"
        )
    assert sum("solution" in cell_tags for cell_tags in code_tags) == len(exercises)
    for before, cell in zip(cells, cells[1:], strict=False):
        if "solution" in tags(cell):
            assert before.cell_type == "markdown" and "Solution (try first!)" in before.source


@by_name
def test_notebook_is_stored_without_outputs(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.fixture
def kernel_data_dir(monkeypatch) -> Path:
    """The MNIST root handed to the kernel as an absolute COURSE_DATA_DIR."""
    configured = os.environ.get("COURSE_DATA_DIR")
    if not configured and not (ROOT / "data").is_dir():
        pytest.skip("COURSE_DATA_DIR is unset and ./data is absent: no MNIST to run notebooks on")
    path = Path(configured).resolve() if configured else ROOT / "data"
    monkeypatch.setenv("COURSE_DATA_DIR", str(path))
    return path


@pytest.fixture
def this_python_kernel(tmp_path, monkeypatch) -> str:
    """A `python3` kernel spec that runs this interpreter, found before any other on the machine."""
    from ipykernel.kernelspec import install

    prefix = tmp_path / "kernel-prefix"
    install(prefix=str(prefix))  # writes argv [sys.executable, "-m", "ipykernel_launcher", ...]
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    return "python3"


@pytest.mark.slow
@by_name
def test_solutions_pass_their_checks(path, kernel_data_dir, this_python_kernel, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    nb.cells = [cell for cell in nb.cells if "exercise" not in tags(cell)]
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        f"import sys\nassert sys.prefix == {sys.prefix!r}, sys.prefix", id="kernel-is-this-python"
    ))
    workdir = tmp_path / "run"
    workdir.mkdir()
    client = NotebookClient(
        nb, kernel_name=this_python_kernel, timeout=180, resources={"metadata": {"path": workdir}}
    )
    client.execute()  # raises CellExecutionError, with the failing cell, if any check fails
