"""What a lesson spec is written in: markdown, code, and the cells of one exercise.

An exercise runs top to bottom as a learner meets it: the brief, the learner's cell, the check,
then the solution. The solution is a markdown cell holding the code inside a closed
`<details>` block: it is rendered folded away in Colab, JupyterLab and classic Jupyter alike
(cell metadata such as `jupyter.source_hidden` or Colab's `cellView` is honoured by one of them
only), it never runs by accident, and the code can still be copied once it is opened.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from textwrap import dedent

SOLUTION_SUMMARY = "Solution (try your own version first)"
_SOLUTION_BLOCK = re.compile(r"^(`{3,})python\n(.*?)\n\1$", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    tags: tuple[str, ...] = ()

    def metadata(self) -> dict:
        """Notebook cell metadata: the tags (exercise, check, solution)."""
        return {"tags": list(self.tags)} if self.tags else {}


def markdown(source: str, *tags: str) -> Cell:
    return Cell("markdown", dedent(source).strip(), tags)


def code(source: str, *tags: str) -> Cell:
    return Cell("code", dedent(source).strip(), tags)


def solution_markdown(solution: str) -> str:
    """The solution's code in a closed <details> block; the fence outgrows any backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", solution)), default=0)
    fence = "`" * max(3, longest + 1)
    # The blank lines around the fence make every renderer treat it as markdown inside the HTML.
    return (f"<details>\n<summary><b>{SOLUTION_SUMMARY}</b></summary>\n\n"
            f"{fence}python\n{solution}\n{fence}\n\n</details>")


def solution_code(markdown_source: str) -> str:
    """The code inside a solution cell written by solution_markdown."""
    found = _SOLUTION_BLOCK.search(markdown_source)
    if found is None:
        raise ValueError("no ```python block in this solution cell")
    return found.group(2)


def needs_check(names: tuple[str, ...]) -> str:
    """The check's first lines: name every variable the learner's cell has not set yet.

    A starter leaves them None (or, when its cell stopped at a NotImplementedError, undefined);
    without this the check's first comparison would crash with a bare TypeError or NameError.
    """
    listed = ", ".join(f'"{name}"' for name in names) + ("," if len(names) == 1 else "")
    return (f"unset = [name for name in ({listed}) if globals().get(name) is None]\n"
            'assert not unset, f"still missing: {\', \'.join(unset)}: fill in your cell above and run it"')


def exercise(brief: str, scaffold: str, solution: str, check: str, setup: str = "",
             needs: tuple[str, ...] = ()) -> list[Cell]:
    """Brief, optional given setup, the learner's cell, the check, then the folded solution.

    `needs`: the names the learner's cell must set; the check asserts them first, by name.
    """
    cells = [markdown(brief)]
    if setup:
        cells.append(code(setup))
    check = dedent(check).strip()
    if needs:
        check = f"{needs_check(needs)}\n\n{check}"
    return cells + [
        code(scaffold, "exercise"),
        code(check, "check"),
        markdown(solution_markdown(dedent(solution).strip()), "solution"),
    ]
