"""Lesson notebooks: built by notebooks/build.py, named by lesson, and their solutions pass."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from notebooks import cells as cells_module

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
def test_every_exercise_is_followed_by_its_check_then_its_solution(path):
    cells = nbformat.read(path, as_version=4).cells
    exercises = [i for i, cell in enumerate(cells) if "exercise" in tags(cell)]
    assert exercises, f"{path.name} has no cell tagged 'exercise'"
    for number, i in enumerate(exercises, start=1):
        learner, check, solution = cells[i : i + 3]
        assert learner.cell_type == "code" and check.cell_type == "code", path.name
        assert tags(check) == ["check"] and tags(solution) == ["solution"], (
            f"{path.name}: exercise {number} needs its check, then its solution"
        )
    assert sum("solution" in tags(cell) for cell in cells) == len(exercises)
    assert sum("check" in tags(cell) for cell in cells) == len(exercises)


@by_name
def test_solutions_are_folded_markdown_that_never_runs(path):
    cells = nbformat.read(path, as_version=4).cells
    code_sources = [cell.source for cell in cells if cell.cell_type == "code"]
    solutions = [cell for cell in cells if "solution" in tags(cell)]
    for solution in solutions:
        # Markdown never executes, and a <details> without `open` is closed in Colab and Jupyter.
        assert solution.cell_type == "markdown"
        assert solution.source.startswith("<details>\n<summary>") and "<details open" not in solution.source
        assert solution.source.rstrip().endswith("</details>")
        solution_code = cells_module.solution_code(solution.source)
        compile(solution_code, f"{path.name} solution", "exec")  # copyable, valid Python
        assert solution_code not in code_sources  # no runnable copy anywhere in the notebook
        assert "source_hidden" not in str(solution.metadata) and "cellView" not in str(solution.metadata)


def test_solution_block_survives_backticks_in_the_code():
    code = 'text = """\n```python\nprint(1)\n```\n"""'
    assert cells_module.solution_code(cells_module.solution_markdown(code)) == code


def test_running_a_notebook_top_to_bottom_never_runs_a_solution():
    cells = cells_module.exercise("## Try", "answer = None  # TODO", "answer = 42",
                                  "assert answer == 42")
    assert [(cell.kind, cell.tags) for cell in cells] == [
        ("markdown", ()), ("code", ("exercise",)), ("code", ("check",)), ("markdown", ("solution",)),
    ]
    assert "answer = 42" not in [cell.source for cell in cells if cell.kind == "code"]


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


# What an unfinished exercise may raise: an error that tells the learner what to do next.
SPEAKING_ERRORS = {"AssertionError", "NotImplementedError"}

# Run after the whole notebook: the optional code paths a learner can switch on, shrunk to stay quick.
AFTER_THE_RUN = {
    "2-2-2-mnist-project.ipynb": (
        "histories = scissors(images=640, epochs=2)  # the scissors setting, with the learner's fit\n"
        "side_by_side(*histories)\n"
        "assert [[row['epoch'] for row in history] for history in histories] == [[1, 2], [1, 2]]"
    ),
}


def speaks(ename: str, evalue: str) -> bool:
    """Whether an error says what is missing: a failed check or a stub, with a message."""
    return ename in SPEAKING_ERRORS and bool(evalue.strip())


def test_a_check_names_what_the_learners_cell_has_not_set():
    check = cells_module.exercise("## Try", "answer = None  # TODO", "answer = 42",
                                  "assert answer == 42", needs=("answer", "other"))[2].source
    with pytest.raises(AssertionError, match="still missing: answer, other"):
        exec(check, {"answer": None})  # `other` was never defined: the starter stopped early
    with pytest.raises(AssertionError, match="still missing: other"):
        exec(check, {"answer": 42})
    exec(check, {"answer": 42, "other": 0})


def exercise_run(cells) -> list[tuple[nbformat.NotebookNode, bool]]:
    """Every code cell in notebook order, each with whether it must succeed.

    At each exercise the untouched starter runs and its check must fail; then the solution,
    taken from its folded markdown cell, runs and the same check must pass.
    """
    steps = []
    for i, cell in enumerate(cells):
        if "check" in tags(cell):
            solution = cells_module.solution_code(cells[i + 1].source)
            steps += [(cell, False), (nbformat.v4.new_code_cell(solution), True), (cell, True)]
        elif "exercise" in tags(cell):
            steps.append((cell, None))  # an unfinished starter may fail or not: its check decides
        elif cell.cell_type == "code":
            steps.append((cell, True))
    return [(nbformat.v4.new_code_cell(cell.source), succeeds) for cell, succeeds in steps]


@pytest.mark.slow
@by_name
def test_checks_fail_on_the_starter_and_pass_with_the_solution(path, kernel_data_dir,
                                                                 this_python_kernel, tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    steps = exercise_run(nbformat.read(path, as_version=4).cells)
    first = nbformat.v4.new_code_cell(f"import sys\nassert sys.prefix == {sys.prefix!r}, sys.prefix")
    steps.insert(0, (first, True))
    if path.name in AFTER_THE_RUN:
        steps.append((nbformat.v4.new_code_cell(AFTER_THE_RUN[path.name]), True))
    run = nbformat.v4.new_notebook(cells=[cell for cell, _ in steps])
    workdir = tmp_path / "run"
    workdir.mkdir()
    client = NotebookClient(
        run, kernel_name=this_python_kernel, timeout=180, resources={"metadata": {"path": workdir}}
    )
    checks = 0
    with client.setup_kernel():
        for index, (cell, succeeds) in enumerate(steps):
            if succeeds is True:
                client.execute_cell(cell, index)  # raises CellExecutionError, with the cell
            elif succeeds is False:
                checks += 1
                with pytest.raises(CellExecutionError) as failed:
                    client.execute_cell(cell, index)
                assert speaks(failed.value.ename, failed.value.evalue), (
                    f"{path.name}, check {checks} on the untouched starter raised "
                    f"{failed.value.ename}: {failed.value.evalue!r}; it should assert what is missing"
                )
            else:
                client.allow_errors = True
                client.execute_cell(cell, index)
                client.allow_errors = False
                for error in [out for out in cell.outputs if out.output_type == "error"]:
                    assert speaks(error.ename, error.evalue), (
                        f"{path.name}, the starter before check {checks + 1} raised {error.ename}: "
                        f"{error.evalue!r}; a stub should raise NotImplementedError saying what to do"
                    )
    assert checks == sum("check" in tags(cell) for cell in nbformat.read(path, as_version=4).cells)
