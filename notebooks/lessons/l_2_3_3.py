"""Lesson 2.3.3 notebook: the independent Fashion-MNIST experiment, judged against a published
baseline: a validation split, your own model, the best epoch kept, the test set used once."""

from notebooks.cells import code, exercise, markdown

SLUG = "fashion-mnist-project"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    The capstone of the series: less scaffolding, no new concepts. You design a model for
    **Fashion-MNIST**, train it with everything from the series (regularization, the best-epoch
    checkpoint, the GPU when there is one) and check that it **beats the published MLP
    baseline, 0.883 test accuracy** (the dataset's own benchmark table; people without fashion
    expertise score 0.835).

    The rule that makes the comparison honest: **choose on validation, report test once.** You
    hold out 5,000 training images, pick the best epoch on them, and look at the 10,000 test
    images a single time, at the end. An epoch picked by its test accuracy would make the test
    score one more thing you tuned.

    Each step has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run after
    your attempt, then a folded solution (try first!).
    """
)

SETUP = code(
    """
    import copy
    import os
    import time

    import torch
    from torch import nn, optim
    from torch.utils.data import DataLoader, TensorDataset
    from torchvision import datasets

    # Where the data lives; on Colab torchvision downloads Fashion-MNIST here (about 30 MB).
    DATA_ROOT = os.environ.get("COURSE_DATA_DIR", "./data")
    DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(1)  # a small MLP trains as fast on one CPU thread on a shared machine
    torch.manual_seed(0)

    CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
    PUBLISHED_MLP = 0.883  # MLP 256-128-100, Fashion-MNIST README benchmark table
    HUMANS = 0.835

    # The whole dataset as tensors, normalised once: the same values ToTensor + Normalize give,
    # without 60,000 per-image conversions every epoch.
    train_set = datasets.FashionMNIST(DATA_ROOT, train=True, download=True)
    test_set = datasets.FashionMNIST(DATA_ROOT, train=False, download=True)
    MEAN, STD = 0.2860, 0.3530
    all_images = ((train_set.data.float() / 255 - MEAN) / STD).unsqueeze(1)  # [60000, 1, 28, 28]
    all_labels = train_set.targets
    test_images = ((test_set.data.float() / 255 - MEAN) / STD).unsqueeze(1)
    test_labels = test_set.targets
    print(f"PyTorch {torch.__version__} on {DEVICE}; {len(all_labels):,} training and "
          f"{len(test_labels):,} test images")
    """
)

STEP_1 = exercise(
    brief="""
    ## Step 1: hold out a validation split

    Shuffle the 60,000 training indices **with a fixed seed** (`torch.Generator().manual_seed(0)`
    and `torch.randperm`), keep the first 5,000 as `val_indices` and the other 55,000 as
    `train_indices`. A fixed seed means every experiment you run is judged on the same 5,000
    images. Then build `train_loader` (batch 128, shuffled) and `val_loader` (batch 1,000, not
    shuffled) from `TensorDataset`s of those images and labels.
    """,
    scaffold="""
    generator = torch.Generator().manual_seed(0)
    order = None  # TODO: a random permutation of range(60000) drawn with this generator
    val_indices = None  # TODO: the first 5,000 of order
    train_indices = None  # TODO: the other 55,000

    train_loader = None  # TODO: DataLoader(TensorDataset(images, labels), batch_size=128, shuffle=True)
    val_loader = None  # TODO: the validation images, batch_size=1000, no shuffling
    """,
    solution="""
    generator = torch.Generator().manual_seed(0)
    order = torch.randperm(len(all_labels), generator=generator)
    val_indices = order[:5_000]
    train_indices = order[5_000:]

    train_loader = DataLoader(TensorDataset(all_images[train_indices], all_labels[train_indices]),
                              batch_size=128, shuffle=True)
    val_loader = DataLoader(TensorDataset(all_images[val_indices], all_labels[val_indices]),
                            batch_size=1000)
    """,
    check="""
    assert len(val_indices) == 5_000 and len(train_indices) == 55_000
    assert not set(val_indices.tolist()) & set(train_indices.tolist()), "the splits overlap"
    assert sorted(val_indices.tolist() + train_indices.tolist()) == list(range(60_000))
    expected = torch.randperm(60_000, generator=torch.Generator().manual_seed(0))[:5_000]
    assert torch.equal(val_indices, expected), (
        "draw the permutation with the seeded generator, so every run uses the same split")
    assert len(train_loader.dataset) == 55_000 and len(val_loader.dataset) == 5_000
    print("Every class is in the validation split:",
          torch.bincount(all_labels[val_indices], minlength=10).tolist())
    """,
    needs=("order", "val_indices", "train_indices", "train_loader", "val_loader"),
)

STEP_2 = exercise(
    brief="""
    ## Step 2: design your model

    Write `make_model()`, returning a fresh network for `[B, 1, 28, 28]` images and 10 logits.
    The course's default is the **improved MLP**: `nn.Flatten`, then for each hidden layer
    Linear → BatchNorm1d → ReLU → Dropout, and a bare output layer. Pick your own widths and
    dropout (the solution uses 256, 128 and p = 0.2). Convolutions are the next series' subject:
    the app offers a small CNN as a preview if you are curious.
    """,
    scaffold="""
    def make_model():
        # TODO: return an nn.Sequential: Flatten, hidden layers (Linear, BatchNorm1d, ReLU,
        # Dropout), then Linear(..., 10)
        raise NotImplementedError("write make_model")
    """,
    solution="""
    def make_model(hidden=(256, 128), dropout=0.2):
        layers = [nn.Flatten()]
        width = 28 * 28
        for size in hidden:
            layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, 10))
        return nn.Sequential(*layers)
    """,
    check="""
    probe = make_model()
    assert probe(torch.zeros(4, 1, 28, 28)).shape == (4, 10), "the model must output 10 logits per image"
    assert not isinstance(list(probe.modules())[-1], (nn.ReLU, nn.Softmax)), (
        "no activation after the last layer: nn.CrossEntropyLoss wants raw logits")
    size = sum(p.numel() for p in probe.parameters())
    print(f"{size:,} parameters (the published MLP 256-128-100 has 247,766)")
    """,
)

STEP_3 = exercise(
    brief="""
    ## Step 3: train, keeping the best epoch

    Write `train_with_best(model, optimizer, epochs)`: the training loop you know, and after
    every epoch the validation accuracy (`model.eval()`, `torch.no_grad()`). Whenever it is the
    best so far, keep a copy of the weights: `copy.deepcopy(model.state_dict())`, the
    best-epoch checkpoint. Return `(best_state, best_epoch, history)`, where `history` holds
    one `{"epoch": ..., "val_accuracy": ...}` per epoch. Then train your model for `EPOCHS`
    epochs with Adam (lr 1e-3). About a minute on a CPU.
    """,
    setup="""
    EPOCHS = 10


    def accuracy(model, loader):
        \"\"\"Share of correct predictions, with dropout off and BatchNorm's running statistics.\"\"\"
        model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in loader:
                images, labels = images.to(DEVICE), labels.to(DEVICE)
                correct += (model(images).argmax(dim=1) == labels).sum().item()
        return correct / len(loader.dataset)
    """,
    scaffold="""
    def train_with_best(model, optimizer, epochs):
        loss_fn = nn.CrossEntropyLoss()
        best_state, best_epoch, history = None, None, []
        # TODO: for each epoch: model.train(), the four-line heartbeat over train_loader,
        # then val = accuracy(model, val_loader), history.append(...), and keep a deepcopy of
        # model.state_dict() when val is the best so far
        return best_state, best_epoch, history


    torch.manual_seed(0)
    model = make_model().to(DEVICE)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    best_state, best_epoch, history = None, None, []  # TODO: train_with_best(model, optimizer, EPOCHS)
    """,
    solution="""
    def train_with_best(model, optimizer, epochs):
        loss_fn = nn.CrossEntropyLoss()
        best_state, best_epoch, history = None, None, []
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            for images, labels in train_loader:
                images, labels = images.to(DEVICE), labels.to(DEVICE)
                loss = loss_fn(model(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            val = accuracy(model, val_loader)
            history.append({"epoch": epoch, "val_accuracy": val})
            if best_epoch is None or val > history[best_epoch - 1]["val_accuracy"]:
                best_state, best_epoch = copy.deepcopy(model.state_dict()), epoch
            print(f"epoch {epoch}: validation {val:.2%} ({time.perf_counter() - start:.1f} s)")
        return best_state, best_epoch, history


    torch.manual_seed(0)
    model = make_model().to(DEVICE)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    best_state, best_epoch, history = train_with_best(model, optimizer, EPOCHS)
    """,
    check="""
    assert history and len(history) == EPOCHS, f"history should hold {EPOCHS} epochs"
    scores = [row["val_accuracy"] for row in history]
    assert best_epoch == scores.index(max(scores)) + 1, (
        "best_epoch must be the epoch with the best validation accuracy")
    reloaded = make_model().to(DEVICE)
    reloaded.load_state_dict(best_state)
    assert accuracy(reloaded, val_loader) == max(scores), (
        "best_state must hold the weights of the best epoch, copied then (deepcopy), not the last ones")
    print(f"Best epoch {best_epoch}: validation accuracy {max(scores):.2%}")
    """,
    needs=("best_state", "best_epoch"),
)

STEP_4 = exercise(
    brief="""
    ## Step 4: report the test accuracy once, against the baseline

    Load `best_state` into a fresh model and compute its accuracy on the 10,000 test images:
    `test_accuracy`. This is the one time you look at the test set. Did you beat the published
    MLP (0.883)?
    """,
    setup="""
    test_loader = DataLoader(TensorDataset(test_images, test_labels), batch_size=1000)
    """,
    scaffold="""
    final_model = None  # TODO: make_model(), moved to DEVICE, with best_state loaded
    test_accuracy = None  # TODO: accuracy(final_model, test_loader)
    """,
    solution="""
    final_model = make_model().to(DEVICE)
    final_model.load_state_dict(best_state)
    test_accuracy = accuracy(final_model, test_loader)
    """,
    check="""
    assert abs(test_accuracy - accuracy(final_model, test_loader)) < 1e-12
    for name, value in [("humans (no fashion expertise)", HUMANS),
                        ("published MLP 256-128-100", PUBLISHED_MLP),
                        ("your model, best epoch", test_accuracy)]:
        print(f"{name:32s} {value:.2%}")
    assert test_accuracy > PUBLISHED_MLP, (
        f"{test_accuracy:.2%} does not beat the published MLP yet: try more epochs, other widths "
        "or dropout, and choose again on validation")
    print("You beat the published MLP baseline.")
    """,
    needs=("final_model", "test_accuracy"),
)

NEXT = markdown(
    """
    ## Going further (in the app)

    The lesson page runs the same experiment through the app's run system: presets and custom
    widths, the CNN preview, augmentation (beyond this course), an honest learning-rate finder
    with three confirm runs, a leaderboard ranked by validation accuracy beside the published
    results, a Pareto chart of accuracy against parameters, and the human quiz: can you beat
    0.835 on 20 test images?

    Is your gain real? Train the same setting with three seeds: a difference smaller than the
    seed-to-seed spread could be luck.
    """
)

SUMMARY = markdown(
    """
    ## What you practised

    - **A validation split** held out of the training images with a fixed seed: every run is
      judged on the same images, and the test set stays unseen.
    - **Your own architecture**: the improved MLP (BatchNorm, Dropout), widths of your choice.
    - **The best-epoch checkpoint**: `copy.deepcopy(model.state_dict())` whenever validation
      improves; reloaded, it gives exactly the best validation score again.
    - **Reporting once**: the test accuracy of the chosen weights, beside the published MLP
      (0.883) and people (0.835).
    """
)

CELLS = [INTRO, SETUP, *STEP_1, *STEP_2, *STEP_3, *STEP_4, NEXT, SUMMARY]
