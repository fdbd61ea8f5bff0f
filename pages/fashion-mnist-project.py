"""Lesson 2.3.3 Project: Fashion-MNIST, the capstone: design experiments, beat a published baseline."""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch: a fresh server's deep link shows its title at once

import dataclasses

import pandas as pd
import streamlit as st
import torch

from course.charts import fashion as fashion_charts
from course.charts import figures
from course.concepts import (
    evaluation,
    export_script,
    human_quiz,
    image_grid,
    interpret,
    leaderboard,
    lr_finder,
    metrics,
)
from course.concepts import fashion_baselines as baselines
from course.engine import data, devices, models, train
from course.runs import checkpoints, recorder, run_files
from course.ui import callouts, checks, datasets, lesson, memo, panel, widgets

lesson.lesson_header("fashion-mnist-project")
panel.job_runner()  # start the worker processes now, so they are warm by the first click

NAMES = baselines.CLASS_NAMES
VALIDATION = 5_000  # training images held out to choose the best epoch on (fixed seed)
DEVICE = devices.default_device()

st.markdown(
    "The graduation exam of the series: no new concepts, less scaffolding. You pick the "
    "architecture, the regularization and the optimizer; every run trains in the background "
    "through the same run system as the MNIST project (runs panel, Stop, Resume, live curves, "
    "seed bands), keeps its best epoch, and lands on a leaderboard beside the published results. "
    "Your goal: **beat the published MLP (0.883)**, and see what each extra point costs."
)
callouts.foundations_link(
    "Everything here comes from earlier lessons: the improved MLP, BatchNorm, Dropout and weight "
    "decay (2.2.2 and 1.3.6–1.3.7), checkpoints and the best epoch (2.3.1), the GPU when present "
    "(2.3.2), TensorBoard logs and network health (2.2.3)."
)

# --- 1. The dataset ----------------------------------------------------------------------------
st.header("1. Fashion-MNIST: same shape as MNIST, harder to read")
train_split = datasets.split_or_error("fashion-mnist", train=True)
test_split = datasets.split_or_error("fashion-mnist", train=False)
st.markdown(
    "Zalando's Fashion-MNIST was made as a drop-in replacement for MNIST: 60,000 training and "
    "10,000 test images, 28×28 greyscale, ten classes, the same files. Only the pictures "
    "changed: clothes instead of digits. Any code that trains on MNIST trains on it unchanged "
    "(here: `dataset=\"fashion-mnist\"`)."
)
st.dataframe(pd.DataFrame({"label": range(10), "class": NAMES}), hide_index=True, width=320)


@st.cache_data(show_spinner=False)
def sample_grid(per_class: int, seed: int):
    """One row per class (its name above the first image), composed once into one picture."""
    split = data.split_tensors("fashion-mnist", True)
    picked = baselines.examples_per_class(split.labels, per_class, seed)
    titles = [NAMES[int(split.labels[i])] if n % per_class == 0 else ""
              for n, i in enumerate(picked)]
    return image_grid.compose(split.images[picked], titles, columns=per_class, scale=3)


@st.cache_data(show_spinner=False)
def class_similarity():
    """The classes' average images compared, computed once per server (read-only)."""
    fashion = baselines.class_similarity(data.split_tensors("fashion-mnist", True))
    mnist_top = None
    try:
        mnist = data.split_tensors("mnist", True)
        mnist_top = baselines.most_similar_pairs(baselines.class_similarity(mnist),
                                                 data.CLASS_NAMES["mnist"], 1)[0]
    except data.DatasetUnavailable:
        pass
    return fashion, mnist_top


@st.fragment
def dataset_preview():
    """A new draw of samples reruns only this picture."""
    seed = st.number_input("Sample draw", 0, 99, 0, key="fashion.sample_seed",
                           help="Another draw of 8 training images per class.")
    st.image(sample_grid(8, int(seed)), width=714,
             alt="Eight training images of each of the ten Fashion-MNIST classes, one class "
                 "per row, its name above the first image")


if train_split is not None:
    dataset_preview()
    st.subheader("Why it is harder than MNIST")
    similarity, mnist_top = class_similarity()
    pairs = baselines.most_similar_pairs(similarity, NAMES, 5)
    st.markdown(
        "Average each class's 6,000 training images into one picture and compare those "
        "pictures (cosine similarity, 1 = identical). The four most alike pairs are all "
        f"**upper-body garments**: {', '.join(p['pair'] for p in pairs[:4])}. At 28×28 a "
        "shirt, a T-shirt, a pullover and a coat share one silhouette; collar, buttons and "
        "fabric, what tells them apart, are mostly lost."
        + (f" MNIST's most alike digits, {mnist_top['pair']}, score "
           f"{mnist_top['similarity']:.3f}; Fashion-MNIST's top pair "
           f"{pairs[0]['similarity']:.3f}." if mnist_top else ""))
    left, right = st.columns([3, 2])
    left.plotly_chart(fashion_charts.similarity_heatmap(similarity, NAMES),
                      key="fashion.similarity")
    right.dataframe(pd.DataFrame(pairs), hide_index=True, column_config={
        "similarity": st.column_config.NumberColumn(format="%.3f")})
    right.caption("Expect your model's mistakes to cluster in those four rows and columns of its "
                  "confusion matrix (section 5 counts them).")
checks.check_choice(
    "fashion.q_harder", "the same improved MLP gets about 98% on MNIST and about 89% on "
    "Fashion-MNIST. What makes Fashion-MNIST harder?",
    ["its images are larger, so the MLP needs more parameters",
     "several classes share one silhouette at 28×28: shirt, T-shirt, pullover, coat",
     "it has more classes than MNIST",
     "its test set is a different size"], 1,
    "Same size (28×28), same ten classes, same 60,000 / 10,000 split. The upper-body garments "
    "look alike even averaged over 6,000 images each, and most of a model's mistakes fall "
    "among them.")

st.subheader("The baselines to beat")
st.markdown("Test accuracies submitted to the dataset's own benchmark table, on the same 10,000 "
            "test images you will use. Convolutions and augmentation, the top of the table, "
            "belong to the next series; the published MLP and the humans are within your reach.")
st.dataframe(pd.DataFrame(baselines.baseline_rows()), hide_index=True, column_config={
    "test accuracy": st.column_config.NumberColumn(format="%.3f"),
    "source": st.column_config.TextColumn(width="large")})

space = panel.current_workspace()
QUICK = train.RunConfig(dataset="fashion-mnist", model="mlp-bn", epochs=2, train_subset=10_000,
                        validation=VALIDATION, weight_decay=models.RECIPE_WEIGHT_DECAY["mlp-bn"],
                        device=DEVICE)
st.subheader("A quick baseline of your own")
st.markdown("The course's improved MLP on 10,000 training images for 2 epochs: a few seconds. "
            "It appears in *Your runs* and on the leaderboard below.")
if panel.train_button(space, QUICK, "fashion.quick", text="⚡ Train the quick baseline",
                      disabled=train_split is None, label="quick baseline: improved MLP · "
                                                          "10,000 images · 2 epochs"):
    st.session_state["fashion.current"] = True

# --- 2. The experiment designer ----------------------------------------------------------------
st.header("2. Design an experiment")
st.markdown(
    f"Start from a preset, then change what you like. Every run holds out the same **{VALIDATION:,} "
    "training images** (a fixed seed) as a validation split and keeps the weights of the epoch "
    "that scores best on it. The test set is only looked at for the one number you report: an "
    "epoch picked by its test accuracy would make the test score one more thing you tuned, and "
    "it would no longer tell you how the model does on new images.")
ARCHITECTURES = {"mlp": "MLP (this course)", "cnn": "Small CNN: preview of convolutions (next series)"}
PRESETS = {
    "Improved MLP (the course's recipe)": dict(arch="mlp", hidden="256, 128", dropout=0.3,
                                               bn=True, wd=1e-4, epochs=10),
    "Simple MLP (no regularization)": dict(arch="mlp", hidden="256, 128", dropout=0.0, bn=False,
                                           wd=0.0, epochs=10),
    "Wide improved MLP 512-256": dict(arch="mlp", hidden="512, 256", dropout=0.3, bn=True,
                                      wd=1e-4, epochs=10),
    "Under 100K parameters: MLP 100-50": dict(arch="mlp", hidden="100, 50", dropout=0.2, bn=True,
                                              wd=1e-4, epochs=10),
    "Small CNN: preview of convolutions (next series)": dict(arch="cnn", dropout=0.3, bn=True,
                                                             wd=0.0, epochs=5),
}
COMMON = dict(hidden="256, 128", channels_1=32, channels_2=48, augment=False, optimizer="adam",
              lr=1e-3, images=55_000, batch=64, seed=0)
CHOICES = {"wd": [0.0, 1e-5, 1e-4, 1e-3, 1e-2], "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1],
           "images": [5_000, 10_000, 30_000, 55_000], "batch": [32, 64, 128, 256]}
OPTIMIZER_LABELS = {"adam": "Adam (the course's)", "adamw": "AdamW (decoupled weight decay)",
                    "sgd": "SGD with momentum 0.9"}


def use_preset(name: str) -> None:
    """The preset's values into the widgets' state: runs before they are drawn, so they show it."""
    st.session_state.update({f"fashion.{key}": value
                             for key, value in {**COMMON, **PRESETS[name]}.items()})


DEFAULTS = {**COMMON, **PRESETS[next(iter(PRESETS))]}
# The designer's settings in the page address, so a link sets up the same experiment elsewhere.
URL_SETTINGS = {"arch": str, "hidden": str, "channels": str, "dropout": float, "bn": bool,
                "wd": float, "augment": bool, "optimizer": str, "lr": float, "epochs": int,
                "images": int, "batch": int, "seed": int}


def settings_from_url() -> dict:
    """The link's settings as widget values, each snapped to what its widget offers; a value
    that cannot be read is left out (and said)."""
    found, unreadable = {}, []
    for name, kind in URL_SETTINGS.items():
        raw = st.query_params.get(name)
        if raw is None:
            continue
        try:
            if kind is bool:
                value = {"1": True, "0": False, "true": True, "false": False}[raw.lower()]
            elif name == "channels":
                first, second = (int(part) for part in raw.split(","))
                found.update(channels_1=min(128, max(4, first)), channels_2=min(128, max(4, second)))
                continue
            else:
                value = kind(raw)
        except (ValueError, KeyError):
            unreadable.append(name)
            continue
        if name in CHOICES:
            value = widgets.nearest(CHOICES[name], value)
        elif name == "arch" and value not in ARCHITECTURES or (
                name == "optimizer" and value not in OPTIMIZER_LABELS):
            unreadable.append(name)
            continue
        elif name == "epochs":
            value = min(30, max(1, value))
        elif name == "dropout":
            value = min(0.7, max(0.0, round(value * 20) / 20))
        elif name == "seed":
            value = min(10_000, max(0, value))
        found[name] = value
    if unreadable:
        st.warning("This link's " + ", ".join(unreadable) + " could not be read: the defaults are "
                   "used for them.")
    return found


def settings_to_url() -> None:
    """Every designer setting that differs from the default recipe into the address."""
    for name in URL_SETTINGS:
        if name == "channels":
            value = (st.session_state.get("fashion.channels_1", 32),
                     st.session_state.get("fashion.channels_2", 48))
            changed = st.session_state.get("fashion.arch") == "cnn" and value != (32, 48)
            text = f"{value[0]},{value[1]}"
        else:
            value = st.session_state.get(f"fashion.{name}", DEFAULTS[name])
            changed = value != DEFAULTS[name] and not (
                name == "hidden" and st.session_state.get("fashion.arch") == "cnn")
            text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        if changed:
            st.query_params[name] = text
        elif name in st.query_params:
            del st.query_params[name]


if "fashion.arch" not in st.session_state:
    use_preset(next(iter(PRESETS)))
    st.session_state.update({f"fashion.{name}": value
                             for name, value in settings_from_url().items()})


def parse_widths(text: str) -> tuple[int, ...]:
    """'256, 128' → (256, 128); a friendly ValueError otherwise."""
    try:
        widths = tuple(int(part) for part in text.replace(" ", "").split(",") if part)
    except ValueError:
        raise ValueError(f"Hidden widths are whole numbers separated by commas, like "
                         f"“256, 128”, not “{text}”.") from None
    if not widths:
        raise ValueError("Give at least one hidden width, like “256, 128”.")
    return widths


def run_label(config: train.RunConfig) -> str:
    """The runs panel's name for a run: what differs from the recipe, without what every run here
    shares (the dataset, the validation split)."""
    shared = (" · data=fashion-mnist", f" · validation={VALIDATION}", f" · device={DEVICE}")
    label = panel.describe(config)
    for part in shared:
        label = label.replace(part, "")
    return label


def design_config() -> train.RunConfig:
    """The designer's widgets → one RunConfig (a ValueError says what is out of range)."""
    state = {name: st.session_state.get(f"fashion.{name}", value)
             for name, value in DEFAULTS.items()}
    cnn = state["arch"] == "cnn"
    hidden = None if cnn else parse_widths(state["hidden"])
    plain = not cnn and not state["bn"] and state["dropout"] == 0
    channels = (int(state["channels_1"]), int(state["channels_2"]))
    return train.RunConfig.from_dict(dict(
        dataset="fashion-mnist", model="cnn" if cnn else "mlp" if plain else "mlp-bn",
        hidden=None if hidden in (None, (256, 128)) else hidden,
        channels=None if not cnn or channels == (32, 48) else channels,
        batch_norm=True if plain else bool(state["bn"]), dropout=float(state["dropout"]),
        weight_decay=float(state["wd"]), augment=bool(state["augment"]),
        optimizer=state["optimizer"], lr=float(state["lr"]), epochs=int(state["epochs"]),
        train_subset=None if state["images"] == 55_000 else int(state["images"]),
        batch_size=int(state["batch"]), seed=int(state["seed"]), validation=VALIDATION,
        device=DEVICE))


@st.fragment
def designer() -> None:
    """The designer's widgets rerun only this part; Train below reads the settings they leave."""
    for name, value in COMMON.items():  # a hidden widget's value is forgotten: bring it back
        st.session_state.setdefault(f"fashion.{name}", value)
    st.segmented_control("Start from a preset", list(PRESETS), key="fashion.preset",
                         on_change=lambda: use_preset(st.session_state["fashion.preset"])
                         if st.session_state.get("fashion.preset") else None)
    columns = st.columns(3)
    with columns[0]:
        st.markdown("**Architecture**")
        arch = st.radio("Model", list(ARCHITECTURES), format_func=ARCHITECTURES.get,
                        key="fashion.arch")
        if arch == "mlp":
            st.text_input("Hidden widths", key="fashion.hidden",
                          help="One number per hidden layer (1 to 4 layers), e.g. 512, 256, 128.")
        else:
            st.number_input("Channels of conv block 1", 4, 128, key="fashion.channels_1")
            st.number_input("Channels of conv block 2", 4, 128, key="fashion.channels_2")
            st.caption("Convolutions are the next series' subject: this preset is a preview, "
                       "the one expected to pass 0.925.")
    with columns[1]:
        st.markdown("**Regularization**")
        st.slider("Dropout p", 0.0, 0.7, step=0.05, key="fashion.dropout")
        st.toggle("Batch normalization", key="fashion.bn")
        st.select_slider("Weight decay", CHOICES["wd"], key="fashion.wd",
                         format_func=lambda value: f"{value:g}")
        st.toggle("Augmentation (beyond this course)", key="fashion.augment",
                  help="Random flips and small shifts: each epoch every training image is "
                       "flipped left-right with p = 0.5 and moved up to 2 pixels. The course "
                       "only mentions augmentation; the next series teaches it.")
    with columns[2]:
        st.markdown("**Training**")
        st.selectbox("Optimizer", list(OPTIMIZER_LABELS),
                     format_func=lambda name: OPTIMIZER_LABELS.get(name, name),
                     key="fashion.optimizer")
        st.select_slider("Learning rate", CHOICES["lr"], key="fashion.lr",
                         format_func=lambda value: f"{value:g}")
        st.slider("Epochs", 1, 30, key="fashion.epochs")
        st.select_slider("Training images", CHOICES["images"], key="fashion.images",
                         format_func="{:,}".format,
                         help=f"55,000 = all of them once the {VALIDATION:,} validation images "
                              "are held out.")
        st.select_slider("Batch size", CHOICES["batch"], key="fashion.batch")
        st.number_input("Seed", 0, 10_000, key="fashion.seed")
    try:
        config = design_config()
    except ValueError as error:
        st.error(str(error))
        st.session_state["fashion.config"] = None
        return
    st.session_state["fashion.config"] = config
    settings_to_url()
    size = models.parameter_count(models.build_model(config.model_config))
    st.caption(f"This run: `{run_label(config)}` · **{size:,} parameters** "
               f"({'under' if size < baselines.PARAMETER_BUDGET else 'over'} the 100K budget) · "
               f"trains on **{DEVICE.upper()}**"
               + (" (a GPU was found)." if DEVICE != "cpu" else " (no GPU here).")
               + " The address bar holds these settings: a link sets up the same experiment.")


designer()
config = st.session_state.get("fashion.config")


if panel.train_button(space, config or QUICK, "fashion.train", text="🚀 Train this experiment",
                      disabled=train_split is None or config is None,
                      label=run_label(config) if config else None):
    st.session_state["fashion.current"] = True
if config is not None:
    st.download_button("⬇️ Export as a script", export_script.standalone_script(config),
                       file_name="fashion_experiment.py", mime="text/x-python",
                       key="fashion.export",
                       help="A standalone torch + torchvision file that trains this experiment "
                            "outside the app: the same model, validation split and best epoch.")
panel.run_view(space, "fashion.view")
panel.runs_panel(space, "fashion.runs")
panel.workspace_link(space, "fashion-mnist-project")
callouts.takeaway("An experiment is one change at a time against a baseline you trust, judged on "
                  "validation, repeated with other seeds before you believe a small gain.")

# --- 3. The leaderboard ------------------------------------------------------------------------
st.header("3. The leaderboard")


def fashion_runs() -> list[dict]:
    """Every Fashion-MNIST run of the workspace as a leaderboard line."""
    entries = []
    for run_id in space.run_ids():
        run_dir = space.run_dir(run_id)
        try:
            run_config = run_files.run_config(run_dir)
        except (ValueError, TypeError):
            continue
        if run_config.dataset != "fashion-mnist":
            continue
        record = run_files.status(run_dir)
        if record.get("params") is None and record.get("history"):
            record["params"] = models.parameter_count(models.build_model(run_config.model_config))
        entries.append(leaderboard.run_entry(run_id, run_files.run_label(run_dir),
                                             run_config.to_dict(), record))
    return entries


entries = fashion_runs()
board = leaderboard.ranked([dict(e) for e in entries if e["epochs"]], baselines.PUBLISHED)
st.markdown("Your runs are ranked by the **validation accuracy of their best epoch**, never by "
            "test; the test accuracy beside it is that same epoch's, the number you report. The "
            "published results (📚) have only a test accuracy and stand among your runs by it.")
def shown(value, pattern: str) -> str:
    """A leaderboard cell: the value formatted, or a dash where there is none."""
    return "–" if value is None else pattern.format(value)


# A plain table, not a data grid: every run and result is readable text (and a screen reader's).
st.table(pd.DataFrame([{
    "#": "📚" if row["published"] else shown(row["rank"], "{}"),
    "run": row["label"],
    "parameters": "< 100K" if row.get("bound") else shown(row["parameters"], "{:,}"),
    "best epoch": "–" if row["published"] else shown(row.get("best_epoch"), "{}"),
    "validation accuracy": shown(row["val_accuracy"], "{:.4f}"),
    "test accuracy": shown(row["test_accuracy"], "{:.4f}"),
    "training time": "–" if row["published"] else shown(row.get("seconds"), "{:.1f} s"),
    "augmentation": "yes" if row.get("augmentation") else "no"} for row in board]).set_index("#"))
ranked_runs = [row for row in board if not row["published"] and row["rank"]]
if ranked_runs:
    best = ranked_runs[0]
    beaten = leaderboard.baselines_beaten(best, baselines.PUBLISHED)
    st.markdown(f"Your best run, **{best['label']}**, reports a test accuracy of "
                f"**{best['test_accuracy']:.2%}** (epoch {best['best_epoch']}, chosen on "
                "validation): " + (f"it beats {', '.join(beaten)}." if beaten else
                                   "no published result beaten yet."))
else:
    st.info("Train a run (the quick baseline takes seconds) and it appears here, ranked.")
st.subheader("Accuracy against size: the Pareto chart")
st.markdown("Each extra point of accuracy costs parameters. A run on the dotted front has no "
            "other run or published result that is both smaller and better; left of the red line "
            "is the \"under 100K parameters\" budget of the 0.925 CNN.")
st.plotly_chart(fashion_charts.pareto_chart(ranked_runs, baselines.PUBLISHED),
                key="fashion.pareto")
st.caption("Is a gain real? Select runs in *Runs to watch and compare* above: use **🎲 Repeat "
           "with 3 seeds** on two settings and the seed bands say whether the gap is bigger than "
           "luck.")
checks.check_choice(
    "fashion.q_select", "you trained 12 epochs and want to report one number. Which weights do "
    "you keep, and which accuracy do you report?",
    ["the epoch with the best test accuracy, and that test accuracy",
     "the epoch with the best validation accuracy, and that epoch's test accuracy",
     "the last epoch, and its validation accuracy",
     "the epoch with the best training accuracy, and its test accuracy"], 1,
    "Choose on validation, report test once. Picking the epoch by test accuracy tunes on the "
    "test set, so the number you report is optimistic; training accuracy rewards memorising.")

# --- 4. The honest lr finder -------------------------------------------------------------------
st.header("4. An honest learning-rate finder")
st.markdown(
    "The lr finder trains a copy of your model for 100 mini-batches while the learning rate "
    "grows from 10⁻⁶ to 1, and records the loss. It suggests the rate where the loss falls "
    "fastest. fastai's `lr_find` stops there; a value read off a noisy curve is a guess, so "
    "here three short confirm runs (a third of it, the suggestion, three times it) check it on "
    "validation.")
callouts.show_source(lr_finder.lr_sweep)


@st.cache_data(show_spinner=False, max_entries=32)
def sweep_for(config_values: dict) -> dict:
    """The sweep for these settings on the training images (validation held out): pure, cached."""
    config = train.RunConfig.from_dict(config_values)
    kept, _ = data.validation_split(data.split_tensors("fashion-mnist", True), VALIDATION)
    loader = train.fast_loader(kept, config.batch_size, shuffle=True,
                               generator=torch.Generator().manual_seed(config.seed),
                               augment=torch.Generator().manual_seed(config.seed)
                               if config.augment else None)
    torch.manual_seed(config.seed)
    model = models.build_model(config.model_config)
    return lr_finder.lr_sweep(model, loader, lambda params, lr: train.make_optimizer(
        config.optimizer, params, lr, config.weight_decay), steps=100)


def confirm_configs(config: train.RunConfig, rates: list[float]) -> list[train.RunConfig]:
    """The three short confirm runs: 2 epochs on 10,000 images at each rate."""
    return [dataclasses.replace(config, lr=rate, epochs=2, train_subset=10_000)
            for rate in rates]


@st.fragment
def lr_finder_section(config: train.RunConfig | None) -> None:
    """The sweep button and its curve: a click reruns only this."""
    if config is None or train_split is None:
        st.info("Set up a valid experiment above (and have the dataset) to sweep its learning rate.")
        return
    values = dataclasses.replace(config, device="cpu").to_dict()
    key = str(sorted(values.items()))
    if st.button("📈 Sweep the learning rate (100 batches)", key="fashion.sweep"):
        with st.spinner("Sweeping 100 mini-batches…"):
            st.session_state["fashion.sweep_result"] = (key, sweep_for(values))
    stored = st.session_state.get("fashion.sweep_result")
    if not stored or stored[0] != key:
        st.caption(f"The sweep uses the experiment above: `{run_label(config)}`.")
        return
    sweep = stored[1]
    try:
        suggested = lr_finder.suggestion(sweep)
    except ValueError as error:
        st.error(str(error))
        return
    rates = lr_finder.confirm_rates(suggested)
    st.plotly_chart(fashion_charts.lr_sweep_chart(sweep, suggested, rates), key="fashion.lr_chart")
    st.markdown(f"Suggested learning rate: **{suggested:.1e}** (steepest fall of the smoothed "
                f"loss). The confirm runs: **{', '.join(f'{r:g}' for r in rates)}**, 2 epochs on "
                "10,000 images each. The model you design was not changed by the sweep.")
    if st.session_state.get("fashion.confirm") != (suggested, rates):
        st.session_state["fashion.confirm"] = (suggested, rates)
        widgets.refresh_page()  # the confirm runs' button and verdict live outside this fragment


lr_finder_section(config)
confirm = st.session_state.get("fashion.confirm")
if confirm and config is not None:
    suggested, rates = confirm
    confirmations = confirm_configs(config, rates)
    panel.train_button(space, confirmations, "fashion.confirm_runs",
                       text="✅ Train the three confirm runs", disabled=train_split is None,
                       help="Three short runs through the run system; watch them in Your runs.")
    results, waiting = {}, 0
    for rate, confirm_config in zip(rates, confirmations, strict=True):
        run_id = panel.latest_run(space, confirm_config)
        row = next((e for e in entries if e["run"] == run_id), None)
        if row and row["state"] == "done" and row["val_accuracy"] is not None:
            results[rate] = row["val_accuracy"]
        elif run_id:
            waiting += 1
    if len(results) == len(rates):
        outcome = lr_finder.verdict(results, suggested)
        st.dataframe(pd.DataFrame([{"learning rate": rate, "best validation accuracy": value}
                                   for rate, value in results.items()]), hide_index=True)
        if outcome["suggestion_won"]:
            st.success(f"The suggestion held up: {outcome['best_lr']:g} scored best on "
                       f"validation ({outcome['best_accuracy']:.2%}).")
        else:
            st.warning(f"The suggestion did not win: {outcome['best_lr']:g} scored "
                       f"{outcome['margin']:.2%} better on validation. Trust the check, not the "
                       "curve (and repeat with seeds before trusting a small margin).")
    elif waiting:
        st.caption("The confirm runs are training: their verdict appears here when all three "
                   "have finished.")

# --- 5. Error analysis -------------------------------------------------------------------------
st.header("5. What does your run get wrong?")


def best_epoch_snapshot(row: dict):
    """The file holding a run's best epoch's weights (the worker keeps one per epoch), or None."""
    return recorder.epoch_snapshots(space.run_dir(row["run"])).get(row["best_epoch"])


def best_model(row: dict):
    """A run's model at its best epoch, reloaded from its checkpoint, with its test-set
    probabilities: kept for this session until the checkpoint changes."""
    snapshot = best_epoch_snapshot(row)
    if snapshot is None:
        return None
    run_config = run_files.run_config(space.run_dir(row["run"]))

    def load():
        model = checkpoints.epoch_models({row["best_epoch"]: snapshot}, run_config)[row["best_epoch"]]
        return model, evaluation.predict(model, test_split)

    return memo.per_session("fashion.best", (str(snapshot), snapshot.stat().st_mtime), load)


def layer_summaries(layers: dict) -> dict:
    """A conv layer's [C, H, W] output as one mean per channel, so every layer draws as bars."""
    return {name: values.flatten(1).mean(1) if values.ndim > 1 else values
            for name, values in layers.items()}


@st.fragment
def inside_the_model(model, probs, wrong: list[int]) -> None:
    """One of the mistakes followed through the learner's own network: a pick reruns only this."""
    options = [f"#{n} · true {NAMES[int(test_split.labels[i])]} · predicted "
               f"{NAMES[int(probs[i].argmax())]}" for n, i in enumerate(wrong, start=1)]
    index = wrong[options.index(st.selectbox("Follow this mistake through your network", options,
                                             key="fashion.inside"))]
    image = data.normalize_batch(test_split.images[index:index + 1], "fashion-mnist")[0]
    layers = interpret.hidden_activations(model, image)
    predicted = int(layers["logits"].argmax())
    pictures = st.columns([1, 1, 3])
    pictures[0].image(image_grid.compose(test_split.images[index:index + 1], scale=5),
                      caption=f"test image {index:,}",
                      alt=f"Test image {index:,}, a {NAMES[int(test_split.labels[index])]}")
    pictures[1].image(figures.diverging_image(interpret.saliency(model, image), zoom=5),
                      caption=f"saliency: ∂ logit {NAMES[predicted]} / ∂ pixel",
                      alt="Which pixels raise (red) or lower (blue) the predicted logit")
    pictures[2].markdown("Each bar is one hidden unit's output after its ReLU (for a conv layer, "
                         "one channel's mean), then the 10 logits: what **your** trained network "
                         "computes for this image, layer by layer.")
    st.plotly_chart(figures.activation_bars(layer_summaries(layers), predicted),
                    key="fashion.activations")


ranked_with_weights = [row for row in ranked_runs if best_epoch_snapshot(row) is not None]
loaded, analysed = None, None
if ranked_with_weights and test_split is not None:
    choices = {f"#{row['rank']} · {row['label']} ({row['run'][-6:]})": row
               for row in ranked_with_weights}
    analysed = choices[st.selectbox("Run to analyse (the best on validation first)",
                                    list(choices), key="fashion.analysed")]
    try:
        loaded = best_model(analysed)
    except checkpoints.CheckpointError as error:
        st.error(f"This run's weights could not be loaded: {error}")
if loaded is None:
    st.info("Train a run above and its confusion matrix and mistakes appear here.")
else:
    model, probs = loaded
    predicted = probs.argmax(dim=1)
    matrix = metrics.confusion_matrix(predicted, test_split.labels)
    shown = st.columns(3)
    shown[0].metric("Test accuracy (best epoch)", f"{float(matrix.trace() / matrix.sum()):.2%}")
    shown[1].metric("Mistakes", f"{int((predicted != test_split.labels).sum()):,} of 10,000")
    shown[2].metric("Mistakes inside the upper-body cluster",
                    f"{baselines.cluster_share_of_mistakes(matrix):.0%}")
    snapshot = best_epoch_snapshot(analysed)
    st.download_button(f"⬇️ Download epoch {analysed['best_epoch']}'s checkpoint",
                       snapshot.read_bytes(), file_name=f"fashion-{analysed['run'][-6:]}-epoch-"
                       f"{analysed['best_epoch']}.pt", key="fashion.download_best",
                       help="The best epoch's weights as reloaded here: load them with "
                            "torch.load(path, weights_only=True).")
    st.markdown(f"**{analysed['label']}**, reloaded from its epoch {analysed['best_epoch']} "
                "checkpoint and evaluated on the test set. Rows are the true class, columns the "
                "prediction; the diagonal is left white.")
    st.plotly_chart(figures.confusion_heatmap(matrix, NAMES), key="fashion.confusion")
    st.subheader("Its most confident mistakes")
    wrong = evaluation.gallery_indices(probs, test_split.labels, count=12,
                                       most_confident_mistakes=True)
    if wrong:
        st.image(image_grid.compose(test_split.images[wrong],
                                    [f"#{n}" for n in range(1, len(wrong) + 1)], columns=6,
                                    scale=3), width=560,
                 alt="The twelve test images the model got wrong with the highest confidence")
        st.dataframe(pd.DataFrame([{"#": n, "true": NAMES[int(test_split.labels[i])],
                                    "predicted": NAMES[int(predicted[i])],
                                    "confidence": float(probs[i].max())}
                                   for n, i in enumerate(wrong, start=1)]), hide_index=True,
                     column_config={"confidence": st.column_config.NumberColumn(format="percent")})
        st.subheader("Inside your own model")
        inside_the_model(model, probs, wrong)

# --- 6. The human quiz -------------------------------------------------------------------------
st.header("6. You against the model: the human quiz")
st.markdown(f"People without fashion expertise labelled test images with "
            f"**{baselines.HUMAN_ACCURACY:.1%}** accuracy ({baselines.HUMAN_SOURCE}). Label these "
            "20 test images yourself, then compare with your best model on the same 20.")


@st.fragment
def human_quiz_section() -> None:
    """Twenty answers in one form: nothing reruns until Submit."""
    indices = human_quiz.quiz_indices(test_split.labels, seed=0)
    with st.form("fashion.quiz"):
        for row in range(0, len(indices), 5):
            columns = st.columns(5)
            for column, number in zip(columns, range(row, row + 5), strict=True):
                index = indices[number]
                column.image(image_grid.compose(test_split.images[index:index + 1], scale=3),
                             width=84, alt=f"Quiz image {number + 1}")
                column.selectbox(f"Image {number + 1}", NAMES, index=None,
                                 key=f"fashion.quiz.{number}", placeholder="your label")
        submitted = st.form_submit_button("Score my answers")
    if not submitted and "fashion.quiz_score" not in st.session_state:
        return
    answers = [st.session_state.get(f"fashion.quiz.{n}") for n in range(len(indices))]
    mine = human_quiz.score([NAMES.index(a) if a else None for a in answers], test_split.labels,
                            indices)
    st.session_state["fashion.quiz_score"] = mine
    result = st.columns(3)
    result[0].metric("You", f"{mine['right']} / {mine['total']}", f"{mine['accuracy']:.0%}",
                     delta_color="off")
    result[1].metric("Published humans", f"{baselines.HUMAN_ACCURACY:.1%}")
    if loaded is not None:
        machine = human_quiz.score(human_quiz.model_answers(loaded[1], indices),
                                   test_split.labels, indices)
        result[2].metric("Your best model", f"{machine['right']} / {machine['total']}",
                         f"{machine['accuracy']:.0%}", delta_color="off")
    else:
        result[2].metric("Your best model", "no run yet")
    st.caption("Twenty images is a tiny sample: one answer moves the score by 5 points. The "
               "published human figure used 1,000.")


if test_split is not None:
    human_quiz_section()

st.header("Wrap-up")
callouts.takeaway("A capstone is a loop you now run on your own: a baseline, one change, a "
                  "validation score, seeds, and one honest test number at the end.")
st.subheader("Exercise (notebook)")
st.markdown("The independent experiment: train your own model on Fashion-MNIST with a validation "
            "split and a best-epoch checkpoint, report its test accuracy once, and check that it "
            "beats the published MLP (0.883).")
lesson.next_lesson_link("fashion-mnist-project")
