"""Lesson 2.3.2 notebook: pick the device, the device-aware loop, an honest step timing, and
mixed precision with a GradScaler in the checkpoint. Runs on Colab's GPU and on a CPU alike."""

from notebooks.cells import code, exercise, markdown

SLUG = "gpu-training"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    Your training loop works on the CPU. This notebook makes it **device-aware**: one script that
    runs on a CUDA GPU (Colab: *Runtime → Change runtime type → GPU*), an Apple GPU (`mps`) or a
    plain CPU, without an edit. Then it asks *when* the GPU pays, by timing a step honestly, and
    ends with mixed precision: `torch.autocast`, a GradScaler, and a checkpoint you can resume.

    Everything here also runs on a CPU: the GPU-only parts say so and skip themselves.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run
    after your attempt, then a folded solution (try first!).
    """
)

SETUP = code(
    """
    import inspect
    import io
    import re
    import statistics

    import torch
    from torch import nn
    from torch.utils.benchmark import Timer

    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}; CUDA: {torch.cuda.is_available()}; "
          f"MPS: {torch.backends.mps.is_available()}")


    def make_batches(count=8, batch_size=64, inputs=20, classes=4, seed=0):
        \"\"\"Batches as a DataLoader yields them, on the CPU; label: the largest of 4 features.\"\"\"
        generator = torch.Generator().manual_seed(seed)
        batches = []
        for _ in range(count):
            x = torch.randn(batch_size, inputs, generator=generator)
            batches.append((x, x[:, :classes].argmax(dim=1)))
        return batches


    def make_model(width=64, inputs=20, classes=4):
        return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, classes))


    def names_a_device(function):
        \"\"\"The device names ('cuda', 'cpu', 'mps') written as strings in a function's code.\"\"\"
        source = inspect.getsource(function)
        return re.findall(r\"['\\\"](cuda|cpu|mps)(?::\\d+)?['\\\"]\", source)
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): pick the device once

    Write the line every device-aware script starts with: `device` is `torch.device("cuda")` when
    `torch.cuda.is_available()`, else `torch.device("mps")` when
    `torch.backends.mps.is_available()`, else `torch.device("cpu")`. Everything after this cell
    receives `device`; nothing else names one.
    """,
    scaffold="""
    device = None  # TODO: cuda if available, else mps if available, else cpu (a torch.device)
    print(device)
    """,
    solution="""
    if torch.cuda.is_available():
        device = torch.device("cuda")
    elif torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    print(device)
    """,
    needs=("device",),
    check="""
    mps = torch.backends.mps.is_available()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if mps else "cpu")
    assert isinstance(device, torch.device), f"device should be a torch.device, got {type(device).__name__}"
    assert device.type == expected, f"this machine has {expected}: device should be {expected}, got {device}"
    print(f"OK: training on {device}")
    """,
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): the device-aware loop

    Complete `train(model, batches, device, epochs)`:

    1. Move the model **once**: `model = model.to(device)`.
    2. Build the optimizer **after** the move (`torch.optim.SGD(model.parameters(), lr=0.1)`):
       section 5 of the page shows an optimizer that breaks otherwise.
    3. Inside the loop, move **both** tensors of every batch: `inputs.to(device)` and
       `targets.to(device)`. Forget the targets and the loss raises *Expected all tensors to be
       on the same device*.
    4. The heartbeat as before; record `loss.item()` per step.

    The function must never write a device name: it uses the `device` it is given.
    """,
    scaffold="""
    def train(model, batches, device, epochs=3):
        losses = []
        # TODO: move the model, then build the SGD optimizer (lr=0.1) and a CrossEntropyLoss
        for _ in range(epochs):
            for inputs, targets in batches:
                # TODO: move inputs AND targets to device; zero_grad, forward, loss, backward, step
                raise NotImplementedError("fill in the device-aware loop")
        return losses


    model = make_model()
    losses = train(model, make_batches(), device)
    """,
    solution="""
    def train(model, batches, device, epochs=3):
        losses = []
        model = model.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.CrossEntropyLoss()
        for _ in range(epochs):
            for inputs, targets in batches:
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                loss = loss_fn(model(inputs), targets)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        return losses


    model = make_model()
    losses = train(model, make_batches(), device)
    """,
    needs=("losses",),
    check="""
    assert not names_a_device(train), f"train() writes a device name {names_a_device(train)}: use `device`"
    assert len(losses) == 24, f"3 epochs of 8 batches: 24 losses, got {len(losses)}"
    assert {p.device.type for p in model.parameters()} == {device.type}, "the model should be on device"
    assert losses[-1] < losses[0], f"the loss should fall: {losses[0]:.3f} -> {losses[-1]:.3f}"
    cpu_losses = train(make_model(), make_batches(), torch.device("cpu"))
    assert len(cpu_losses) == 24, "the same function must run on the CPU too"
    print(f"OK: on {device}, loss {losses[0]:.3f} -> {losses[-1]:.3f}; the same code ran on the CPU")
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): time a step honestly

    GPU work is **asynchronous**: `loss.backward()` returns before the GPU has finished. A
    `time.time()` around it measures the launch, not the work. `torch.utils.benchmark.Timer`
    synchronises the device around each measurement. Write `step_seconds(width, batch, device)`:

    - build `make_model(width, inputs=784, classes=10)` on `device`, an SGD optimizer, and one
      batch `x = torch.randn(batch, 784, device=device)`, `y = torch.randint(0, 10, (batch,), device=device)`;
    - a `step()` function doing one full training step (zero_grad, forward, loss, backward, step);
    - time it with `Timer("step()", globals={"step": step})`: one `timeit(1)` as a warm-up, then
      return the **median** of 5 `timeit(10).mean` readings.

    The check times a small and a large step on your device (and on the CPU, when you have a GPU).
    """,
    scaffold="""
    def step_seconds(width, batch, device):
        # TODO: model, optimizer, x, y on device; def step(): ...; a Timer; a warm-up; the median
        raise NotImplementedError("write the timed step")
    """,
    solution="""
    def step_seconds(width, batch, device):
        model = make_model(width, inputs=784, classes=10).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        loss_fn = nn.CrossEntropyLoss()
        x = torch.randn(batch, 784, device=device)
        y = torch.randint(0, 10, (batch,), device=device)

        def step():
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()

        timer = Timer("step()", globals={"step": step})
        timer.timeit(1)  # warm-up: the first call pays for lazy initialisation
        return statistics.median(timer.timeit(10).mean for _ in range(5))
    """,
    check="""
    assert "step_seconds" in globals(), "define step_seconds(width, batch, device) above"
    small = step_seconds(32, 16, device)
    large = step_seconds(512, 512, device)
    assert isinstance(small, float) and 0 < small < 1, f"a small step takes well under a second, got {small}"
    assert large > small, f"a 512-wide, 512-batch step should take longer than a tiny one: {large} vs {small}"
    print(f"{device}: width 32 batch 16: {small * 1e3:.3f} ms; width 512 batch 512: {large * 1e3:.3f} ms")
    if device.type != "cpu":
        cpu = torch.device("cpu")
        cpu_small, cpu_large = step_seconds(32, 16, cpu), step_seconds(512, 512, cpu)
        print(f"cpu: {cpu_small * 1e3:.3f} ms and {cpu_large * 1e3:.3f} ms: "
              f"the GPU is {cpu_small / small:.1f}x faster small, {cpu_large / large:.1f}x large")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): mixed precision, and a checkpoint that resumes it

    Write `amp_train(model, batches, device, steps)` with automatic mixed precision:

    - on CUDA: `dtype = torch.float16` and `scaler = torch.amp.GradScaler("cuda")` (old code
      writes `torch.cuda.amp.GradScaler()`, a deprecated alias); elsewhere `dtype = torch.bfloat16`
      and `scaler = torch.amp.GradScaler(device.type, enabled=False)` (bf16 needs no scaling, and
      a disabled scaler passes everything through, so the loop is the same);
    - per step: the forward and the loss under
      `with torch.autocast(device_type=device.type, dtype=dtype):`, then
      `scaler.scale(loss).backward()`, `scaler.step(optimizer)`, `scaler.update()`.

    Return `losses` and a checkpoint dict with `"model"`, `"optimizer"` and `"scaler"` state dicts
    (`scaler.state_dict()`): without the scaler's state a resumed run restarts its scale search.
    """,
    scaffold="""
    def amp_train(model, batches, device, epochs=3):
        model = model.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.CrossEntropyLoss()
        # TODO: on cuda float16 and an enabled scaler; elsewhere bfloat16 and a disabled one
        dtype, scaler = None, None
        losses = []
        for _ in range(epochs):
            for inputs, targets in batches:
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                # TODO: forward + loss under torch.autocast; backward, step and update through the scaler
                raise NotImplementedError("fill in the mixed-precision step")
        checkpoint = None  # TODO: {"model": ..., "optimizer": ..., "scaler": ...}
        return losses, checkpoint


    amp_losses, checkpoint = amp_train(make_model(), make_batches(), device)
    """,
    solution="""
    def amp_train(model, batches, device, epochs=3):
        model = model.to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = nn.CrossEntropyLoss()
        if device.type == "cuda":
            dtype, scaler = torch.float16, torch.amp.GradScaler("cuda")
        else:
            dtype, scaler = torch.bfloat16, torch.amp.GradScaler(device.type, enabled=False)
        losses = []
        for _ in range(epochs):
            for inputs, targets in batches:
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                with torch.autocast(device_type=device.type, dtype=dtype):
                    loss = loss_fn(model(inputs), targets)
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
                losses.append(loss.item())
        checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                      "scaler": scaler.state_dict()}
        return losses, checkpoint


    amp_losses, checkpoint = amp_train(make_model(), make_batches(), device)
    """,
    needs=("amp_losses", "checkpoint"),
    check="""
    assert len(amp_losses) == 24, f"24 losses expected, got {len(amp_losses)}"
    assert all(torch.isfinite(torch.tensor(amp_losses))), "every mixed-precision loss should be finite"
    first, last = amp_losses[0], amp_losses[-1]
    assert last < first, f"the loss should fall: {first:.3f} -> {last:.3f}"
    assert isinstance(checkpoint, dict) and {"model", "optimizer", "scaler"} <= set(checkpoint), (
        "the checkpoint needs model, optimizer and scaler state dicts")
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    restored = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    if device.type == "cuda":
        assert restored["scaler"]["scale"] > 0, "an enabled scaler saves its scale"
        print(f"OK: float16 + GradScaler; saved scale {restored['scaler']['scale']:,.0f}")
    else:
        print(f"OK: bfloat16 autocast on {device} (no scaler needed); loss "
              f"{amp_losses[0]:.3f} -> {amp_losses[-1]:.3f}")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **Pick the device once** (`cuda`, else `mps`, else `cpu`) and pass it on: code that never
      names a device runs everywhere.
    - **Model, inputs, targets and optimizer** share the device: the model moves once, the
      optimizer is built after, every batch moves inside the loop.
    - **Time honestly**: a warm-up, a synchronising timer, the median. Small steps lose on a GPU;
      wide layers and big batches win.
    - **Mixed precision** is two context managers: `torch.autocast`, and for float16 a
      `torch.amp.GradScaler` whose `state_dict()` goes into the checkpoint.

    Next, 2.3.3: the Fashion-MNIST project, on your own, on whatever device you have.
    """
)

CELLS = [INTRO, SETUP, *E1, *E2, *E3, *E4, SUMMARY]
