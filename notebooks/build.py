"""Write every lesson notebook from its spec in notebooks/lessons/.

    python notebooks/build.py            # (re)write notebooks/2-M-L-<slug>.ipynb
    python notebooks/build.py --out DIR  # write them into DIR instead (the tests compare)

The output is deterministic: fixed cell ids, no outputs, sorted JSON keys.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

import nbformat
from nbformat import v4

from course import lessons as syllabus

NOTEBOOKS = Path(__file__).resolve().parent
sys.path.insert(0, str(NOTEBOOKS.parent))  # run as a script: `notebooks` and `course` importable

NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}


def lesson_modules() -> list[ModuleType]:
    """Every lesson spec, in file-name order (l_2_2_1, l_2_2_2, ...)."""
    names = sorted(path.stem for path in (NOTEBOOKS / "lessons").glob("l_*.py"))
    return [importlib.import_module(f"notebooks.lessons.{name}") for name in names]


def notebook_filename(spec: ModuleType) -> str:
    """`2-2-1-datasets-and-dataloaders.ipynb`, named by the syllabus (course/lessons.py)."""
    return syllabus.lesson(spec.SLUG).notebook_name


def notebook(spec: ModuleType) -> nbformat.NotebookNode:
    """The lesson's title cell (code and title from the syllabus) followed by its spec's cells."""
    lesson = syllabus.lesson(spec.SLUG)
    nb = v4.new_notebook(metadata=dict(NOTEBOOK_METADATA))
    nb.cells.append(v4.new_markdown_cell(f"# Lesson {lesson.code}: {lesson.title}", id="title"))
    for number, cell in enumerate(spec.CELLS, start=1):
        new_cell = v4.new_markdown_cell if cell.kind == "markdown" else v4.new_code_cell
        nb.cells.append(new_cell(cell.source, id=f"cell-{number:02d}", metadata=cell.metadata()))
    nbformat.validate(nb)
    return nb


def build(out_dir: Path = NOTEBOOKS) -> list[Path]:
    """Write every lesson's notebook into out_dir; return the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in lesson_modules():
        path = out_dir / notebook_filename(spec)
        path.write_text(nbformat.writes(notebook(spec)) + "\n", encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=NOTEBOOKS, help="folder to write into")
    for path in build(parser.parse_args(argv).out):
        print(path)


if __name__ == "__main__":
    main()
