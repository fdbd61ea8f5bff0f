"""Lesson 2.2.1 Datasets and DataLoaders: the missing piece between the loop and real data.

Speed: every widget group is an st.fragment, so a slider reruns its own section only; anything
slow (a training race, a figure, a torchvision dataset) is cached, and cached functions never draw.
Figures are cached with cache_resource (read-only; st.plotly_chart copies them) because
unpickling a plotly figure from cache_data costs more than building it.
"""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch: a fresh server's deep link shows its title at once

import pandas as pd
import streamlit as st

from course.charts import figures, shuffling
from course.concepts import batching, image_grid, loops, teaching_datasets, torchvision_mnist
from course.concepts.teaching_datasets import (
    BrokenDataset,
    FixedBrokenDataset,
    LazyImageDataset,
    SimpleDataset,
    SortedDataset,
)
from course.engine import data
from course.ui import callouts, checks, datasets, lesson
from course.ui.number_inputs import bounded_number

RACE_SAMPLES = 512
RACE_MAX_EPOCHS = 30
RANGE_BATCH = 32
EXPLORER_LIVE_LIMIT = 5_000
EXPLORER_LIVE_BATCHES = 1_000
EQUAL_UPDATES = 200

lesson.lesson_header("datasets-and-dataloaders")
root = str(data.data_root())

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
callouts.show_source(batching.loader_batch_shapes,
                     "Called here as `loader_batch_shapes(dataset, batch_size=16, shuffle=True)`. "
                     "The `generator` seeded with `seed` fixes the random order, so this page "
                     "shows the same batches on every visit; leave it out in your own code.")
loader_shapes = batching.loader_batch_shapes(simple, batch_size=16, shuffle=True)
st.code(f"first batch → x {loader_shapes[0][0]}, y {loader_shapes[0][1]}\n"
        f"batches     → {len(loader_shapes)}", language="text")
st.markdown("The batch dimension is **prepended**: one item is `[1]`, a batch of 16 is `[16, 1]`.")
callouts.takeaway("Dataset is a menu (what is available, how to get one item); DataLoader is the "
                  "kitchen (it batches, shuffles when asked, and serves).")


# --- Batch-shape explorer ----------------------------------------------------------------------
@st.cache_resource(max_entries=256, show_spinner=False)
def explorer_bars(n: int, batch_size: int, drop_last: bool):
    return figures.batch_size_bars(batching.batch_sizes(n, batch_size, drop_last), batch_size)


@st.cache_data(max_entries=256, show_spinner=False)
def explorer_table(n: int, batch_size: int, shuffle: bool, drop_last: bool) -> pd.DataFrame:
    return pd.DataFrame(batching.shape_rows(batching.loader_batch_shapes(
        SimpleDataset(n=n), batch_size, shuffle, drop_last)))


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
        st.markdown(f"A real `DataLoader(SimpleDataset({n}), batch_size={batch_size}, "
                    f"shuffle={shuffle}, drop_last={drop_last})` yielded **{iterations:,}** "
                    "batches (`loader_batch_shapes` above; the first three, …, the last two):")
        st.dataframe(explorer_table(n, batch_size, shuffle, drop_last), hide_index=True)
    else:
        st.caption(f"The live DataLoader check runs for N ≤ {EXPLORER_LIVE_LIMIT:,} and at most "
                   f"{EXPLORER_LIVE_BATCHES:,} batches, so that it answers at once; the formula "
                   "holds for any N.")


st.header("2. How many batches? The batch-shape explorer")
st.markdown("Predict first, then check both predictions with a real DataLoader below.")
checks.check_number("dl.q_iterations",
                    "a DataLoader over **100 samples** with **batch_size=8**: how many iterations "
                    "does one epoch take?", 13,
                    "ceil(100 / 8) = 13: twelve full batches of 8 and one partial batch of 4.",
                    step=1, unlocks=True)  # no bounds: every number typed is judged, none refused
checks.check_choice("dl.q_last_batch", "same loader, `drop_last=False`: what shape is `x` in the "
                    "**last** batch? (Each item's x is `[1]`.)",
                    ["[8, 1]", "[4, 1]", "[1, 4]", "[13, 1]"], 1,
                    "The last batch holds the 100 − 12·8 = 4 leftover samples, batch dimension "
                    "first: `[4, 1]`. With `drop_last=True` it would not exist at all.",
                    unlocks=True)
batch_explorer()

st.subheader("A real MNIST batch")
mnist_split = datasets.split_or_error("mnist")
checks.check_choice("dl.q_shape", "a batch has shape `[64, 1, 28, 28]`. What does it hold?",
                    ["64 channels of 1×28×28 images",
                     "64 images, 1 channel (grayscale), 28×28 pixels",
                     "1 image of 64×28×28 pixels", "28 batches of 64×1 vectors"], 1,
                    "The batch dimension comes first: 64 images, each with 1 channel (grayscale) "
                    "of 28×28 pixels.", unlocks=True)
if mnist_split is not None and not checks.answered("dl.q_shape"):
    st.caption("Answer the check above, and a real MNIST batch shows its shape here.")
elif mnist_split is not None:
    mnist_batch, _ = batching.first_images(mnist_split, 64)
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
@st.cache_resource(show_spinner="Training the same model twice, with and without shuffle…")
def shuffle_race() -> tuple[dict, dict]:
    """One race to the longest epoch count; shorter races are its prefix (same seed, same order)."""
    return batching.race_both_ways(SortedDataset(n=RACE_SAMPLES), RACE_MAX_EPOCHS, RANGE_BATCH)


def race_losses(epochs: int) -> dict[str, list[float]]:
    return batching.first_epochs(shuffle_race()[0], epochs, RACE_MAX_EPOCHS)


@st.cache_resource(show_spinner=False)
def race_ranges_figure():
    return shuffling.ranges_figure(shuffle_race()[1])


@st.cache_resource(max_entries=64, show_spinner=False)
def race_figure(epochs: int):
    return shuffling.race_figure(race_losses(epochs), RACE_SAMPLES)


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


st.header("3. shuffle=True is how you get random sampling")
st.markdown(
    "In 1.3.4 a mini-batch was a *poll*: a small random sample that speaks for the whole "
    "population. `shuffle=True` is how that randomness happens in practice. Predict first:"
)
checks.check_choice("dl.q_shuffle", "you iterate the same `DataLoader(..., shuffle=True)` for a "
                    "second epoch. What order do the samples come in?",
                    ["The same order as epoch 1", "A new random order", "Sorted by target",
                     "Reversed"], 1,
                    "With shuffle=True the indices are re-shuffled at the start of every epoch, "
                    "so each epoch's batches are new random samples.", unlocks=True)
if checks.answered("dl.q_shuffle"):
    st.markdown("Without `shuffle=True`, every epoch walks the dataset in stored order. One "
                "shuffling DataLoader, iterated twice: the first batch of each epoch differs.")
    st.dataframe(pd.DataFrame(batching.first_batch_columns(simple, batch_size=8, epochs=2)),
                 hide_index=True)
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
@st.cache_data(show_spinner=False)
def both_loops() -> pd.DataFrame:
    return pd.DataFrame(loops.run_both_loops(SimpleDataset(n=100))).T


@st.fragment
def run_both_section() -> None:
    if st.button("Run both on y = 2x + 1", key="dl.run_loops"):
        st.session_state["dl.loop_results"] = True
    if st.session_state.get("dl.loop_results"):
        st.dataframe(both_loops())
        st.caption("Both are measured the same way after training: the mean squared error on "
                   "all 100 points (the noise alone gives about 0.01). Both recover w ≈ 2, "
                   "b ≈ 1. Full batch: 200 updates; DataLoader: 20 epochs × 13 batches = 260 "
                   "updates.")
        with st.expander("The code that trained both"):
            callouts.show_source(loops.run_both_loops)


st.header("4. The training loop body does not change")
st.markdown("Your loop from 2.1.4 against the DataLoader version, as a diff of the two real "
            "functions (indentation ignored, as `git diff -w` shows it). The heartbeat "
            "(forward → loss → backward → update) is identical; only the data feeding changes: "
            "the function takes a `train_loader` instead of the tensors `x, y` (`-`/`+` on "
            "the `def` line), and one new line, `for x, y in train_loader:`, hands the body "
            "one batch at a time (`+`).")
st.code(batching.source_diff(loops.train_on_tensors, loops.train_on_dataloader), language="diff")
run_both_section()
callouts.takeaway("Same heartbeat, new instruments: the DataLoader changes how data is fed, not "
                  "the loop.")


# --- MNIST ------------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Opening torchvision's MNIST (once per server)…")
def normalized_mnist(root: str):
    return torchvision_mnist.load_mnist(root)


@st.cache_data(max_entries=64, show_spinner=False)
def mnist_grid(seed: int, root: str):
    return torchvision_mnist.sample_grid(data.split_tensors("mnist", True, root), seed)


@st.fragment
def sample_grid(root: str) -> None:
    seed = bounded_number("Sample seed (change it for other images)", 0, 10_000, 0,
                          key="dl.grid_seed")
    st.image(mnist_grid(seed, root), caption="16 random training images and their labels",
             alt="A 4×4 grid of 16 random MNIST training digits, each labelled with its class")


st.header("5. Real images: torchvision.datasets.MNIST")
callouts.show_source(torchvision_mnist.load_mnist,
                     "Imports: `from torchvision import datasets, transforms`. `download=True` "
                     "fetches the files only when they are not under `root` yet.")
if datasets.split_or_error("mnist") is not None:
    train_data = normalized_mnist(root)
    image, label = train_data[0]
    facts = st.columns(4)
    facts[0].metric("len(train_data)", f"{len(train_data):,}")
    facts[1].metric("one image", str(list(image.shape)))
    facts[2].metric("labels", f"{int(train_data.targets.min())}–{int(train_data.targets.max())}")
    facts[3].metric("train_data[0] label", label)
    counts = torchvision_mnist.images_per_digit(train_data)
    st.caption("Images per digit: " + ", ".join(f"{d}: {c:,}" for d, c in enumerate(counts)))
    sample_grid(root)


# --- Transforms -------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def histogram_figure(root: str):
    return figures.pixel_histograms(*torchvision_mnist.pixels_before_and_after(
        data.split_tensors("mnist", True, root)))


@st.cache_resource(show_spinner="Opening torchvision's MNIST (once per server)…")
def augmented_mnist(root: str):
    return torchvision_mnist.load_augmented_mnist(root)


@st.fragment
def augmentation(root: str) -> None:
    augmenting = augmented_mnist(root)
    index = bounded_number("Image index", 0, len(augmenting) - 1, 0, key="dl.aug_index")
    views, untouched = torchvision_mnist.augmented_views(augmenting, index, accesses=6)
    st.image(image_grid.compose(views, [f"access {i + 1}" for i in range(len(views))], columns=6),
             alt=f"Training image {index:,} as six accesses of the Dataset returned it, each "
                 "augmented differently")
    st.markdown(f"Stored image unchanged after six accesses: **{untouched}**.")


st.header("6. Transforms run per sample, on access")
st.markdown(
    "`transform` is applied inside `__getitem__`, **each time an item is read**, not once "
    "up front. The files on disk never change. That is also why a *random* augmentation gives "
    "a different picture every time you ask for the same item."
)
if datasets.split_or_error("mnist") is not None:
    st.plotly_chart(histogram_figure(root), key="dl.hist")
    st.caption("Pixel values of 2,000 training images. Most MNIST pixels are background (0). "
               "Normalize((0.1307,), (0.3081,)) shifts and scales every pixel so the training "
               "set has mean 0 and std 1.")
    st.markdown("**A random augmentation, accessed six times** (the augmentation itself is "
                "beyond this lesson; here it shows *per-access* behaviour):")
    augmentation(root)


# --- Lazy loading -----------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def lazy_demo(root: str) -> str:
    test_split = data.split_tensors("mnist", False, root)
    return teaching_datasets.lazy_demo(test_split.images[:32], test_split.labels[:32],
                                       transform=data.normalize_transform("mnist"))


st.header("7. Lazy loading: paths in `__init__`, pixels in `__getitem__`")
st.markdown(
    "MNIST fits in memory; ImageNet (150 GB) does not. A lazy Dataset stores only the file "
    "paths when it is created and opens a file when an item is asked for, so a batch reads "
    "just its own images. Below, real code over a real folder: the page writes 32 MNIST "
    "test digits as PNG files to a temporary directory and loads them lazily."
)
callouts.show_source(LazyImageDataset)
if datasets.split_or_error("mnist", train=False) is not None:
    with st.expander("The code that wrote the folder and read it back"):
        callouts.show_source(teaching_datasets.lazy_demo)
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
collation_error = teaching_datasets.collation_error(BrokenDataset(), batch_size=8)
if collation_error is None:
    st.info("No error this time.")
else:
    st.code(f"RuntimeError: {collation_error}", language="text", wrap_lines=True)
st.markdown("**Read it:** item 0 is `[1, 28, 28]` but item 3 is `[1, 28, 27]`, so `torch.stack` "
            "cannot build a `[8, 1, 28, 28]` batch. **Fix:** make every item the same shape "
            "inside `__getitem__` (resize, pad or crop) before the DataLoader sees it:")
callouts.show_source(FixedBrokenDataset)
fixed_shape, _ = batching.loader_batch_shapes(FixedBrokenDataset(), batch_size=8)[0]
st.code(f"first batch → {fixed_shape}", language="text")


# --- Batch size matters -----------------------------------------------------------------------
@st.cache_data(max_entries=128, show_spinner=False)
def batch_size_row(subset: int, batch_size: int, updates: int | None, root: str) -> dict:
    """One batch size's measurements; pure, so a cached result replays for every learner."""
    return batching.batch_size_row(*batching.first_images(
        data.split_tensors("mnist", True, root), subset), batch_size, updates)


@st.cache_resource(max_entries=64, show_spinner=False)
def comparison_figure(rows: tuple):
    return figures.batch_size_comparison([dict(row) for row in rows])


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
    st.dataframe(pd.DataFrame(batching.comparison_rows(rows)), hide_index=True, column_config={
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


st.header("9. Batch size is a real choice")
callouts.misconception("Batch size doesn't matter much.",
                       "It changes memory use, training speed, how noisy each gradient is, and "
                       "with them what the model learns in a given budget and how well it "
                       "**generalizes** (does as well on images it never trained on). Measure "
                       "it: a fresh small MLP per batch size, on the same images. Compare one "
                       "epoch each (a fixed-epoch budget: small batches make more updates) with "
                       "the same number of updates each, and watch the gap between train and "
                       "held-out accuracy.")
if datasets.split_or_error("mnist") is not None:
    batch_size_lab(root)

# --- DataLoader is not just a for loop ---------------------------------------------------------
st.header("10. Why not just a for loop?")
callouts.misconception("DataLoader is just a for loop.",
                       "A hand-written loop has to get shuffling, batching, the partial last "
                       "batch, drop_last and parallel loading right every time. The usual "
                       "hand-rolled version gets two of them wrong:")
callouts.show_source(batching.naive_batches)
naive = batching.naive_batches(simple.x, 8)
missed = len(simple) - sum(len(batch) for batch in naive)
st.markdown(f"With N={len(simple)}, B=8 the naive loop runs **{len(naive)}** iterations and never "
            f"sees the last {missed} samples, in the **same order** every epoch; "
            f"`DataLoader(..., shuffle=True)` runs "
            f"**{batching.iterations_per_epoch(len(simple), 8)}**, reshuffled each epoch, and "
            "`num_workers` can load in parallel.")

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
lesson.next_lesson_link("datasets-and-dataloaders")
