"""The Streamlit side of the run system, shared by every page that trains.

- `train_button`: one click makes one run (or one per seed), queued for a worker.
- `runs_panel`: "Your runs", every run of the learner's workspace with its state and the
  actions that fit it (Stop, Cancel, Resume, Delete, download, repeat with 3 seeds).
- `run_view`: the selected runs' per-step curves, smoothed, with seed bands and what differs.
Every button acts in an on_click callback, so it can be clicked twice and never needs a rerun
of the whole page; the panels poll the run folders from fragments while something trains.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import streamlit as st

from course.charts import figures
from course.concepts import curves
from course.engine.models import MODEL_NAMES
from course.engine.train import RunConfig, differences
from course.runs import jobs, run_files, workspace
from course.ui import widgets
from course.ui.widgets import plural

POLL_SECONDS = widgets.POLL_SECONDS  # how often an active panel redraws
WATCH_SECONDS = 5.0  # how soon an idle panel sees runs made in another tab on the same link
SEED_REPEATS = 3
SHOWN_RUNS = 6  # the newest runs; the rest wait in an expander (active runs always show)
# A double click's second click lands on whatever button took the first one's place (Resume
# becomes Stop, Cancel becomes Delete): a second action on the same run this soon is ignored.
ACTION_GRACE_SECONDS = 1.0
BUSY_STATES = ("queued", "starting", "running", "stopping")

STATE_LABELS = {
    "queued": "⏳ waiting for a slot", "starting": "🟡 starting…", "running": "🏃 training",
    "stopping": "⏹️ stopping…", "done": "✅ finished", "stopped": "⏹️ stopped",
    "cancelled": "🚫 cancelled", "failed": "❌ failed", "interrupted": "⚠️ interrupted",
    "missing": "❔ missing",
}
SETTING_NAMES = {
    "model": "model", "epochs": "epochs", "batch_size": "B", "lr": "lr", "dropout": "p",
    "weight_decay": "wd", "seed": "seed", "train_subset": "images", "schedule": "schedule",
    "dataset": "data", "device": "device", "bug": "bug",
}





# ----------------------------------------------------------------------------- the workspace


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
    elif (token is not None and token != st.session_state.get("workspace.token")
          and not workspace.exists(token)):
        st.warning("No workspace was found for the link in the address bar (a typo, or one "
                   f"unused for {workspace.DEFAULT_MAX_AGE_DAYS:.0f} days and cleaned up): a new, "
                   "empty workspace was started for you. Check the link if you expected your "
                   "runs here.", icon="🔑")
        token = None
        st.session_state.pop("workspace.token", None)
    if token is None:
        token = st.session_state.get("workspace.token") or workspace.new_token()
        st.query_params["ws"] = token
    st.session_state["workspace.token"] = token
    return workspace.Workspace(token)


def workspace_link(space: workspace.Workspace, slug: str = "") -> None:
    """The full address of this page with the workspace in it, with a copy button."""
    base = (st.context.url or "http://localhost:8501").rstrip("/")
    address = f"{base}/{slug}?ws={space.token}" if slug else f"{base}?ws={space.token}"
    with st.expander("🔑 Your link: come back to your runs later"):
        st.markdown("Your runs live in a private workspace. Bookmark this address (or copy it "
                    "with the button at the right of the box) to find them again after a "
                    "reload or a server restart. Anyone with the link can see your runs, so "
                    "keep it to yourself.")
        st.code(address, language="text", wrap_lines=True)


# ----------------------------------------------------------------------------- starting runs


def describe(config: RunConfig) -> str:
    """A run's label: its model and every setting that differs from the course's recipe."""
    changed = differences(config)
    changed.pop("model", None)
    if config.model == "mlp":
        changed.pop("dropout", None)  # the simple MLP has no dropout: the slider does nothing
    parts = [MODEL_NAMES.get(config.model, config.model)]
    for key, value in changed.items():
        if key == "train_subset":
            parts.append(f"{value:,} images" if value else "60,000 images")
        elif key == "bug":
            parts.append(f"bug: {value}")
        else:
            parts.append(f"{SETTING_NAMES.get(key, key)}={value:g}" if isinstance(value, float)
                         else f"{SETTING_NAMES.get(key, key)}={value}")
    return " · ".join(parts)


def start_run(space: workspace.Workspace, config: RunConfig, label: str | None = None) -> str | None:
    """Create the run's folder and queue it; returns its id, or None after showing why not.

    The run is tagged with the lesson whose page is open (lesson_header remembers it), so the
    learner's progress counts it there; Repeat with 3 seeds comes through here too."""
    lesson = st.session_state.get("lesson.slug") or ""
    try:
        run_dir = run_files.create_run(space.new_run_dir(), config, label or describe(config),
                                       lesson)
    except workspace.WorkspaceError as error:
        st.error(f"{error} Use **Delete** in *Your runs* below to free space.", icon="🗂️")
        return None
    except ValueError as error:
        st.error(str(error))
        return None
    job_runner().submit(run_dir)
    return run_dir.name


def twin_run(space: workspace.Workspace, config: RunConfig) -> str | None:
    """A run of the workspace with exactly these settings that is waiting, training or done.

    The engine is deterministic: the same settings and seed give the same numbers, so a second
    click (or a double click) must not train the same run again.
    """
    for run_id in space.run_ids():
        run_dir = space.run_dir(run_id)
        if (run_files.run_config(run_dir) == config
                and run_files.status(run_dir)["state"] in run_files.REUSABLE_STATES):
            return run_id
    return None


def latest_run(space: workspace.Workspace, config: RunConfig) -> str | None:
    """The run a section with these settings shows: the reusable twin, else the newest one with
    exactly these settings in any state (a stopped or failed run keeps its curves so far)."""
    twin = twin_run(space, config)
    if twin:
        return twin
    same = [run_id for run_id in space.run_ids() if run_files.run_config(space.run_dir(run_id)) == config]
    return same[-1] if same else None


def _submit(space: workspace.Workspace, configs: list[RunConfig], key: str,
            label: str | None = None) -> None:
    """The Train callback: one run per config, never a twin of a run that exists."""
    created, twins = [], []
    for config in configs:
        twin = twin_run(space, config)
        if twin:
            twins.append(twin)
        elif run_id := start_run(space, config, label):
            created.append(run_id)
    st.session_state[f"{key}.created"] = created
    if twins:
        st.session_state[f"{key}.twins"] = twins
    if created or twins:
        st.session_state["runs.selected"] = created + twins


def train_button(space: workspace.Workspace, configs: RunConfig | list[RunConfig], key: str,
                 text: str = "🚀 Train", disabled: bool = False, help: str | None = None,
                 label: str | None = None) -> list[str]:
    """A Train button that makes exactly one run per config per click; returns the new run ids.

    `label` names the runs in the panel instead of their settings (a puzzle's run must not
    give its answer away in its name)."""
    configs = configs if isinstance(configs, list) else [configs]
    # Read as a return value, not an on_click callback: a callback would get the settings of the
    # previous script run, so a slider moved just before the click would be missed.
    if st.button(text, type="primary", key=key, disabled=disabled, help=help):
        _submit(space, configs, key, label)
        if created := st.session_state.get(f"{key}.created"):  # at once, where the learner looks
            first = run_files.run_label(space.run_dir(created[0]))
            st.toast(f"Queued: {first}. Watch it in *Your runs*." if len(created) == 1 else
                     f"Queued {len(created)} runs, the first {first}. Watch them in *Your runs*.",
                     icon="🚀")
    if st.session_state.pop(f"{key}.twins", None):
        st.info("You already have this exact run (same settings, same seed): it is shown below. "
                "The same seed gives the same numbers step for step; change the seed for a new "
                "sample.", icon="♻️")
    return st.session_state.pop(f"{key}.created", [])


def with_seeds(config: RunConfig, count: int = SEED_REPEATS) -> list[RunConfig]:
    """The same run with the next `count` seeds: what changes when only luck changes."""
    return [RunConfig.from_dict({**config.to_dict(), "seed": config.seed + offset})
            for offset in range(1, count + 1)]


# ----------------------------------------------------------------------------- run states


def display_state(run_dir: Path) -> dict:
    """The run's status as a learner should read it (starting, stopping, interrupted, ...)."""
    record = run_files.status(run_dir)
    state = record["state"]
    runner = job_runner()
    if state == "queued" and not runner.is_tracked(run_dir):
        problem = runner.failure(run_dir)
        if problem:
            record.update(state="failed", error=f"The training worker could not start: {problem}")
        else:
            record["state"] = "interrupted"
    elif state == "queued" and runner.running_count() < runner.slots:
        record["state"] = "starting"
    elif state == "running" and (run_dir / run_files.STOP_FILE).exists():
        record["state"] = "stopping"
    elif state == "running" and not record.get("progress"):
        record["state"] = "starting"
    return record


def run_choices(space: workspace.Workspace, run_ids: list[str]) -> dict[str, str]:
    """Readable, unique names for a list of runs: 'label (abc123)' → run id."""
    return {f"{run_files.run_label(space.run_dir(r)) or 'run'} ({r[-6:]})": r for r in run_ids}


def _progress_text(record: dict, config: RunConfig) -> str:
    progress = record["progress"]
    return (f"epoch {progress['epoch']} of {config.epochs} · step {progress['step']:,} · "
            f"train loss {progress['train_loss']:.3f} · "
            f"{progress['samples_per_second']:,.0f} images/s")


def _summary(record: dict) -> str:
    """'finished after 5 epochs · test accuracy 97.81%' (or stopped, ...)."""
    history = record.get("history", [])
    word = {"done": "finished"}.get(record["state"], record["state"])
    text = (f"{word} after {plural(len(history), 'epoch')}" if history else
            f"{word} before its first epoch ended")
    if history and history[-1].get("test_accuracy") is not None:
        text += f" · test accuracy {history[-1]['test_accuracy']:.2%}"
    return text


# ----------------------------------------------------------------------------- actions


def first_click(run_id: str) -> bool:
    """True unless this run was acted on a moment ago: the second click of a double click."""
    acted = st.session_state.setdefault("runs.acted", {})
    now = time.monotonic()
    if now - acted.get(run_id, float("-inf")) < ACTION_GRACE_SECONDS:
        return False
    acted[run_id] = now
    return True


def _state_of(space: workspace.Workspace, run_id: str) -> str | None:
    """The run's displayed state now, or None when it has gone (deleted in another tab)."""
    try:
        return display_state(space.run_dir(run_id))["state"]
    except workspace.WorkspaceError:
        return None


def _stop(space: workspace.Workspace, run_id: str) -> None:
    if first_click(run_id) and _state_of(space, run_id) in ("running", "starting"):
        job_runner().stop(space.run_dir(run_id))


def _cancel(space: workspace.Workspace, run_id: str) -> None:
    if first_click(run_id) and _state_of(space, run_id) in ("queued", "starting"):
        job_runner().cancel(space.run_dir(run_id))


def _resume(space: workspace.Workspace, run_id: str) -> None:
    # Only a run at rest: submitting a run twice would put two workers on one folder.
    if first_click(run_id) and _state_of(space, run_id) in ("interrupted", "stopped"):
        job_runner().submit(space.run_dir(run_id))


def _delete(space: workspace.Workspace, run_id: str) -> None:
    if not first_click(run_id):
        return
    state = _state_of(space, run_id)
    if state is None:
        return  # already gone
    if state in BUSY_STATES:
        st.session_state["runs.message"] = "Stop or cancel the run before deleting it."
        return
    run_dir = space.run_dir(run_id)
    label = run_files.run_label(run_dir) or run_id
    job_runner().forget(run_dir)
    space.delete_run(run_id)
    selected = st.session_state.get("runs.selected") or []
    st.session_state["runs.selected"] = [r for r in selected if r != run_id]
    st.session_state["runs.toast"] = (f"Deleted {label}.", "🗑️")


def _repeat_with_seeds(space: workspace.Workspace, run_id: str) -> None:
    """Train's own rule: a seed that already has its run (queued, training or done) is reused."""
    if not first_click(run_id) or _state_of(space, run_id) is None:
        return
    config = run_files.run_config(space.run_dir(run_id))
    created, twins = [], []
    for seeded in with_seeds(config):
        if twin := twin_run(space, seeded):
            twins.append(twin)
        elif new := start_run(space, seeded):
            created.append(new)
    st.session_state["runs.selected"] = [run_id, *twins, *created]
    seeds = ", ".join(str(c.seed) for c in with_seeds(config))
    st.session_state["runs.toast"] = (
        (f"Queued {plural(len(created), 'run')} with seeds {seeds}." if created else
         f"The runs with seeds {seeds} exist already: they are selected below."), "🎲")


def _run_row(space: workspace.Workspace, run_id: str, key: str) -> str | None:
    """One run: its label, state, progress and the buttons that fit; returns the state, or None
    when the run has gone (deleted from another tab while this one looked)."""
    try:
        run_dir = space.run_dir(run_id)
        record = display_state(run_dir)
        config = run_files.run_config(run_dir)
    except (workspace.WorkspaceError, FileNotFoundError):
        return None
    state = record["state"]
    args = (space, run_id)
    with st.container(border=True):
        about = st.container()
        about.markdown(f"**{run_files.run_label(run_dir) or describe(config)}**  \n"
                       f":gray[{STATE_LABELS.get(state, state)} · {run_id[-6:]}]")
        if state == "running":
            about.progress(float(record["progress"].get("fraction", 0.0)),
                           text=_progress_text(record, config))
        elif state == "queued":
            position = job_runner().queue_position(run_dir)
            about.caption(f"Position {position or '?'} in the queue: "
                          f"{plural(job_runner().slots, 'run')} can train at once on this server.")
        elif state == "starting":
            about.caption("The worker is loading the data and building the model.")
        elif state == "stopping":
            about.caption("stopping… it keeps the weights of the last finished step")
        elif state == "failed":
            about.error(record.get("error", "The run failed."))
        elif state == "interrupted":
            done = len(record.get("history", []))
            about.caption(f"Interrupted (its training process ended: a server restart, a crash) "
                          f"after {plural(done, 'complete epoch')}. Resume continues from the "
                          "last finished epoch.")
        else:
            about.caption(_summary(record))
        row = st.container(horizontal=True, gap="small")
        if state == "running":
            row.button("⏹️ Stop", key=f"{key}.stop.{run_id}", on_click=_stop, args=args,
                       help="Stops within a second; keeps the weights.")
        elif state in ("queued", "starting"):
            row.button("🚫 Cancel", key=f"{key}.cancel.{run_id}", on_click=_cancel, args=args,
                       help="Takes the run out of the queue.")
        elif state in ("interrupted", "stopped") and len(record.get("history", [])) < config.epochs:
            row.button("▶️ Resume", key=f"{key}.resume.{run_id}", on_click=_resume, args=args,
                       help="Continues from the last finished epoch.")
        elif state == "done":
            row.button("🎲 Repeat with 3 seeds", key=f"{key}.seeds.{run_id}",
                       on_click=_repeat_with_seeds, args=args,
                       help="Train the same settings with 3 other seeds, to see how much "
                            "of a difference is luck.")
        checkpoint = run_files.latest_checkpoint(run_dir) if state not in run_files.ACTIVE_STATES else None
        if checkpoint is not None:
            row.download_button("⬇️ Checkpoint", data=checkpoint.read_bytes,
                                file_name=f"{run_id}.pt", key=f"{key}.download.{run_id}",
                                mime="application/octet-stream", on_click="ignore",
                                help="Download the checkpoint (weights, optimizer, "
                                     "history, config).")
        if state not in BUSY_STATES:
            # Delete asks first: a popover opens, its button deletes (a double click on the
            # row only opens and closes the popover).
            with row.popover("🗑️ Delete", help="Delete this run and free its space."):
                st.markdown("Delete this run, its curves and its checkpoint? This cannot be "
                            "undone.")
                st.button("🗑️ Delete for good", key=f"{key}.delete.{run_id}", on_click=_delete,
                          args=args, type="primary")
    return state


def _fingerprint(space: workspace.Workspace) -> tuple:
    """The workspace's runs and their states as shown: what another tab's actions change."""
    seen = []
    for run_id in space.run_ids():
        try:
            seen.append((run_id, display_state(space.run_dir(run_id))["state"]))
        except (workspace.WorkspaceError, FileNotFoundError):
            continue
    return tuple(seen)


def runs_panel(space: workspace.Workspace, key: str) -> None:
    """'Your runs': every run of the workspace, newest first, polled while one trains.

    The panel is a fragment, so its buttons rerun only it. When the set of runs changes under it
    (Delete, Repeat with 3 seeds, another tab on the same link) it reruns the whole page once, so
    the run view and the page's sections see the same runs as the panel.
    """
    drawn_with = _fingerprint(space)

    def draw(live: bool = False) -> bool:
        now = _fingerprint(space)
        # Runs came or went (Delete, Repeat, another tab), or, while idle, a run changed state
        # (Resume): the whole page follows, polling again if something now trains.
        if [r for r, _ in now] != [r for r, _ in drawn_with] or (not live and now != drawn_with):
            widgets.refresh_page()
        if toast := st.session_state.pop("runs.toast", None):
            st.toast(toast[0], icon=toast[1])
        st.subheader("Your runs")
        run_ids = [r for r, _ in now][::-1]
        if not run_ids:
            st.caption("No runs yet: press Train above.")
            return False
        used, quota = space.used_bytes(), space.quota_bytes
        st.progress(min(1.0, used / quota),
                    text=f"Workspace: {used / 2**20:,.0f} MB of {quota / 2**20:,.0f} MB used "
                         f"by {plural(len(run_ids), 'run')}")
        message = st.session_state.pop("runs.message", None)
        if message:
            st.warning(message)
        states = dict(now)
        older = run_ids[SHOWN_RUNS:]
        busy_older = [r for r in older if states[r] in BUSY_STATES]
        shown = run_ids[:SHOWN_RUNS] + busy_older  # a training run is never folded away
        folded = [r for r in older if r not in busy_older]
        active = False
        for run_id in shown:
            active |= _run_row(space, run_id, key) in BUSY_STATES
        if folded:
            with st.expander(plural(len(folded), "older run")):
                for run_id in folded:
                    active |= _run_row(space, run_id, key) in BUSY_STATES
        return active

    @st.fragment(run_every=POLL_SECONDS)
    def live():
        if not draw(live=True):
            widgets.refresh_page()  # the last run ended: refresh the page once, then stop polling

    @st.fragment(run_every=WATCH_SECONDS)
    def watch():
        """Idle: redraw only when another tab on this link changed the runs."""
        if _fingerprint(space) != drawn_with:
            widgets.refresh_page()

    if any(state in BUSY_STATES for _, state in drawn_with):
        live()
    else:
        st.fragment(draw)()
        watch()


# ----------------------------------------------------------------------------- watching runs


def _curve(space: workspace.Workspace, run_id: str, name: str) -> dict:
    record = run_files.status(space.run_dir(run_id))
    per_epoch = record.get("progress", {}).get("steps_per_epoch") or 0
    epochs = [{**row, "step": row["epoch"] * per_epoch} for row in record.get("history", [])]
    steps = list(record.get("steps", []))
    if not steps and epochs:  # runs recorded before per-step curves: one point per epoch
        steps = [{"step": row["step"], "loss": row["train_loss"],
                  "accuracy": row["train_accuracy"]} for row in epochs]
    return {"name": name, "steps": steps, "epochs": epochs, "record": record}


def seed_groups(configs: dict[str, RunConfig]) -> dict[str, list[str]]:
    """Runs whose settings are equal except for the seed, keyed by a shared description."""
    groups: dict[str, list[str]] = {}
    for run_id, config in configs.items():
        groups.setdefault(describe(RunConfig.from_dict({**config.to_dict(), "seed": 0})),
                          []).append(run_id)
    return groups


def _band(curves_of_group: list[dict]) -> dict:
    """Mean ± std of the group's raw per-step curves, on the steps they share."""
    shared = set.intersection(*(set(p["step"] for p in c["steps"]) for c in curves_of_group))
    steps = sorted(shared)
    band = {}
    for metric in ("loss", "accuracy"):
        series = [[dict((p["step"], p[metric]) for p in c["steps"])[s] for s in steps]
                  for c in curves_of_group]
        mean, spread = curves.mean_and_spread(series)
        band[metric] = {"steps": steps, "mean": mean, "spread": spread}
    return band


def differing_settings(configs: dict[str, RunConfig]) -> pd.DataFrame:
    """One row per run, one column per setting whose value is not the same for all runs."""
    rows = {name: config.to_dict() for name, config in configs.items()}
    columns = [key for key in RunConfig.__dataclass_fields__
               if len({str(row[key]) for row in rows.values()}) > 1]
    return pd.DataFrame([{"run": name, **{SETTING_NAMES.get(c, c): row[c] for c in columns}}
                         for name, row in rows.items()])


def _has_curves(space: workspace.Workspace, run_id: str) -> bool:
    """Whether a run has something to plot (or soon will)."""
    try:
        record = run_files.status(space.run_dir(run_id))
    except workspace.WorkspaceError:
        return False
    return bool(record.get("steps") or record.get("history")
                or record["state"] in run_files.ACTIVE_STATES)


def run_view(space: workspace.Workspace, key: str) -> None:
    """The selected runs' per-step curves, smoothing and log-y, seed bands and what differs."""
    run_ids = [r for r in space.run_ids()[::-1] if _has_curves(space, r)]
    if not run_ids:
        st.caption("Curves appear here as soon as a run has trained a few steps.")
        return
    choices = run_choices(space, run_ids)
    by_id = {run_id: name for name, run_id in choices.items()}
    wanted = [by_id[r] for r in (st.session_state.get("runs.selected") or []) if r in by_id]
    if not wanted:
        wanted = [by_id[run_ids[0]]]
    picked = st.multiselect("Runs to watch and compare", list(choices), default=wanted,
                            key=f"{key}.picked.{'/'.join(sorted(choices.values()))[-60:]}")
    controls = st.columns([2, 1, 3])
    smoothing = controls[0].slider("Smoothing (EMA weight)", 0.0, 0.95, 0.6, 0.05,
                                   key=f"{key}.smoothing",
                                   help="Each point is averaged with the ones before it; the "
                                        "first points are bias-corrected. Series of fewer than "
                                        f"{curves.MIN_POINTS_TO_SMOOTH} points stay raw.")
    log_y = controls[1].toggle("log-scale loss", key=f"{key}.log_y")
    if not picked:
        st.info("Pick at least one run to see its curves.")
        return
    ids = [choices[name] for name in picked]

    def draw() -> bool:
        if any(run_id not in space.run_ids() for run_id in ids):
            widgets.refresh_page()  # a picked run was deleted (here or in another tab): redraw the page
        configs = {choices[name]: run_files.run_config(space.run_dir(choices[name])) for name in picked}
        runs = [_curve(space, run_id, name) for name, run_id in zip(picked, ids, strict=True)]
        for group in seed_groups(configs).values():
            members = [c for c, run_id in zip(runs, ids, strict=True) if run_id in group
                       and c["steps"]]
            if len(members) >= 2:
                members[0]["band"] = _band(members)
        if any(c["steps"] for c in runs):
            st.plotly_chart(figures.step_curves(runs, smoothing, log_y), key=f"{key}.steps")
            health(runs[0]["name"], runs[0]["record"])
        elif any(c["record"]["state"] in run_files.ACTIVE_STATES for c in runs):
            st.info("Starting… the curves appear after the first ten training steps.", icon="⏳")
        else:
            st.info("No curve to draw: these runs ended before their first ten training steps.")
        if len(picked) > 1:
            st.markdown("**What differs between these runs**")
            table = differing_settings({name: configs[choices[name]] for name in picked})
            finals = {name: c["record"].get("history", [{}])[-1].get("test_accuracy")
                      if c["record"].get("history") else None for name, c in zip(picked, runs,
                                                                                strict=True)}
            table["final test accuracy"] = [finals[name] for name in table["run"]]
            st.dataframe(table, hide_index=True, column_config={
                "final test accuracy": st.column_config.NumberColumn(format="percent")})
            _seed_verdict(configs, runs, ids)
        return any(c["record"]["state"] in run_files.ACTIVE_STATES for c in runs)

    widgets.poll(draw, any(run_files.status(space.run_dir(r))["state"] in run_files.ACTIVE_STATES
                           for r in ids))


def health_table(telemetry: dict) -> pd.DataFrame:
    """One row per layer: gradient norm, log10 update-to-data ratio, share of dead ReLU units."""
    latest = telemetry.get("latest", {})
    rows = [{"parameter": name, "gradient norm": norm,
             "update / weight (log10)": latest.get("update_ratio", {}).get(name)}
            for name, norm in latest.get("grad_norm", {}).items()]
    rows += [{"parameter": f"ReLU {name} (dead units)", "dead ReLU share": share}
             for name, share in latest.get("dead_relu", {}).items()]
    return pd.DataFrame(rows)


def health(name: str, record: dict) -> None:
    """The run's network-health readings: its first loss and the newest per-layer numbers."""
    telemetry = record.get("telemetry") or {}
    if not telemetry:
        return
    with st.expander(f"🩺 Network health of {name}"):
        first = telemetry.get("initial_loss")
        if first is not None:
            verdict = ("a fair start" if abs(first - 2.303) < 0.3 else
                       "a confident wrong start: check the initialisation and the last layer")
            st.markdown(f"**Loss before training:** {first:.3f} against ln(10) = 2.303 for ten "
                        f"equally likely classes: {verdict}.")
        if telemetry.get("latest"):
            st.markdown(f"**At step {telemetry['latest']['step']:,}** (sampled every "
                        f"{jobs.TELEMETRY_EVERY} steps; `tensorboard --logdir` on the run's "
                        "`tb/` folder shows every reading):")
            st.dataframe(health_table(telemetry), hide_index=True, column_config={
                "gradient norm": st.column_config.NumberColumn(format="%.2e"),
                "update / weight (log10)": st.column_config.NumberColumn(format="%.2f"),
                "dead ReLU share": st.column_config.NumberColumn(format="percent")})
            st.caption("An update ratio near −3 (each step changes a weight by about a "
                       "thousandth of its size) is a common rule of thumb, not a law: much lower "
                       "and the layer barely learns, much higher and training is unstable.")


def _seed_verdict(configs: dict[str, RunConfig], runs: list[dict], ids: list[str]) -> None:
    """With two seed groups selected: is their difference bigger than the seed-to-seed noise?"""
    finals = {run_id: c["record"]["history"][-1].get("test_accuracy")
              for run_id, c in zip(ids, runs, strict=True)
              if c["record"].get("history") and c["record"]["state"] == "done"}
    groups = [(name, [finals[r] for r in members if r in finals])
              for name, members in seed_groups(configs).items()]
    groups = [(name, values) for name, values in groups if len(values) >= 2]
    if len(groups) < 2:
        if len(seed_groups(configs)) > 1:
            st.caption("Is a difference real or luck? Use **🎲 Repeat with 3 seeds** on each "
                       "setting, then "
                       "select all their runs: the comparison appears here.")
        return
    (first_name, first), (second_name, second) = groups[:2]
    verdict = curves.within_seed_noise(first, second)
    text = (f"**{second_name}** vs **{first_name}**: {verdict['gap']:+.2%} test accuracy "
            f"(±{verdict['standard_error']:.2%} standard error, {len(first)} and {len(second)} "
            "seeds). ")
    if verdict["inside_noise"]:
        st.info(text + "That is **inside the seed noise**: this difference could be luck.",
                icon="🎲")
    else:
        st.success(text + "That is **larger than the seed noise** (more than two standard "
                   "errors): likely a real effect of the setting.", icon="📏")


# ----------------------------------------------------------------------------- shareable links

URL_KEYS = {"model": str, "epochs": int, "batch_size": int, "lr": float, "dropout": float,
            "weight_decay": float, "train_subset": int, "seed": int}


def config_from_url(defaults: RunConfig) -> RunConfig:
    """The run settings in the page address (a shared experiment), else the defaults."""
    values = defaults.to_dict()
    for name, kind in URL_KEYS.items():
        raw = st.query_params.get(name)
        if raw is None:
            continue
        try:
            values[name] = kind(raw)
        except ValueError:
            continue
    try:
        return RunConfig.from_dict(values)
    except (ValueError, TypeError):
        st.warning("The run settings in this link are out of range; the defaults are shown.")
        return defaults


def config_to_url(config: RunConfig, defaults: RunConfig) -> None:
    """Put the settings that differ from the defaults into the address, so a link reproduces them."""
    for name in URL_KEYS:
        value = getattr(config, name)
        if value != getattr(defaults, name) and value is not None:
            st.query_params[name] = str(value)
        elif name in st.query_params:
            del st.query_params[name]


