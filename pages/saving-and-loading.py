"""Lesson 2.3.1 Saving, Loading, and Checkpoints: the plain calls, what a state_dict holds, why
a pickled model breaks, what is inside any .pt file, a real crash and three resumes, the best
epoch and a timeline of saved epochs. The race is small enough to train in the page (a second
or two, once per server, cached); the real crash trains in the run system and a process of its
own (course.ui.real_crash)."""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from course.charts import saving as saving_charts
from course.concepts import (
    bad_checkpoints,
    best_checkpoint,
    checkpoint_xray,
    portability,
    resume_race,
    state_dict_inspector,
)
from course.engine import data, train
from course.runs import checkpoints
from course.runs.archive import CheckpointError, read_checked
from course.runs.workspace import WorkspaceError
from course.ui import callouts, checks, lesson, panel, real_crash, widgets

UPLOAD_LIMIT = 5 * 1024 * 1024  # a learner's upload: the page's models are far smaller

lesson.lesson_header("saving-and-loading")
st.markdown(
    "You trained a model for an hour. Epoch 47 of 50 finishes, and then the laptop runs out of "
    "battery. Everything the model learned lived in memory, so it is gone: start again from "
    "epoch 1. Unless the loop wrote a **checkpoint** after every epoch: then you lose one "
    "epoch, not forty-seven. This page does that crash for real, further down."
)
callouts.foundations_link(
    "Foundations links: *save the best model weights* is early stopping (1.3.7) · when a resumed "
    "run misbehaves, the systematic workflow of the debugging lesson (2.2.3) applies: inspect "
    "the state (here, the checkpoint) before guessing."
)


@st.cache_resource(show_spinner=False)
def race_data() -> resume_race.RaceData:
    """Read-only, shared by every session: 1,000 training, 500 validation, 1,000 test images."""
    return resume_race.race_data()


@st.cache_resource(show_spinner=False)
def race() -> resume_race.Race:
    """One 50-epoch run and three resumes, once per server; read-only afterwards."""
    return resume_race.run_race(race=race_data())


# --- The plain calls -------------------------------------------------------------------------
st.header("1. The plain calls: `state_dict`, `torch.save`, `torch.load`")
st.markdown(
    "A model's learned numbers are in `model.state_dict()`: an ordered dict from layer names to "
    "tensors. `torch.save` writes it to a file; `torch.load` reads it back and "
    "`model.load_state_dict` copies it into a model built by the same code. These four functions "
    "ran just now on this page, on a small 4-3-2 network and its Adam optimizer:"
)
left, right = st.columns(2)
with left:
    callouts.show_source(state_dict_inspector.save_weights)
    callouts.show_source(state_dict_inspector.load_weights)
with right:
    callouts.show_source(state_dict_inspector.save_checkpoint)
    callouts.show_source(state_dict_inspector.load_checkpoint)


@st.cache_data(show_spinner=False)
def plain_calls_demo() -> dict:
    """Run the four calls for real in a temporary folder and report what came back."""
    model, optimizer = state_dict_inspector.small_model_and_adam(5)
    with tempfile.TemporaryDirectory() as folder:
        weights, checkpoint = Path(folder) / "model.pt", Path(folder) / "checkpoint.pt"
        state_dict_inspector.save_weights(model, weights)
        state_dict_inspector.save_checkpoint(checkpoint, model, optimizer, epoch=5, loss=0.42)
        fresh, fresh_optimizer = state_dict_inspector.small_model_and_adam(0, seed=7)
        state_dict_inspector.load_weights(fresh, weights)
        same = all(torch.equal(fresh.state_dict()[k], v) for k, v in model.state_dict().items())
        epoch, loss = state_dict_inspector.load_checkpoint(checkpoint, fresh, fresh_optimizer)
        return {"model.pt bytes": weights.stat().st_size,
                "checkpoint.pt bytes": checkpoint.stat().st_size,
                "same weights": same, "epoch": epoch, "loss": loss}


demo = plain_calls_demo()
cols = st.columns(3)
cols[0].metric("model.pt (weights only)", f"{demo['model.pt bytes']:,} bytes")
cols[1].metric("checkpoint.pt (+ Adam, epoch, loss)", f"{demo['checkpoint.pt bytes']:,} bytes")
cols[2].metric("Reloaded weights identical", "yes" if demo["same weights"] else "no")
st.markdown(
    "`map_location=\"cpu\"` is what lets a checkpoint saved on a GPU open on a laptop without "
    "one: every tensor is placed on the CPU as it is read (without it, torch tries to put them "
    "back on `cuda:0` and fails there). `weights_only=True` makes `torch.load` build only "
    "tensors and plain containers: section 4 shows why that matters."
)
checks.check_number(
    "save.q_state_dict",
    "The simple MNIST MLP has 235,146 parameters. How many numbers does Adam keep in "
    "`exp_avg` and `exp_avg_sq` together, i.e. in `optimizer.state_dict()['state']` "
    "(step counters aside)?",
    470_292, "Adam keeps two running averages per weight, each the weight's shape: "
             "2 × 235,146 = 470,292. A resumable checkpoint is about three times the model.")

# --- state_dict inspector --------------------------------------------------------------------
st.header("2. What the state_dicts hold: the model and Adam")
st.markdown(
    "Take some Adam steps and look inside both state_dicts. The model's holds one tensor per "
    "weight and bias. Adam's holds, for every parameter (by index), its **step** count and two "
    "running averages: `exp_avg` (the momentum, the mean gradient) and `exp_avg_sq` (the mean "
    "squared gradient that scales each weight's step). Plus `param_groups`: lr, betas, eps."
)


@st.fragment
def inspector_section() -> None:
    steps = st.slider("Adam steps taken", 0, 20, 3, key="save.steps")
    model, optimizer = state_dict_inspector.small_model_and_adam(steps)
    left, right = st.columns([2, 3])
    left.markdown("**`model.state_dict()`**")
    left.dataframe(pd.DataFrame(state_dict_inspector.model_rows(model)), hide_index=True)
    right.markdown("**`optimizer.state_dict()['state']`**")
    right.dataframe(pd.DataFrame(state_dict_inspector.optimizer_rows(model, optimizer)),
                    hide_index=True)
    settings = state_dict_inspector.param_group_settings(optimizer)
    st.caption("`param_groups[0]`: " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    st.write(f"Adam's saved tensors: {state_dict_inspector.optimizer_state_size(optimizer):,} "
             f"bytes, for a model of {sum(r['bytes'] for r in state_dict_inspector.model_rows(model)):,}"
             " bytes.")


inspector_section()
st.markdown(
    "**The course's checkpoint module is the same calls, wrapped.** The runs panel saves every "
    "run with `course.runs.checkpoints`: `make_checkpoint` builds the same dict (the model's and "
    "the optimizer's `state_dict()`, the epoch, the metrics, plus the RNG state and the "
    "scheduler's state when a run has one), and `save_checkpoint` writes it with `torch.save` to "
    "a temporary file first and renames it, so a crash mid-write never leaves half a checkpoint."
)
with st.expander("The course's make_checkpoint and save_checkpoint"):
    callouts.show_source(checkpoints.make_checkpoint)
    callouts.show_source(checkpoints.save_checkpoint)

# --- Portability -----------------------------------------------------------------------------
st.header("3. `torch.save(model)` vs `torch.save(model.state_dict())`")
st.markdown(
    "Saving the whole model looks simpler, and it is the fragile one. The pickle stores the "
    "model's class **by name** (`module.ClassName`) and looks that name up again when loading. "
    "Here a learner's `model.py` defines `TinyNet`; both files are saved, then the class is "
    "renamed and the file moved, as projects do. Every cell below is what torch really said."
)
st.code(portability.MODEL_SOURCE.strip(), language="python")
portability_table = st.cache_data(portability.portability_table, show_spinner=False)
# one column per way of saving, one row per situation: narrow enough to read at 900 px, wrapped
st.table(pd.DataFrame(portability_table()).set_index("saved with").T)
if not portability.safetensors_available():
    st.caption("`safetensors` (tensors only, no pickle at all) is not installed here, so its row "
               "is left out; with it, it loads in every column like the state_dict.")
callouts.misconception(
    "torch.save(model) is the right way: it saves everything.",
    "It saves a pickle tied to your exact class name and file layout, which only loads with "
    "`weights_only=False` (so it may run code). The state_dict is names and tensors: any code "
    "that builds the same layers can load it. That file is the model you export and share.")

# --- X-ray -----------------------------------------------------------------------------------
st.header("4. Checkpoint X-ray: what is inside a .pt file")
card = checkpoint_xray.weights_only_default()
st.info(f"**This server runs torch {card['version']}.** `torch.load(path)` with no "
        f"`weights_only` means **{card['default']}**: {card['meaning']}", icon="🪪")
st.markdown(
    "A `.pt` file is a zip archive: `data.pkl`, a pickle that describes the dicts and tensors, "
    "and one raw entry per tensor. The pickle names every class or function it needs: a "
    "**global**. The X-ray reads those instruction by instruction without running any, so even "
    "a hostile file can be looked at. `weights_only=True` is not the whole defence either: it "
    "still accepts zip bombs and tensors that claim more data than they hold, so the course's "
    "own loader checks the archive and every pickle instruction before `torch.load` sees it. "
    "Pick a file from the lab or upload your own (up to 5 MB)."
)


@st.cache_data(show_spinner=False)
def lab_file(name: str) -> bytes:
    """The lab's files are built once per server: pure bytes."""
    if name == "a good state_dict (the page's model, after the race)":
        return race().uninterrupted.snapshots[resume_race.EPOCHS]
    return bad_checkpoints.BAD_FILES[name]()


LAB_NAMES = ["a good state_dict (the page's model, after the race)", *bad_checkpoints.BAD_FILES]


def xray_report(blob: bytes) -> None:
    """The X-ray's findings, then the safe loader's verdict, then an evaluation if it fits."""
    st.caption(f"{len(blob):,} bytes")
    try:
        found = checkpoint_xray.pickle_globals(blob)
    except ValueError as error:
        st.error(f"The X-ray cannot read this file's pickle: {error}.")
        found = None
    if found is not None:
        st.markdown("**Globals in the pickle** (what `torch.load` would have to import):")
        st.table(pd.DataFrame([{"global": g.name, "weights_only=True": "allowed" if g.allowed
                                else "REFUSED", "why": g.why} for g in found]), hide_index=True)
        blocking = [g.name for g in found if not g.allowed]
        if blocking:
            st.warning("These force `weights_only=False`: " + ", ".join(f"`{n}`" for n in blocking))
    try:
        loaded = read_checked(blob, UPLOAD_LIMIT)
        state = checkpoints.load_model_state(blob, max_bytes=UPLOAD_LIMIT)
    except CheckpointError as error:
        st.error(f"**The course's safe loader refused it.** {error}")
        return
    st.markdown("**Key tree** (after the safe loader read it):")
    st.dataframe(pd.DataFrame(checkpoint_xray.key_tree(loaded)), hide_index=True)
    name, model = checkpoint_xray.matching_model(state)
    if name is None:
        st.error("**The weights fit none of the course's models** (wrong architecture):\n\n"
                 + "\n".join(f"- {problem}" for problem in model))
        return
    held = race_data()
    accuracy = checkpoint_xray.evaluate(model, held.test_x, held.test_y)
    st.success(f"**Loaded into: {name}.** Accuracy on {len(held.test_y):,} test images: "
               f"**{accuracy:.1%}**")


def continue_training(blob: bytes, file_name: str) -> None:
    """A run checkpoint (from any runs panel) can go on training as a new run of this workspace."""
    try:
        first = checkpoints.continued_config(blob, 1)
    except CheckpointError as error:
        st.caption(f"Continue training: {error}")
        return
    done = first.epochs - 1
    room = train.LIMITS["epochs"][1] - done
    if room < 1:
        st.caption(f"Continue training: the run already has {done} epochs, the most a run may have.")
        return
    st.markdown(f"**This is a run checkpoint** ({first.model}, {done} epochs done, optimizer state "
                "included): it can continue exactly where it stopped.")
    more = st.number_input("More epochs", 1, room, min(2, room), key="save.more")
    if st.button("▶️ Continue training it as a new run", key="save.continue"):
        config = checkpoints.continued_config(blob, int(more))
        space = panel.current_workspace()
        try:
            run_dir = space.new_run_dir()
        except WorkspaceError as error:
            st.error(str(error))
            return
        checkpoints.write_continued_run(run_dir, blob, config, f"continued from {file_name}",
                                        st.session_state.get("lesson.slug") or "")
        panel.job_runner().submit(run_dir)
        st.session_state["save.continued"] = run_dir.name
        widgets.refresh_page()  # the runs panel below appears


@st.fragment
def xray_section() -> None:
    upload = st.file_uploader("Upload a checkpoint (.pt, .pth; up to 5 MB)", type=["pt", "pth", "bin"],
                              key="save.upload")
    if upload is not None:
        st.markdown(f"**Your file: `{upload.name}`**")
        if upload.size > UPLOAD_LIMIT:
            st.error(f"The file is {upload.size / 1e6:.1f} MB; this page takes up to "
                     f"{UPLOAD_LIMIT / 1e6:.0f} MB.")
        else:
            xray_report(upload.getvalue())
            continue_training(upload.getvalue(), upload.name)
        return
    name = st.selectbox("Or X-ray a file from the lab", LAB_NAMES, key="save.lab")
    xray_report(lab_file(name))
    st.download_button("⬇️ Download this file", lab_file(name), file_name="lab-checkpoint.pt",
                       key="save.lab_download", help="Then upload it above, or X-ray it at home.")


xray_section()
if st.session_state.get("save.continued"):
    st.info("Your continued run trains in the run system: watch it in *Your runs* under "
            "section 5b.", icon="▶️")
st.download_button("⬇️ Export the race's final model (state_dict, the file to share)",
                   lab_file(LAB_NAMES[0]), file_name="mnist-784-32-10.pt", key="save.export")

# --- The resume race -------------------------------------------------------------------------
st.header("5. Crash at epoch 47 of 50, then resume three ways")
with st.spinner("Training the race: one 50-epoch run and three resumes (a second or two, once per server)…"):
    result = race()
where = "MNIST" if result.source == "MNIST" else "a synthetic task (MNIST is not on this machine)"
st.markdown(
    f"A real run on {where}: "
    f"1,000 training images, a 784-32-10 MLP, Adam (lr {resume_race.LR}) with a cosine "
    "learning-rate schedule, 50 epochs, a checkpoint (`last.pt`) after every epoch. "
    "The power goes during epoch 48; `last.pt` holds epoch 47. Three ways to resume, each from "
    "that same file, drawn over the run that never crashed: (a) the weights only, with a fresh "
    "Adam and a fresh schedule; (b) the weights and the optimizer; (c) the weights, the "
    "optimizer, the scheduler and the shuffling RNG's state. It is small so that it trains "
    "right here in the page, in a second or two, once per server."
)
checks.check_choice(
    "save.q_resume",
    "Which resume ends with weights bit-for-bit equal to the run that never crashed?",
    ["(a) weights only", "(b) weights + optimizer", "(c) weights + optimizer + scheduler + RNG",
     "none: a resumed run always drifts"], 2,
    "Only (c) restores every piece of state the loop uses: Adam's averages, the schedule's "
    "position and the shuffle order. Same thread count, same operations, same bits.")
FIRST_SHOWN = 40
st.plotly_chart(saving_charts.race_curves(
    result.uninterrupted.step_losses,
    {label: result.resumed[key].step_losses
     for key, (label, _) in resume_race.RESUMES.items()},
    result.steps_per_epoch, resume_race.CRASH_AFTER, FIRST_SHOWN), key="save.race_chart")
rows = []
for key, (label, restore) in resume_race.RESUMES.items():
    run = result.resumed[key]
    rows.append({"resume": f"({key}) {label}",
                 "weights equal (torch.equal)": resume_race.same_weights(
                     run.final_state, result.uninterrupted.final_state),
                 "mean loss, epochs 48-50": round(resume_race.mean_loss_after_resume(result, key), 5),
                 "worst step above uninterrupted": round(resume_race.loss_spike(result, key), 5),
                 "test accuracy at 50": f"{run.test_accuracy[50]:.1%}"})
rows.append({"resume": "uninterrupted", "weights equal (torch.equal)": True,
             "mean loss, epochs 48-50": round(sum(
                 result.uninterrupted.step_losses[resume_race.CRASH_AFTER * result.steps_per_epoch:])
                 / (3 * result.steps_per_epoch), 5), "worst step above uninterrupted": 0.0,
             "test accuracy at 50": f"{result.uninterrupted.test_accuracy[50]:.1%}"})
st.dataframe(pd.DataFrame(rows), hide_index=True)
st.markdown(
    "(a) jumps: a fresh Adam has no averages yet, so its first steps are full-size steps in "
    "every direction, and the fresh schedule puts the learning rate back at its start value "
    "when the old one had nearly annealed to zero. (b) has Adam's memory and the learning rate "
    "saved in `param_groups`, so it is close, but its schedule restarts its count and its "
    "shuffling starts from the seed again: close is not equal. (c) continues exactly."
)
callouts.misconception(
    "Saving the model saves everything needed to resume.",
    "The weights are only part of the state. Adam's momentum and adaptive rates, the "
    "scheduler's position and the RNG are state too: without them the optimizer forgets, and "
    "training regresses (a). PyTorch Lightning users hit exactly this when resuming without "
    "optimizer or scheduler state (Lightning-AI/pytorch-lightning#10766).")
with st.expander("The resume, as it ran"):
    callouts.show_source(resume_race.resume)
    callouts.show_source(resume_race.make_checkpoint)

# --- The same crash, for real ------------------------------------------------------------------
st.header("5b. The same crash, with a real process and a real kill -9")
st.markdown(
    f"The race trained in the page. Now a run of the run system ({panel.describe(real_crash.CRASH_CONFIG)}, "
    "seed 0) trains in a process of its own, `python -m course train`, writing `last_epoch.pt` "
    "after every epoch, and that process is killed with **SIGKILL** right after the epoch you "
    "choose: no exception, no `finally`, no last save, exactly what a power cut leaves. Its twin, "
    "the same settings and seed, trains straight through beside it. Then you press **▶️ Resume** "
    "in *Your runs*: the run system's worker loads the checkpoint and finishes the run."
)
real_crash.crash_section(panel.current_workspace())
panel.runs_panel(panel.current_workspace(), "save.runs")

# --- Best model and timeline -----------------------------------------------------------------
st.header("6. Save the best model, and travel back to any epoch")
st.markdown(
    "The same loop also writes `best.pt` whenever the accuracy on a **validation split** "
    "improves: 500 images held out from the *training* set, never the test set. Choosing the "
    "epoch on the test set would make the test score one more thing you tuned, so it would no "
    "longer tell you how the model does on images it has never influenced. That is early "
    "stopping (1.3.7): keep the best weights, and stop once they stop improving."
)
checks.check_choice(
    "save.q_best", "Which accuracy should decide which epoch `best.pt` keeps?",
    ["training accuracy", "validation accuracy (held out from training)", "test accuracy"], 1,
    "Training accuracy keeps rising as the model memorises; test accuracy must stay untouched "
    "until the end so it can report honestly. The validation split is there to be chosen on.")
uninterrupted = result.uninterrupted
patience = 5
stop_at = best_checkpoint.early_stopping_epoch(uninterrupted.val_accuracy, patience)
cols = st.columns(3)
cols[0].metric("best.pt holds epoch", uninterrupted.best_epoch)
cols[1].metric("its validation accuracy", f"{uninterrupted.val_accuracy[uninterrupted.best_epoch]:.1%}")
cols[2].metric("early stopping stops at epoch", stop_at,
               help=f"Patience {patience}: {patience} epochs in a row without a new best.")


def show_digits(images: torch.Tensor, rows: list[dict]) -> None:
    """The images the predictions are about (MNIST only: synthetic points are not pictures)."""
    mean, std = data.NORMALIZATION["mnist"]
    pixels = ((images[:len(rows)] * std + mean).clamp(0, 1) * 255).to(torch.uint8)
    for column, picture, row in zip(st.columns(len(rows)), pixels, rows, strict=True):
        verdict = "right" if row["right"] else "wrong"
        column.image(picture.view(28, 28).numpy(), width=56,
                     caption=f"{row['predicted']} {'✓' if row['right'] else '✗'}",
                     alt=f"A test digit the loaded model reads as {row['predicted']} ({verdict})")


@st.cache_resource(max_entries=64, show_spinner=False)
def timeline_figure(epoch: int):
    """Read-only once built (st.plotly_chart copies it): one figure per loaded epoch, shared."""
    return saving_charts.timeline(uninterrupted.val_accuracy, uninterrupted.test_accuracy,
                                  uninterrupted.best_epoch, epoch)


@st.fragment
def timeline_section() -> None:
    epoch = st.slider("Reload the checkpoint of epoch", 1, resume_race.EPOCHS,
                      uninterrupted.best_epoch, key="save.epoch")
    model = best_checkpoint.load_weights(uninterrupted.snapshots[epoch])
    held = race_data()
    accuracy = resume_race.accuracy(model, held.test_x, held.test_y)
    cols = st.columns(2)
    cols[0].metric(f"Test accuracy of epoch {epoch}'s weights", f"{accuracy:.1%}")
    cols[1].metric("Validation accuracy", f"{uninterrupted.val_accuracy[epoch]:.1%}")
    st.plotly_chart(timeline_figure(epoch), key="save.timeline")
    predictions = best_checkpoint.predictions(model, held.test_x, held.test_y)
    if result.source == "MNIST":
        show_digits(held.test_x, predictions)
    st.dataframe(pd.DataFrame(predictions), hide_index=True)


timeline_section()
st.caption("Each point is a real state_dict saved after that epoch; moving the slider loads it "
           "with `torch.load(..., weights_only=True)` into a fresh model and evaluates it.")
callouts.takeaway(
    "Save the state_dict to share a model; save a checkpoint (model, optimizer, scheduler, RNG, "
    "epoch) to resume one; pick the best epoch on validation, and load with weights_only=True.")

lesson.next_lesson_link("saving-and-loading")
