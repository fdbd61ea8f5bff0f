"""The rooms of `course/` and the one direction of their arrows, read from every import.

pages → ui → runs / charts / concepts → engine. Streamlit lives only in app.py, pages/ and
course/ui/; the engine imports nothing else from `course`; no module imports itself back
through others. Function-local imports count: a late `import` is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"

# What each room may import from `course` (besides itself). lessons.py is the course map.
ALLOWED = {
    "engine": set(),
    "concepts": {"engine", "lessons"},
    "charts": {"engine", "concepts"},
    "runs": {"engine", "concepts", "lessons"},
    "ui": {"engine", "concepts", "charts", "runs", "lessons"},
    "lessons": set(),
    "__main__": {"engine", "concepts", "runs", "lessons"},
    "__init__": set(),
}
STREAMLIT_ROOMS = {"ui"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from course.engine import data` imports the module course.engine.data
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if (ROOT / Path(*node.module.split("."), alias.name)).with_suffix(".py").exists())
    return found


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


COURSE_FILES = sorted(COURSE.rglob("*.py"))
GRAPH = {module_name(path): {m for m in imports_of(path) if m.startswith("course.")}
         for path in COURSE_FILES}


def test_every_course_module_sits_in_a_known_room():
    rooms = {room_of(module) for module in GRAPH}
    assert rooms <= set(ALLOWED), rooms - set(ALLOWED)
    assert {"engine", "concepts", "charts", "runs", "ui"} <= rooms


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_the_rooms_below_it(path):
    module = module_name(path)
    room = room_of(module)
    wrong = {m for m in GRAPH[module]
             if room_of(m) != room and room_of(m) not in ALLOWED[room] | {"__init__"}}
    assert not wrong, f"{module} ({room}) must not import {sorted(wrong)}"


@pytest.mark.parametrize("path", COURSE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_streamlit_only_in_the_ui_room(path):
    module = module_name(path)
    uses = {m for m in imports_of(path) if m == "streamlit" or m.startswith("streamlit.")}
    if room_of(module) not in STREAMLIT_ROOMS:
        assert not uses, f"{module} imports {sorted(uses)}: Streamlit belongs in course/ui/"


def test_the_engine_imports_no_other_part_of_course():
    for module, imported in GRAPH.items():
        if room_of(module) == "engine":
            assert all(room_of(m) in ("engine", "__init__") for m in imported), (module, imported)


def test_no_import_circle():
    known = set(GRAPH)

    def visit(module, trail):
        for target in sorted(GRAPH.get(module, ())):
            if target not in known or target == module.rsplit(".", 1)[0]:
                continue
            if target in trail:
                circle = trail[trail.index(target):] + [target]
                pytest.fail("import circle: " + " → ".join(circle))
            visit(target, trail + [target])

    for start in sorted(GRAPH):
        visit(start, [start])


def test_the_test_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def late():\n    import streamlit as st\n    from course.runs import jobs\n")
    assert {"streamlit", "course.runs"} <= imports_of(sample)
