"""Lesson 2.2.2 Project: MNIST: load, build, train, evaluate, visualize: a first real model."""


import pandas as pd
import streamlit as st
import torch
from torch import nn
from torchinfo import summary

from course import charts, data, evaluation, metrics, models, train, ui
from course.runs import jobs, panel
from course.runs.checkpoints import CheckpointError

ui.lesson_header("mnist-project")
panel.job_runner()  # start the worker processes now, so they are warm by the first click

st.markdown(
    "Everything comes together: real images from the DataLoader, a network built with "
    "`nn.Module`, the four-line training loop, and three new pieces: **softmax**, "
    "**cross-entropy** and **accuracy**. By the end of this page you will have trained a "
    "real model and looked at what it gets wrong."
)
ui.foundations_link(
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
    "Check question (3 classes)": ([2.0, -1.0, 0.5], 0),
    "Confidently wrong (10 classes)": ([-1.0, 0.0, 0.0, 4.2, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 0),
    "All equal (10 classes)": ([0.0] * 10, 0),
}


@st.fragment
def softmax_playground():
    """Sliders rerun only this part of the page, not the model evaluation further down."""
    preset_name = st.segmented_control("Start from", list(PRESETS), default=list(PRESETS)[0],
                                       key="mnist.preset")
    preset_logits, preset_true = PRESETS[preset_name or list(PRESETS)[0]]
    columns = st.columns(len(preset_logits))
    logits = torch.tensor([
        column.slider(f"z{index}", -10.0, 10.0, float(value), 0.05, key=f"mnist.z.{preset_name}.{index}")
        for index, (column, value) in enumerate(zip(columns, preset_logits, strict=True))])
    true_class = st.selectbox("True class", range(len(logits)), index=preset_true,
                              key=f"mnist.true.{preset_name}")
    probabilities = metrics.softmax(logits)
    ce = metrics.cross_entropy(logits, true_class)
    st.plotly_chart(charts.probability_bars(probabilities, true_class), key="mnist.softmax")
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
        st.code(f"torch.softmax(logits, dim=0) = {[round(p, 3) for p in probabilities.tolist()]}",
                language="text", wrap_lines=True)
    sigmoid_input = st.slider("Sigmoid is softmax with two classes: z", -6.0, 6.0, 1.5, 0.1,
                              key="mnist.sigmoid")
    st.caption(f"sigmoid({sigmoid_input:.1f}) = {torch.sigmoid(torch.tensor(sigmoid_input)):.4f} and "
               f"softmax([{sigmoid_input:.1f}, 0])[0] = "
               f"{metrics.softmax(torch.tensor([sigmoid_input, 0.0]))[0]:.4f}.")
    ui.takeaway("Sigmoid to softmax: sigmoid squashes one value into [0, 1]; softmax squashes N "
                "values into probabilities that sum to 1.")

    st.header("3. Cross-entropy: a confidence penalty")
    st.markdown(
        "Cross-entropy is $L = -\\log(p_{correct})$. It is *wrongness score v2*: MSE measured a "
        "distance; cross-entropy measures how much confidence the model put on the **right** answer. "
        "Confident and wrong costs a fortune; unsure costs a little."
    )
    table = pd.DataFrame([
        {"situation": "confident and right", "p(correct)": 0.95,
         "loss": metrics.loss_for_probability(0.95)},
        {"situation": "unsure", "p(correct)": 0.5, "loss": metrics.loss_for_probability(0.5)},
        {"situation": "confident and wrong", "p(correct)": 0.01,
         "loss": metrics.loss_for_probability(0.01)},
    ])
    st.dataframe(table.round(2), hide_index=True)
    ratio = metrics.loss_for_probability(0.01) / metrics.loss_for_probability(0.95)
    st.markdown(f"Confident-wrong costs **{ratio:.0f}×** what confident-right costs "
                f"({metrics.loss_for_probability(0.01):.2f} / {metrics.loss_for_probability(0.95):.2f}): "
                "the ~90× difference that drives learning.")
    st.subheader("Why not MSE?")
    cases = [("confidently right", 0.80, 0.02), ("unsure", 0.40, 0.40),
             ("confidently wrong (the seed's example)", 0.02, 0.80),
             ("certain and wrong", 0.001, 0.999)]
    comparison = pd.DataFrame([
        {"model output": name, "p(true class 0)": p_true, "p(class 3)": p_rival,
         "MSE vs one-hot": metrics.mse_against_one_hot(metrics.mixture(p_true, 0, p_rival, 3), 0),
         "cross-entropy": metrics.loss_for_probability(p_true)}
        for name, p_true, p_rival in cases])
    st.dataframe(comparison.round(3), hide_index=True)
    st.markdown("MSE does grow, but it is **bounded**: even a certain and completely wrong "
                "answer costs at most 0.2 here, so it treats a confident mistake much like an "
                "unsure one. Cross-entropy charges **3.91** (−ln 0.02) for the seed's example and "
                "keeps climbing as the confidence on the wrong answer grows: that is the signal "
                "a classifier needs.")
    ui.takeaway("Cross-entropy is a confidence penalty: confident and wrong → enormous penalty; "
                "uncertain → mild.")

    st.subheader("`nn.CrossEntropyLoss`: raw logits in, no softmax before it")
    st.code("loss_fn = nn.CrossEntropyLoss()   # drop-in replacement for nn.MSELoss()\n"
            "loss = loss_fn(outputs, labels)    # outputs: [B, 10] logits, labels: [B] class indices",
            language="python")
    st.markdown("It applies log-softmax internally, which is numerically stable. Applying softmax "
                "yourself first is the **double-softmax bug**:")
    double = metrics.double_softmax_effect(logits, true_class)
    bug = st.columns(4)
    bug[0].metric("loss, raw logits", f"{double['loss']:.3f}")
    bug[1].metric("loss, softmax first", f"{double['double_loss']:.3f}")
    bug[2].metric("gradient norm, raw logits", f"{double['gradient']:.3f}")
    bug[3].metric("gradient norm, softmax first", f"{double['double_gradient']:.3f}")
    st.plotly_chart(charts.sweep(metrics.double_softmax_sweep(logits, true_class), "logit",
                                 f"logit of the true class {true_class} (others as set above)",
                                 "loss"), key="mnist.double")
    st.caption(f"With softmax applied first, the loss can never drop below {double['floor']:.3f} "
               f"for {len(logits)} classes however right the model is, and for a confidently wrong "
               "model the gradient that should correct it is much weaker: training stalls. Try the "
               "'Confidently wrong' preset.")


softmax_playground()
ui.misconception("I should apply softmax before the loss, to get probabilities.",
                 "`nn.CrossEntropyLoss` expects raw logits. Use softmax only to *show* "
                 "probabilities, never before this loss.")

ui.check_choice("mnist.q_logits", "a 3-class model outputs logits **[2.0, −1.0, 0.5]** and the "
                "true label is **0**. Which class does it predict, and is the loss high or low?",
                ["class 0, low loss (≈ 0.24)", "class 2, high loss", "class 0, high loss (≈ 3.2)",
                 "class 1, low loss"], 0,
                "softmax = [0.786, 0.039, 0.175], so argmax is class 0 and L = −ln 0.786 = 0.24. "
                "With true label 2 the loss would be 1.74, with label 1 it would be 3.24. Try it "
                "with the 'Check question' preset above.")

# --- The model ------------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def simple_mlp_summary() -> str:
    """torchinfo's table for the simple MLP: the same for everyone, so computed once."""
    return str(summary(models.simple_mlp(), input_size=(64, 1, 28, 28), verbose=0,
                       col_names=("output_size", "num_params")))



st.header("4. The model: nn.Flatten and three Linear layers")
model_left, model_right = st.columns(2)
with model_left:
    st.markdown("**Simple MLP**: no activation on the output layer (those are the logits).")
    ui.show_source(models.simple_mlp)
    simple = models.simple_mlp()
    st.metric("Parameters", f"{models.parameter_count(simple):,}",
              help="784·256+256 + 256·128+128 + 128·10+10")
    st.caption("784·256+256 + 256·128+128 + 128·10+10 = 235,146: about 235K.")
with model_right:
    st.markdown("**Improved MLP**: each hidden layer is Linear → BatchNorm → ReLU → Dropout. "
                "`BatchNorm1d` normalizes the layer's activations over the batch (then applies a "
                "learned scale and shift); `Dropout(p)` silences a random fraction p of them.")
    ui.show_source(models.improved_mlp)
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
st.markdown("**Setup**: the pieces the loop needs, as the trainer below builds them.")
st.code("model = simple_mlp()                 # or improved_mlp(dropout=0.3)\n"
        "loss_fn = nn.CrossEntropyLoss()      # raw logits + integer labels\n"
        "optimizer = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)  # L2 penalty\n"
        "train_loader = DataLoader(train_data, batch_size=64, shuffle=True)\n"
        "test_loader = DataLoader(test_data, batch_size=1000, shuffle=False)", language="python")
st.markdown("`weight_decay` is L2 regularization applied through the optimizer: every update "
            "also pulls each weight a little towards zero.")
loop_left, loop_right = st.columns(2)
with loop_left:
    st.markdown("**Training**: for each `images, labels` batch of `train_loader`, after "
                "`model.train()`, the engine calls this: the four-line heartbeat.")
    ui.show_source(train.train_step)
    st.markdown("Accuracy on the way: `(outputs.argmax(dim=1) == labels).sum()` counts the "
                "correct predictions of the batch.")
with loop_right:
    st.markdown("**Evaluation**: three differences from training: no zero_grad / backward / "
                "step; `torch.no_grad()` saves memory; the test loader does not shuffle. And "
                "`model.eval()` first.")
    ui.show_source(train.evaluate)
ui.takeaway("Same heartbeat, new instruments: CrossEntropyLoss replaces MSELoss, a DataLoader "
            "replaces raw tensors, and forward → loss → backward → update does not change.")

# --- Trainer --------------------------------------------------------------------------------
st.header("6. Train it")
space = panel.current_workspace()
train_split = ui.split_or_error("mnist", train=True)
test_split = ui.split_or_error("mnist", train=False)
st.markdown("The course's recipe (simple MLP, Adam, lr 1e-3, batch 64, 5 epochs) reaches "
            "**about 97% test accuracy in 5 epochs**. 97–98% is the right result for a "
            "fully-connected network.")
ui.misconception("The model should get 99%+ accuracy immediately.",
                 "A first model won't be perfect. Train, look at the errors, improve, repeat.")
settings = st.columns(3)
kind_label = settings[0].radio("Model", [models.MODEL_LABELS[k] for k in ("mlp", "mlp-bn")],
                               key="mnist.model")
kind = "mlp-bn" if kind_label == models.MODEL_LABELS["mlp-bn"] else "mlp"
epochs = settings[0].slider("Epochs", 1, 15, 5, key="mnist.epochs")
batch_size = settings[1].select_slider("Batch size", [16, 32, 64, 128, 256, 512], value=64,
                                       key="mnist.batch")
lr = settings[1].select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3,
                               key="mnist.lr")
dropout = settings[2].slider("Dropout p", 0.0, 0.7, 0.3, 0.05, key="mnist.dropout",
                             disabled=kind == "mlp")
weight_decay = settings[2].select_slider("Weight decay", [0.0, 1e-5, 1e-4, 1e-3], value=1e-4
                                         if kind == "mlp-bn" else 0.0, key=f"mnist.wd.{kind}")
subset = settings[2].select_slider("Training images", [1_000, 5_000, 20_000, 60_000],
                                   value=60_000, key="mnist.subset")
label = (f"{'improved' if kind == 'mlp-bn' else 'simple'} · {epochs} ep · B={batch_size} · "
         f"lr={lr:g}" + (f" · p={dropout:g} · wd={weight_decay:g}" if kind == "mlp-bn" else ""))
if st.button("🚀 Train", type="primary", key="mnist.train", disabled=train_split is None):
    config = train.RunConfig(model=kind, epochs=epochs, batch_size=batch_size, lr=lr,
                             dropout=dropout, weight_decay=weight_decay,
                             train_subset=None if subset == 60_000 else subset)
    run_id = panel.start_run(space, config, label)
    if run_id:
        st.session_state["mnist.current"] = run_id
run_ids = space.run_ids()
current = st.session_state.get("mnist.current")
if current not in run_ids:
    current = run_ids[-1] if run_ids else None
if current:
    st.subheader(f"Run: {jobs.run_label(space.run_dir(current))}")
    panel.run_progress(space, current, "mnist")
    ui.takeaway("Loss vs accuracy: the model optimizes the loss (cross-entropy); you judge it by "
                "accuracy (% correct). They move together but are not the same: a model can grow "
                "more confident (lower loss) without changing a single answer.")
panel.workspace_link(space)

finished = [run_id for run_id in run_ids
            if panel.display_state(space.run_dir(run_id))["history"]]
if len(finished) >= 2:
    st.subheader("Compare runs: the scissors")
    st.markdown("Train accuracy (dashed) above test accuracy (solid) is the scissors opening: "
                "the model memorises the training set. Regularization (BatchNorm, Dropout, "
                "weight decay) closes it.")
    choices = panel.run_choices(space, finished)
    picked = st.multiselect("Runs to compare (up to 4)", list(choices),
                            default=list(choices)[-2:], max_selections=4, key="mnist.compare")
    if picked:
        histories = {name: jobs.status(space.run_dir(choices[name]))["history"]
                     for name in picked}
        st.plotly_chart(charts.history_curves(histories), key="mnist.compare_chart")
        tables = st.columns(len(picked))
        for column, (name, history) in zip(tables, histories.items(), strict=True):
            column.markdown(f"**{name}**")
            column.dataframe(pd.DataFrame(history)[["epoch", "train_accuracy", "test_accuracy"]]
                             .round(4), hide_index=True)
    else:
        st.info("Pick at least one run.")
    st.caption("Why can test accuracy beat train accuracy? Train accuracy is measured *during* "
               "the epoch with dropout switched on, a handicap the test pass doesn't have.")

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
    stamp = max((run_dir / name).stat().st_mtime for name in
                (jobs.FINAL_CHECKPOINT, jobs.EPOCH_CHECKPOINT) if (run_dir / name).exists())
    cached = st.session_state.get("mnist.evaluated")
    if cached is None or cached[0] != (str(run_dir), stamp):
        model, config = evaluation.load_run_model(run_dir)
        cached = ((str(run_dir), stamp), model, config, evaluation.predict(model, test_split))
        st.session_state["mnist.evaluated"] = cached
    return cached[1:]


def cached_mode_comparison(run_id, model):
    key = f"mnist.modes.{run_id}"
    if key not in st.session_state:
        st.session_state[key] = evaluation.mode_comparison(model, test_split)
    return st.session_state[key]



st.header("7. Evaluate: what does it get wrong?")
evaluable = [r for r in finished
             if (space.run_dir(r) / jobs.FINAL_CHECKPOINT).exists()
             or (space.run_dir(r) / jobs.EPOCH_CHECKPOINT).exists()]
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
    except CheckpointError as error:
        st.error(f"This run's weights could not be loaded: {error}")
        model = None
if model is not None:
    predicted = probs.argmax(dim=1)
    matrix = metrics.confusion_matrix(predicted, test_split.labels)
    overall = st.columns(3)
    overall[0].metric("Test accuracy", f"{(predicted == test_split.labels).float().mean():.2%}")
    overall[1].metric("Mistakes", f"{int((predicted != test_split.labels).sum()):,} of 10,000")
    overall[2].metric("Epochs trained", len(jobs.status(space.run_dir(chosen_run))["history"]))
    names = data.CLASS_NAMES["mnist"]
    st.plotly_chart(charts.per_class_bars(metrics.per_class_accuracy(matrix), names),
                    key="mnist.per_class")
    st.markdown("**Confusion matrix**: rows are the true digit, columns the prediction. Click a "
                "cell to see exactly those images.")
    # Clearing the filter gives the chart a new key, which also clears its remembered click.
    clears = st.session_state.get("mnist.cell_clears", 0)
    selection = st.plotly_chart(charts.confusion_heatmap(matrix, names), on_select="rerun",
                                selection_mode="points", key=f"mnist.confusion.{clears}")
    points = selection.get("selection", {}).get("points", []) if selection else []
    cell = points[0].get("customdata") if points else None
    filters = st.columns(4)
    mistakes_only = filters[0].toggle("Mistakes only", key="mnist.mistakes")
    confident_first = filters[1].toggle("Most confident mistakes first", key="mnist.confident")
    if filters[2].button("🎲 Re-roll", key="mnist.reroll"):
        st.session_state["mnist.seed"] = st.session_state.get("mnist.seed", 0) + 1
    if cell and filters[3].button("Clear cell filter", key="mnist.clear_cell"):
        st.session_state["mnist.cell_clears"] = clears + 1
        st.rerun()
    indices = evaluation.gallery_indices(
        probs, test_split.labels, count=24, mistakes_only=mistakes_only,
        most_confident_mistakes=confident_first, seed=st.session_state.get("mnist.seed", 0),
        true_class=cell[0] if cell else None, predicted_class=cell[1] if cell else None)
    if cell:
        st.markdown(f"Showing true **{cell[0]}** predicted as **{cell[1]}** "
                    f"({int(matrix[cell[0], cell[1]])} images).")
    ui.prediction_gallery(test_split.images, test_split.labels, probs, indices)
    st.caption("Look at the mistakes: most are digits a person would hesitate over too. "
               "Errors cluster on genuinely ambiguous handwriting.")

    st.subheader("`model.train()` vs `model.eval()`")
    st.markdown("Dropout is active only in `train()` mode (it silences a fraction p of the "
                "neurons); BatchNorm uses the batch's statistics in `train()` and its running "
                "averages in `eval()`. Forgetting `model.eval()` before testing gives noisy, "
                "unreliable numbers:")
    if config.model == "mlp-bn":
        modes = cached_mode_comparison(chosen_run, model)
        st.dataframe(pd.DataFrame({
            "mode": [f"train() pass {i + 1}" for i in range(len(modes["train_mode"]))]
            + ["eval()"],
            "test accuracy": modes["train_mode"] + [modes["eval_mode"]]}).round(4),
            hide_index=True)
    else:
        st.info("The simple MLP has no Dropout or BatchNorm, so both modes agree. Evaluate an "
                "improved-MLP run to see them differ.")

# --- Your own digit -------------------------------------------------------------------------
st.header("8. Your own digit")
ui.own_digit_section(model, jobs.run_label(space.run_dir(chosen_run)) if model else None, "mnist")

# --- Checks and wrap-up ---------------------------------------------------------------------
st.header("Check your understanding")
ui.reveal("a model reaches **99.2%** train accuracy and **96.8%** test accuracy. What is "
          "happening and what would you do?",
          "Overfitting: the 2.4-point gap is the scissors opening. Add regularization (Dropout, "
          "BatchNorm, weight decay) and compare the train and test curves again.")
st.subheader("Exercise (notebook)")
st.markdown("A six-step project: load MNIST, build the simple model, write the training loop, "
            "evaluate, visualize predictions, then build the improved model with "
            "regularization and compare.")
