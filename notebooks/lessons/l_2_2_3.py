"""Lesson 2.2.3 notebook: torchinfo, a shape bug, the gradient check, TensorBoard, three learning
rates, and the capstone script with three bugs."""

from notebooks.cells import code, exercise, markdown

SLUG = "debugging-and-visualization"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    Training fails silently more often than it crashes. This notebook practises the lesson's
    three tools and the habit that ties them together, the **4-phase checklist**:

    1. **Before training**: `torchinfo.summary`: shapes and parameter counts (an X-ray).
    2. **First iteration**: the gradient check: every layer's gradient norm, by name (the pulse).
    3. **During training**: TensorBoard: loss **and** accuracy (a flight recorder).
    4. **When something looks wrong**: diagnose by symptom.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell and a
    folded solution (try first!). Run the check after your own attempt.
    """
)

SETUP = code(
    """
    import math
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    try:
        import torchinfo  # noqa: F401
    except ImportError:  # Colab does not ship it
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "torchinfo"], check=True)

    import torch
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.tensorboard import SummaryWriter
    from torchinfo import summary
    from torchvision import datasets

    DATA_ROOT = os.environ.get("COURSE_DATA_DIR", "./data")
    RUNS = Path(tempfile.mkdtemp(prefix="runs-"))  # every exercise logs into a folder here
    torch.manual_seed(0)


    def as_tensors(train, count):
        \"\"\"The first `count` MNIST images as normalised [N, 1, 28, 28] floats, and their labels.\"\"\"
        mnist = datasets.MNIST(DATA_ROOT, train=train, download=True)
        images = (mnist.data[:count].float() / 255 - 0.1307) / 0.3081
        return images.unsqueeze(1), mnist.targets[:count]


    train_images, train_labels = as_tensors(True, 10_000)
    test_images, test_labels = as_tensors(False, 2_000)
    train_loader = DataLoader(TensorDataset(train_images, train_labels), batch_size=64, shuffle=True)
    images, labels = train_images[:64], train_labels[:64]  # one batch for the gradient check
    print(f"PyTorch {torch.__version__}; {len(train_images):,} training images; logs in {RUNS}")
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): verify a model with torchinfo

    Build the course's simple MLP: `nn.Flatten()`, then `Linear(784, 256)`, ReLU,
    `Linear(256, 128)`, ReLU, `Linear(128, 10)`. Then X-ray it:
    `stats = summary(model, input_size=(64, 1, 28, 28), verbose=0)`.

    Predict first: what is the last layer's output shape, and how many trainable parameters are
    there? (784·256+256 + 256·128+128 + 128·10+10.) The check compares torchinfo's total with
    `sum(p.numel() for p in model.parameters())`.
    """,
    scaffold="""
    model = None  # TODO: the simple MLP as an nn.Sequential
    stats = None  # TODO: summary(model, input_size=(64, 1, 28, 28), verbose=0)
    """,
    solution="""
    model = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )
    stats = summary(model, input_size=(64, 1, 28, 28), verbose=0)
    """,
    check="""
    assert model is not None, "build the simple MLP in `model` (an nn.Sequential)"
    assert stats is not None, "run summary(...) and keep its result in `stats`"
    counted = sum(p.numel() for p in model.parameters())
    assert stats.trainable_params == counted == 235_146, (
        f"expected 235,146 trainable parameters, torchinfo says {stats.trainable_params:,}, "
        f"the parameters add up to {counted:,}"
    )
    assert list(stats.summary_list[-1].output_size) == [64, 10], "the last layer outputs [64, 10]"
    print(stats)
    print(f"OK: {stats.trainable_params:,} trainable parameters, output [64, 10]")
    """,
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): diagnose a shape bug before training

    `broken` below fails on its first batch. Don't train it: X-ray it. Call `summary` inside
    `try / except RuntimeError as error` and keep the underlying message
    (`str(error.__cause__ or error)`) in `message`: it names the two sizes that disagree. Then
    write `fixed`, the same model with the one number changed. Shape errors are plumbing, not
    design: one mismatched number between two adjacent layers.
    """,
    setup="""
    broken = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(256, 10),
    )
    """,
    scaffold="""
    message = ""  # TODO: run summary(broken, ...) in try/except and keep the error's message
    fixed = None  # TODO: the same layers with the mismatched number corrected
    """,
    solution="""
    try:
        summary(broken, input_size=(64, 1, 28, 28), verbose=0)
    except RuntimeError as error:
        message = str(error.__cause__ or error)
    fixed = nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),  # the layer before hands over 128 features, not 256
    )
    """,
    check="""
    assert "64x128 and 256x10" in message, f"keep torchinfo's underlying error; got {message!r}"
    assert fixed is not None, "write the corrected model in `fixed`"
    out = summary(fixed, input_size=(64, 1, 28, 28), verbose=0).summary_list[-1].output_size
    assert list(out) == [64, 10], f"the fixed model should output [64, 10], got {out}"
    print(f"OK: torchinfo caught `{message}` before any training; the fix outputs [64, 10]")
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): implement the gradient check

    Write two functions:

    - `gradient_norms(model)`: after `loss.backward()`, a dict `name -> L2 norm of param.grad`
      for every parameter that has a gradient (use `model.named_parameters()`).
    - `verdict(norms)`: `"exploding"` if any norm exceeds 100 or is NaN; else `"vanishing"` if
      the first weight's norm is at least 100,000x smaller than the last weight's; else
      `"healthy"`. (Look only at names ending in `weight`.)

    The check takes the pulse of three networks after one backward pass on one batch: the simple
    MLP (healthy), ten sigmoid layers (vanishing), ten ReLU layers drawn 4x too large (exploding).
    """,
    setup="""
    def deep(activation, scale=None):
        torch.manual_seed(0)
        layers = [nn.Flatten(), nn.Linear(784, 128)]
        for _ in range(8):
            layers += [activation(), nn.Linear(128, 128)]
        net = nn.Sequential(*layers, activation(), nn.Linear(128, 10))
        if scale:
            for layer in net:
                if isinstance(layer, nn.Linear):
                    nn.init.normal_(layer.weight, std=scale * math.sqrt(2 / layer.in_features))
        return net


    def one_backward(net):
        net.zero_grad()
        nn.functional.cross_entropy(net(images), labels).backward()
        return net
    """,
    scaffold="""
    def gradient_norms(model):
        # TODO: {name: param.grad.norm().item()} for parameters whose .grad is not None
        return {}


    def verdict(norms):
        # TODO: "exploding", "vanishing" or "healthy" by the thresholds above
        return "healthy"
    """,
    solution="""
    def gradient_norms(model):
        return {name: param.grad.norm().item()
                for name, param in model.named_parameters() if param.grad is not None}


    def verdict(norms):
        if any(not math.isfinite(v) or v > 100 for v in norms.values()):
            return "exploding"
        weights = [v for name, v in norms.items() if name.endswith("weight")]
        if weights[-1] / max(weights[0], 1e-30) >= 1e5:
            return "vanishing"
        return "healthy"
    """,
    check="""
    healthy = one_backward(nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                         nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)))
    norms = gradient_norms(healthy)
    assert set(norms) == {name for name, _ in healthy.named_parameters()}, "one norm per parameter"
    assert abs(norms["1.weight"] - healthy[1].weight.grad.norm().item()) < 1e-6, "the L2 norm"
    for name, net, expected in [("simple MLP", healthy, "healthy"),
                                ("sigmoid stack", one_backward(deep(nn.Sigmoid)), "vanishing"),
                                ("oversized ReLU stack", one_backward(deep(nn.ReLU, 4)), "exploding")]:
        got = verdict(gradient_norms(net))
        assert got == expected, f"the {name} should be {expected}, your verdict says {got}"
    for name, value in norms.items():
        print(f"{name:>10}: {value:.4f}")
    print("OK: healthy, vanishing and exploding told apart")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): log to TensorBoard

    Train the simple MLP for **one epoch** of `train_loader` with Adam (lr 1e-3) and log with a
    `SummaryWriter(RUNS / "exercise4")`: the batch loss as `loss/train` at every step, and the
    first Linear layer's gradient norm (`model[1].weight.grad.norm()`) as `grad_norm/1.weight`
    every 10 steps (steps 0, 10, 20, ...). Close the writer at the end. Two logging lines in the
    loop: that is all TensorBoard needs.

    On your own machine, `tensorboard --logdir <RUNS>` then shows the curves on localhost:6006;
    the check reads the event file back with TensorBoard's own reader instead.
    """,
    scaffold="""
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    writer = None  # TODO: SummaryWriter(RUNS / "exercise4")
    for step, (batch_images, batch_labels) in enumerate(train_loader):
        loss = loss_fn(model(batch_images), batch_labels)
        optimizer.zero_grad()
        loss.backward()
        # TODO: log loss/train every step and grad_norm/1.weight every 10 steps
        optimizer.step()
    # TODO: close the writer
    """,
    solution="""
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                          nn.ReLU(), nn.Linear(128, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    writer = SummaryWriter(RUNS / "exercise4")
    for step, (batch_images, batch_labels) in enumerate(train_loader):
        loss = loss_fn(model(batch_images), batch_labels)
        optimizer.zero_grad()
        loss.backward()
        writer.add_scalar("loss/train", loss.item(), step)
        if step % 10 == 0:
            writer.add_scalar("grad_norm/1.weight", model[1].weight.grad.norm().item(), step)
        optimizer.step()
    writer.close()
    """,
    check="""
    def read_scalars(logdir):
        accumulator = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
        accumulator.Reload()
        return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)]
                for tag in accumulator.Tags()["scalars"]}


    assert writer is not None, 'log through writer = SummaryWriter(RUNS / "exercise4")'
    assert any((RUNS / "exercise4").glob("events.out.tfevents.*")), (
        f"no event file in {RUNS / 'exercise4'}: log with writer.add_scalar, then writer.close()"
    )
    logged = read_scalars(RUNS / "exercise4")
    steps = len(train_loader)
    assert len(logged.get("loss/train", [])) == steps, (
        f"expected one loss/train point per step ({steps}), found {len(logged.get('loss/train', []))}"
    )
    assert [s for s, _ in logged.get("grad_norm/1.weight", [])] == list(range(0, steps, 10)), (
        "grad_norm/1.weight at steps 0, 10, 20, ..."
    )
    first, last = logged["loss/train"][0][1], logged["loss/train"][-1][1]
    assert last < first, "the logged loss should fall over the epoch"
    print(f"OK: {steps} loss points ({first:.2f} -> {last:.2f}) and "
          f"{len(logged['grad_norm/1.weight'])} gradient norms read back from the event file")
    """,
)

E5 = exercise(
    brief="""
    ## Exercise 5 (supported): compare three learning rates

    Write `train_run(lr, logdir)`: a fresh simple MLP (call `torch.manual_seed(0)` first, so
    only the learning rate differs), Adam with `lr`, one epoch of `train_loader`, `loss/train`
    logged every step into `logdir`; return the final test accuracy on
    `test_images` / `test_labels`. Then run it for lr 1e-4, 1e-3 and 1e-1, each into its own
    folder `RUNS / f"lr_{lr}"`, and keep the accuracies in `results` (lr -> accuracy).
    TensorBoard would overlay the three folders with zero plotting code.
    """,
    scaffold="""
    def train_run(lr, logdir):
        # TODO: seed, model, Adam(lr), one epoch logging loss/train, then the test accuracy
        return 0.0


    results = {}  # TODO: {lr: train_run(lr, RUNS / f"lr_{lr}") for the three learning rates}
    """,
    solution="""
    def train_run(lr, logdir):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                              nn.ReLU(), nn.Linear(128, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        writer = SummaryWriter(logdir)
        for step, (batch_images, batch_labels) in enumerate(train_loader):
            loss = loss_fn(model(batch_images), batch_labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            writer.add_scalar("loss/train", loss.item(), step)
        writer.close()
        model.eval()
        with torch.no_grad():
            return (model(test_images).argmax(dim=1) == test_labels).float().mean().item()


    results = {lr: train_run(lr, RUNS / f"lr_{lr}") for lr in (1e-4, 1e-3, 1e-1)}
    """,
    check="""
    assert set(results) == {1e-4, 1e-3, 1e-1}, f"three learning rates, got {sorted(results)}"
    for lr in results:
        folder = RUNS / f"lr_{lr}"
        assert any(folder.glob("events.out.tfevents.*")), f"no event file in {folder}"
    assert results[1e-3] > 0.85, f"lr 1e-3 should reach 85%+, got {results[1e-3]:.1%}"
    assert results[1e-3] > results[1e-4], "one epoch at 1e-4 is slower than at 1e-3"
    assert results[1e-1] < results[1e-3] - 0.2, "lr 0.1 overshoots: far below 1e-3"
    for lr, accuracy in results.items():
        print(f"lr {lr:g}: test accuracy {accuracy:.1%}")
    print("OK: too small is slow, 1e-3 is right, too large fails")
    """,
)

E6 = exercise(
    brief="""
    ## Exercise 6 (independent): the capstone: find three bugs

    The script below (your cell) has **three bugs**. None of them crashes once the first is
    fixed; two of them fail silently. Use the checklist: torchinfo before training, the gradient
    check on the first iteration, and the curves (loss **and** accuracy) during training. Fix
    all three, keeping the function names: `build_model()`, `accuracy(outputs, labels)` and
    `train(model, epochs)`, which returns the list of per-step accuracies it measured.
    """,
    scaffold="""
    def build_model():
        return nn.Sequential(
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 10),
        )


    def accuracy(outputs, labels):
        return (outputs.argmax(dim=1, keepdim=True) == labels).float().mean().item()


    def train(model, epochs=1):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        accuracies = []
        for epoch in range(epochs):
            for batch_images, batch_labels in train_loader:
                outputs = model(batch_images)
                loss = loss_fn(outputs, batch_labels)
                loss.backward()
                optimizer.zero_grad()
                optimizer.step()
                accuracies.append(accuracy(outputs, batch_labels))
        return accuracies
    """,
    solution="""
    def build_model():
        return nn.Sequential(
            nn.Flatten(),  # bug 1 (torchinfo): [64, 1, 28, 28] must become [64, 784]
            nn.Linear(784, 256), nn.ReLU(),
            nn.Linear(256, 10),
        )


    def accuracy(outputs, labels):
        # bug 3 (the curves): keepdim=True made [B, 1] == [B] broadcast into a [B, B] table (~10%)
        return (outputs.argmax(dim=1) == labels).float().mean().item()


    def train(model, epochs=1):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
        accuracies = []
        for epoch in range(epochs):
            for batch_images, batch_labels in train_loader:
                outputs = model(batch_images)
                loss = loss_fn(outputs, batch_labels)
                # bug 2 (the gradient check): zero_grad() after backward() set every .grad
                # to None (PyTorch 2.0+), so step() skipped every parameter. Zero *before*.
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                accuracies.append(accuracy(outputs, batch_labels))
        return accuracies
    """,
    check="""
    torch.manual_seed(0)
    model = build_model()
    try:
        summary(model, input_size=(64, 1, 28, 28), verbose=0)
    except RuntimeError as error:  # the first bug is still there: report it as a failed check
        raise AssertionError(f"torchinfo cannot run build_model() on a [64, 1, 28, 28] batch: "
                             f"{error.__cause__ or error}") from None
    perfect = torch.nn.functional.one_hot(torch.arange(10).repeat(5), 10).float()
    assert accuracy(perfect, torch.arange(10).repeat(5)) == 1.0, (
        "accuracy() of perfect predictions should be 1.0: compare the shapes it compares"
    )
    measured = train(model, epochs=1)
    model.eval()
    with torch.no_grad():
        test_accuracy = accuracy(model(test_images), test_labels)
    assert test_accuracy > 0.85, (
        f"test accuracy {test_accuracy:.1%}: is the model learning? check the gradients at step()"
    )
    assert sum(measured[-20:]) / 20 > 0.85, "the accuracies train() measures should be high too"
    print(f"OK: all three bugs fixed; test accuracy {test_accuracy:.1%} after one epoch")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **torchinfo is an X-ray**: shapes and parameter counts before any data is trained on; a
      shape error is one mismatched number between two adjacent layers.
    - **The gradient check is taking the pulse**: `named_parameters()` and `param.grad.norm()`
      after backward; healthy within 10-100x, vanishing ~100,000x, exploding > 100 or NaN.
    - **TensorBoard is a flight recorder**: two logging lines, one folder per run, overlays for
      free.
    - **Loss going down does not mean training works**: always watch accuracy too.
    - **Debugging is a workflow**: before, first iteration, during, then diagnose by symptom.
    """
)

CELLS = [INTRO, SETUP, *E1, *E2, *E3, *E4, *E5, *E6, SUMMARY]
