"""Streamlit helpers for every page that trains: the learner's workspace, Train/Stop, live progress."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from course import charts
from course.runs import jobs, workspace
from course.train import RunConfig

POLL_SECONDS = 2.0  # four polling pages at 1 s cost the server ~0.6 cores; 2 s halves it


@st.cache_resource(show_spinner=False)
def job_runner() -> jobs.JobRunner:
    """One pool of worker processes per server, started before the first click."""
    runner = jobs.JobRunner()
    runner.warm()
    workspace.remove_stale_workspaces()
    return runner


def current_workspace() -> workspace.Workspace:
    """The learner's workspace, named by the token in the URL (?ws=...), created on first visit."""
    token = st.query_params.get("ws")
    if token is not None and not workspace.is_token(token):
        st.warning("The workspace link in the address bar is not valid; a new workspace was "
                   "started for you.")
        token = None
    if token is None:
        token = st.session_state.get("workspace.token") or workspace.new_token()
        st.query_params["ws"] = token
    st.session_state["workspace.token"] = token
    return workspace.Workspace(token)


def workspace_link(space: workspace.Workspace) -> None:
    with st.expander("🔑 Your link: come back to your runs later"):
        st.markdown("Your runs live in a private workspace. Bookmark this page's address (it "
                    "ends in `?ws=…`) to find them again after a reload or a server restart. "
                    "Anyone with the link can see your runs, so keep it to yourself.")
        st.code(f"?ws={space.token}", language="text")


def start_run(space: workspace.Workspace, config: RunConfig, label: str) -> str | None:
    """Create the run's folder and queue it; returns its id, or None after showing why not."""
    try:
        run_dir = jobs.create_run(space.new_run_dir(), config, label)
    except (workspace.WorkspaceError, ValueError) as error:
        st.error(str(error))
        return None
    job_runner().submit(run_dir)
    return run_dir.name


def run_choices(space: workspace.Workspace, run_ids: list[str]) -> dict[str, str]:
    """Readable, unique names for a list of runs: 'label (abc123)' → run id."""
    return {f"{jobs.run_label(space.run_dir(r)) or 'run'} ({r[-6:]})": r for r in run_ids}


def display_state(run_dir: Path) -> dict:
    """The run's status; a queued or running run that no live worker owns was interrupted."""
    record = jobs.status(run_dir)
    if record["state"] == "queued" and not job_runner().is_tracked(run_dir):
        problem = job_runner().failure(run_dir)
        if problem:
            record.update(state="failed", error=f"The training worker could not start: {problem}")
        else:
            record["state"] = "interrupted"
    return record


STATE_LABELS = {
    "queued": "⏳ waiting", "running": "🏃 training", "done": "✅ finished",
    "stopped": "⏹️ stopped", "failed": "❌ failed", "interrupted": "⚠️ interrupted",
    "missing": "❔ missing",
}


def _show_run(space: workspace.Workspace, run_id: str, key: str) -> str:
    """Draw one run's state, controls and curves; returns the state."""
    run_dir = space.run_dir(run_id)
    record = display_state(run_dir)
    state = record["state"]
    config = jobs.run_config(run_dir)
    progress = record.get("progress") or {}
    epochs_done = len(record.get("history", []))
    if state == "queued":
        runner = job_runner()
        if runner.running_count() < runner.slots:
            st.info("Starting a training worker…")
        else:
            st.info(f"Waiting for a free training slot (position "
                    f"{runner.queue_position(run_dir) or '?'}); {runner.slots} runs can train "
                    "at once on this server.")
    elif state == "running":
        st.progress(float(progress.get("fraction", 0.0)), text=(
            f"Epoch {progress.get('epoch', 1)} of {config.epochs} · step {progress.get('step', 0)}"
            f" · train loss {progress.get('train_loss', float('nan')):.3f} · "
            f"{progress.get('samples_per_second', 0):,.0f} images/s"))
        if st.button("⏹️ Stop (keeps what it has learned)", key=f"{key}.stop.{run_id}"):
            job_runner().stop(run_dir)
    elif state == "failed":
        st.error(record.get("error", "The run failed."))
    elif state == "interrupted":
        st.warning(f"This run was interrupted (the server stopped) after {epochs_done} complete "
                   "epoch(s). " + ("Its last epoch checkpoint is kept: Resume continues from "
                                   "there." if epochs_done else "Resume starts it again."))
        if st.button("▶️ Resume", key=f"{key}.resume.{run_id}"):
            job_runner().submit(run_dir)
            st.rerun()
    else:
        st.caption(f"{STATE_LABELS.get(state, state)} after {epochs_done} epoch(s).")
    history = record.get("history", [])
    if history:
        st.plotly_chart(charts.history_curves({jobs.run_label(run_dir) or run_id: history}),
                        key=f"{key}.curves.{run_id}")
    return state


def run_progress(space: workspace.Workspace, run_id: str, key: str) -> None:
    """One run's live panel: polls while it waits or trains, then refreshes the page once."""

    @st.fragment(run_every=POLL_SECONDS)
    def live():
        if _show_run(space, run_id, key) not in jobs.ACTIVE_STATES:
            st.rerun()

    if display_state(space.run_dir(run_id))["state"] in jobs.ACTIVE_STATES:
        live()
    else:
        _show_run(space, run_id, key)
