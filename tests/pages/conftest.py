"""What the lesson-page tests share: a private runs root and a fresh AppTest session on a page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def runs_root(tmp_path_factory) -> Path:
    """Every workspace of the module lives under its own temporary runs root (autouse: an
    answered check makes a workspace, and none may land in the user's real data folder)."""
    root = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_RUNS_DIR", str(root))
        yield root


def open_lesson(page: str, ws: str | None = None) -> AppTest:
    """A fresh session on the page through app.py; `ws` puts a workspace token in the URL first."""
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    if ws is not None:
        at.query_params["ws"] = ws
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


def metric(at: AppTest, label: str) -> str:
    """The value of the st.metric with this label."""
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture(scope="module")
def own_worker_pool(runs_root):
    """A worker pool for one test module that trains, shut down at its end (it would outlive
    pytest); a module asks for it with `pytest.mark.usefixtures("own_worker_pool")`."""
    from course.ui import panel

    panel.job_runner.clear()
    panel.job_runner()
    yield
    panel.job_runner().shutdown()
    panel.job_runner.clear()
