"""Lesson 2.2.1 Datasets and DataLoaders: the missing piece between the loop and real data."""

import tempfile

import pandas as pd
import streamlit as st
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from course import batching, charts, data, loops, ui
from course.teaching_datasets import (
    BrokenDataset,
    FixedBrokenDataset,
    LazyImageDataset,
    SimpleDataset,
    SortedDataset,
    write_image_folder,
)

ui.lesson_header("datasets-and-dataloaders")

st.markdown(
    "In Module 2.1 your training loop ran on a few dozen hand-made points held in one tensor. "
    "Real data doesn't fit in one tensor: it has to be **loaded, transformed, batched and "
    "shuffled**. PyTorch splits that job in two, `Dataset` and `DataLoader`, and this lesson "
    "is the missing piece between your training loop and real data."
)
st.markdown("> *“I can train on fake data, but how do I actually use a dataset?”*")
ui.foundations_link(
    "Foundations link: `DataLoader(batch_size=32)` ↔ **Batching and SGD (1.3.4)**. You already "
    "know *why* we train on mini-batches; this lesson is the *how*."
)

# --- Menu and kitchen -------------------------------------------------------------------------
st.header("1. Dataset is the menu, DataLoader is the kitchen")
st.markdown(
    "A `Dataset` answers two questions: *how many items are there?* (`__len__`) and *give me "
    "item i* (`__getitem__`, one `(input, target)` pair). It knows nothing about batches. "
    "A `DataLoader` wraps it and does the logistics: it asks for items, **batches** them, "
    "**shuffles** the order every epoch and lets you iterate. Neither knows the other's job."
)
menu, kitchen = st.columns(2)
with menu:
    st.subheader("The menu: `Dataset`")
    ui.show_source(SimpleDataset, "The Foundations data y = 2x + 1, behind a Dataset.")
    simple = SimpleDataset(n=100)
    x0, y0 = simple[0]
    st.code(f"len(dataset)  → {len(simple)}\n"
            f"dataset[0]    → (x=[{x0.item():.3f}], y=[{y0.item():.3f}])\n"
            f"shapes        → x {list(x0.shape)}, y {list(y0.shape)}", language="text",
            wrap_lines=True)
with kitchen:
    st.subheader("The kitchen: `DataLoader`")
    st.code("loader = DataLoader(dataset, batch_size=16, shuffle=True)\n"
            "for x, y in loader:\n    print(x.shape, y.shape)", language="python",
            wrap_lines=True)
    loader = DataLoader(simple, batch_size=16, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    xb, yb = next(iter(loader))
    st.code(f"first batch → x {list(xb.shape)}, y {list(yb.shape)}\n"
            f"batches     → {len(loader)}", language="text")
    st.markdown("The batch dimension is **prepended**: one item is `[1]`, a batch of 16 is "
                "`[16, 1]`.")
ui.takeaway("Dataset is a menu (what is available, how to get one item); DataLoader is the "
            "kitchen (it batches, shuffles and serves).")

# --- Batch-shape explorer ----------------------------------------------------------------------
st.header("2. How many batches? The batch-shape explorer")
ui.check_number("dl.q_iterations",
                "a DataLoader over **100 samples** with **batch_size=8**: how many iterations "
                "does one epoch take?", 13,
                "ceil(100 / 8) = 13: twelve full batches of 8 and one partial batch of 4.",
                min_value=0, max_value=1000, step=1, value=0)
ui.check_choice("dl.q_last_batch", "same loader, `drop_last=False`: what shape is `x` in the "
                "**last** batch? (Each item's x is `[1]`.)",
                ["[8, 1]", "[4, 1]", "[1, 4]", "[13, 1]"], 1,
                "The last batch holds the 100 − 12·8 = 4 leftover samples, batch dimension first: "
                "`[4, 1]`. With `drop_last=True` it would not exist at all.")
st.markdown("Now check both predictions with a real DataLoader:")
controls, picture = st.columns([1, 2])
with controls:
    n_samples = st.number_input("N samples", min_value=1, max_value=100_000, value=100, step=1,
                                key="dl.n")
    batch_size = st.number_input("batch_size", min_value=1, max_value=10_000, value=8, step=1,
                                 key="dl.batch")
    shuffle = st.toggle("shuffle", value=True, key="dl.shuffle")
    drop_last = st.toggle("drop_last", value=False, key="dl.drop_last")
    iterations = batching.iterations_per_epoch(n_samples, batch_size, drop_last)
    formula = "floor" if drop_last else "ceil"
    st.metric("Iterations per epoch", iterations,
              help="ceil(N / B), or floor(N / B) with drop_last=True")
    st.caption(f"{formula}({n_samples} / {batch_size}) = {iterations}")
with picture:
    sizes = batching.batch_sizes(n_samples, batch_size, drop_last)
    if sizes:
        st.plotly_chart(charts.batch_size_bars(sizes[:200], batch_size), key="dl.bars")
        if len(sizes) > 200:
            st.caption(f"Showing the first 200 of {len(sizes)} batches.")
    else:
        st.warning("With drop_last=True and fewer samples than one batch, the epoch is empty: "
                   "the loader yields nothing at all.")
    rest = n_samples % batch_size
    if rest and not drop_last:
        st.markdown(f"The last batch is **partial**: {rest} samples (orange).")
    elif rest:
        st.markdown(f"`drop_last=True` throws the last {rest} samples away this epoch.")
    else:
        st.markdown("B divides N exactly: every batch is full.")
explorer_limit = 20_000
if n_samples <= explorer_limit:
    shapes = batching.loader_batch_shapes(SimpleDataset(n=n_samples), batch_size, shuffle,
                                          drop_last)
    table = pd.DataFrame([{"iteration": i + 1, "x.shape": str(x), "y.shape": str(y)}
                          for i, (x, y) in enumerate(shapes)])
    st.markdown(f"A real `DataLoader(SimpleDataset({n_samples}), batch_size={batch_size}, "
                f"shuffle={shuffle}, drop_last={drop_last})` yielded **{len(shapes)}** batches:")
    st.dataframe(pd.concat([table.head(3), table.tail(2)]).drop_duplicates(), hide_index=True)
else:
    st.caption(f"The live DataLoader check runs for N ≤ {explorer_limit:,}; the formula holds "
               "for any N.")

st.subheader("A real MNIST batch")
mnist_split = ui.split_or_error("mnist")
if mnist_split is not None:
    mnist_batch = data.normalize_batch(mnist_split.images[:64])
    axes = st.columns(4)
    meanings = ["batch: images in this batch", "channels: 1 = grayscale", "height in pixels",
                "width in pixels"]
    for column, size, meaning in zip(axes, mnist_batch.shape, meanings, strict=True):
        column.metric(meaning, size)
    st.caption(f"`images.shape` = `{list(mnist_batch.shape)}`: the batch dimension is always "
               "first. MNIST's 60,000 training images with batch_size=64 take "
               f"{batching.iterations_per_epoch(60_000, 64)} iterations (937 full batches + one of 32).")
ui.check_choice("dl.q_shape", "a batch has shape `[64, 1, 28, 28]`. What does it hold?",
                ["64 channels of 1×28×28 images", "64 images, 1 channel (grayscale), 28×28 pixels",
                 "1 image of 64×28×28 pixels", "28 batches of 64×1 vectors"], 1,
                "The batch dimension comes first: 64 images, each with 1 channel (grayscale) "
                "of 28×28 pixels.")

# --- Shuffle ----------------------------------------------------------------------------------
st.header("3. shuffle=True is how you get random sampling")
st.markdown(
    "In 1.3.4 a mini-batch was a *poll*: a small random sample that speaks for the whole "
    "population. `shuffle=True` is how that randomness happens in practice: the DataLoader "
    "draws a new random order of indices at the start of **every epoch**. Data often arrives "
    "sorted (a CSV exported by date, by price, by class). Without shuffling, every batch is a "
    "biased poll of one narrow slice."
)
race_epochs = st.slider("Epochs to train", 2, 30, 20, key="dl.race_epochs")


@st.cache_data(show_spinner="Training the same model twice…")
def run_race(epochs: int):
    sorted_data = SortedDataset(n=512)
    return {
        "shuffle=False": batching.shuffle_race(sorted_data, shuffle=False, epochs=epochs),
        "shuffle=True": batching.shuffle_race(sorted_data, shuffle=True, epochs=epochs),
    }, {
        "shuffle=False: each batch is a narrow slice": batching.batch_target_ranges(
            sorted_data, 32, shuffle=False),
        "shuffle=True: each batch spans the range": batching.batch_target_ranges(
            sorted_data, 32, shuffle=True),
    }


losses, ranges = run_race(race_epochs)
st.plotly_chart(charts.batch_ranges(ranges), key="dl.ranges")
st.plotly_chart(charts.curves(losses, y_title="loss on ALL 512 samples (log)", log_y=True,
                              title="Same model, same data, same seed: only shuffle differs"),
                key="dl.race")
final_off, final_on = losses["shuffle=False"][-1], losses["shuffle=True"][-1]
st.markdown(
    f"After {race_epochs} epochs on `SortedDataset`: loss **{final_off:.4f}** without shuffling "
    f"against **{final_on:.4f}** with it ({final_off / final_on:.1f}× worse). Without shuffling "
    "the model chases whichever slice it saw last: the saw-tooth repeats every epoch."
)
ui.check_choice("dl.q_shuffle", "you iterate the same `DataLoader(..., shuffle=True)` for a "
                "second epoch. What order do the samples come in?",
                ["The same order as epoch 1", "A new random order", "Sorted by target",
                 "Reversed"], 1,
                "Indices are re-shuffled at the start of every epoch, so each epoch's batches "
                "are new random samples.")
first_batches = batching.first_batch_per_epoch(SimpleDataset(n=100), batch_size=8, epochs=2)
st.markdown("One shuffling DataLoader, iterated twice: the first batch of each epoch differs.")
st.dataframe(pd.DataFrame({f"epoch {e + 1}, first batch y": [round(v, 2) for v in batch.tolist()]
                           for e, batch in enumerate(first_batches)}), hide_index=True)
ui.takeaway("shuffle=True is how you get random sampling in practice: a fresh random poll "
            "every batch, a fresh order every epoch.")

# --- Same loop ----------------------------------------------------------------------------------
st.header("4. The training loop body does not change")
st.markdown("Your loop from 2.1.4 against the DataLoader version: the heartbeat (forward → "
            "loss → backward → update) is identical; only the data-feeding line changes "
            "(marked `-` before, `+` after).")
old, new = st.columns(2)
old.markdown("**Before: raw tensors**")
old.code(loops.marked_source(loops.train_on_tensors, loops.train_on_dataloader, "-"),
         language="diff",
         wrap_lines=True)
new.markdown("**After: DataLoader**")
new.code(loops.marked_source(loops.train_on_dataloader, loops.train_on_tensors), language="diff",
         wrap_lines=True)
if st.button("Run both on y = 2x + 1", key="dl.run_loops"):
    st.session_state["dl.loop_results"] = True
if st.session_state.get("dl.loop_results"):
    dataset = SimpleDataset(n=100)
    results = {}
    for name in ("raw tensors", "DataLoader"):
        torch.manual_seed(0)
        model = nn.Linear(1, 1)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        if name == "raw tensors":
            loss = loops.train_on_tensors(model, dataset.x, dataset.y, nn.MSELoss(), optimizer, 200)
        else:
            loader = DataLoader(dataset, batch_size=8, shuffle=True)
            loss = loops.train_on_dataloader(model, loader, nn.MSELoss(), optimizer, 20)
        results[name] = {"final loss": round(loss, 4), "w": round(model.weight.item(), 3),
                         "b": round(model.bias.item(), 3)}
    st.dataframe(pd.DataFrame(results).T)
    st.caption("Both recover w ≈ 2, b ≈ 1. Full-batch: 200 updates; DataLoader: 20 epochs × 13 "
               "batches = 260 updates.")
ui.takeaway("Same heartbeat, new instruments: the DataLoader changes how data is fed, not the loop.")

# --- MNIST ------------------------------------------------------------------------------------
st.header("5. Real images: torchvision.datasets.MNIST")
st.code("from torchvision import datasets, transforms\n\n"
        "transform = transforms.Compose([\n"
        "    transforms.ToTensor(),                      # PIL image → [1, 28, 28] floats in [0, 1]\n"
        "    transforms.Normalize((0.1307,), (0.3081,)), # → mean 0, std 1\n"
        "])\n"
        "train_data = datasets.MNIST(root, train=True, download=True, transform=transform)",
        language="python")
mnist = ui.dataset_or_error("mnist", train=True, transform=data.normalize_transform("mnist"))
if mnist is not None:
    image, label = mnist[0]
    facts = st.columns(4)
    facts[0].metric("len(train_data)", f"{len(mnist):,}")
    facts[1].metric("one image", str(list(image.shape)))
    facts[2].metric("labels", f"{int(mnist.targets.min())}–{int(mnist.targets.max())}")
    facts[3].metric("train_data[0] label", label)
    counts = torch.bincount(mnist.targets, minlength=10).tolist()
    st.caption("Images per digit: " + ", ".join(f"{d}: {c:,}" for d, c in enumerate(counts)))
    seed = st.number_input("Sample seed (change it for other images)", 0, 10_000, 0,
                           key="dl.grid_seed")
    picks = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(seed))[:16]
    st.plotly_chart(charts.image_grid(mnist.data[picks], [f"label {int(mnist.targets[i])}"
                                                          for i in picks]), key="dl.grid")

# --- Transforms -------------------------------------------------------------------------------
st.header("6. Transforms run per sample, on access")
st.markdown(
    "`transform` is applied inside `__getitem__`, **each time an item is read**, not once "
    "up front. The files on disk never change. That is also why a *random* augmentation gives "
    "a different picture every time you ask for the same item."
)
if mnist is not None:
    sample = mnist_split.images[:2000] if mnist_split is not None else mnist.data[:2000]
    before = sample.float() / 255.0
    after = data.normalize_batch(sample, "mnist")
    st.plotly_chart(charts.pixel_histograms(before, after), key="dl.hist")
    st.caption("Most MNIST pixels are background (0). Normalize((0.1307,), (0.3081,)) shifts "
               "and scales every pixel so the training set has mean 0 and std 1.")
    st.markdown("**A random augmentation, accessed six times** (the augmentation itself is "
                "beyond this lesson; here it shows *per-access* behaviour):")
    index = st.number_input("Image index", 0, len(mnist) - 1, 0, key="dl.aug_index")
    augmenting = data.load_dataset("mnist", train=True, transform=transforms.Compose([
        transforms.RandomAffine(degrees=20, translate=(0.12, 0.12), scale=(0.85, 1.1)),
        transforms.ToTensor()]))
    raw_before = augmenting.data[index].clone()
    views = torch.stack([augmenting[index][0][0] for _ in range(6)])
    st.plotly_chart(charts.image_grid(views, [f"access {i + 1}" for i in range(6)], columns=6,
                                      height=280), key="dl.aug")
    untouched = torch.equal(raw_before, augmenting.data[index])
    st.markdown(f"Stored image unchanged after six accesses: **{untouched}**.")

# --- Lazy loading -----------------------------------------------------------------------------
st.header("7. Lazy loading: paths in `__init__`, pixels in `__getitem__`")
st.markdown(
    "MNIST fits in memory; ImageNet (150 GB) does not. A lazy Dataset stores only the file "
    "paths when it is created and opens a file when an item is asked for, so a batch reads "
    "just its own images. Below, real code over a real folder: the page writes 32 MNIST "
    "test digits as PNG files to a temporary directory and loads them lazily."
)
ui.show_source(LazyImageDataset)
test_split = ui.split_or_error("mnist", train=False)
if test_split is not None:
    with tempfile.TemporaryDirectory(prefix="lazy-mnist-") as folder:
        paths = write_image_folder(test_split.images[:32], test_split.labels[:32], folder)
        lazy = LazyImageDataset(folder, transform=data.normalize_transform("mnist"))
        lazy_loader = DataLoader(lazy, batch_size=8, shuffle=True,
                                 generator=torch.Generator().manual_seed(0))
        images, labels = next(iter(lazy_loader))
        st.code(f"folder holds {len(paths)} files: {paths[0].name}, {paths[1].name}, …\n"
                f"len(lazy) → {len(lazy)}\n"
                f"first batch → images {list(images.shape)}, labels {labels.tolist()}",
                language="text")
ui.reveal(
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
ui.show_source(BrokenDataset)
try:
    for _ in DataLoader(BrokenDataset(), batch_size=8):
        pass
    st.info("No error this time.")
except RuntimeError as error:
    st.code(f"RuntimeError: {error}", language="text", wrap_lines=True)
st.markdown("**Read it:** item 0 is `[1, 28, 28]` but item 3 is `[1, 28, 27]`, so `torch.stack` "
            "cannot build a `[8, 1, 28, 28]` batch. **Fix:** make every item the same shape "
            "inside `__getitem__` (resize, pad or crop) before the DataLoader sees it:")
ui.show_source(FixedBrokenDataset)
fixed_images, _ = next(iter(DataLoader(FixedBrokenDataset(), batch_size=8)))
st.code(f"first batch → {list(fixed_images.shape)}", language="text")

# --- Batch size matters -----------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def compare_batch_sizes(subset: int, sizes: tuple[int, ...], _progress=None):
    images = data.normalize_batch(mnist_split.images[:subset])
    return batching.compare_batch_sizes(images, mnist_split.labels[:subset], sizes,
                                        progress=_progress)



st.header("9. Batch size is a real choice")
ui.misconception("Batch size doesn't matter much.",
                 "It changes memory use, training speed *and* how noisy each gradient is, "
                 "which changes what the model learns in a fixed budget. Measure it:")
if mnist_split is not None:
    subset = st.select_slider("Training images", [2_000, 6_000, 12_000], value=2_000,
                              key="dl.bs_subset")
    chosen = st.multiselect("Batch sizes", [8, 16, 32, 64, 128, 256, 512, 1024],
                            default=[8, 64, 512], key="dl.bs_sizes")
    if st.button("Train one epoch per batch size", key="dl.bs_run", disabled=not chosen):
        bar = st.progress(0.0, "starting…")
        st.session_state["dl.bs_rows"] = compare_batch_sizes(subset, tuple(sorted(chosen)),
                                                             bar.progress)
        bar.empty()
    if not chosen:
        st.warning("Choose at least one batch size.")
    rows = st.session_state.get("dl.bs_rows")
    if rows:
        st.plotly_chart(charts.batch_size_comparison(rows), key="dl.bs_chart")
        st.dataframe(pd.DataFrame(rows).round(3), hide_index=True)
        st.caption("Memory grows with B (activations of the whole batch); throughput usually "
                   "grows too; gradient noise (distance of one batch's gradient from the "
                   "full-data gradient) shrinks; with one epoch, small batches make more updates "
                   "and often reach a higher accuracy, large ones are smoother but slower to learn.")

# --- DataLoader is not just a for loop ---------------------------------------------------------
st.header("10. Why not just a for loop?")
ui.misconception("DataLoader is just a for loop.",
                 "A hand-written loop has to get shuffling, batching, the partial last batch, "
                 "drop_last and parallel loading right every time. The usual hand-rolled "
                 "version gets two of them wrong:")
st.code("for i in range(len(x) // batch_size):        # forgets the partial batch\n"
        "    xb = x[i * batch_size:(i + 1) * batch_size]  # same order every epoch", language="python")
n_naive = len(SimpleDataset(n=100))
st.markdown(f"With N=100, B=8 the naive loop runs **{n_naive // 8}** iterations and never sees "
            f"the last {n_naive % 8} samples, in the **same order** every epoch; the DataLoader "
            f"runs **{batching.iterations_per_epoch(n_naive, 8)}**, reshuffled each epoch, and "
            "`num_workers` can load in parallel.")

# --- Wrap-up ----------------------------------------------------------------------------------
st.header("What you can do now")
st.markdown(
    "- Write a `Dataset` (`__len__`, `__getitem__`) for your own data, lazily if it is large.\n"
    "- Wrap it in a `DataLoader` and predict its iterations: ceil(N/B), or floor with drop_last.\n"
    "- Load MNIST with `torchvision.datasets` and a `Compose([ToTensor(), Normalize(...)])`.\n"
    "- Read a collation error and fix it in `__getitem__`.\n"
    "- Keep `shuffle=True` for training, and choose batch size on purpose."
)
st.subheader("Exercises (notebook)")
st.markdown(
    "1. *Guided:* write a custom Dataset.  \n2. *Guided:* load MNIST and inspect a batch.  \n"
    "3. *Supported:* plug a DataLoader into the training loop.  \n"
    "4. *Supported:* batch-size experiments.  \n5. *Independent:* a Dataset over a CSV file."
)
st.page_link("pages/mnist-project.py", label="Next: Project: MNIST, where this pipeline feeds "
             "your first real model", icon="➡️")
