"""What a lesson spec is written in: markdown, code, and the cells of one exercise."""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent

SOLUTION_LABEL = "**Solution (try first!)**"


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    tags: tuple[str, ...] = ()

    def metadata(self) -> dict:
        """Notebook cell metadata: the tags, and solutions folded away in JupyterLab."""
        metadata: dict = {"tags": list(self.tags)} if self.tags else {}
        if "solution" in self.tags:
            metadata["jupyter"] = {"source_hidden": True}
        return metadata


def markdown(source: str) -> Cell:
    return Cell("markdown", dedent(source).strip())


def code(source: str, *tags: str) -> Cell:
    return Cell("code", dedent(source).strip(), tags)


def exercise(brief: str, scaffold: str, solution: str, check: str, setup: str = "") -> list[Cell]:
    """Brief, optional given setup, the learner's cell, the labelled solution, then the check."""
    cells = [markdown(brief)]
    if setup:
        cells.append(code(setup))
    return cells + [
        code(scaffold, "exercise"),
        markdown(SOLUTION_LABEL),
        code(solution, "solution"),
        code(check, "check"),
    ]
