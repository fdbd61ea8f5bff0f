"""Lesson 2.2.1 Datasets and DataLoaders: the missing piece between the loop and real data.

Speed: every widget group is an st.fragment, so a slider reruns its own section only; anything
slow (a training race, a figure, a torchvision dataset) is cached, and cached functions never draw.
Figures are cached with cache_resource (read-only; st.plotly_chart copies them) because
unpickling a plotly figure from cache_data costs more than building it.
"""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch: a fresh server's deep link shows its title at once

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from course.charts import figures
from course.concepts import batching, image_grid, loops
from course.concepts.teaching_datasets import (
    BrokenDataset,
    FixedBrokenDataset,
    LazyImageDataset,
    SimpleDataset,
    SortedDataset,
    write_image_folder,
)
from course.engine import data
from course.ui import callouts, checks, datasets, lesson

RACE_MAX_EPOCHS = 30
EXPLORER_LIVE_LIMIT = 5_000
EXPLORER_LIVE_BATCHES = 1_000
EQUAL_UPDATES = 200
RANGE_BATCH = 32
NEEDS_DATA = "This part needs the MNIST files: see the 📦 message above."
# One look per setting in both shuffle charts: the same colour, and a cue besides colour.
SHUFFLE_LOOKS = {"shuffle=False": dict(color=figures.ORANGE, dash="dash", hatch="/"),
                 "shuffle=True": dict(color=figures.BLUE, dash="solid", hatch="")}
AUGMENT = transforms.Compose([
    transforms.RandomAffine(degrees=20, translate=(0.12, 0.12), scale=(0.85, 1.1)),
    transforms.ToTensor(),
])


# --- Cached work: pure functions, no drawing ---------------------------------------------------

@st.cache_resource(show_spinner="Opening torchvision's MNIST (once per server)…")
def torchvision_mnist(transform_name: str, root: str):
    """torchvision's own dataset object with a per-sample transform; shared, read-only."""
    transform = {"normalize": data.normalize_transform("mnist"), "augment": AUGMENT}[transform_name]
    return data.load_dataset("mnist", train=True, transform=transform, root=Path(root))


@st.cache_resource(max_entries=256, show_spinner=False)
def explorer_bars(n: int, batch_size: int, drop_last: bool):
    return figures.batch_size_bars(batching.batch_sizes(n, batch_size, drop_last), batch_size)


@st.cache_data(max_entries=256, show_spinner=False)
def explorer_table(n: int, batch_size: int, shuffle: bool, drop_last: bool) -> pd.DataFrame:
    """A real DataLoader's batch shapes: the first three, "…", the last two."""
    shapes = batching.loader_batch_shapes(SimpleDataset(n=n), batch_size, shuffle, drop_last)
    rows = [{"iteration": f"{i + 1:,}", "x.shape": str(x), "y.shape": str(y)}
            for i, (x, y) in enumerate(shapes)]
    if len(rows) > 5:
        rows = [*rows[:3], {"iteration": "…", "x.shape": "…", "y.shape": "…"}, *rows[-2:]]
    return pd.DataFrame(rows)


@st.cache_resource(show_spinner="Training the same model twice, with and without shuffle…")
def shuffle_race() -> tuple[dict, dict]:
    """One race to the longest epoch count; shorter races are its prefix (same seed, same order)."""
    sorted_data = SortedDataset(n=512)
    losses = {
        "shuffle=False": batching.shuffle_race(sorted_data, shuffle=False, epochs=RACE_MAX_EPOCHS),
        "shuffle=True": batching.shuffle_race(sorted_data, shuffle=True, epochs=RACE_MAX_EPOCHS),
    }
    ranges = {
        "shuffle=False: each batch is a narrow slice": batching.batch_target_ranges(
            sorted_data, RANGE_BATCH, shuffle=False),
        "shuffle=True: each batch spans the range": batching.batch_target_ranges(
            sorted_data, RANGE_BATCH, shuffle=True),
    }
    return losses, ranges


def shuffle_look(name: str) -> dict:
    """The look of a series named "shuffle=…" or "shuffle=…: what it shows"."""
    return SHUFFLE_LOOKS[name.split(":")[0]]


@st.cache_resource(show_spinner=False)
def race_ranges_figure():
    ranges = shuffle_race()[1]
    figure = figures.batch_ranges(ranges)
    for trace, name in zip(figure.data, ranges, strict=True):
        look = shuffle_look(name)
        trace.update(marker_color=look["color"], marker_pattern=dict(
            shape=look["hatch"], fillmode="overlay", fgcolor="white", solidity=0.3))
    return figure


@st.cache_resource(max_entries=64, show_spinner=False)
def race_figure(epochs: int):
    losses = race_losses(epochs)
    figure = figures.curves(losses, y_title="loss on ALL 512 samples (log)", log_y=True,
                           title="Same model, same data, same seed: only shuffle differs")
    for trace in figure.data:
        look = shuffle_look(trace.name)
        trace.update(line_color=look["color"], line_dash=look["dash"])
    return figure


def race_losses(epochs: int) -> dict[str, list[float]]:
    """The first `epochs` epochs of the cached race: one loss per training step."""
    losses = shuffle_race()[0]
    steps = epochs * len(losses["shuffle=True"]) // RACE_MAX_EPOCHS
    return {name: values[:steps] for name, values in losses.items()}


@st.cache_data(show_spinner=False)
def run_both_loops() -> pd.DataFrame:
    """Train y = 2x + 1 both ways, then measure both the same way: the loss on all 100 points."""
    dataset = SimpleDataset(n=100)
    results = {}
    for name in ("raw tensors", "DataLoader"):
        torch.manual_seed(0)
        model = nn.Linear(1, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        if name == "raw tensors":
            loops.train_on_tensors(model, dataset.x, dataset.y, nn.MSELoss(), optimizer, 200)
            updates = 200
        else:
            loader = DataLoader(dataset, batch_size=8, shuffle=True,
                                generator=torch.Generator().manual_seed(0))
            loops.train_on_dataloader(model, loader, nn.MSELoss(), optimizer, 20)
            updates = 20 * len(loader)
        with torch.no_grad():
            full_loss = nn.functional.mse_loss(model(dataset.x), dataset.y).item()
        results[name] = {"updates": updates, "loss on all 100 points": round(full_loss, 4),
                         "w": round(model.weight.item(), 3), "b": round(model.bias.item(), 3)}
    return pd.DataFrame(results).T


@st.cache_data(max_entries=64, show_spinner=False)
def mnist_grid(seed: int, root: str):
    split = data.split_tensors("mnist", True, root)
    picks = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:16]
    return image_grid.compose(split.images[picks], [f"label {int(split.labels[i])}" for i in picks])


@st.cache_resource(show_spinner=False)
def histogram_figure(root: str):
    sample = data.split_tensors("mnist", True, root).images[:2000]
    return figures.pixel_histograms(sample.float() / 255.0, data.normalize_batch(sample, "mnist"))


@st.cache_data(show_spinner=False)
def lazy_demo(root: str) -> str:
    """Write 32 test digits as PNG files, load them lazily, describe the first batch."""
    test_split = data.split_tensors("mnist", False, root)
    with tempfile.TemporaryDirectory(prefix="lazy-mnist-") as folder:
        paths = write_image_folder(test_split.images[:32], test_split.labels[:32], folder)
        lazy = LazyImageDataset(folder, transform=data.normalize_transform("mnist"))
        lazy_loader = DataLoader(lazy, batch_size=8, shuffle=True,
                                 generator=torch.Generator().manual_seed(0))
        images, labels = next(iter(lazy_loader))
        return (f"folder holds {len(paths)} files: {paths[0].name}, {paths[1].name}, …\n"
                f"len(lazy) → {len(lazy)}\n"
                f"first batch → images {list(images.shape)}, labels {labels.tolist()}")


@st.cache_data(max_entries=128, show_spinner=False)
def batch_size_row(subset: int, batch_size: int, updates: int | None, root: str) -> dict:
    """One batch size's measurements; pure, so a cached result replays for every learner."""
    split = data.split_tensors("mnist", True, root)
    images = data.normalize_batch(split.images[:subset])
    return batching.batch_size_row(images, split.labels[:subset], batch_size, updates)


@st.cache_resource(max_entries=64, show_spinner=False)
def comparison_figure(rows: tuple):
    return figures.batch_size_comparison([dict(row) for row in rows])


# --- Fragments: a widget group and the output it changes -----------------------------------------

def bounded_number(label: str, low: int, high: int, value: int, key: str) -> int:
    """A whole-number input that takes any number and uses the nearest allowed one, saying so.

    Streamlit's own min_value/max_value would leave an out-of-range entry red in the box while
    the page silently kept the previous value: here the entry reaches the script, the box is
    set to the value used, and a warning names the allowed range.
    """
    def clamp() -> None:
        typed = st.session_state[key]
        used = value if typed is None else min(max(int(typed), low), high)
        st.session_state[key] = used
        st.session_state[f"{key}.clamped"] = None if typed == used else (typed, used)

    st.session_state.setdefault(key, value)  # no value= below: the state is the one source
    st.number_input(label, step=1, key=key, on_change=clamp, help=f"{low:,} to {high:,}")
    clamped = st.session_state.get(f"{key}.clamped")
    if clamped and clamped[1] == st.session_state[key]:
        st.warning(f"**{label}** takes {low:,} to {high:,}: you typed {clamped[0]:,}, so the "
                   f"page uses {clamped[1]:,}.")
    return st.session_state[key]


@st.fragment
def batch_explorer() -> None:
    controls, picture = st.columns([1, 2])
    with controls:
        n = bounded_number("N samples", 1, 100_000, 100, key="dl.n")
        batch_size = bounded_number("batch_size", 1, 10_000, 8, key="dl.batch")
        shuffle = st.toggle("shuffle", value=True, key="dl.shuffle")
        drop_last = st.toggle("drop_last", value=False, key="dl.drop_last")
    if (n, batch_size) == (100, 8) and not (checks.answered("dl.q_iterations")
                                            and checks.answered("dl.q_last_batch")):
        picture.info("For N = 100 and batch_size = 8 the explorer would give away both answers: "
                     "check your two predictions above first (or try other values of N and "
                     "batch_size).", icon="🙈")
        return
    iterations = batching.iterations_per_epoch(n, batch_size, drop_last)
    with controls:
        st.metric("Iterations per epoch", f"{iterations:,}",
                  help="ceil(N / B), or floor(N / B) with drop_last=True")
        st.caption(f"{'floor' if drop_last else 'ceil'}({n:,} / {batch_size:,}) = {iterations:,}")
    with picture:
        if iterations:
            st.plotly_chart(explorer_bars(n, batch_size, drop_last), key="dl.bars")
        else:
            st.warning("With drop_last=True and fewer samples than one batch, the epoch is "
                       "empty: the loader yields nothing at all.")
        rest = n % batch_size
        if rest and not drop_last:
            st.markdown(f"The last batch is **partial**: {rest:,} samples (orange).")
        elif rest:
            st.markdown(f"`drop_last=True` throws the last {rest:,} samples away this epoch.")
        else:
            st.markdown("B divides N exactly: every batch is full.")
    if n <= EXPLORER_LIVE_LIMIT and iterations <= EXPLORER_LIVE_BATCHES:
        table = explorer_table(n, batch_size, shuffle, drop_last)
        st.markdown(f"A real `DataLoader(SimpleDataset({n}), batch_size={batch_size}, "
                    f"shuffle={shuffle}, drop_last={drop_last})` yielded **{iterations:,}** "
                    "batches:")
        st.dataframe(table, hide_index=True)
    else:
        st.caption(f"The live DataLoader check runs for N ≤ {EXPLORER_LIVE_LIMIT:,} and at most "
                   f"{EXPLORER_LIVE_BATCHES:,} batches, so that it answers at once; the formula "
                   "holds for any N.")


@st.fragment
def race_section() -> None:
    epochs = st.slider("Epochs to train", 2, RACE_MAX_EPOCHS, 20, key="dl.race_epochs")
    st.plotly_chart(race_figure(epochs), key="dl.race")
    losses = race_losses(epochs)
    final_off, final_on = losses["shuffle=False"][-1], losses["shuffle=True"][-1]
    st.markdown(
        f"After {epochs} epochs on `SortedDataset`: loss **{final_off:.4f}** without shuffling "
        f"against **{final_on:.4f}** with it ({final_off / final_on:,.1f}× worse). Without "
        "shuffling the model chases whichever slice it saw last: the saw-tooth repeats every "
        "epoch."
    )


@st.fragment
def run_both_section() -> None:
    if st.button("Run both on y = 2x + 1", key="dl.run_loops"):
        st.session_state["dl.loop_results"] = True
    if st.session_state.get("dl.loop_results"):
        st.dataframe(run_both_loops())
        st.caption("Both are measured the same way after training: the mean squared error on "
                   "all 100 points (the noise alone gives about 0.01). Both recover w ≈ 2, "
                   "b ≈ 1. Full batch: 200 updates; DataLoader: 20 epochs × 13 batches = 260 "
                   "updates.")


@st.fragment
def sample_grid(root: str) -> None:
    seed = bounded_number("Sample seed (change it for other images)", 0, 10_000, 0,
                          key="dl.grid_seed")
    st.image(mnist_grid(seed, root), caption="16 random training images and their labels")


@st.fragment
def augmentation(root: str) -> None:
    augmenting = torchvision_mnist("augment", root)
    index = bounded_number("Image index", 0, len(augmenting) - 1, 0, key="dl.aug_index")
    raw_before = augmenting.data[index].clone()
    views = torch.stack([augmenting[index][0][0] for _ in range(6)])
    st.image(image_grid.compose(views, [f"access {i + 1}" for i in range(6)], columns=6))
    untouched = torch.equal(raw_before, augmenting.data[index])
    st.markdown(f"Stored image unchanged after six accesses: **{untouched}**.")


def comparison_table(rows: list[dict]) -> pd.DataFrame:
    """The rows as a table for people: whole KB and samples/s, accuracies in percent."""
    table = pd.DataFrame(rows).drop(columns=["updates per epoch"])
    for column in ("activation memory (KB)", "samples / s"):
        table[column] = table[column].round().astype(int)
    for column in ("train accuracy", "held-out accuracy", "gap (train − held-out)"):
        table[column] = table[column] * 100
    return table


@st.fragment
def batch_size_lab(root: str) -> None:
    subsets = {f"{n:,} ({n * 4 // 5:,} to train, {n // 5:,} held out)": n
               for n in (2_000, 6_000, 12_000)}  # labels as options: AppTest can set them
    subset = subsets[st.select_slider("Images", list(subsets), key="dl.bs_subset")]
    budget = st.radio("Budget", ["one epoch each (fixed-epoch budget)",
                                 f"{EQUAL_UPDATES} updates each (equal-updates budget)"],
                      horizontal=True, key="dl.bs_budget")
    updates = None if budget.startswith("one epoch") else EQUAL_UPDATES
    chosen = st.multiselect("Batch sizes", [8, 16, 32, 64, 128, 256, 512, 1024],
                            default=[8, 64, 512], key="dl.bs_sizes")
    if not chosen:
        st.warning("Choose at least one batch size.")
    if st.button("Train and measure each batch size", key="dl.bs_run", disabled=not chosen):
        sizes = sorted(chosen)
        bar = st.progress(0.0, "starting…")
        rows = []
        for position, size in enumerate(sizes):  # the bar is drawn here, never in a cached call
            bar.progress(position / len(sizes), f"training batch size {size}…")
            rows.append(batch_size_row(subset, size, updates, root))
        bar.empty()
        st.session_state["dl.bs_result"] = {"rows": rows, "updates": updates, "subset": subset}
    result = st.session_state.get("dl.bs_result")
    if not result:
        return
    rows = result["rows"]
    budget_text = ("one epoch each" if result["updates"] is None
                   else f"{result['updates']:,} updates each")
    st.markdown(f"**Measured:** {result['subset']:,} images "
                f"({result['subset'] * 4 // 5:,} to train, {result['subset'] // 5:,} held out), "
                f"{budget_text}.")
    st.caption("Each batch size's row is measured the first time this server trains it and kept "
               "for every later click: the timings are this machine's, not a rule.")
    st.plotly_chart(comparison_figure(tuple(tuple(row.items()) for row in rows)),
                    key="dl.bs_chart")
    st.dataframe(comparison_table(rows), hide_index=True, column_config={
        "batch size": st.column_config.NumberColumn(format="%d"),
        "updates made": st.column_config.NumberColumn("updates", format="localized"),
        "epochs": st.column_config.NumberColumn(format="%.2f"),
        "activation memory (KB)": st.column_config.NumberColumn("memory (KB)", format="localized"),
        "seconds": st.column_config.NumberColumn(format="%.2f"),
        "samples / s": st.column_config.NumberColumn(format="localized"),
        "gradient noise": st.column_config.NumberColumn("noise", format="%.2f"),
        "train accuracy": st.column_config.NumberColumn("train acc.", format="%.1f%%"),
        "held-out accuracy": st.column_config.NumberColumn("held-out acc.", format="%.1f%%"),
        "gap (train − held-out)": st.column_config.NumberColumn(
            "gap (points)", format="%+.1f", help="train minus held-out accuracy, in percentage "
            "points"),
    })
    st.markdown(batching.describe_comparison(rows, result["updates"]))


# --- The lesson -----------------------------------------------------------------------------------

lesson.lesson_header("datasets-and-dataloaders")

st.markdown(
    "In Module 2.1 your training loop ran on a few dozen hand-made points held in one tensor. "
    "Real data doesn't fit in one tensor: it has to be **loaded, transformed, batched and "
    "shuffled**. PyTorch splits that job in two, `Dataset` and `DataLoader`, and this lesson "
    "is the missing piece between your training loop and real data."
)
st.markdown("> *“I can train on fake data, but how do I actually use a dataset?”*")
callouts.foundations_link(
    "Foundations link: `DataLoader(batch_size=32)` ↔ **Batching and SGD (1.3.4)**. You already "
    "know *why* we train on mini-batches; this lesson is the *how*."
)

# --- Menu and kitchen -------------------------------------------------------------------------
st.header("1. Dataset is the menu, DataLoader is the kitchen")
st.markdown(
    "A `Dataset` answers two questions: *how many items are there?* (`__len__`) and *give me "
    "item i* (`__getitem__`, one `(input, target)` pair). It knows nothing about batches. "
    "A `DataLoader` wraps it and does the logistics: it asks for items, **batches** them, "
    "lets you iterate and, only if you ask for it with `shuffle=True`, **shuffles** the order "
    "(the default, `shuffle=False`, keeps the dataset's order). Neither knows the other's job."
)
st.subheader("The menu: `Dataset`")
callouts.show_source(SimpleDataset, "The Foundations data y = 2x + 1, behind a Dataset.")
simple = SimpleDataset(n=100)
x0, y0 = simple[0]
st.code(f"len(dataset)  → {len(simple)}\n"
        f"dataset[0]    → (x=[{x0.item():.3f}], y=[{y0.item():.3f}])\n"
        f"shapes        → x {list(x0.shape)}, y {list(y0.shape)}", language="text")
st.subheader("The kitchen: `DataLoader`")
st.code("loader = DataLoader(dataset, batch_size=16, shuffle=True)\n"
        "for x, y in loader:\n    print(x.shape, y.shape)", language="python")
loader = DataLoader(simple, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))
xb, yb = next(iter(loader))
st.code(f"first batch → x {list(xb.shape)}, y {list(yb.shape)}\n"
        f"batches     → {len(loader)}", language="text")
st.markdown("The batch dimension is **prepended**: one item is `[1]`, a batch of 16 is `[16, 1]`.")
callouts.takeaway("Dataset is a menu (what is available, how to get one item); DataLoader is the "
            "kitchen (it batches, shuffles when asked, and serves).")

# --- Batch-shape explorer ----------------------------------------------------------------------
st.header("2. How many batches? The batch-shape explorer")
st.markdown("Predict first, then check both predictions with a real DataLoader below.")
checks.check_number("dl.q_iterations",
                "a DataLoader over **100 samples** with **batch_size=8**: how many iterations does one "
                "epoch take?", 13,
                "ceil(100 / 8) = 13: twelve full batches of 8 and one partial batch of 4.",
                step=1, unlocks=True)  # no bounds: every number typed is judged, none refused
checks.check_choice("dl.q_last_batch", "same loader, `drop_last=False`: what shape is `x` in the "
                "**last** batch? (Each item's x is `[1]`.)", ["[8, 1]", "[4, 1]", "[1, 4]", "[13, 1]"], 1,
                "The last batch holds the 100 − 12·8 = 4 leftover samples, batch dimension first: "
                "`[4, 1]`. With `drop_last=True` it would not exist at all.", unlocks=True)
batch_explorer()

st.subheader("A real MNIST batch")
mnist_split = datasets.split_or_error("mnist")
root = str(data.data_root())
checks.check_choice("dl.q_shape", "a batch has shape `[64, 1, 28, 28]`. What does it hold?",
                ["64 channels of 1×28×28 images", "64 images, 1 channel (grayscale), 28×28 pixels",
                 "1 image of 64×28×28 pixels", "28 batches of 64×1 vectors"], 1,
                "The batch dimension comes first: 64 images, each with 1 channel (grayscale) of 28×28 "
                "pixels.", unlocks=True)
if mnist_split is None:
    st.caption(NEEDS_DATA)
elif not checks.answered("dl.q_shape"):
    st.caption("Answer the check above, and a real MNIST batch shows its shape here.")
else:
    mnist_batch = data.normalize_batch(mnist_split.images[:64])
    axes = st.columns(4)
    meanings = ["batch: images in this batch", "channels: 1 = grayscale", "height in pixels",
                "width in pixels"]
    for column, size, meaning in zip(axes, mnist_batch.shape, meanings, strict=True):
        column.metric(meaning, size)
    st.caption(f"`images.shape` = `{list(mnist_batch.shape)}`: the batch dimension is always "
               "first. MNIST's 60,000 training images with batch_size=64 take "
               f"{batching.iterations_per_epoch(60_000, 64):,} iterations (937 full batches + "
               "one of 32).")

# --- Shuffle ----------------------------------------------------------------------------------
st.header("3. shuffle=True is how you get random sampling")
st.markdown(
    "In 1.3.4 a mini-batch was a *poll*: a small random sample that speaks for the whole "
    "population. `shuffle=True` is how that randomness happens in practice. Predict first:"
)
checks.check_choice("dl.q_shuffle", "you iterate the same `DataLoader(..., shuffle=True)` for a "
                "second epoch. What order do the samples come in?",
                ["The same order as epoch 1", "A new random order", "Sorted by target", "Reversed"], 1,
                "With shuffle=True the indices are re-shuffled at the start of every epoch, so each "
                "epoch's batches are new random samples.", unlocks=True)
if checks.answered("dl.q_shuffle"):
    first_batches = batching.first_batch_per_epoch(SimpleDataset(n=100), batch_size=8, epochs=2)
    st.markdown("Without `shuffle=True`, every epoch walks the dataset in stored order. One "
                "shuffling DataLoader, iterated twice: the first batch of each epoch differs.")
    st.dataframe(pd.DataFrame({f"epoch {e + 1}, first batch y": [round(v, 2) for v in batch.tolist()]
                               for e, batch in enumerate(first_batches)}), hide_index=True)
else:
    st.caption("Answer the check, and one shuffling DataLoader shows you two epochs' first batches.")
st.markdown(
    "Why it matters: data often arrives sorted (a CSV exported by date, by price, by class). "
    "Without shuffling, every batch is a biased poll of one narrow slice. `SortedDataset` has "
    f"its targets sorted low to high; each bar below is one batch of {RANGE_BATCH}, from its "
    "smallest target to its largest:"
)
st.plotly_chart(race_ranges_figure(), key="dl.ranges")
race_section()
callouts.takeaway("shuffle=True is how you get random sampling in practice: a fresh random poll "
            "every batch, a fresh order every epoch.")

# --- Same loop ----------------------------------------------------------------------------------
st.header("4. The training loop body does not change")
st.markdown("Your loop from 2.1.4 against the DataLoader version, as a diff of the two real "
            "functions (indentation ignored, as `git diff -w` shows it). The heartbeat "
            "(forward → loss → backward → update) is identical; only the data feeding changes: "
            "the function takes a `train_loader` instead of the tensors `x, y` (`-`/`+` on "
            "the `def` line), and one new line, `for x, y in train_loader:`, hands the body "
            "one batch at a time (`+`).")
st.code(batching.source_diff(loops.train_on_tensors, loops.train_on_dataloader), language="diff")
run_both_section()
callouts.takeaway("Same heartbeat, new instruments: the DataLoader changes how data is fed, not the loop.")

# --- MNIST ------------------------------------------------------------------------------------
st.header("5. Real images: torchvision.datasets.MNIST")
st.code("from torchvision import datasets, transforms\n\n"
        "transform = transforms.Compose([\n"
        "    transforms.ToTensor(),                      # PIL image → [1, 28, 28] floats in [0, 1]\n"
        "    transforms.Normalize((0.1307,), (0.3081,)), # → mean 0, std 1\n"
        "])\n"
        "train_data = datasets.MNIST(root, train=True, download=True, transform=transform)",
        language="python")
if mnist_split is None:
    st.caption(NEEDS_DATA)
else:
    mnist = torchvision_mnist("normalize", root)
    image, label = mnist[0]
    facts = st.columns(4)
    facts[0].metric("len(train_data)", f"{len(mnist):,}")
    facts[1].metric("one image", str(list(image.shape)))
    facts[2].metric("labels", f"{int(mnist.targets.min())}–{int(mnist.targets.max())}")
    facts[3].metric("train_data[0] label", label)
    counts = torch.bincount(mnist.targets, minlength=10).tolist()
    st.caption("Images per digit: " + ", ".join(f"{d}: {c:,}" for d, c in enumerate(counts)))
    sample_grid(root)

# --- Transforms -------------------------------------------------------------------------------
st.header("6. Transforms run per sample, on access")
st.markdown(
    "`transform` is applied inside `__getitem__`, **each time an item is read**, not once "
    "up front. The files on disk never change. That is also why a *random* augmentation gives "
    "a different picture every time you ask for the same item."
)
if mnist_split is None:
    st.caption(NEEDS_DATA)
else:
    st.plotly_chart(histogram_figure(root), key="dl.hist")
    st.caption("Pixel values of 2,000 training images. Most MNIST pixels are background (0). "
               "Normalize((0.1307,), (0.3081,)) shifts and scales every pixel so the training "
               "set has mean 0 and std 1.")
    st.markdown("**A random augmentation, accessed six times** (the augmentation itself is "
                "beyond this lesson; here it shows *per-access* behaviour):")
    augmentation(root)

# --- Lazy loading -----------------------------------------------------------------------------
st.header("7. Lazy loading: paths in `__init__`, pixels in `__getitem__`")
st.markdown(
    "MNIST fits in memory; ImageNet (150 GB) does not. A lazy Dataset stores only the file "
    "paths when it is created and opens a file when an item is asked for, so a batch reads "
    "just its own images. Below, real code over a real folder: the page writes 32 MNIST "
    "test digits as PNG files to a temporary directory and loads them lazily."
)
callouts.show_source(LazyImageDataset)
test_split = datasets.split_or_error("mnist", train=False) if mnist_split is not None else None
if test_split is None:
    st.caption(NEEDS_DATA)
else:
    st.code(lazy_demo(root), language="text")
callouts.reveal(
    "a colleague loads a folder of PIL images into a Python list and slices it by hand "
    "(`images[i:i + 32]`) in the training loop, converting each image to a tensor inside the "
    "loop. What would you suggest?",
    "Write a **lazy Dataset**: file paths in `__init__`, open the image and apply the "
    "transforms (`ToTensor`, `Normalize`) in `__getitem__`. Wrap it in a "
    "`DataLoader(batch_size=32, shuffle=True)`. Memory holds only a batch at a time, "
    "shuffling and the partial last batch are handled, and the training loop body stays the "
    "same.",
)

# --- Collation error --------------------------------------------------------------------------
st.header("8. When batching breaks: the collation error")
st.markdown(
    "To make a batch, the DataLoader calls `torch.stack()` on the items. `stack` needs every "
    "item to have **the same shape**. `BrokenDataset` has one scan a pixel narrower than the "
    "rest:"
)
callouts.show_source(BrokenDataset)
try:
    for _ in DataLoader(BrokenDataset(), batch_size=8):
        pass
    st.info("No error this time.")
except RuntimeError as error:
    st.code(f"RuntimeError: {error}", language="text", wrap_lines=True)
st.markdown("**Read it:** item 0 is `[1, 28, 28]` but item 3 is `[1, 28, 27]`, so `torch.stack` "
            "cannot build a `[8, 1, 28, 28]` batch. **Fix:** make every item the same shape "
            "inside `__getitem__` (resize, pad or crop) before the DataLoader sees it:")
callouts.show_source(FixedBrokenDataset)
fixed_images, _ = next(iter(DataLoader(FixedBrokenDataset(), batch_size=8)))
st.code(f"first batch → {list(fixed_images.shape)}", language="text")

# --- Batch size matters -----------------------------------------------------------------------
st.header("9. Batch size is a real choice")
callouts.misconception("Batch size doesn't matter much.",
                 "It changes memory use, training speed, how noisy each gradient is, and with "
                 "them what the model learns in a given budget and how well it **generalizes** "
                 "(does as well on images it never trained on). Measure it: a fresh small MLP "
                 "per batch size, on the same images. Compare one epoch each (a fixed-epoch "
                 "budget: small batches make more updates) with the same number of updates "
                 "each, and watch the gap between train and held-out accuracy.")
if mnist_split is None:
    st.caption(NEEDS_DATA)
else:
    batch_size_lab(root)

# --- DataLoader is not just a for loop ---------------------------------------------------------
st.header("10. Why not just a for loop?")
callouts.misconception("DataLoader is just a for loop.",
                 "A hand-written loop has to get shuffling, batching, the partial last batch, "
                 "drop_last and parallel loading right every time. The usual hand-rolled "
                 "version gets two of them wrong:")
st.code("for i in range(len(x) // batch_size):            # forgets the partial batch\n"
        "    xb = x[i * batch_size:(i + 1) * batch_size]  # same order every epoch",
        language="python")
n_naive = len(SimpleDataset(n=100))
st.markdown(f"With N=100, B=8 the naive loop runs **{n_naive // 8}** iterations and never sees "
            f"the last {n_naive % 8} samples, in the **same order** every epoch; "
            f"`DataLoader(..., shuffle=True)` runs **{batching.iterations_per_epoch(n_naive, 8)}**, "
            "reshuffled each epoch, and `num_workers` can load in parallel.")

# --- Wrap-up ----------------------------------------------------------------------------------
st.header("What you can do now")
st.markdown(
    "- Write a `Dataset` (`__len__`, `__getitem__`) for your own data, lazily if it is large.\n"
    "- Wrap it in a `DataLoader` and predict its iterations: ceil(N/B), or floor with drop_last.\n"
    "- Load MNIST with `torchvision.datasets` and a `Compose([ToTensor(), Normalize(...)])`.\n"
    "- Read a collation error and fix it in `__getitem__`.\n"
    "- Pass `shuffle=True` for training (the default is False), and choose batch size on purpose."
)
st.subheader("Exercises (notebook)")
st.markdown(
    "1. *Guided:* write a custom Dataset.  \n2. *Guided:* load MNIST and inspect a batch.  \n"
    "3. *Supported:* plug a DataLoader into the training loop.  \n"
    "4. *Supported:* batch-size experiments.  \n5. *Independent:* a Dataset over a CSV file."
)
st.page_link("pages/mnist-project.py", label="Next: Project: MNIST, where this pipeline feeds "
             "your first real model", icon="➡️")
