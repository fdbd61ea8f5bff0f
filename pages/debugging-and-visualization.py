"""Lesson 2.2.3 Debugging and Visualization: torchinfo, gradient checks, TensorBoard, the bug lab."""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch: a fresh server's deep link shows its title at once

from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from course.charts import figures
from course.concepts import bugs, diagnostics
from course.engine import data, models
from course.engine.train import RunConfig
from course.runs import run_files
from course.runs.checkpoints import load_run_model
from course.ui import callouts, checks, datasets, event_curves, lesson, panel

lesson.lesson_header("debugging-and-visualization")
panel.job_runner()  # start the worker processes now, so they are warm by the first click

st.markdown(
    "No new theory today: this lesson gives you the **tools** to find out why training goes "
    "wrong, on your own. Three instruments (torchinfo, the gradient check, TensorBoard) and one "
    "habit: a checklist you follow instead of staring at the code and pressing restart."
)
callouts.takeaway("Debugging is a systematic workflow, not random guessing.")

space = panel.current_workspace()
train_split = datasets.split_or_error("mnist", train=True)


@st.cache_data(show_spinner=False)
def cached_xray(model: str, batch: int = 64) -> tuple[diagnostics.XRay | None, str | None]:
    """torchinfo's X-ray of a named model, or the shape error it stops with."""
    try:
        return diagnostics.xray(diagnostics.lesson_model(model), (batch, 1, 28, 28)), None
    except diagnostics.ShapeMismatch as error:
        return None, str(error)


@st.cache_data(show_spinner=False)
def cached_count(model: str) -> int:
    """The metric's own expression, run on the model: what torchinfo's total must equal."""
    return sum(p.numel() for p in diagnostics.lesson_model(model).parameters())


def xray_table(rows: list[dict]) -> None:
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "parameters": st.column_config.NumberColumn(format="localized")})


# --- 1. The opening puzzle ------------------------------------------------------------------
st.header("1. A silent failure")
st.markdown(
    "A colleague trained the course's simple MLP on 10,000 MNIST images. Their log says the loss "
    "fell from **2.3 to about 0.5**: looks great. Then they checked the accuracy their loop "
    "reports: **about 10%**, exactly what guessing gets on ten digits. Nothing crashed, no "
    "error, no warning. Train their run yourself (it takes a few seconds) and look at both curves."
)
PUZZLE = bugs.puzzle_config()
panel.train_button(space, PUZZLE, "debug.puzzle_train", text="🚀 Train the colleague's run",
                   disabled=train_split is None, label="the colleague's run (puzzle)")
puzzle_run = panel.twin_run(space, PUZZLE)
if puzzle_run:
    event_curves.event_curves(space, {"colleague's run": puzzle_run},
                              ["loss/train", "accuracy/train"], "debug.puzzle")
with st.expander("What could be going on? (think first, then open)"):
    st.markdown(
        "Your first guess might be *the model learned the class prior*: always predicting the "
        "most common digit. But that cannot produce this loss: predicting the prior of ten "
        "balanced classes costs ln 10 = **2.303**, no lower. The loss is the mean of −ln p(right "
        "digit) over the images, so a loss of 0.5 means the geometric mean of the probability "
        "the model gives the right digit is e^−0.5 ≈ **61%**. So the model learns; something "
        "else is wrong. Keep the question open: by the end of the page you will have the three tools "
        "that solve it (section 8)."
    )
callouts.takeaway("Loss going down does not mean training is working: always watch accuracy too.")

# --- 2. torchinfo ---------------------------------------------------------------------------
st.header("2. torchinfo is an X-ray")
st.markdown(
    "`torchinfo.summary(model, input_size)` pushes one dummy batch through the model and "
    "lists every layer's **output shape** and **parameter count**, with the total of trainable "
    "parameters. It sees inside the model without any real data: it names the layer where the "
    "shapes stop fitting and prints every shape on the way. A shape error in the forward pass "
    "would crash on the first batch anyway; the errors that cost you an hour are in code that "
    "runs late (the evaluation after the first epoch, the last, smaller batch), and a summary "
    "with that input size finds them before training starts."
)
XRAY_MODELS = {models.MODEL_LABELS[kind]: kind for kind in ("mlp", "mlp-bn")}
CHECK_MODEL = "Check 1's 3-layer model (784-128-64-10)"


def check1_answered() -> bool:
    """Check 1(b) was answered (the check reruns the page when its answer first shows)."""
    return checks.answered("debug.q_params")


@st.fragment
def xray_section():
    left, right = st.columns([1, 2])
    # Check 1 asks for this model's shapes and parameter count: no X-ray of it before the answer.
    options = {**XRAY_MODELS, CHECK_MODEL: "three-layer"} if check1_answered() else XRAY_MODELS
    name = left.radio("Model", list(options), key="debug.xray_model")
    batch = left.select_slider("Batch size in `input_size`", [1, 16, 32, 64, 128], value=64,
                               key="debug.xray_batch")
    left.code(f"summary(model,\n        input_size=({batch}, 1, 28, 28))", language="python")
    xray, _ = cached_xray(options[name], batch)
    with right:
        xray_table(xray.rows)
        cols = st.columns(2)
        cols[0].metric("Total trainable parameters (torchinfo)", f"{xray.trainable_params:,}")
        cols[1].metric("sum(p.numel() for p in model.parameters())",
                       f"{cached_count(options[name]):,}")
    st.caption("The batch size changes every output shape's first number and no parameter "
               "count: parameters do not depend on how many images you feed."
               + ("" if check1_answered() else " Check 1's model (section 7) joins this list "
                  "once you have answered the check."))


xray_section()

st.subheader("The shape-error lab")
st.markdown("Two models with the most common bugs in PyTorch. torchinfo catches each one with a "
            "dummy batch, before a single real image is trained on.")
SHAPE_BUGS = {  # the broken model's name, its code, what went wrong
    "Missing nn.Flatten": ("missing-flatten", diagnostics.missing_flatten_model,
                           "The image arrives as [64, 1, 28, 28]; `nn.Linear` multiplies the last "
                           "dimension (28) by its 784 inputs. Add `nn.Flatten()` first: "
                           "[64, 1, 28, 28] → [64, 784]."),
    "Wrong Linear in_features": ("wrong-in-features", diagnostics.wrong_in_features_model,
                                 "The layer before hands over 128 features; the last Linear "
                                 "expects 256. One number, between two adjacent layers: "
                                 "`nn.Linear(128, 10)`."),
}


@st.fragment
def shape_lab():
    choice = st.segmented_control("Broken model", list(SHAPE_BUGS), default=list(SHAPE_BUGS)[0],
                                  required=True, key="debug.shape_bug") or list(SHAPE_BUGS)[0]
    name, broken, explanation = SHAPE_BUGS[choice]
    st.markdown("**Broken**")
    callouts.show_source(broken)
    st.error(f"torchinfo stops with: `{cached_xray(name)[1]}`", icon="🩻")
    st.markdown(explanation)
    st.markdown("**Fixed**")
    callouts.show_source(diagnostics.fixed_model)
    xray_table(cached_xray("fixed")[0].rows)


shape_lab()
callouts.misconception("Shape errors mean I did something fundamentally wrong.",
                 "They are the most common PyTorch error and almost always one mismatched "
                 "number between two adjacent layers. Plumbing, not a flaw in your design.")
callouts.takeaway("torchinfo is an X-ray: see inside the model without running data. Shape errors "
            "are plumbing problems, not design flaws.")

# --- 3. Gradient check ----------------------------------------------------------------------
st.header("3. Taking the pulse: gradient norms")
st.markdown(
    "After one `loss.backward()`, every parameter holds a gradient. `model.named_parameters()` "
    "yields `(name, param)` pairs, so you can print the size (L2 norm) of each layer's "
    "gradient **with its name** and see which layer is unhealthy. The course's rule of thumb "
    f"for the first iteration: **healthy** when all layers are within 10-100× of each other; "
    f"**vanishing** when the early layers are ~100,000× smaller than the late ones; "
    f"**exploding** when any norm exceeds {diagnostics.EXPLODING_NORM:g} or is NaN."
)
callouts.show_source(diagnostics.gradient_norms)


@st.cache_data(show_spinner=False)
def cached_pulse(kind: str) -> dict[str, float]:
    """One backward pass of a pulse network on the first 64 MNIST training images."""
    return diagnostics.pulse(diagnostics.pulse_network(kind), *diagnostics.first_batch())


HEATMAP_STEPS = 50


@st.cache_data(show_spinner=False)
def cached_heatmap(kind: str) -> tuple[list[str], torch.Tensor]:
    """The first 50 steps once per network; the slider shows a prefix (the steps are seeded)."""
    return diagnostics.norms_over_steps(diagnostics.pulse_network(kind), *diagnostics.first_batch(),
                                        steps=HEATMAP_STEPS)


VERDICT_BOXES = {"healthy": st.success, "uneven": st.warning, "vanishing": st.error,
                 "exploding": st.error}


@st.cache_data(show_spinner=False)
def pulse_figure(kind: str):
    return figures.gradient_norm_bars(cached_pulse(kind))


@st.cache_data(show_spinner=False)
def heatmap_figure(kind: str, steps: int):
    """One colour scale for all three networks (all 50 steps): equal colour, equal norm."""
    shared = diagnostics.log_norm_range(*(cached_heatmap(k)[1] for k in diagnostics.PULSE_NETWORKS))
    names, norms = cached_heatmap(kind)
    return figures.norm_heatmap(names, norms[:steps], log_range=shared)


def show_pulse(kind: str) -> None:
    norms = cached_pulse(kind)
    st.markdown(f"**{kind.capitalize()}**: {diagnostics.PULSE_NETWORKS[kind]}")
    st.plotly_chart(pulse_figure(kind), key=f"debug.pulse.{kind}")
    verdict = diagnostics.gradient_verdict(norms)
    VERDICT_BOXES[verdict.kind](f"**Verdict: {verdict.kind}.** {verdict.message}")


def worked_example(unhealthy: str) -> None:
    """The course's worked numbers beside the live ones, and how the two relate."""
    st.dataframe(pd.DataFrame(diagnostics.worked_example_rows(
        cached_pulse("healthy"), unhealthy, cached_pulse(unhealthy))), hide_index=True)
    relation = {
        "vanishing": "The live sigmoid stack has ten layers, more than the example's, so its "
                     "first layer is even further behind: past the 100,000× mark, it barely moves.",
        "exploding": "Each layer's weights are 4× too large, so the signal grows about 4× a "
                     "layer: ten layers in, every norm is far above 100 (about a million). One SGD "
                     "step with gradients that size is enough: the heatmap below shows NaN in "
                     "every layer from the second step on.",
    }[unhealthy]
    st.caption("The live networks are not the example's, so the sizes differ: the healthy "
               "norms here are larger than 0.03 (a different model, batch and loss), but they "
               f"are balanced, which is what the rule checks. {relation}")


@st.fragment
def pulse_section():
    if train_split is None:
        return
    unhealthy = st.segmented_control("Compare the healthy network with", ["vanishing", "exploding"],
                                     default="vanishing", required=True,
                                     key="debug.pulse_kind") or "vanishing"
    left, right = st.columns(2)
    with left:
        show_pulse("healthy")
    with right:
        show_pulse(unhealthy)
    worked_example(unhealthy)


@st.fragment
def heatmap_section():
    if train_split is None:
        return
    st.subheader("The pulse over the first steps")
    steps = st.slider("SGD steps (lr 0.05, one batch of 64)", 5, HEATMAP_STEPS, 30, 5,
                      key="debug.heat_steps")
    kind = st.radio("Network", list(diagnostics.PULSE_NETWORKS), horizontal=True,
                    key="debug.heat_kind", index=1)
    st.plotly_chart(heatmap_figure(kind, steps), key="debug.heatmap")
    low, high = diagnostics.log_norm_range(*(cached_heatmap(k)[1] for k in diagnostics.PULSE_NETWORKS))
    st.caption(f"All three networks share one colour scale (log10 of the norm, 10^{low} to "
               f"10^{high}): the same colour is the same norm. Healthy: one even colour down the "
               "column. Vanishing: a dark top (early layers) and a bright bottom, every step. "
               "Exploding: the brightest colour on the first step, then red from the second step on: "
               "NaN. The first update leaves the weights finite but huge, so the forward pass "
               "overflows float32 to infinity within ten layers and the loss and every gradient "
               "become NaN.")


pulse_section()
heatmap_section()
st.markdown("**In the training loop**: log the norms every N iterations, so the pulse is "
            "recorded while training runs. This is the helper; the app's training workers call "
            "the same idea on every run (the `grad_norm/...` curves further down).")
callouts.show_source(diagnostics.log_gradient_norms)
st.code("for step, (images, labels) in enumerate(train_loader):\n"
        "    ...\n    loss.backward()\n"
        "    if step % 100 == 0:\n        log_gradient_norms(model, writer, step)\n"
        "    optimizer.step()", language="python")
st.markdown("**The telephone game (backprop, 1.3.1)**: the gradient is a message passed back "
            "layer by layer. Each sigmoid multiplies it by at most 0.25; after ten layers the "
            "first one hears a whisper. That is a vanishing gradient.")
remedy_left, remedy_right = st.columns(2)
remedy_left.markdown("**Remedies for vanishing** (early layers ≪ late layers)\n"
                     "- ReLU instead of sigmoid or tanh\n- proper initialization (Kaiming/He)\n"
                     "- batch norm\n- skip connections")
remedy_right.markdown("**Remedies for exploding** (a norm above 100, or NaN)\n"
                      "- lower the learning rate\n"
                      "- gradient clipping: `torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)`\n"
                      "- check the data (NaN, unnormalized inputs)\n- batch norm")
callouts.takeaway("Gradient checking is taking the pulse: balanced is healthy; a weak pulse in the "
            "early layers is an early warning, found on the first iteration.")

# --- 4. TensorBoard -------------------------------------------------------------------------
st.header("4. TensorBoard is a flight recorder")
st.markdown(
    "`SummaryWriter` writes every number you give it into an event file, continuously, and "
    "TensorBoard (a separate process, on `localhost:6006`) reads them back afterwards. It is two "
    "logging lines in the loop. Every run you train in this app does exactly that: loss and "
    "accuracy (train and test) and every layer's gradient norm go into the run's `tb/` folder."
)
st.code("from torch.utils.tensorboard import SummaryWriter\n"
        "writer = SummaryWriter('runs/lr_0.001')        # one folder per experiment\n"
        "...\nwriter.add_scalar('loss/train', loss.item(), step)\n"
        "writer.add_scalar('accuracy/test', test_accuracy, step)", language="python")
st.subheader("Compare three learning rates")
st.markdown("Each run logs into its own directory; TensorBoard overlays them with zero plotting "
            "code. Here the page does what TensorBoard does: it reads the three runs' event files "
            "back with TensorBoard's own reader and draws them together.")
LRS = {"lr 0.0001 (too small)": 1e-4, "lr 0.001 (the recipe)": 1e-3, "lr 0.1 (too large)": 1e-1}
lr_configs = {name: RunConfig(train_subset=10_000, epochs=2, lr=lr) for name, lr in LRS.items()}
panel.train_button(space, list(lr_configs.values()), "debug.lr_train",
                   text="🚀 Train the three runs (10,000 images, 2 epochs each)",
                   disabled=train_split is None)
lr_runs = event_curves.section_runs(space, lr_configs)
if lr_runs:
    event_curves.event_curves(space, lr_runs, ["loss/train", "accuracy/test", "dead_relu/2"],
                              "debug.lr", log_y=True)
st.caption("`dead_relu/2` is the share of the first ReLU layer's units that output 0 for "
           "every image of a batch: a dead unit passes no gradient back.")
cards = st.columns(3)
cards[0].info("**lr 0.0001: too small.** Every step is tiny: the loss creeps down and after two "
              "epochs is still well above the recipe's. Not wrong, just slow.", icon="🐢")
cards[1].success("**lr 0.001: about right.** The loss falls fast, then settles; test accuracy "
                 "climbs above 90% within the first epoch.", icon="✅")
cards[2].error("**lr 0.1: too large.** The first steps overshoot: the loss jumps far above 2.3, "
               "then sticks near it, and accuracy stays near chance. `dead_relu/2` shows why: "
               "after a few big steps almost every ReLU of the first layer outputs 0 for every "
               "image, so no gradient flows back through it.", icon="💥")
if lr_runs:
    st.markdown("**Your own TensorBoard**: download a run folder, unzip it on your machine and "
                "point TensorBoard at it (`pip install tensorboard`), then open "
                "`localhost:6006`.")
    chosen = st.selectbox("Run folder to download", list(lr_runs), key="debug.zip_run")
    st.code(f"unzip {lr_runs[chosen]}.zip\ntensorboard --logdir {lr_runs[chosen]}",
            language="bash")
    st.download_button("⬇️ Run folder as .zip (event files, config, checkpoints)",
                       data=lambda: diagnostics.folder_zip(space.run_dir(lr_runs[chosen])),
                       file_name=f"{lr_runs[chosen]}.zip", mime="application/zip",
                       key="debug.zip", on_click="ignore")
callouts.takeaway("TensorBoard is a flight recorder: it captures everything while training runs, and "
            "you review it afterwards.")

st.subheader("A suspiciously smooth loss curve")
st.markdown("Real mini-batch loss is noisy: every step sees different images. A perfectly "
            "smooth curve means the model sees the **same batch** every step: the classic "
            "`images, labels = next(iter(train_loader))` written outside the loop.")
smooth_configs = {"healthy": RunConfig(train_subset=5_000, epochs=2),
                  "same batch every step": RunConfig(train_subset=5_000, epochs=2,
                                                     bug="same-batch")}
panel.train_button(space, list(smooth_configs.values()), "debug.smooth_train",
                   text="🚀 Train both (5,000 images, 2 epochs)", disabled=train_split is None)
smooth_runs = event_curves.section_runs(space, smooth_configs)
if "same batch every step" in smooth_runs:
    event_curves.event_curves(space, smooth_runs, ["loss/train", "accuracy/test"], "debug.smooth",
                              log_y=True)
    st.caption("The buggy loss slides smoothly to ~0 (it memorises 64 images) while test "
               "accuracy stays far below the healthy run's.")
elif smooth_runs:
    st.caption("Your healthy run with these settings is already there (the bug lab trains the "
               "same one): the button adds the same-batch run beside it and reuses the "
               "healthy one.")
st.code(bugs.BUGS["same-batch"].buggy + "\n    ...   # the bug", language="python")

# --- 5. The checklist -----------------------------------------------------------------------
st.header("5. The 4-phase debugging checklist")
st.markdown("1. **Before training**: torchinfo: shapes and parameter counts.\n"
            "2. **First iteration**: gradient check: every layer's norm, named.\n"
            "3. **During training**: TensorBoard: loss **and** accuracy, train **and** test.\n"
            "4. **When something looks wrong**: diagnose by symptom.")
SYMPTOMS = {
    "Loss stuck (flat from the start)": ("Gradient check", "Look at the gradient norms: zero "
                                         "(missing backward, zero_grad in the wrong place, "
                                         "frozen parameters) or vanishing (sigmoid stack, bad "
                                         "init). Fix the loop, or use ReLU / better init / batch "
                                         "norm."),
    "Loss becomes NaN": ("Gradient check", "Exploding gradients: lower the learning rate, clip "
                         "gradients (clip_grad_norm_), check the data for NaN or unnormalized "
                         "values, add batch norm."),
    "Train accuracy good, test accuracy bad": ("TensorBoard (train vs test)", "Overfitting: "
                                               "regularize (dropout, weight decay, batch norm), "
                                               "more data; and check you are not evaluating in "
                                               "train mode."),
    "Loss going down, accuracy flat": ("Check the predictions", "Print the shapes of "
                                       "`outputs.argmax(dim=1)` and `labels` and a few values "
                                       "side by side: the accuracy code (or the labels) is "
                                       "wrong, not the model."),
    "Loss suspiciously smooth": ("TensorBoard (the raw per-step curve)", "The model sees the "
                                 "same batch every step: iterate `for images, labels in "
                                 "train_loader:` inside the epoch loop."),
    "RuntimeError: mat1 and mat2 shapes cannot be multiplied": ("torchinfo", "Run "
                                                                "`summary(model, input_size)`: "
                                                                "find the two adjacent layers "
                                                                "whose sizes disagree."),
}


@st.fragment
def diagnosis():
    symptom = st.selectbox("What do you see?", list(SYMPTOMS), index=None,
                           placeholder="Pick a symptom", key="debug.symptom")
    if symptom:
        tool, fix = SYMPTOMS[symptom]
        st.info(f"**Tool:** {tool}\n\n**Fix:** {fix}", icon="🩺")


diagnosis()
callouts.misconception("When training fails I should reread the code and restart with a tweak.",
                 "Guessing wastes runs. Each phase of the checklist narrows it down with a "
                 "measurement: shapes, then gradients, then curves, then the symptom map.")

# --- 6. Bug lab -----------------------------------------------------------------------------
st.header("6. The bug lab")
st.markdown("**Common failure patterns**: most broken training runs come from a handful of "
            "one-line mistakes. Inject one into a real run and diagnose it from its curves and "
            "gradient norms, beside a healthy run with the same settings. Predict what the "
            "curves will do before you train.")


@st.fragment  # choosing a bug redraws the lab only, not the whole page
def bug_lab():
    bug = st.radio("Bug to inject", bugs.LAB_BUGS, horizontal=True, key="debug.lab_bug",
                   format_func=lambda name: name.replace("-", " "))
    lab_configs = bugs.lab_configs(bug)
    st.code(bugs.BUGS[bug].buggy, language="python", wrap_lines=True)
    if lab_configs["healthy"].model == "mlp-bn":
        st.caption("Trained with the improved MLP: the simple MLP has no Dropout or BatchNorm, so "
                   "`model.eval()` would change nothing.")
    checks.check_choice(f"debug.lab_check.{bug}", "what will this bug do to the run?",
                        list(bugs.LAB_SYMPTOMS), bugs.LAB_SYMPTOMS.index(bugs.BUGS[bug].symptom),
                    "Train both runs and read it off the curves: " + bugs.BUGS[bug].explanation)
    panel.train_button(space, list(lab_configs.values()), f"debug.lab_train.{bug}",
                       text="🧪 Train the buggy run and a healthy one", disabled=train_split is None)
    lab_runs = event_curves.section_runs(space, lab_configs)
    if lab_runs:
        event_curves.event_curves(space, lab_runs, ["loss/train", "accuracy/test",
                                                    "grad_norm/1.weight"], f"debug.lab.{bug}", log_y=True)
        st.caption("`grad_norm/1.weight` is the first Linear layer's gradient norm at the moment "
                   "`optimizer.step()` runs, recorded every 50 steps. A run with no line there had "
                   "no gradient at all when the optimizer stepped.")
    with st.expander("Reveal: what this bug does and the fix"):
        st.markdown(bugs.BUGS[bug].explanation)
        left, right = st.columns(2)
        left.markdown("**Buggy**")
        left.code(bugs.BUGS[bug].buggy, language="python")
        right.markdown("**Fixed**")
        right.code(bugs.BUGS[bug].fixed, language="python")


bug_lab()

# --- 7. Checks ------------------------------------------------------------------------------
st.header("7. Check your understanding")
st.markdown("**Check 1.** A batch of 32 images goes into this 3-layer model:")
callouts.show_source(diagnostics.three_layer_model)
callouts.reveal("(a) what shape comes out of each Linear layer?",
          "`[32, 128]`, then `[32, 64]`, then `[32, 10]`. `nn.Flatten` first turns "
          "`[32, 1, 28, 28]` into `[32, 784]`; the batch dimension never changes.")
checks.check_number("debug.q_params", "(b) how many trainable parameters does it have in total?",
                109_386, "784·128+128 = 100,480; 128·64+64 = 8,256; 64·10+10 = 650; total "
                "109,386. Now check it with torchinfo: section 2's X-ray lists this model "
                "from now on, with every output shape and parameter count.",
                min_value=0, step=1, unlocks=True)
callouts.reveal("(c) someone writes the second layer as `nn.Linear(256, 64)`. Where does it fail, "
          "and with which error?",
          "At the second Linear, on the first batch: `mat1 and mat2 shapes cannot be multiplied "
          "(32x128 and 256x64)`. The first layer hands over 128 features; the second expects "
          "256. torchinfo shows it before training.")
callouts.reveal("**Check 2.** A colleague's binary classifier is stuck at **52%** accuracy. What do "
          "you do?",
          "52% is chance for two classes: the model has learned nothing. Use all three tools. "
          "**torchinfo**: are the shapes and the output layer right (2 logits, or 1 with "
          "BCEWithLogits)? **Gradient check**: are the gradients flowing, or zero / vanishing "
          "/ dead in the early layers? **TensorBoard**: loss and accuracy, train and test: is the "
          "loss falling at all, and does train accuracy move while test does not?")

# --- 8. Solving the puzzle ------------------------------------------------------------------
REFERENCE_WORDS = ("Reference, measured with this engine: the colleague's settings, trained "
                   "once by the course's worker (seed 0, one CPU thread). ")


@st.cache_data(show_spinner=False)
def puzzle_reference() -> dict:
    return bugs.puzzle_reference()


@st.cache_data(show_spinner=False, max_entries=32)
def both_accuracies(run_dir: str, stamp: tuple) -> tuple[float | None, float | None]:
    """The puzzle model's accuracy on 2,000 test images: the buggy way and the right way."""
    try:
        return bugs.puzzle_accuracies(load_run_model(Path(run_dir))[0])
    except data.DatasetUnavailable:
        return None, None


@st.cache_data(show_spinner=False)
def comparison_shapes() -> tuple[list[int], list[int], list[int]]:
    """The shapes the buggy accuracy line compares, on a real batch through the simple MLP."""
    return bugs.compared_shapes(models.simple_mlp(), *diagnostics.first_batch())


st.header("8. Solving the opening puzzle")
st.markdown("Back to the colleague's run: loss 2.3 → 0.5, accuracy 10%. Apply the checklist.")
if train_split is not None:
    st.markdown("**1. torchinfo**: the model is the course's simple MLP; shapes are fine.")
    xray_table(cached_xray("mlp")[0].rows)
    st.markdown("**2. Gradient check on the first iteration**: the norms the worker recorded "
                "at step 1 of the run (read back from its event files).")
    norms = (diagnostics.step_one_norms(event_curves.run_scalars(space, puzzle_run))
             if puzzle_run else {})
    if not norms:
        norms = puzzle_reference()["grad_norms_step_1"]
        st.caption(REFERENCE_WORDS + ("Your run's norms replace them once it has trained a few "
                                      "steps." if puzzle_run else "Train the colleague's run in "
                                      "section 1 to see your own."))
    st.plotly_chart(figures.gradient_norm_bars(norms), key="debug.puzzle_norms")
    verdict = diagnostics.gradient_verdict(norms)
    VERDICT_BOXES[verdict.kind](f"**Verdict: {verdict.kind}.** {verdict.message} "
                                "The gradients are fine: the model does learn.")
    st.markdown("**3. TensorBoard**: loss down, accuracy flat. The symptom map says: **check the "
                "predictions**. So print the shapes the accuracy line compares:")
    predicted, truth, compared = comparison_shapes()
    st.code(f"outputs.argmax(dim=1, keepdim=True).shape  →  {predicted}\n"
            f"labels.shape                               →  {truth}\n"
            f"(predictions == labels).shape              →  {compared}   # !",
            language="text")
    st.markdown(
        "Broadcasting turned a comparison of 64 pairs into a **64 × 64 table**: every prediction "
        "against every label. Whatever the model predicts, about one label in ten matches, so "
        "the mean is ≈ 10%. The fix is one argument:")
    buggy, fixed = bugs.BUGS["silent-accuracy"].buggy, bugs.BUGS["silent-accuracy"].fixed
    st.code(f"{buggy}   # reads ≈ 10%\n{fixed}   # the fix", language="python")
    puzzle_dir = space.run_dir(puzzle_run) if puzzle_run else None
    stamp = run_files.checkpoint_stamp(puzzle_dir) if puzzle_dir else None
    wrong, right = both_accuracies(str(puzzle_dir), stamp) if stamp else (None, None)
    if right is None:
        wrong, right = puzzle_reference()["accuracy_buggy"], puzzle_reference()["accuracy_right"]
        st.caption(REFERENCE_WORDS + "Your own numbers replace them when the colleague's run "
                   "(section 1) has finished its first epoch.")
    shown = st.columns(2)
    shown[0].metric("The colleague's model, accuracy as their code computes it", f"{wrong:.1%}")
    shown[1].metric("The same model, accuracy computed correctly", f"{right:.1%}")
callouts.takeaway("Loss going down does not mean training is working: a model can lower its loss "
            "while the number you watch says nothing. Always monitor accuracy alongside loss, "
            "and when they disagree, check the predictions.")

# --- 9. Capstone ----------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def capstone_norms() -> dict[str, float | None]:
    """The capstone script run for real on one batch: each gradient when step() runs."""
    return bugs.capstone_norms_at_step(diagnostics.fixed_model(), *diagnostics.first_batch())


st.header("9. Capstone: three bugs, three tools")
st.markdown("This script has three bugs. Find each with the tool that finds it, then open the "
            "answer.")
callouts.show_source(bugs.capstone_model)
callouts.show_source(bugs.capstone_training)
with st.expander("Bug 1: found by torchinfo"):
    st.error(f"`summary(model, input_size=(64, 1, 28, 28))` → `{cached_xray('capstone')[1]}`",
             icon="🩻")
    st.markdown("No `nn.Flatten()`: add it as the first layer.")
with st.expander("Bug 2: found by the gradient check"):
    if train_split is not None:
        seen = capstone_norms()
        st.dataframe(pd.DataFrame({
            "parameter": list(seen),
            "param.grad at optimizer.step()": ["None (no gradient)" if norm is None
                                               else f"norm {norm:.3g}" for norm in seen.values()]}),
            hide_index=True)
    st.markdown("With bug 1 fixed (an `nn.Flatten()` first), the script above ran for real on "
                "one batch, and a hook looked at every `param.grad` when `optimizer.step()` was "
                "called. The gradients are **gone**: `zero_grad()` sits between `backward()` and "
                "`step()`, and since PyTorch 2.0 it sets every `.grad` to `None` (older versions "
                "filled them with zeros). `step()` skips parameters whose gradient is `None`, so "
                "nothing is updated, and a gradient check finds no gradient at all. Call "
                "`zero_grad()` before `backward()`.")
with st.expander("Bug 3: found by TensorBoard"):
    st.markdown("Once bugs 1 and 2 are fixed, the loss curve falls while the accuracy curve "
                "stays at ≈ 10%: the opening puzzle. "
                "`keepdim=True` makes the predictions `[B, 1]`, which broadcasts against "
                "`labels` `[B]` into a `[B, B]` table. Drop `keepdim=True`.")

panel.runs_panel(space, "debug.runs")
panel.workspace_link(space, "debugging-and-visualization")
st.subheader("Exercise (notebook)")
st.markdown("Verify a model with torchinfo, diagnose a shape bug, implement the gradient check, "
            "log to TensorBoard, compare three learning rates, and fix the three-bug script.")
callouts.foundations_link("Foundations links: vanishing and exploding gradients ↔ backprop's telephone "
                    "game (1.3.1) · batch norm (1.3.6) · learning rate (1.2).")
lesson.next_lesson_link("debugging-and-visualization")
