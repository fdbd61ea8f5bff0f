"""Lesson 2.2.2 Project: MNIST: load, build, train, evaluate, visualize: a first real model."""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch: a fresh server's deep link shows its title at once

import dataclasses

import pandas as pd
import streamlit as st
import torch
from torch import nn
from torchinfo import summary

from course.charts import figures
from course.concepts import evaluation, interpret, loops, metrics, project_setup, scissors
from course.engine import data, models, train
from course.runs import checkpoints, recorder, run_files
from course.ui import callouts, checks, datasets, gallery, lesson, memo, own_digit, panel, widgets

lesson.lesson_header("mnist-project")
panel.job_runner()  # start the worker processes now, so they are warm by the first click

st.markdown(
    "Everything comes together: real images from the DataLoader, a network built with "
    "`nn.Module`, the four-line training loop, and three new pieces: **softmax**, "
    "**cross-entropy** and **accuracy**. By the end of this page you will have trained a "
    "real model and looked at what it gets wrong."
)
callouts.foundations_link(
    "Foundations links: `nn.CrossEntropyLoss` builds on the loss-function intuition of 1.1 · "
    "`nn.BatchNorm1d` ↔ Batch normalization (1.3.6) · `nn.Dropout` ↔ Regularization (1.3.7) · "
    "`weight_decay` ↔ L2 regularization (1.3.7)."
)

# --- Classification --------------------------------------------------------------------------
st.header("1. From regression to classification")
st.markdown(
    "Until now the model predicted one continuous number and MSE measured the distance. "
    "MNIST asks *which of 10 digits?* The network outputs 10 numbers, one per class: the "
    "**logits**. They are raw scores: they can be negative and do not sum to 1, so they are "
    "**not** probabilities. The predicted class is the index of the largest one: "
    "`torch.argmax(outputs, dim=1)`. Same loop, different loss."
)
left, right = st.columns(2)
left.markdown("**Regression (2.1.4)**\n- output: one number\n- loss: `nn.MSELoss()`\n"
              "- metric: the loss itself")
right.markdown("**Classification (this lesson)**\n- output: 10 logits\n"
               "- loss: `nn.CrossEntropyLoss()`\n- metric: accuracy (% correct)")

# --- Softmax and cross-entropy ---------------------------------------------------------------
st.header("2. Softmax turns logits into probabilities")
st.markdown(
    "Sigmoid squashed **one** value into [0, 1]. Softmax squashes **N** values into "
    "probabilities that are all positive and sum to 1: "
    "$\\;p_i = \\dfrac{e^{z_i}}{\\sum_j e^{z_j}}$."
)
WORKED = [0.85, -0.65, 0.05, 0.35, -1.45, -0.25, 0.25, 3.8, 0.55, -0.66]
PRESETS = {
    "Worked example (10 classes)": (WORKED, 7),
    "Three classes": ([0.5, 1.5, -1.0], 1),
    "Confidently wrong (10 classes)": ([-1.0, 0.0, 0.0, 4.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0),
    "All equal (10 classes)": ([0.0] * 10, 0),
}


@st.fragment
def softmax_playground():
    """Sliders rerun only this part of the page, not the model evaluation further down."""
    preset_name = st.segmented_control("Start from", list(PRESETS), default=list(PRESETS)[0],
                                       required=True, key="mnist.preset")
    preset_logits, preset_true = PRESETS[preset_name or list(PRESETS)[0]]
    # Rows of five: ten sliders side by side shrink to ~30 px at a 900 px window.
    columns = [column for _ in range(0, len(preset_logits), 5) for column in st.columns(5)]
    logits = torch.tensor([
        column.slider(f"z{index}", -10.0, 10.0, float(value), 0.05, key=f"mnist.z.{preset_name}.{index}")
        for index, (column, value) in enumerate(zip(columns, preset_logits, strict=False))])
    true_class = st.selectbox("True class", range(len(logits)), index=preset_true,
                              key=f"mnist.true.{preset_name}")
    probabilities = metrics.softmax(logits)
    ce = metrics.cross_entropy(logits, true_class)
    st.plotly_chart(figures.probability_bars(probabilities, true_class), key="mnist.softmax")
    shown = st.columns(4)
    shown[0].metric("Predicted class (argmax)", int(logits.argmax()))
    shown[1].metric("p(true class)", f"{probabilities[true_class]:.3f}")
    shown[2].metric("Cross-entropy −log p", f"{ce:.3f}")
    shown[3].metric("MSE vs one-hot", f"{metrics.mse_against_one_hot(probabilities, true_class):.3f}")
    torch_ce = nn.CrossEntropyLoss()(logits.unsqueeze(0), torch.tensor([true_class])).item()
    st.caption(f"`nn.CrossEntropyLoss()(logits, label)` = {torch_ce:.4f}: PyTorch agrees.")
    with st.expander("Work it by hand: one element of softmax", expanded=True):
        exps = logits.exp()
        chosen = true_class
        st.markdown(
            f"Class {chosen} has logit {logits[chosen]:.2f}: $e^{{{logits[chosen]:.2f}}}$ = "
            f"**{exps[chosen]:.2f}**. The sum over all classes is **{exps.sum():.2f}**, so "
            f"p = {exps[chosen]:.2f} / {exps.sum():.2f} = **{probabilities[chosen]:.2f}**. "
            "(The worked example: class 7, logit 3.8 → e^3.8 = 44.70, sum 54.58, p = 0.82.)")
        by_torch = torch.softmax(logits, dim=0)
        st.code(f"torch.softmax(logits, dim=0) = {[round(p, 3) for p in by_torch.tolist()]}",
                language="text", wrap_lines=True)
    sigmoid_input = st.slider("Sigmoid is softmax with two classes: z", -6.0, 6.0, 1.5, 0.1,
                              key="mnist.sigmoid")
    st.caption(f"sigmoid({sigmoid_input:.1f}) = {torch.sigmoid(torch.tensor(sigmoid_input)):.4f} and "
               f"softmax([{sigmoid_input:.1f}, 0])[0] = "
               f"{metrics.softmax(torch.tensor([sigmoid_input, 0.0]))[0]:.4f}.")
    callouts.takeaway("Sigmoid to softmax: sigmoid squashes one value into [0, 1]; softmax squashes N "
                "values into probabilities that sum to 1.")


softmax_playground()

st.header("3. Cross-entropy: a confidence penalty")
st.markdown(
    "Cross-entropy is $L = -\\log(p_{correct})$. It is *wrongness score v2*: MSE measured a "
    "distance; cross-entropy measures how much confidence the model put on the **right** answer. "
    "Confident and wrong costs a fortune; unsure costs a little."
)
st.dataframe(pd.DataFrame(metrics.confidence_penalty_rows()).round(2), hide_index=True)
ratio = metrics.loss_for_probability(0.01) / metrics.loss_for_probability(0.95)
st.markdown(f"Confident-wrong costs **≈ {ratio:.0f}×** what confident-right costs "
            f"({metrics.loss_for_probability(0.01):.3f} / {metrics.loss_for_probability(0.95):.3f}): "
            "the ~90× difference that drives learning.")
st.subheader("Why not MSE?")
# Short headers (the full name in each header's tooltip): all seven columns fit at 900 px, so
# the two the paragraph below compares, the losses and their pushes, are always in view.
number = st.column_config.NumberColumn
st.dataframe(pd.DataFrame(metrics.mse_versus_cross_entropy_rows()).round(4), hide_index=True,
             width="stretch", column_config={
                 "model output": st.column_config.TextColumn("output"),
                 "p(true class 0)": number("p(true)", help="probability of the true class, 0"),
                 "p(class 3)": number("p(3)", help="probability of the rival class, 3"),
                 "MSE vs one-hot": number("MSE", help="MSE against the one-hot label"),
                 "cross-entropy": number("CE", help="cross-entropy, −ln p(true)"),
                 "MSE's push on the true logit": number(
                     "MSE push", help="MSE's push on the true logit, |∂loss/∂z|"),
                 "CE's push on the true logit": number(
                     "CE push", help="cross-entropy's push on the true logit, 1 − p(true)")})
st.markdown("Two problems, both visible in the table. MSE is **bounded**: as the wrong answer "
            "goes from confident to certain it grows only from 0.16 to 0.20, while cross-"
            "entropy climbs from 3.91 (−ln 0.02) to 6.91 and has no ceiling. And MSE's "
            "**gradient vanishes through softmax**: the push it gives the true class's logit "
            "(|∂loss/∂z|) is 0.042 for an unsure answer but 0.0004 for a certain mistake, "
            "because softmax is flat there. Cross-entropy's push is 1 − p(true): 0.98 and "
            "0.999, strongest exactly where the model is most wrong.")
callouts.takeaway("Cross-entropy is a confidence penalty: confident and wrong → enormous penalty; "
            "uncertain → mild.")

st.subheader("`nn.CrossEntropyLoss`: raw logits in, no softmax before it")
st.code("loss_fn = nn.CrossEntropyLoss()   # drop-in replacement for nn.MSELoss()\n"
        "loss = loss_fn(outputs, labels)    # outputs: [B, 10] logits, labels: [B] class indices",
        language="python")
st.markdown("It applies log-softmax internally, which is numerically stable. Applying softmax "
            "yourself first is the **double-softmax bug**:")


@st.fragment
def double_softmax_demo():
    """Its own fragment with its own logits: a logit slider above reruns only its section."""
    preset_name = st.segmented_control("Logits", list(PRESETS), default=list(PRESETS)[0],
                                       required=True, key="mnist.double_preset")
    logits_list, true_class = PRESETS[preset_name or list(PRESETS)[0]]
    logits = torch.tensor(logits_list)
    st.caption(f"logits = {logits_list}, true class {true_class}")
    double = metrics.double_softmax_effect(logits, true_class)
    bug = st.columns(4)
    bug[0].metric("loss, raw logits", f"{double['loss']:.3f}")
    bug[1].metric("loss, softmax first", f"{double['double_loss']:.3f}")
    bug[2].metric("gradient norm, raw logits", f"{double['gradient']:.3f}")
    bug[3].metric("gradient norm, softmax first", f"{double['double_gradient']:.3f}")
    st.plotly_chart(figures.sweep(metrics.double_softmax_sweep(logits, true_class), "logit",
                                 f"logit of the true class {true_class} (the others as chosen)",
                                 "loss"), key="mnist.double")
    st.caption(f"With softmax applied first, the loss can never drop below {double['floor']:.3f} "
               f"for {len(logits)} classes however right the model is, and for a confidently wrong "
               "model the gradient that should correct it is much weaker: training stalls. Try the "
               "'Confidently wrong' logits.")


double_softmax_demo()
callouts.misconception("I should apply softmax before the loss, to get probabilities.",
                 "`nn.CrossEntropyLoss` expects raw logits. Use softmax only to *show* "
                 "probabilities, never before this loss.")

checks.check_choice("mnist.q_logits", "a 3-class model outputs logits **[2.0, −1.0, 0.5]** and the "
                "true label is **0**. Which class does it predict, and is the loss high or low?",
                ["class 0, low loss (≈ 0.24)", "class 2, high loss", "class 0, high loss (≈ 3.2)",
                 "class 1, low loss"], 0,
                "softmax = [0.786, 0.039, 0.175], so argmax is class 0 and L = −ln 0.786 = 0.24. "
                "With true label 2 the loss would be 1.74, with label 1 it would be 3.24. Try it "
                "in the playground: pick 'Three classes' and set z0 = 2.0, z1 = −1.0, z2 = 0.5.")

# --- The model ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def simple_mlp_summary() -> str:
    """torchinfo's table for the simple MLP: the same for everyone, so computed once."""
    table = str(summary(models.simple_mlp(), input_size=(64, 1, 28, 28), verbose=0,
                        col_names=("output_size", "num_params")))
    # torchinfo labels a count of multiply-adds with a memory unit: "(Units.MEGABYTES)"
    return table.replace("Total mult-adds (Units.MEGABYTES)", "Total mult-adds (millions)")



st.header("4. The model: nn.Flatten and three Linear layers")
st.markdown("Written out layer by layer, the simple model is one `nn.Sequential`:")
with st.echo():
    model = nn.Sequential(
        nn.Flatten(),                     # [B, 1, 28, 28] -> [B, 784]
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),               # 10 logits: no activation on the output
    )
st.markdown(f"That is {models.parameter_count(model):,} parameters. The course builds the same "
            "layers with a loop, so the hidden sizes become one argument, and builds the "
            "improved model the same way:")
model_left, model_right = st.columns(2)
with model_left:
    st.markdown("**Simple MLP**: no activation on the output layer (those are the logits).")
    callouts.show_source(models.simple_mlp)
    simple = models.simple_mlp()
    st.metric("Parameters", f"{models.parameter_count(simple):,}",
              help="784·256+256 + 256·128+128 + 128·10+10")
    st.caption("784·256+256 + 256·128+128 + 128·10+10 = 235,146: about 235K.")
with model_right:
    st.markdown("**Improved MLP**: each hidden layer is Linear → BatchNorm → ReLU → Dropout. "
                "`BatchNorm1d` normalizes the layer's activations over the batch (then applies a "
                "learned scale and shift); `Dropout(p)` silences a random fraction p of them.")
    callouts.show_source(models.improved_mlp)
    improved = models.improved_mlp()
    st.metric("Parameters", f"{models.parameter_count(improved):,}",
              help="+ 2·(256+128) BatchNorm weights and biases")
    st.caption("The output layer gets no BatchNorm, no ReLU and no Dropout.")
flat = nn.Flatten()(torch.zeros(64, 1, 28, 28))
st.markdown(f"`nn.Flatten()` is the module version of reshape: `[64, 1, 28, 28]` → "
            f"`{list(flat.shape)}`, keeping the batch dimension.")
with st.expander("torchinfo's view of the simple MLP"):
    st.code(simple_mlp_summary(), language="text")

st.header("5. The training and evaluation loops")
st.markdown("**Setup**: the pieces the loop needs, written the textbook way.")
callouts.show_source(project_setup.textbook_setup)
st.markdown("The trainer below does **not** run this function. It builds the same pieces with "
            "the same settings (a test checks them against it) and two speed-ups: "
            "`course.engine.train.adam` is the same Adam update run as one fused kernel per step "
            "(`fused=True`), and `fast_loader` gives the same batches in the same order as "
            "`DataLoader(..., shuffle=True)`, sliced from one tensor already in memory (section 6 "
            "measures it). This is the code that builds them:")
with st.expander("The trainer's setup: `train.Run` and `train.adam`"):
    callouts.show_source(train.Run.__init__)
    callouts.show_source(train.adam)
st.markdown("`weight_decay` is L2 regularization applied through the optimizer: every update "
            "also pulls each weight a little towards zero. With `Adam` it is the L2 form (λ·w "
            "added to the gradient), so that pull is rescaled by Adam's per-parameter step size "
            "like the rest of the gradient; `optim.AdamW` decays the weights directly instead "
            "(decoupled weight decay), the form most modern recipes use.")
st.markdown("**The complete loop**: epochs, `model.train()`, every `images, labels` batch of "
            "`train_loader` through the four-line heartbeat, the accuracy tally, then a test "
            "pass in `model.eval()`. The trainer below runs the course's engine "
            "(`course.engine.train.fit`); a test trains both on real MNIST from the same seed and "
            "gets the same weights and the same accuracies.")
callouts.show_source(loops.train_and_test)
st.markdown("The test pass has three differences from training: no zero_grad / backward / step; "
            "`torch.no_grad()` saves memory; the test loader does not shuffle. And "
            "`model.eval()` first.")
with st.expander("The same loop inside the engine: `train_step` and `evaluate`"):
    loop_left, loop_right = st.columns(2)
    with loop_left:
        st.markdown("**Training**: for each batch, after `model.train()`, `fit` calls this.")
        callouts.show_source(train.train_step)
    with loop_right:
        st.markdown("**Evaluation**: after every epoch, on the test loader.")
        callouts.show_source(train.evaluate)
callouts.takeaway("Same heartbeat, new instruments: CrossEntropyLoss replaces MSELoss, a DataLoader "
            "replaces raw tensors, and forward → loss → backward → update does not change.")

# --- Trainer --------------------------------------------------------------------------------
st.header("6. Train it")
space = panel.current_workspace()
train_split = datasets.split_or_error("mnist", train=True)
test_split = datasets.split_or_error("mnist", train=False)
st.markdown("The course's recipe (simple MLP, Adam, lr 1e-3, batch 64, 5 epochs) reaches "
            "**about 97% test accuracy in 5 epochs**. 97–98% is the right result for a "
            "fully-connected network. Runs train in the background: leave the page and come "
            "back, they keep going. The address bar always holds these settings, so a link "
            "sets up the same experiment for someone else.")
callouts.misconception("The model should get 99%+ accuracy immediately.",
                 "A first model won't be perfect. Train, look at the errors, improve, repeat.")
RECIPE = train.recipe("mlp")
SCISSORS = {"mnist.subset": 5_000, "mnist.epochs": 15}  # where the train/test gap opens
CHOICES = {"batch_size": [16, 32, 64, 128, 256, 512], "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2],
           "weight_decay": [0.0, 1e-5, 1e-4, 1e-3], "train_subset": [1_000, 5_000, 20_000, 60_000]}


def link_adjustments(shared: train.RunConfig) -> list[str]:
    """The link's settings the trainer cannot offer, each with the value used instead."""
    asked = {"epochs": shared.epochs, "dropout": shared.dropout,
             "batch_size": shared.batch_size, "lr": shared.lr,
             "weight_decay": shared.weight_decay, "train_subset": shared.train_subset or 60_000}
    used = {"epochs": min(shared.epochs, 15), "dropout": min(shared.dropout, 0.7),
            **{name: widgets.nearest(CHOICES[name], asked[name]) for name in CHOICES}}
    def shown(value):
        return f"{value:,}" if isinstance(value, int) else f"{value:g}"

    return [f"{name}={shown(asked[name])} → {shown(used[name])}" for name in asked
            if name in st.query_params and used[name] != asked[name]]


def use_scissors_setting():
    """The preset button's callback: runs before the widgets are drawn, so they show it."""
    st.session_state.update(SCISSORS)


@st.fragment
def trainer_settings() -> train.RunConfig:
    """A setting reruns only these widgets: the rest of the page does not depend on them.

    The Train button stays outside: its click reruns the whole page, which runs this fragment
    too, so Train gets the settings as they are now, and the run view and runs panel show the
    new run, without an st.rerun() from inside a fragment (which can reset a fragment's widgets
    in Streamlit 1.67).
    """
    if "mnist.shared" not in st.session_state:
        st.session_state["mnist.shared"] = panel.config_from_url(RECIPE)
        st.session_state["mnist.link_wd"] = "weight_decay" in st.query_params
        st.session_state["mnist.adjusted"] = link_adjustments(st.session_state["mnist.shared"])
    shared = st.session_state["mnist.shared"]
    if st.session_state["mnist.adjusted"]:
        st.caption("This link asks for settings the trainer does not offer; it uses the nearest "
                   "ones: " + ", ".join(st.session_state["mnist.adjusted"]) + ".")
    st.button("Scissors setting: 5,000 images × 15 epochs", key="mnist.scissors_preset",
              on_click=use_scissors_setting,
              help="Few images, many epochs: the simple MLP memorises its training set and the "
                   "train/test gap opens (the reference below).")
    settings = st.columns(3)
    model_kinds = {models.MODEL_LABELS[k]: k for k in ("mlp", "mlp-bn")}
    kind = model_kinds[settings[0].radio("Model", list(model_kinds), key="mnist.model",
                                         index=1 if shared.model == "mlp-bn" else 0)]
    epochs = settings[0].slider("Epochs", 1, 15, min(shared.epochs, 15), key="mnist.epochs")
    seed = settings[0].number_input("Seed", 0, 10_000, shared.seed, key="mnist.seed_value",
                                    help="Same seed, same settings: the same run, step for step.")
    batch_size = settings[1].select_slider("Batch size", CHOICES["batch_size"],
                                           value=widgets.nearest(CHOICES["batch_size"],
                                                            shared.batch_size), key="mnist.batch")
    lr = settings[1].select_slider("Learning rate", CHOICES["lr"],
                                   value=widgets.nearest(CHOICES["lr"], shared.lr), key="mnist.lr")
    dropout = settings[2].slider("Dropout p", 0.0, 0.7, min(shared.dropout, 0.7), 0.05,
                                 key="mnist.dropout", disabled=kind == "mlp",
                                 help="The simple MLP has no dropout layer.")
    # One widget per model, so each keeps its own value; it starts at the model's recipe
    # (the improved MLP's 1e-4) unless the link set one.
    default_wd = (shared.weight_decay if st.session_state["mnist.link_wd"]
                  else models.RECIPE_WEIGHT_DECAY[kind])
    weight_decay = settings[2].select_slider(
        "Weight decay", CHOICES["weight_decay"], key=f"mnist.wd.{kind}",
        value=widgets.nearest(CHOICES["weight_decay"], default_wd),
        help="The improved MLP's recipe uses 1e-4 (Adam's weight_decay, an L2 penalty).")
    subset = settings[2].select_slider("Training images", CHOICES["train_subset"],
                                       value=widgets.nearest(CHOICES["train_subset"],
                                                        shared.train_subset or 60_000),
                                       format_func="{:,}".format, key="mnist.subset")
    config = train.RunConfig(model=kind, epochs=epochs, batch_size=batch_size, lr=lr,
                             dropout=dropout if kind == "mlp-bn" else RECIPE.dropout,
                             weight_decay=weight_decay, seed=int(seed),
                             train_subset=None if subset == 60_000 else subset)
    # Against this model's recipe: an improved-MLP link at 1e-4 needs no weight_decay in it.
    panel.config_to_url(config, dataclasses.replace(
        RECIPE, weight_decay=models.RECIPE_WEIGHT_DECAY[kind]))
    recipe = (" (the course's recipe)" if config == RECIPE else
              " (the course's improved recipe)" if config == train.recipe("mlp-bn") else "")
    st.caption(f"This run: **{models.MODEL_LABELS[kind]}**, {epochs} epochs on {subset:,} "
               f"images, weight decay {weight_decay:g}{recipe}. Its label in the runs panel: "
               f"`{panel.describe(config)}`.")
    return config


config = trainer_settings()
new_runs = panel.train_button(space, config, "mnist.train", disabled=train_split is None)
if new_runs:
    st.session_state["mnist.current"] = new_runs[-1]
panel.run_view(space, "mnist.view")
callouts.takeaway("Loss vs accuracy: the model optimizes the loss (cross-entropy); you judge it by "
            "accuracy (% correct). They move together but are not the same: a model can grow "
            "more confident (lower loss) without changing a single answer.")
panel.runs_panel(space, "mnist.runs")
panel.workspace_link(space, "mnist-project")
run_ids = space.run_ids()

finished = [run_id for run_id in run_ids
            if panel.display_state(space.run_dir(run_id))["history"]]


@st.cache_data(show_spinner=False)
def scissors_reference() -> dict:
    """The committed reference where the gap opens, read once (read-only)."""
    return scissors.scissors_reference()


def compare_chart(histories: dict[str, list[dict]]) -> None:
    """The train/test curves of the given runs, and the same numbers as a table."""
    st.plotly_chart(figures.history_curves(histories), key="mnist.compare_chart")
    table = pd.DataFrame(scissors.gap_table(histories))
    st.dataframe(table, hide_index=True, column_config={
        name: st.column_config.NumberColumn(format="%.2f") for name in table.columns[1:]})


@st.fragment
def reference_scissors():
    """The course's two references, one at a time: the picker reruns only this."""
    which = st.segmented_control(
        "Reference", ["5,000 images × 15 epochs", "60,000 images × 5 epochs"], required=True,
        default="5,000 images × 15 epochs", key="mnist.reference")
    try:
        runs = (scissors_reference() if which == "5,000 images × 15 epochs"
                else evaluation.reference_comparison())
    except (OSError, ValueError, KeyError):
        st.warning("This reference is missing from this installation: run "
                   "`python scripts/scissors_reference.py` and "
                   "`python scripts/reference_comparison.py` to make them.")
        return
    if which == "5,000 images × 15 epochs":
        st.markdown(f"Few images, many epochs: the simple MLP ends at "
                    f"{scissors.final_gap(runs['simple']['history'])}; the improved one at "
                    f"{scissors.final_gap(runs['improved']['history'])}. The scissors open, and "
                    "regularization narrows them. (`scripts/scissors_reference.py`, seed 0, one "
                    f"CPU thread: {runs['simple']['seconds']:.0f} s and "
                    f"{runs['improved']['seconds']:.0f} s of training; the **Scissors setting** "
                    "button above trains the same.)")
    else:
        st.markdown("The recipe itself, on all images: after 5 epochs the gap stays under a "
                    "point, too few passes over too many images to memorise them "
                    "(`scripts/reference_comparison.py`, seed 0, one CPU thread).")
    compare_chart({f"{name} (reference)": run["history"] for name, run in runs.items()})


st.subheader("Compare runs: the scissors")
st.markdown("Train accuracy (open circles) climbing above test accuracy (filled diamonds) is the "
            "scissors opening: the model starts memorising the training set. Regularization "
            "(BatchNorm, Dropout, weight decay) keeps it closed.")
if len(finished) >= 2:
    choices = panel.run_choices(space, finished)
    picked = st.multiselect("Runs to compare (up to 4)", list(choices),
                            default=list(choices)[-2:], max_selections=4, key="mnist.compare")
    if picked:
        compare_chart({name: run_files.status(space.run_dir(choices[name]))["history"]
                       for name in picked})
    else:
        st.info("Pick at least one run.")
else:
    st.markdown("Until you have two finished runs of your own, here are the course's references, "
                "trained by the same engine as the trainer above:")
    reference_scissors()
st.caption("Why is test accuracy often *above* train accuracy, even for the simple MLP with no "
           "dropout? Mainly because train accuracy is a running average over the epoch, counted "
           "while the weights are still improving: the early batches were scored by a worse model "
           "than the one the test pass sees at the end of the epoch. Dropout adds to it: train "
           "accuracy is counted with a fraction of the neurons silenced, a handicap the test pass "
           "in `eval()` mode doesn't have.")

with st.expander("Why is the app's loader faster than the textbook pipeline?"):
    st.markdown("The loop reads `for images, labels in train_loader:` either way. The textbook "
                "DataLoader turns 64 PIL images one at a time into tensors and stacks them; the "
                "app's DataLoader slices a whole batch from one uint8 tensor already in memory "
                "and normalises the whole batch at once: same batches, same order, a fraction of "
                "the Python work.")
    if train_split is not None and st.button("Measure both (200 batches each)",
                                             key="mnist.measure"):
        with st.spinner("Timing both loaders…"):
            speeds = train.loader_speeds(train_split, batches=200)
        st.dataframe(pd.DataFrame(speeds).round(3), hide_index=True, column_config={
            "speed-up": st.column_config.NumberColumn(format="%.1f×")})

# --- Evaluation -----------------------------------------------------------------------------
def evaluated_model(run_dir):
    """The run's model and its test-set probabilities, kept for this session until it changes."""
    st.session_state["mnist.evaluated"] = run_files.checkpoint_stamp(run_dir)

    def load():
        model, config = checkpoints.load_run_model(run_dir)
        return model, config, evaluation.predict(model, test_split)

    return memo.per_session("mnist.model", st.session_state["mnist.evaluated"], load)


def per_model(name, compute):
    """compute() once per evaluated model (run folder + checkpoint time) in this session."""
    return memo.per_session(f"mnist.{name}", st.session_state["mnist.evaluated"], compute)


@st.fragment
def learned_templates(model):
    """The first layer's weight rows as one composed image; the order is this fragment's only input."""
    order = st.radio("Order", ["largest weight norm first", "as in the layer"], horizontal=True,
                     key="mnist.template_order")

    def grid():
        images = interpret.templates(model)
        ranked = images[interpret.order_by_norm(images)]
        return {"largest weight norm first": figures.diverging_image(interpret.tile(ranked), zoom=2),
                "as in the layer": figures.diverging_image(interpret.tile(images), zoom=2)}

    st.image(per_model("templates", grid)[order], width=640,
             alt="Each first-layer unit's 784 weights as a 28×28 image, red positive, blue "
                 "negative",
             caption="Each square is one hidden unit's 784 weights as a 28×28 image, scaled by "
                     "its own largest weight: red pixels push the unit up, blue pixels push it "
                     "down, white ones are ignored.")


def what_the_mlp_learned(gallery: bool):
    """The gallery's caption (when a gallery is shown), then the heading and words of "What the
    MLP learned"."""
    if gallery:
        st.caption("Look at the mistakes: most are digits a person would hesitate over too. "
                   "Errors cluster on genuinely ambiguous handwriting: a 4 closed at the top like "
                   "a 9, a 7 with a bar, a 5 whose loop almost closes into a 6.")
    st.subheader("What the MLP learned")
    follow = ("**Click an image of the gallery** (or pick it below) to follow it" if gallery else
              "Once a model is evaluated, a gallery of its test images lets you follow one")
    st.markdown("Each of the first layer's 256 units computes one weighted sum of the 784 pixels: "
                "its weights, laid out as a 28×28 image, are the pattern it responds to. "
                f"{follow} through the network: which units fire, the 10 logits, and which "
                "pixels the answer depends on.")


def gallery_filters(probs, matrix, cell) -> list[int]:
    """The gallery's filters and the test images they pick; `cell` is the confusion matrix's
    clicked (true, predicted), or None."""
    filters = st.columns(4)
    mistakes_only = filters[0].toggle("Mistakes only", key="mnist.mistakes")
    confident_first = filters[1].toggle("Most confident mistakes first", key="mnist.confident")
    # The most confident mistakes come in one fixed order: a new random draw would change nothing.
    if filters[2].button("🎲 Re-roll", key="mnist.reroll", disabled=confident_first,
                         help="Turn off “Most confident mistakes first” to draw another random "
                              "sample: those mistakes come in a fixed order, most confident first."
                         if confident_first else "Draw another random sample of test images."):
        st.session_state["mnist.seed"] = st.session_state.get("mnist.seed", 0) + 1
    if cell and filters[3].button("Clear cell filter", key="mnist.clear_cell"):
        # A new key for the matrix clears its remembered click: the whole page reruns.
        st.session_state["mnist.cell_clears"] = st.session_state.get("mnist.cell_clears", 0) + 1
        widgets.refresh_page()
    indices = evaluation.gallery_indices(
        probs, test_split.labels, count=24, mistakes_only=mistakes_only,
        most_confident_mistakes=confident_first, seed=st.session_state.get("mnist.seed", 0),
        true_class=cell[0] if cell else None, predicted_class=cell[1] if cell else None)
    if cell:
        st.markdown(f"Showing true **{cell[0]}** predicted as **{cell[1]}** "
                    f"({int(matrix[cell[0], cell[1]])} images).")
    return indices


@st.fragment
def gallery_and_inspector(model, probs, matrix, cell):
    """The gallery's filters, the gallery, and the image clicked in it (or picked in the box):
    its hidden activations, logits and saliency map. One fragment, so a toggle or a click reruns
    only this."""
    indices = gallery_filters(probs, matrix, cell)
    if not indices:
        st.info("No images match this selection.")
        what_the_mlp_learned(gallery=False)
        return
    labels = test_split.labels
    options = [f"#{n} · true {int(labels[i])} · predicted {int(probs[i].argmax())}"
               for n, i in enumerate(indices, start=1)]
    key = f"mnist.inspect.{hash(tuple(indices))}"
    shown = options.index(st.session_state[key]) if st.session_state.get(key) in options else 0

    def pick(position):
        st.session_state[key] = options[position]

    gallery.prediction_gallery(test_split.images, labels, probs, indices, key="mnist.gallery",
                          picked=shown, on_pick=pick)
    what_the_mlp_learned(gallery=True)
    index = indices[options.index(st.selectbox("Look inside the network for gallery image",
                                               options, key=key))]
    image = data.normalize_batch(test_split.images[index:index + 1], "mnist")[0]
    layers = interpret.hidden_activations(model, image)
    gradient = interpret.saliency(model, image)
    predicted = int(layers["logits"].argmax())
    pictures = st.container(width=800).columns(3)  # as wide as the gallery, not the window
    pictures[0].image(test_split.images[index].numpy(), width="stretch", clamp=True,
                      caption=f"test image {index:,}: true {int(labels[index])}",
                      alt=f"Test image {index:,}, a handwritten {int(labels[index])}")
    pictures[1].image(figures.diverging_image(gradient, zoom=6), width="stretch",
                      caption=f"saliency: ∂ logit {predicted} / ∂ pixel",
                      alt=f"Saliency map for logit {predicted}: which pixels raise it (red) or "
                          "lower it (blue)")
    first = layers[next(iter(layers))]
    strongest = first.argsort(descending=True)[:8]
    pictures[2].image(figures.diverging_image(interpret.tile(interpret.templates(model)[strongest],
                                                            columns=4), zoom=3), width="stretch",
                      caption="templates of the 8 most active first-layer units",
                      alt="The weight images of the 8 first-layer units most active for this "
                          "image")
    st.plotly_chart(figures.activation_bars(layers, predicted), key="mnist.activations")
    active = int((first > 0).sum())
    st.markdown(f"{active} of {len(first)} first-layer units are active (ReLU output above 0) "
                f"for this image; the rest pass on exactly 0. The saliency map shows which pixels "
                f"would change logit {predicted} most if they were a little brighter (red) or "
                "darker (blue): the gradient of the predicted logit with respect to the input.")


@st.fragment
def error_analysis(model, probs, matrix):
    """Confused pairs, precision / recall / F1, and (on request) the training set's top losses."""
    names = data.CLASS_NAMES["mnist"]
    pairs_column, scores_column = st.columns(2)
    with pairs_column:
        st.markdown("**Most-confused pairs** (test set)")
        st.plotly_chart(figures.confused_pairs_bars(metrics.most_confused_pairs(matrix, 8), names),
                        key="mnist.pairs")
    with scores_column:
        st.markdown("**Precision, recall and F1 per class** (%)")
        st.dataframe(pd.DataFrame(metrics.class_scores_rows(matrix, names)).round(1),
                     hide_index=True, column_config={
                         name: st.column_config.NumberColumn(format="%.1f")
                         for name in ("precision", "recall", "f1")})
    st.caption("Precision: of the images predicted as this digit, the share that are it. Recall: "
               "of the images that are this digit, the share found. F1 is their harmonic mean.")
    if st.toggle("Show the training set's top losses (checks all 60,000 images)",
                 key="mnist.top_losses"):
        train_split = datasets.split_or_error("mnist", train=True)  # or one line saying why not
        if train_split is None:
            return
        train_probs = per_model("train_probs", lambda: evaluation.predict(model, train_split))
        rows = evaluation.top_losses(train_probs, train_split.labels, count=16)
        st.markdown("The training images the model finds hardest to believe: the largest "
                    "cross-entropy, −ln P(label). Some are badly written; some carry a "
                    "**wrong label**. Under each: the prediction, and P of the image's own label.")
        gallery.prediction_gallery(train_split.images, train_split.labels, train_probs,
                              [row["index"] for row in rows], key="mnist.top_losses_gallery",
                              truth_word="label")


@st.fragment
def confusion_over_epochs(run_dir, config):
    """A slider over the run's saved epochs redraws the matrix and the per-class accuracy."""
    snapshots = recorder.epoch_snapshots(run_dir)
    if not snapshots:
        st.info("This run kept no per-epoch weights, so there is nothing to step through. "
                "Runs trained now keep one snapshot per epoch.")
        return
    stamp = tuple(sorted((epoch, path.stat().st_mtime) for epoch, path in snapshots.items()))
    matrices = memo.per_session("mnist.epoch_matrices", (str(run_dir), stamp),
                                lambda: evaluation.epoch_confusions(
                                    checkpoints.epoch_models(snapshots, config), test_split))
    epochs = list(matrices)
    epoch = epochs[0] if len(epochs) == 1 else st.select_slider(
        "After epoch", epochs, value=epochs[-1], key=f"mnist.epoch_matrix.{run_dir.name}")
    matrix = matrices[epoch]
    names = data.CLASS_NAMES["mnist"]
    st.markdown(f"After epoch **{epoch}**: {int(matrix.trace()):,} of 10,000 test images right "
                f"({matrix.trace() / matrix.sum():.2%}).")
    left, right = st.columns(2)
    left.plotly_chart(figures.confusion_heatmap(matrix, names), key="mnist.epoch_confusion")
    right.plotly_chart(figures.per_class_bars(metrics.per_class_accuracy(matrix), names),
                       key="mnist.epoch_per_class")


st.header("7. Evaluate: what does it get wrong?")
evaluable = [r for r in finished if run_files.latest_checkpoint(space.run_dir(r))]
model = None
if not evaluable or test_split is None:
    st.info("Train a model above (1 epoch is enough) and its evaluation appears here.")
else:
    evaluable_choices = panel.run_choices(space, evaluable[::-1])
    # Keyed by the newest run, so a run that just finished is the one evaluated.
    chosen_run = evaluable_choices[st.selectbox("Model to evaluate", list(evaluable_choices),
                                                key=f"mnist.eval_run.{evaluable[-1]}")]
    try:
        model, config, probs = evaluated_model(space.run_dir(chosen_run))
    except checkpoints.CheckpointError as error:
        st.error(f"This run's weights could not be loaded: {error}")
        model = None
if model is not None:
    predicted = probs.argmax(dim=1)
    matrix = metrics.confusion_matrix(predicted, test_split.labels)
    overall = st.columns(3)
    overall[0].metric("Test accuracy", f"{(predicted == test_split.labels).float().mean():.2%}")
    overall[1].metric("Mistakes", f"{int((predicted != test_split.labels).sum()):,} of 10,000")
    overall[2].metric("Epochs trained", len(run_files.status(space.run_dir(chosen_run))["history"]))
    names = data.CLASS_NAMES["mnist"]
    st.plotly_chart(figures.per_class_bars(metrics.per_class_accuracy(matrix), names),
                    key="mnist.per_class")
    st.markdown("**Confusion matrix**: rows are the true digit, columns the prediction. Click a "
                "cell to see exactly those images.")
    # Clearing the filter gives the chart a new key, which also clears its remembered click.
    clears = st.session_state.get("mnist.cell_clears", 0)
    selection = st.plotly_chart(figures.confusion_heatmap(matrix, names), on_select="rerun",
                                selection_mode="points", key=f"mnist.confusion.{clears}")
    points = selection.get("selection", {}).get("points", []) if selection else []
    cell = points[0].get("customdata") if points else None
    gallery_and_inspector(model, probs, matrix, cell)
    learned_templates(model)
else:
    what_the_mlp_learned(gallery=False)
    st.info("Train a model above and its templates, activations and saliency maps appear here.")

st.subheader("Fuller error analysis")
st.markdown("Accuracy is one number; the errors have a shape. Which digits are mistaken for "
            "which, how reliable each predicted class is (precision) and how many of each digit "
            "are found (recall), and where the training labels themselves look wrong.")
if model is not None:
    error_analysis(model, probs, matrix)

st.subheader("The confusion matrix over epochs")
st.markdown("The run keeps its weights after every epoch. Step through them and watch which "
            "digits are learned first and which confusions linger.")
if model is not None:
    confusion_over_epochs(space.run_dir(chosen_run), config)

st.subheader("`model.train()` vs `model.eval()`")
st.markdown("Dropout is active only in `train()` mode (it silences a fraction p of the "
            "neurons); BatchNorm uses the batch's statistics in `train()` and its running "
            "averages in `eval()`. Forgetting `model.eval()` before testing gives noisy, "
            "unreliable numbers. The `eval()` row is the model untouched; the "
            "`train()` passes run on a copy, because a forward pass in `train()` mode updates "
            "BatchNorm's running statistics (a moving average that moves 10% of the way to each "
            "batch's statistics, `momentum=0.1`), which would change the model being evaluated.")


def modes_table(modes: dict) -> None:
    st.dataframe(evaluation.mode_rows(modes), hide_index=True)


if model is not None and config.model == "mlp-bn":
    modes_table(per_model("modes", lambda: evaluation.mode_comparison(model, test_split)))
else:
    st.markdown(("The simple MLP you are evaluating has no Dropout or BatchNorm, so both modes "
                 "agree for it. " if model is not None else "")
                + "Until you evaluate an improved-MLP run of your own, here is the course's: "
                "the improved MLP of the scissors reference (5,000 images × 15 epochs), "
                "measured on the 10,000 test images.")
    try:
        modes_table(scissors_reference()["improved"]["modes"])
    except (OSError, ValueError, KeyError):
        st.warning("The scissors reference is missing from this installation: run "
                   "`python scripts/scissors_reference.py` to make it.")

# --- Your own digit -------------------------------------------------------------------------
st.header("8. Your own digit")
own_digit.own_digit_section(model, run_files.run_label(space.run_dir(chosen_run)) if model else None, "mnist")

# --- Checks and wrap-up ---------------------------------------------------------------------
st.header("Check your understanding")
callouts.reveal("a model reaches **99.2%** train accuracy and **96.8%** test accuracy. What is "
          "happening and what would you do?",
          "Overfitting: the 2.4-point gap is the scissors opening. Add regularization (Dropout, "
          "BatchNorm, weight decay) and compare the train and test curves again.")
st.subheader("Exercise (notebook)")
st.markdown("A six-step project: load MNIST, build the simple model, write the training loop, "
            "evaluate, visualize predictions, then build the improved model with "
            "regularization and compare.")
lesson.next_lesson_link("mnist-project")
