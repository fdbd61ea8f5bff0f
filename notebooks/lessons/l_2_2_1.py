"""Lesson 2.2.1 notebook: five exercises, from a custom Dataset to one over a CSV file."""

from notebooks.cells import code, exercise, markdown

SLUG = "datasets-and-dataloaders"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    In 2.1.4 you trained a model on tensors you made yourself, all of them in one go. Real data
    doesn't fit in one tensor: it has to be loaded, transformed, batched and shuffled. This
    notebook practises the missing piece between the training loop and real data. A **Dataset is
    the menu**: it says how many items there are and how to get one. A **DataLoader is the
    kitchen**: it batches the items, shuffles them when you pass `shuffle=True` (the default,
    `shuffle=False`, keeps the stored order) and serves them to the training loop, and the loop
    itself stays the same.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run
    after your attempt, then a folded solution (try first!). If you are stuck, open it, copy it
    into your cell and run the check again: later exercises build on earlier ones.
    """
)

SETUP = code(
    """
    import csv
    import math
    import os
    import tempfile
    import time
    from pathlib import Path

    import torch
    from torch import nn, optim
    from torch.utils.data import DataLoader, Dataset, Subset
    from torchvision import datasets, transforms

    # Where MNIST lives; on Colab torchvision downloads it here (about 12 MB) the first time.
    DATA_ROOT = os.environ.get("COURSE_DATA_DIR", "./data")
    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, data in {DATA_ROOT!r}")
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): write a custom Dataset

    The Foundations data again: y = 2x + 1 plus a little noise, with x drawn uniformly from
    [-2, 2] (the app's page uses the same data). Write `SimpleDataset`, a subclass of
    `torch.utils.data.Dataset` with two methods:

    - `__len__` returns how many samples there are;
    - `__getitem__(idx)` returns **one** `(x, y)` pair, each a float tensor of shape `[1]`.

    That is the whole menu. The check then hands it to a `DataLoader` and counts the batches:
    100 samples with `batch_size=8` make ceil(100 / 8) = 13 batches, 12 full ones and one of 4.
    """,
    scaffold='''
    class SimpleDataset(Dataset):
        """y = 2x + 1 with a little noise: one (x, y) pair per index."""

        def __init__(self, n=100, noise=0.1):
            # TODO: n inputs in [-2, 2] as a tensor of shape [n, 1] (hint: torch.rand(n, 1) * 4 - 2)
            # TODO: targets y = 2x + 1 + noise * torch.randn(n, 1)
            self.x = None
            self.y = None

        def __len__(self):
            # TODO: how many samples?
            raise NotImplementedError("SimpleDataset.__len__: return how many samples there are")

        def __getitem__(self, idx):
            # TODO: the (input, target) pair at position idx, each of shape [1]
            raise NotImplementedError("SimpleDataset.__getitem__: return the (x, y) pair at idx")
    ''',
    solution='''
    class SimpleDataset(Dataset):
        """y = 2x + 1 with a little noise: one (x, y) pair per index."""

        def __init__(self, n=100, noise=0.1):
            self.x = torch.rand(n, 1) * 4 - 2  # uniform in [-2, 2]
            self.y = 2 * self.x + 1 + noise * torch.randn(n, 1)

        def __len__(self):
            return len(self.x)

        def __getitem__(self, idx):
            return self.x[idx], self.y[idx]  # indexing row idx of [n, 1] leaves shape [1]
    ''',
    check="""
    dataset = SimpleDataset(n=100)
    assert dataset.x is not None and dataset.y is not None, (
        "SimpleDataset.__init__ should keep the inputs in self.x and the targets in self.y"
    )
    assert dataset.x.shape == (100, 1), f"self.x should be [n, 1] = [100, 1], got {list(dataset.x.shape)}"
    assert dataset.x.min() >= -2 and dataset.x.max() <= 2 and dataset.x.max() - dataset.x.min() > 3, (
        f"x should spread over [-2, 2], got [{dataset.x.min():.2f}, {dataset.x.max():.2f}]: "
        "torch.rand(n, 1) * 4 - 2"
    )
    x, y = dataset[0]
    assert len(dataset) == 100, f"len(dataset) should be 100, got {len(dataset)}"
    assert x.shape == (1,) and y.shape == (1,), (
        f"each item should be two tensors of shape [1], got {list(x.shape)} and {list(y.shape)}"
    )
    assert x.dtype == torch.float32 and y.dtype == torch.float32, "return float tensors"
    assert abs(y.item() - (2 * x.item() + 1)) < 0.5, "y should be 2x + 1 plus a little noise"

    # The kitchen: a DataLoader serves the menu in batches, the batch dimension first.
    loader = DataLoader(dataset, batch_size=8)
    batch_sizes = [len(x_batch) for x_batch, _ in loader]
    assert len(loader) == math.ceil(100 / 8) == 13, f"expected 13 batches, got {len(loader)}"
    assert batch_sizes == [8] * 12 + [4], f"expected 12 batches of 8, then 4; got {batch_sizes}"
    print(f"OK: {len(dataset)} samples, one item is {list(x.shape)} -> {list(y.shape)}; "
          f"{len(loader)} batches of 8, the last one of {batch_sizes[-1]}")
    """,
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): load MNIST

    `torchvision.datasets.MNIST` is a ready-made Dataset: 60,000 training images of handwritten
    digits with labels 0-9. A `transform` runs **per sample**, inside `__getitem__`, every time
    an image is served; the files on disk stay as they are.

    1. Build `transform` with `transforms.Compose`: `transforms.ToTensor()` (image to a
       `[1, 28, 28]` float tensor in [0, 1]), then `transforms.Normalize((0.1307,), (0.3081,))`
       (MNIST's mean and standard deviation).
    2. `train_data = datasets.MNIST(DATA_ROOT, train=True, download=True, transform=transform)`.
    3. `train_loader`: a `DataLoader` over it with `batch_size=64` and `shuffle=True`.

    Before you run the check, predict: what shape is one batch of images, and how many
    iterations make one epoch?
    """,
    scaffold="""
    transform = transforms.Compose([
        # TODO: ToTensor(), then Normalize((0.1307,), (0.3081,))
    ])
    train_data = None  # TODO: datasets.MNIST(DATA_ROOT, ...), train, download=True, transform
    train_loader = None  # TODO: DataLoader over train_data, batch_size=64, shuffle=True
    """,
    solution="""
    transform = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,)),
    ])
    train_data = datasets.MNIST(DATA_ROOT, train=True, download=True, transform=transform)
    train_loader = DataLoader(train_data, batch_size=64, shuffle=True)
    """,
    needs=("train_data", "train_loader"),
    check="""
    assert [type(step) for step in transform.transforms] == [transforms.ToTensor, transforms.Normalize], (
        "transform should be Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]), got "
        f"{transform.transforms}"
    )
    images, labels = next(iter(train_loader))
    assert len(train_data) == 60_000, f"MNIST has 60,000 training images, got {len(train_data)}"
    assert images.shape == (64, 1, 28, 28), (
        f"a batch should be [64, 1, 28, 28] (batch, channel, height, width), "
        f"got {list(images.shape)}"
    )
    assert labels.shape == (64,) and labels.dtype == torch.int64, "labels: 64 whole numbers"
    assert train_data.targets.unique().tolist() == list(range(10)), "labels are the digits 0-9"
    assert 0.7 < images.std().item() < 1.3, "normalised pixels spread about 1: is Normalize in?"
    assert len(train_loader) == math.ceil(60_000 / 64) == 938, (
        f"one epoch should be ceil(60000 / 64) = 938 iterations, got {len(train_loader)}"
    )
    next_epoch_labels = next(iter(train_loader))[1]
    assert not torch.equal(labels, next_epoch_labels), "shuffle=True gives a new order every epoch"
    print(f"OK: {len(train_data):,} images; a batch is {list(images.shape)}: 64 images, "
          f"1 channel (grayscale), 28x28 pixels; {len(train_loader)} iterations per epoch "
          "(937 full + one of 32)")
    """,
)

SAMPLE_GRID = code(
    """
    # A look at the batch. matplotlib is optional: without it, the picture is skipped.
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        print("No matplotlib (pip install matplotlib to see the digits): skipping the grid")
    else:
        fig, axes = plt.subplots(2, 8, figsize=(8, 2.6))
        for ax, image, label in zip(axes.flat, images, labels):
            ax.imshow(image.squeeze(0), cmap="gray")
            ax.set_title(int(label))
            ax.axis("off")
        plt.tight_layout()
        plt.show()
    """
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): the training loop, fed by a DataLoader

    The loop from 2.1.4 ran on the whole dataset at once. With a DataLoader, only the line
    that feeds the data changes:

    ```python
    # 2.1.4: all the data at once              # now: one batch at a time
    for epoch in range(epochs):                 for epoch in range(epochs):
                                                    for x_batch, y_batch in loader:
        y_pred = model(x)                               y_pred = model(x_batch)
        loss = loss_fn(y_pred, y)                       loss = loss_fn(y_pred, y_batch)
        optimizer.zero_grad()                           optimizer.zero_grad()
        loss.backward()                                 loss.backward()
        optimizer.step()                                optimizer.step()
    ```

    Same heartbeat, new instruments. Train `nn.Linear(1, 1)` on 200 samples of `SimpleDataset`
    in batches of 16. Record each epoch's mean loss in `epoch_losses`. The model should find
    y = 2x + 1.
    """,
    scaffold="""
    torch.manual_seed(0)
    dataset = SimpleDataset(n=200)
    loader = DataLoader(dataset, batch_size=16, shuffle=True)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    epoch_losses = []

    for epoch in range(30):
        total = 0.0
        for x_batch, y_batch in loader:
            # TODO: y_pred = the forward pass on x_batch; loss = loss_fn(y_pred, y_batch)
            # TODO: zero the gradients, backward, step
            # TODO: total += loss.item() * len(x_batch)
            raise NotImplementedError("fill in the batch loop: forward, loss, zero_grad, backward, step")
        epoch_losses.append(total / len(dataset))
    """,
    solution="""
    torch.manual_seed(0)
    dataset = SimpleDataset(n=200)
    loader = DataLoader(dataset, batch_size=16, shuffle=True)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    epoch_losses = []

    for epoch in range(30):
        total = 0.0
        for x_batch, y_batch in loader:
            y_pred = model(x_batch)
            loss = loss_fn(y_pred, y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x_batch)  # the last batch may be smaller: weight by size
        epoch_losses.append(total / len(dataset))
    """,
    check="""
    weight, bias = model.weight.item(), model.bias.item()
    assert len(epoch_losses) == 30, f"expected one loss per epoch (30), got {len(epoch_losses)}"
    assert abs(weight - 2) < 0.15, f"the weight should be close to 2, got {weight:.3f}"
    assert abs(bias - 1) < 0.15, f"the bias should be close to 1, got {bias:.3f}"
    assert epoch_losses[-1] < 0.05, (
        f"the last epoch's loss should be near the noise level, got {epoch_losses[-1]:.4f}"
    )
    print(f"OK: learned y = {weight:.2f}x + {bias:.2f} (true: y = 2x + 1); mean loss "
          f"{epoch_losses[0]:.3f} -> {epoch_losses[-1]:.4f}, {len(loader)} batches per epoch")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): batch-size experiments

    Does batch size matter much? Train a fresh small MLP for **one epoch** on 6,000 MNIST images
    at batch sizes 8, 64 and 512, and record for each: the time, the number of iterations, and
    the final loss (measured on 1,000 other images so that all three are compared alike).

    The setup is given. Complete `run_one_epoch` so it returns `(seconds, iterations, final_loss)`,
    then print a table. Predict first: how many iterations for each batch size?

    (`nn.CrossEntropyLoss` is the loss for choosing one of 10 classes; the next lesson explains it.)
    """,
    setup='''
    subset = Subset(train_data, range(6_000))
    held_out_images, held_out_labels = next(
        iter(DataLoader(Subset(train_data, range(6_000, 7_000)), batch_size=1_000))
    )
    BATCH_SIZES = [8, 64, 512]


    def make_mlp():
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


    def held_out_loss(model):
        """Loss on the 1,000 held-out images: the same yardstick for every batch size."""
        with torch.no_grad():
            return nn.functional.cross_entropy(model(held_out_images), held_out_labels).item()
    ''',
    scaffold='''
    def run_one_epoch(batch_size):
        """Train a fresh MLP for one epoch; return (seconds, iterations, final loss)."""
        torch.manual_seed(0)
        loader = DataLoader(subset, batch_size=batch_size, shuffle=True)
        model = make_mlp()
        loss_fn = nn.CrossEntropyLoss()
        optimizer = optim.Adam(model.parameters(), lr=1e-3)
        # TODO: start a timer with time.perf_counter()
        # TODO: loop over loader: forward, loss, zero_grad, backward, step; count the iterations
        # TODO: return the seconds taken, the iteration count and held_out_loss(model)
        raise NotImplementedError("fill in run_one_epoch: time one epoch, count its iterations")


    results = {batch_size: run_one_epoch(batch_size) for batch_size in BATCH_SIZES}
    # TODO: print a table with one row per batch size: iterations, seconds, final loss
    ''',
    solution='''
    def run_one_epoch(batch_size):
        """Train a fresh MLP for one epoch; return (seconds, iterations, final loss)."""
        torch.manual_seed(0)
        loader = DataLoader(subset, batch_size=batch_size, shuffle=True)
        model = make_mlp()
        loss_fn = nn.CrossEntropyLoss()
        optimizer = optim.Adam(model.parameters(), lr=1e-3)
        start = time.perf_counter()
        iterations = 0
        for batch_images, batch_labels in loader:
            loss = loss_fn(model(batch_images), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            iterations += 1
        return time.perf_counter() - start, iterations, held_out_loss(model)


    results = {batch_size: run_one_epoch(batch_size) for batch_size in BATCH_SIZES}
    print(f"{'batch size':>10} | {'iterations':>10} | {'seconds':>7} | {'final loss':>10}")
    for batch_size, (seconds, iterations, final_loss) in results.items():
        print(f"{batch_size:>10} | {iterations:>10} | {seconds:>7.2f} | {final_loss:>10.3f}")
    ''',
    needs=("results",),
    check="""
    assert sorted(results) == BATCH_SIZES, f"expected {BATCH_SIZES}, got {sorted(results)}"
    for batch_size, (seconds, iterations, final_loss) in results.items():
        expected = math.ceil(len(subset) / batch_size)
        assert iterations == expected, (
            f"batch size {batch_size}: one epoch is ceil(6000 / {batch_size}) = {expected} "
            f"iterations, got {iterations}"
        )
        assert seconds > 0 and math.isfinite(final_loss), f"batch size {batch_size}: no time/loss?"
    assert results[512][2] > results[8][2], (
        "after one epoch, 12 big steps should have learned less than 750 small ones"
    )
    print("OK: iterations = ceil(N / B):", ", ".join(f"B={b}: {results[b][1]}" for b in results))
    """,
)

BATCH_SIZE_TAKEAWAY = markdown(
    """
    **What to notice.** Read your own table. A bigger batch gives fewer, steadier updates per
    epoch: 512 has taken only 12 steps, so its loss is still high, while 8 has taken 750 noisy
    ones. Now the seconds: this `Subset` of torchvision's MNIST opens and transforms every image
    one at a time in Python, whatever the batch size, and that per-sample work dominates the
    epoch, so the times sit much closer together than 750 against 12 steps suggests. Bigger is
    not simply faster: when we measured, batch 64 finished the epoch first, not 512. Batch size
    also sets how much memory one step needs. And with one epoch each, the loss mostly counts
    updates: before saying one batch size generalizes better (does better on images it never
    trained on), compare at an equal number of updates, or compare the gap between training
    and held-out accuracy. It matters.
    """
)

E5 = exercise(
    brief="""
    ## Exercise 5 (independent): a Dataset over a CSV file

    The cell below writes `houses.csv` (a header, then house size in m² and price in thousands)
    into a temporary folder. Write `CSVDataset(path)`:

    - in `__init__`, read the file with the `csv` module (skip the header) and keep sizes and
      prices as float tensors;
    - `__getitem__` returns one `(size, price)` pair, each of shape `[1]`; `__len__` the number
      of houses.

    The check wraps it in a DataLoader. This file is small enough to read whole in `__init__`.
    For a large one you would keep only the paths or offsets there and read in `__getitem__`.
    """,
    setup="""
    workdir = tempfile.TemporaryDirectory()
    csv_path = Path(workdir.name) / "houses.csv"

    generator = torch.Generator().manual_seed(0)
    sizes = 40 + 160 * torch.rand(120, generator=generator)
    prices = 50 + 3 * sizes + 20 * torch.randn(120, generator=generator)
    with open(csv_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["size_m2", "price_k"])
        for size, price in zip(sizes.tolist(), prices.tolist()):
            writer.writerow([f"{size:.1f}", f"{price:.1f}"])
    print("\\n".join(csv_path.read_text().splitlines()[:4]))
    """,
    scaffold="""
    class CSVDataset(Dataset):
        # TODO: __init__(self, path): read the rows with csv.DictReader (or csv.reader, skipping
        #       the header) and store sizes and prices as float tensors of shape [N, 1]
        # TODO: __len__(self): the number of houses
        # TODO: __getitem__(self, idx): (size, price), each of shape [1]
        pass
    """,
    solution='''
    class CSVDataset(Dataset):
        """House size -> price, read once from a CSV file."""

        def __init__(self, path):
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))  # DictReader uses the header row for the keys
            self.sizes = torch.tensor([[float(row["size_m2"])] for row in rows])
            self.prices = torch.tensor([[float(row["price_k"])] for row in rows])

        def __len__(self):
            return len(self.sizes)

        def __getitem__(self, idx):
            return self.sizes[idx], self.prices[idx]
    ''',
    check="""
    written = [method for method in ("__init__", "__len__", "__getitem__") if method in vars(CSVDataset)]
    assert len(written) == 3, (
        f"CSVDataset needs __init__(self, path), __len__ and __getitem__; it has {written or 'none'}"
    )
    houses = CSVDataset(csv_path)
    size, price = houses[0]
    assert len(houses) == 120, f"the file has 120 houses after the header, got {len(houses)}"
    assert size.dtype == torch.float32 and price.dtype == torch.float32, (
        f"return float32 tensors, got {size.dtype} and {price.dtype}"
    )
    assert size.shape == (1,) and price.shape == (1,), "each item: two tensors of shape [1]"
    with open(csv_path, newline="") as f:
        first_row = next(csv.DictReader(f))
    assert abs(size.item() - float(first_row["size_m2"])) < 1e-3, (
        "item 0 should be the first house (the row after the header)"
    )
    assert abs(price.item() - float(first_row["price_k"])) < 1e-3, "item 0's price: as in the file"
    size_batch, price_batch = next(iter(DataLoader(houses, batch_size=16, shuffle=True)))
    assert size_batch.shape == (16, 1) and price_batch.shape == (16, 1), (
        f"a batch of 16: [16, 1] each, got {list(size_batch.shape)} and {list(price_batch.shape)}"
    )
    print(f"OK: {len(houses)} houses; a batch is {list(size_batch.shape)} sizes -> "
          f"{list(price_batch.shape)} prices")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **Dataset = the menu**: `__len__` and `__getitem__` returning one `(input, target)` pair,
      for data in memory (`SimpleDataset`), from torchvision (`MNIST`) and from a file
      (`CSVDataset`).
    - **DataLoader = the kitchen**: batching (the batch dimension comes first: `[64, 1, 28, 28]`),
      `shuffle=True` for a new random order every epoch, ceil(N / B) iterations per epoch.
    - **Transforms** (`Compose`, `ToTensor`, `Normalize`) run per sample, when an item is served.
    - **The training loop body does not change**: only the line that feeds the data does.
    - **Batch size matters**: speed per epoch, updates per epoch, memory and generalisation.

    Next: the MNIST project, where this loader feeds a real classifier.
    """
)

CELLS = [INTRO, SETUP, *E1, *E2, SAMPLE_GRID, *E3, *E4, BATCH_SIZE_TAKEAWAY, *E5, SUMMARY]
