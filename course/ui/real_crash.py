"""The saving lesson's real crash: a run of the run system killed with kill -9 right after its
epoch-47 checkpoint, resumed from the runs panel, compared with its twin that never crashed."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from course.engine.train import RunConfig
from course.runs import crash, run_files, workspace
from course.ui import checks, panel, widgets

# 1,000 images, 16 steps an epoch: the 50 epochs take seconds; one-cycle, so the schedule's
# position is part of what a resume must restore.
CRASH_CONFIG = RunConfig(model="mlp", epochs=50, train_subset=1_000, schedule="one-cycle", seed=0)
KILL_AFTER = 47
TWIN_LABEL = "the same seed, never crashed"
QUESTION = "save.q_real_crash"


def crash_label(epoch: int) -> str:
    return f"killed with kill -9 after epoch {epoch}"


def crash_runs(space: workspace.Workspace) -> tuple[str | None, str | None]:
    """The newest crashed run of this workspace and its twin with the same settings, uncrashed."""
    crashed = twin = None
    for run_id in space.run_ids():
        try:
            run_dir = space.run_dir(run_id)
            if run_files.run_config(run_dir) != CRASH_CONFIG:
                continue
        except (workspace.WorkspaceError, FileNotFoundError, ValueError, TypeError):
            continue
        if crash.crash_record(run_dir):
            crashed = run_id
        elif run_files.status(run_dir)["state"] in run_files.REUSABLE_STATES:
            twin = run_id
    return crashed, twin


def start_crash(space: workspace.Workspace, epoch: int) -> None:
    """The twin (unless it exists) in the pool, the doomed run in a process of its own."""
    crashed, twin = crash_runs(space)
    if crashed and panel.display_state(space.run_dir(crashed))["state"] in panel.BUSY_STATES:
        return  # a double click's second click: that crash is already on its way
    if twin is None and panel.start_run(space, CRASH_CONFIG, TWIN_LABEL) is None:
        return  # start_run said why (a full workspace)
    lesson = st.session_state.get("lesson.slug") or ""
    try:
        run_dir = run_files.create_run(space.new_run_dir(), CRASH_CONFIG, crash_label(epoch), lesson)
    except workspace.WorkspaceError as error:
        st.error(f"{error} Use **Delete** in *Your runs* below to free space.", icon="🗂️")
        return
    crash.crash_in_the_background(run_dir, epoch)


def folder_table(run_dir) -> pd.DataFrame:
    """What the kill left on disk: the run folder's files."""
    rows = [{"file": path.name, "bytes": path.stat().st_size}
            for path in sorted(run_dir.iterdir()) if path.is_file()]
    return pd.DataFrame(rows)


def crash_section(space: workspace.Workspace) -> None:
    """The button, then what happened to the two runs, redrawn while either trains."""
    epoch = st.slider("Kill the process right after epoch", 1, CRASH_CONFIG.epochs - 1, KILL_AFTER,
                      key="save.kill_after")
    crashed, twin = crash_runs(space)  # once per page run; the poll below looks again
    busy = {run_id: panel.display_state(space.run_dir(run_id))["state"] in panel.BUSY_STATES
            for run_id in (crashed, twin) if run_id}
    if st.button("💥 Train it, and kill it with kill -9", type="primary", key="save.crash",
                 disabled=busy.get(crashed, False), help="Two runs: one trained straight through in the "
                 "run system, one in a process of its own that is killed with SIGKILL."):
        if panel.first_click("real-crash"):
            start_crash(space, epoch)
    checks.check_choice(
        QUESTION, "The killed run is resumed from its last checkpoint. How will its final weights "
        "compare with the twin's that never crashed?",
        ["bit-for-bit equal", "close, but a few last digits differ", "clearly different: it lost "
         "an epoch"], 0,
        "The run system's checkpoint holds the weights, Adam's state, the scheduler's position, "
        "the epoch and the shuffling RNG, and a run keeps its thread count: the resume "
        "replays epochs 48-50 exactly.", unlocks=True)

    def draw() -> bool:
        crashed, twin = crash_runs(space)
        if crashed is None:
            st.caption("Nothing crashed yet: press the button.")
            return False
        run_dir = space.run_dir(crashed)
        record = panel.display_state(run_dir)
        kill = crash.crash_record(run_dir)
        state, done = record["state"], len(record.get("history", []))
        twin_state = panel.display_state(space.run_dir(twin))["state"] if twin else None
        if state in ("starting", "running") and not kill.get("ended"):
            st.info(f"🏃 Process **{kill.get('pid')}** (`python -m course train --resume …`) trains "
                    f"epoch {min(done + 1, CRASH_CONFIG.epochs)} of {CRASH_CONFIG.epochs}; it "
                    f"gets `kill -9 {kill.get('pid')}` right after epoch {kill.get('kill_after')}.",
                    icon="⏳")
        elif kill.get("killed") and state == "interrupted":
            ago = time.time() - kill.get("ended", time.time())
            st.error(f"💥 Process **{kill['pid']}** was killed with SIGKILL after epoch "
                     f"{kill['killed_after']} ({ago:,.0f} s ago): no `finally`, no last save. Its "
                     "`status.json` still says “running”; the runs panel knows better, because "
                     f"the process is gone. `last_epoch.pt` holds epoch {done}. Press **▶️ Resume** "
                     "on it in *Your runs* below.", icon="🪦")
            st.dataframe(folder_table(run_dir), hide_index=True)
        elif kill.get("ended") and not kill.get("killed"):
            st.warning(f"The process ended before the kill (exit code {kill.get('exit_code')}, "
                       f"state: {state}); press the button to try again.")
        elif state in ("queued", "starting", "running") and record.get("resumed_from_epoch"):
            st.info(f"▶️ Resumed by the run system's worker from epoch "
                    f"{record['resumed_from_epoch']}: epoch {min(done + 1, CRASH_CONFIG.epochs)} "
                    f"of {CRASH_CONFIG.epochs}.", icon="⏳")
        elif state in panel.BUSY_STATES or (kill.get("ended") and state != "done"):
            st.caption(f"The crashed run is {panel.STATE_LABELS.get(state, state)} after "
                       f"{done} epochs.")
        if state == "done" and twin_state == "done":
            if not checks.answered(QUESTION):
                st.caption("Both runs have finished: answer the question above to see how they compare.")
            else:
                equal, largest = crash.weight_difference(run_dir, space.run_dir(twin))
                verdict = "bit-for-bit equal" if equal else f"different (largest |Δ| {largest:.3g})"
                st.success(f"Resumed from epoch {record.get('resumed_from_epoch')}, the killed run "
                           f"ended **{verdict}** to its twin: `torch.equal` on every tensor is "
                           f"{equal}.", icon="✅" if equal else "⚠️")
                twin_history = run_files.status(space.run_dir(twin))["history"]
                st.dataframe(pd.DataFrame([
                    {"epoch": mine["epoch"], "killed + resumed: test accuracy": mine["test_accuracy"],
                     "never crashed: test accuracy": theirs["test_accuracy"]}
                    for mine, theirs in zip(record["history"][-4:], twin_history[-4:], strict=False)]),
                    hide_index=True)
        elif state == "done" or twin_state in panel.BUSY_STATES:
            st.caption("Waiting for the twin that never crashed to finish its 50 epochs.")
        return state in panel.BUSY_STATES or twin_state in panel.BUSY_STATES

    widgets.poll(draw, any(busy.values()))
