"""Live curves read back from runs' TensorBoard event files: TensorBoard's Scalars tab, drawn in
the page (TensorBoard's own server cannot be reached on Streamlit Cloud).

`event_curves` draws them and keeps polling while a run trains (widgets.poll).
"""

from __future__ import annotations

import streamlit as st

from course.charts import figures
from course.concepts import diagnostics
from course.engine.train import RunConfig
from course.runs import recorder, workspace
from course.ui import panel, widgets

FRACTION_TAGS = ("accuracy/", "dead_relu/")  # shares between 0 and 1: drawn on a 0-100% axis


def section_runs(space: workspace.Workspace, configs: dict[str, RunConfig]) -> dict[str, str]:
    """Each named config's run in the workspace: the one its Train button reuses, else the newest
    with these settings (stopped or failed: its curves so far still tell something)."""
    found = {name: panel.latest_run(space, config) for name, config in configs.items()}
    return {name: run_id for name, run_id in found.items() if run_id}


@st.cache_data(show_spinner=False, max_entries=64)
def _scalars(logdir: str, stamp: tuple) -> dict[str, list[tuple[int, float]]]:
    return diagnostics.read_scalars(logdir)


def run_scalars(space: workspace.Workspace, run_id: str) -> dict[str, list[tuple[int, float]]]:
    """The run's scalars from its event files, read again only when a file has grown."""
    try:
        logdir = recorder.events_dir(space.run_dir(run_id))
    except workspace.WorkspaceError:  # deleted in another tab while this page watched it
        return {}
    return _scalars(str(logdir), diagnostics.events_stamp(logdir))


def run_state(space: workspace.Workspace, run_id: str) -> str:
    """The run's state as the runs panel shows it; "missing" once the run has been deleted."""
    try:
        return panel.display_state(space.run_dir(run_id))["state"]
    except workspace.WorkspaceError:
        return "missing"


def event_curves(space: workspace.Workspace, runs: dict[str, str], tags: list[str], key: str,
                 log_y: bool = False) -> None:
    """The runs' scalars overlaid, one chart per tag, two a row, redrawn while any run trains.

    `runs` maps a legend name to a run id; `log_y` puts the loss tags on a log axis."""

    def draw() -> bool:
        states = {name: run_state(space, run_id) for name, run_id in runs.items()}
        st.caption(" · ".join(f"**{name}**: {panel.STATE_LABELS.get(state, state)}"
                              for name, state in states.items()))
        by_tag = diagnostics.curves_by_tag(
            {name: run_scalars(space, run_id) for name, run_id in runs.items()}, tags)
        if not by_tag:
            st.caption("The curves appear as soon as the runs have logged a few steps.")
        columns = [column for _ in range(0, len(by_tag), 2) for column in st.columns(2)]
        for column, (tag, series) in zip(columns, by_tag.items(), strict=False):
            figure = figures.scalar_curves(series, tag, log_y=log_y and "loss" in tag, title=tag,
                                           fraction=tag.startswith(FRACTION_TAGS))
            column.plotly_chart(figure, key=f"{key}.{tag}")
        return any(state in panel.BUSY_STATES for state in states.values())

    widgets.poll(draw, any(run_state(space, run_id) in panel.BUSY_STATES for run_id in runs.values()))
