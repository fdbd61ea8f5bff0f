"""Lesson 2.3.1 notebook: state_dicts, checkpoints, an exact resume, map_location, best-on-validation, weights_only."""

from notebooks.cells import code, exercise, markdown

SLUG = "saving-and-loading"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    Picture epoch 47 of a 50-epoch run: the laptop sleeps, the notebook's kernel dies, and the
    trained model was only ever in memory. Everything is gone. This notebook makes sure that never
    costs you more than one epoch: you save a model's weights, save a **checkpoint** every epoch,
    resume an interrupted run so that it ends *bit for bit* where an uninterrupted run ends, load a
    GPU checkpoint on a CPU, keep the best epoch's weights (the "save best model weights" step of
    early stopping, Foundations 1.3.7), and see why `torch.load(..., weights_only=True)` refuses a
    pickled whole model.

    Three calls do almost all of it:

    ```python
    torch.save(model.state_dict(), path)                               # save the weights
    model.load_state_dict(torch.load(path, weights_only=True))         # load them into a model
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])      # the optimizer has state too
    ```

    A `state_dict` is a plain dictionary from names (`"0.weight"`) to tensors. That file is what
    "exporting a model" means in this course: the portable thing you share, which anyone with the
    model's code can load.

    Everything here is small on purpose: a tiny MLP on random data, fixed seeds, no download. All
    files go into a temporary folder (`workdir`), never next to the notebook. Each exercise has a
    brief, **your cell** (fill in the `# TODO`s), a **check** cell to run after your attempt, then a
    folded solution (try first!). If you are stuck, open it, copy it into your cell and run the
    check again: later exercises build on earlier ones.
    """
)

SETUP = code(
    '''
    import pickle
    import tempfile
    import zipfile
    from pathlib import Path

    import torch
    from torch import nn, optim

    # These tensors are tiny: one thread is the quickest, and extra threads only wait on each other.
    torch.set_num_threads(1)
    workdir = Path(tempfile.mkdtemp(prefix="saving-and-loading-"))  # every file goes here

    # A small regression task on random data: 8 features, a curved target, some noise.
    torch.manual_seed(0)
    X_all = torch.randn(600, 8)
    true_w = torch.randn(8, 1)
    y_all = torch.sin(X_all @ true_w) + 0.3 * torch.randn(600, 1)
    # A validation split held out from the training data, with its own fixed seed (exercise 5).
    split = torch.randperm(600, generator=torch.Generator().manual_seed(1))
    X_train, y_train = X_all[split[:480]], y_all[split[:480]]
    X_val, y_val = X_all[split[480:]], y_all[split[480:]]
    loss_fn = nn.MSELoss()


    def make_model():
        """The same architecture every time: a state_dict only loads into the model it came from."""
        return nn.Sequential(nn.Linear(8, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 1))


    def train_one_epoch(model, optimizer, inputs=X_train, targets=y_train, batch_size=32):
        """One shuffled pass in mini-batches; the shuffle and dropout both draw on torch's RNG."""
        model.train()
        order = torch.randperm(len(inputs))
        total = 0.0
        for start in range(0, len(inputs), batch_size):
            batch = order[start:start + batch_size]
            loss = loss_fn(model(inputs[batch]), targets[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        return total / len(inputs)


    def validation_loss(model):
        """The loss on the held-out split: eval mode (no dropout) and no graph."""
        model.eval()
        with torch.no_grad():
            return loss_fn(model(X_val), y_val).item()


    print(f"PyTorch {torch.__version__}; {len(X_train)} training and {len(X_val)} validation rows; "
          f"files go to {workdir}")
    '''
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): save a state_dict, load it into a fresh model

    `model.state_dict()` is an ordered dictionary of the model's tensors, one per parameter (and
    per buffer, such as batch norm's running mean). Look at it first: the setup cell below prints
    its keys and shapes. Then:

    1. Save it: `torch.save(model.state_dict(), weights_path)`.
    2. Build a **fresh** model with `make_model()` (its weights are new random numbers) and call
       it `restored`.
    3. Load the file into it: `restored.load_state_dict(torch.load(weights_path, weights_only=True))`.

    The check puts both models in eval mode and wants identical outputs: not close, identical.
    """,
    setup="""
    torch.manual_seed(0)
    model = make_model()
    for name, tensor in model.state_dict().items():
        print(f"{name:>9}: {list(tensor.shape)}")
    weights_path = workdir / "model_weights.pt"
    """,
    scaffold="""
    # TODO: save model.state_dict() to weights_path with torch.save
    restored = None  # TODO: a fresh make_model()
    # TODO: restored.load_state_dict(torch.load(weights_path, weights_only=True))
    """,
    solution="""
    torch.save(model.state_dict(), weights_path)
    restored = make_model()  # new random weights...
    restored.load_state_dict(torch.load(weights_path, weights_only=True))  # ...replaced by the saved ones
    """,
    needs=("restored",),
    check="""
    assert weights_path.exists(), f"nothing at {weights_path}: torch.save(model.state_dict(), weights_path)"
    try:
        on_disk = torch.load(weights_path, weights_only=True)
    except pickle.UnpicklingError:
        on_disk = None  # torch.save(model) pickles the whole object: exercise 6 shows why it is refused
    assert isinstance(on_disk, dict) and list(on_disk) == list(model.state_dict()), (
        f"the file should hold model.state_dict() (keys {list(model.state_dict())}), got {type(on_disk).__name__}"
    )
    assert isinstance(restored, nn.Module) and restored is not model, (
        "restored should be a fresh make_model(), not the same object as model"
    )
    assert all(p.data_ptr() != q.data_ptr() for p, q in zip(restored.parameters(), model.parameters())), (
        "restored shares its tensors with model: build it with make_model() and load the file into it"
    )
    for name, tensor in restored.state_dict().items():
        assert torch.equal(tensor, on_disk[name]), f"restored's {name} is not the saved one: load_state_dict"
    model.eval()
    restored.eval()
    with torch.no_grad():
        same = torch.equal(model(X_val), restored(X_val))
    assert same, "restored gives different outputs from model"
    print(f"OK: {len(on_disk)} tensors saved and loaded; restored gives identical outputs on "
          f"{len(X_val)} rows ({weights_path.stat().st_size:,} bytes on disk)")
    """,
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): a checkpoint every epoch

    Weights are enough to *use* a model. To *continue training* it you need more: which epoch you
    reached, and the optimizer's own state. Adam keeps, for every parameter, a running average of
    its gradients (`exp_avg`), of their squares (`exp_avg_sq`) and a step count; all of it lives in
    `optimizer.state_dict()`. A **checkpoint** is one dictionary holding it all:

    ```python
    {"epoch": epoch, "model_state_dict": model.state_dict(),
     "optimizer_state_dict": optimizer.state_dict(), "loss": loss}
    ```

    In the loop below, after each epoch, save that dict to `checkpoint_path` with `torch.save`
    (overwriting the last one is fine: it is the newest that matters after a crash) and append the
    epoch to `saved_epochs`. After the loop, load the file back into `checkpoint`
    (`weights_only=True` loads dicts of tensors and numbers happily).
    """,
    scaffold="""
    torch.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    checkpoint_path = workdir / "checkpoint.pt"
    saved_epochs = []

    for epoch in range(1, 4):
        loss = train_one_epoch(model, optimizer)  # the epoch's mean training loss, a float
        # TODO: torch.save the checkpoint dict (epoch, model_state_dict, optimizer_state_dict, loss)
        #       to checkpoint_path, then saved_epochs.append(epoch)

    checkpoint = None  # TODO: torch.load(checkpoint_path, weights_only=True)
    """,
    solution="""
    torch.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    checkpoint_path = workdir / "checkpoint.pt"
    saved_epochs = []

    for epoch in range(1, 4):
        loss = train_one_epoch(model, optimizer)
        torch.save({
            "epoch": epoch,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": optimizer.state_dict(),
            "loss": loss,
        }, checkpoint_path)
        saved_epochs.append(epoch)

    checkpoint = torch.load(checkpoint_path, weights_only=True)
    """,
    needs=("checkpoint",),
    check="""
    assert isinstance(checkpoint, dict), f"checkpoint should be the loaded dict, got {type(checkpoint).__name__}"
    missing = {"epoch", "model_state_dict", "optimizer_state_dict", "loss"} - set(checkpoint)
    assert not missing, f"the checkpoint is missing {sorted(missing)}"
    assert saved_epochs == [1, 2, 3], f"save once per epoch and record it: saved_epochs is {saved_epochs}"
    assert checkpoint["epoch"] == 3, f"the file should hold the last epoch (3), got {checkpoint['epoch']}"
    for name, tensor in model.state_dict().items():
        assert torch.equal(checkpoint["model_state_dict"][name], tensor), (
            f"the saved {name} is not the model's after epoch 3: save model.state_dict() each epoch"
        )
    adam = checkpoint["optimizer_state_dict"]
    assert set(adam) == {"state", "param_groups"} and len(adam["state"]) == 4, (
        "optimizer_state_dict should be optimizer.state_dict(): a state for each of the 4 parameters"
    )
    steps = int(adam["state"][0]["step"])
    assert steps == 3 * 15, f"Adam's step count should be 3 epochs x 15 batches = 45, got {steps}"
    assert abs(float(checkpoint["loss"]) - loss) < 1e-9, "save the epoch's loss under 'loss'"
    print(f"OK: epoch {checkpoint['epoch']}, loss {float(checkpoint['loss']):.4f}; Adam's state for "
          f"'0.weight': step {steps}, " + ", ".join(
              f"{key} {list(value.shape)}" for key, value in adam["state"][0].items() if key != "step"))
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): crash at epoch 3 of 6, resume, and end exactly where you would have

    The setup cell below runs the same 6 epochs twice:

    - **uninterrupted**: seed 0, six epochs; its final weights are kept in `uninterrupted`;
    - **crashed**: seed 0, three epochs, a checkpoint after each (now with one more entry,
      `"rng_state": torch.get_rng_state()`), then the model and optimizer are deleted and the
      random number generator jumps elsewhere, as a fresh process would start.

    It then resumes the crashed run **with the weights only** (a fresh Adam) and prints how far
    that ends from the uninterrupted run: Adam restarts its averages and its step count, so its
    first steps are the full-size steps of a brand-new optimizer, its losses run above the
    uninterrupted run's, and the weights end somewhere else. Saving the model is not saving
    everything needed to resume.

    Your turn, the full resume:

    1. Load `crash_path` into `checkpoint` (`weights_only=True`).
    2. A fresh `model = make_model()` and `optimizer = optim.Adam(model.parameters(), lr=0.01)`,
       then load **both** state dicts into them.
    3. Restore the RNG: `torch.set_rng_state(checkpoint["rng_state"])`. Do it *after* building the
       model: `make_model()` draws random initial weights and would move the generator on. The
       shuffle order and the dropout masks of epochs 4-6 then match the uninterrupted run's.
       (On a GPU, dropout draws on the GPU's generator: save `torch.cuda.get_rng_state_all()` too.)
    4. `start_epoch = checkpoint["epoch"] + 1`; train from `start_epoch` to 6, appending each
       epoch to `resumed_epochs`.

    The check wants `torch.equal` on every weight: bit-for-bit the uninterrupted result.
    """,
    setup="""
    def snapshot(model):
        \"\"\"A copy of the weights that later training cannot change.\"\"\"
        return {name: tensor.clone() for name, tensor in model.state_dict().items()}


    torch.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    uninterrupted_losses = [train_one_epoch(model, optimizer) for epoch in range(1, 7)]
    uninterrupted = snapshot(model)

    crash_path = workdir / "crash.pt"
    torch.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(1, 4):
        loss = train_one_epoch(model, optimizer)
        torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                    "optimizer_state_dict": optimizer.state_dict(), "loss": loss,
                    "rng_state": torch.get_rng_state()}, crash_path)
    del model, optimizer      # the crash: nothing survives but the file
    torch.manual_seed(2026)   # a new process: the generator starts somewhere else

    # Resume with the weights only: a fresh Adam (the RNG is restored, so only the optimizer differs).
    saved = torch.load(crash_path, weights_only=True)
    weights_only_model = make_model()
    weights_only_model.load_state_dict(saved["model_state_dict"])
    fresh_adam = optim.Adam(weights_only_model.parameters(), lr=0.01)
    torch.set_rng_state(saved["rng_state"])
    weights_only_losses = [train_one_epoch(weights_only_model, fresh_adam) for epoch in range(4, 7)]
    gap = max((weights_only_model.state_dict()[name] - tensor).abs().max().item()
              for name, tensor in uninterrupted.items())
    print("epoch:            " + "  ".join(f"{epoch:6d}" for epoch in range(1, 7)))
    print("uninterrupted:    " + "  ".join(f"{loss:.4f}" for loss in uninterrupted_losses))
    print("weights only:     " + " " * 24 + "  ".join(f"{loss:.4f}" for loss in weights_only_losses))
    print(f"weights-only resume vs uninterrupted: the weights differ by up to {gap:.4f}")
    del saved
    """,
    scaffold="""
    checkpoint = None  # TODO: torch.load(crash_path, weights_only=True)
    model = None  # TODO: make_model(), then load checkpoint["model_state_dict"] into it
    optimizer = None  # TODO: optim.Adam(model.parameters(), lr=0.01), then load its state dict
    # TODO: torch.set_rng_state(checkpoint["rng_state"])  (after make_model: it draws random numbers)
    start_epoch = None  # TODO: the epoch after the saved one
    resumed_epochs = []
    # TODO: for epoch in range(start_epoch, 7): train_one_epoch(model, optimizer); resumed_epochs.append(epoch)
    """,
    solution="""
    checkpoint = torch.load(crash_path, weights_only=True)
    model = make_model()
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])  # Adam's averages and step count
    torch.set_rng_state(checkpoint["rng_state"])  # last: make_model() above drew random numbers
    start_epoch = checkpoint["epoch"] + 1
    resumed_epochs = []
    for epoch in range(start_epoch, 7):
        train_one_epoch(model, optimizer)
        resumed_epochs.append(epoch)
    """,
    needs=("checkpoint", "model", "optimizer", "start_epoch"),
    check="""
    assert start_epoch == 4 and resumed_epochs == [4, 5, 6], (
        f"resume after the saved epoch 3: start_epoch should be 4 and resumed_epochs [4, 5, 6], "
        f"got {start_epoch} and {resumed_epochs}"
    )
    assert type(optimizer) is optim.Adam and all(
        any(p is q for q in optimizer.param_groups[0]["params"]) for p in model.parameters()
    ), "optimizer should be optim.Adam over this model's parameters"
    steps = int(optimizer.state_dict()["state"][0]["step"])
    assert steps == 6 * 15, (
        f"Adam has taken {steps} steps, not 6 x 15 = 90: load checkpoint['optimizer_state_dict'] "
        "so it continues from step 45 (a fresh Adam counts from 0)"
    )
    different = [name for name, tensor in model.state_dict().items() if not torch.equal(tensor, uninterrupted[name])]
    assert not different, (
        f"{different} differ from the uninterrupted run. Did you load both state dicts, and call "
        "torch.set_rng_state(checkpoint['rng_state']) after make_model() and before training?"
    )
    print(f"OK: resumed at epoch {start_epoch}; all {len(uninterrupted)} tensors are torch.equal to the "
          f"uninterrupted run (the weights-only resume was off by up to {gap:.4f})")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): a GPU checkpoint on a CPU, with map_location

    `torch.save` records **the device of every tensor** in the file, and `torch.load` puts each
    tensor back on that device. A checkpoint saved on a GPU machine therefore fails on a laptop:
    *"Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False"*.

    There may be no GPU here, so the setup cell makes a file exactly like one saved on a GPU: it
    saves on the CPU, then rewrites the device recorded for each tensor, `'cpu'`, to `'cuda:0'`
    (the file is a zip archive holding a pickle, `data.pkl`, and one file per tensor). It then
    tries a plain `torch.load` on it.

    Write `load_checkpoint(path)`, which loads any checkpoint onto **the device this code runs on**,
    whatever device it was saved on: `device` is `"cuda"` when a GPU is available and `"cpu"`
    otherwise, and `torch.load(path, map_location=device, weights_only=True)` moves every tensor
    there as it loads. Then load `gpu_path` with it into `local_model`, a fresh `make_model()`
    moved `.to(device)`. The same code now runs on a laptop and on a GPU machine.
    """,
    setup="""
    def pretend_saved_on_gpu(source, target):
        \"\"\"Copy a torch.save archive, rewriting each tensor's recorded device 'cpu' to 'cuda:0'.\"\"\"
        with zipfile.ZipFile(source) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        for name in members:
            if name.endswith("/data.pkl"):  # pickle protocol 2: a string is b"X", 4 length bytes, text
                members[name] = members[name].replace(b"X\\x03\\x00\\x00\\x00cpu", b"X\\x06\\x00\\x00\\x00cuda:0")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)


    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(0)
    gpu_trained = make_model()  # stands in for a model trained on someone's GPU
    torch.save(gpu_trained.state_dict(), workdir / "saved_on_cpu.pt")
    gpu_path = workdir / "saved_on_gpu.pt"
    pretend_saved_on_gpu(workdir / "saved_on_cpu.pt", gpu_path)
    try:
        plain = torch.load(gpu_path, weights_only=True)
        print(f"a plain torch.load put the tensors on {plain['0.weight'].device}: this machine has a GPU")
    except RuntimeError as error:
        print(f"a plain torch.load on this {device}-only machine fails:\\n  {str(error).splitlines()[0]}")
    """,
    scaffold="""
    def load_checkpoint(path):
        \"\"\"Load a checkpoint onto this machine's device, wherever it was saved.\"\"\"
        # TODO: torch.load with map_location=device and weights_only=True
        raise NotImplementedError("load with torch.load(path, map_location=device, weights_only=True)")


    local_model = None  # TODO: make_model().to(device), then load_state_dict(load_checkpoint(gpu_path))
    """,
    solution="""
    def load_checkpoint(path):
        \"\"\"Load a checkpoint onto this machine's device, wherever it was saved.\"\"\"
        return torch.load(path, map_location=device, weights_only=True)


    local_model = make_model().to(device)
    local_model.load_state_dict(load_checkpoint(gpu_path))
    """,
    needs=("local_model",),
    check="""
    loaded = load_checkpoint(gpu_path)
    assert isinstance(loaded, dict), f"load_checkpoint should return the loaded state_dict, got {type(loaded).__name__}"
    places = {tensor.device.type for tensor in loaded.values()}
    assert places == {torch.device(device).type}, (
        f"load_checkpoint put tensors on {places}, not {device}: pass map_location=device to torch.load"
    )
    assert isinstance(local_model, nn.Module), "local_model should be a make_model() with the file loaded"
    assert {p.device.type for p in local_model.parameters()} == {torch.device(device).type}, (
        f"move local_model to {device}: make_model().to(device)"
    )
    gpu_trained.eval()
    local_model.eval()
    for name, tensor in gpu_trained.state_dict().items():
        assert torch.equal(local_model.state_dict()[name].cpu(), tensor), (
            f"local_model's {name} is not the saved one: local_model.load_state_dict(load_checkpoint(gpu_path))"
        )
    with torch.no_grad():  # a GPU's kernels round differently from a CPU's: close, not bit-equal
        close = torch.allclose(local_model(X_val.to(device)).cpu(), gpu_trained(X_val), atol=1e-5)
    assert close, "local_model should give the saved model's outputs"
    print(f"OK: a checkpoint tagged cuda:0 loaded onto {device}: the same weights, the same outputs")
    """,
)

E5 = exercise(
    brief="""
    ## Exercise 5 (independent): keep the best epoch, chosen on validation data

    Training loss keeps falling while the model starts memorising noise; the loss on data it never
    trains on is the honest signal, and it wobbles and turns back up. Early stopping (Foundations
    1.3.7) keeps **the best epoch's weights**, not the last ones. "Best" is judged on the
    **validation split** the setup held out of the training data (`X_val`, `y_val`), never on the
    test set: a test set that helped choose the model no longer gives an unbiased final score.
    Choose on validation, report the test set once, at the very end.

    To see it turn within a few seconds, train on a small slice of the training split,
    `X_small, y_small` (96 rows, set up below): a 64-unit net memorises 96 noisy rows quickly.
    Train a fresh model for 30 epochs (seed 0, `make_model()`, Adam with `lr=0.01`,
    `train_one_epoch(model, optimizer, X_small, y_small)`). After each epoch compute
    `validation_loss(model)` and append it to `val_losses`; whenever it is the lowest so far, save
    a checkpoint (`"epoch"`, `"model_state_dict"`, `"val_loss"`) to `best_path`. After the loop
    load the file into `best_checkpoint`.
    """,
    setup="""
    X_small, y_small = X_train[:96], y_train[:96]  # a small slice of the training split: it overfits fast
    """,
    scaffold="""
    torch.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    best_path = workdir / "best.pt"
    val_losses = []
    # TODO: for epoch in range(1, 31): train_one_epoch on X_small, y_small, then
    #       val_loss = validation_loss(model);
    #       append it; if it is the lowest so far, torch.save the checkpoint to best_path
    best_checkpoint = None  # TODO: torch.load(best_path, weights_only=True)
    """,
    solution="""
    torch.manual_seed(0)
    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    best_path = workdir / "best.pt"
    val_losses = []
    for epoch in range(1, 31):
        train_one_epoch(model, optimizer, X_small, y_small)
        val_loss = validation_loss(model)  # held-out data, eval mode, no graph
        val_losses.append(val_loss)
        if val_loss == min(val_losses):  # the best so far: keep these weights
            torch.save({"epoch": epoch, "model_state_dict": model.state_dict(), "val_loss": val_loss},
                       best_path)
    best_checkpoint = torch.load(best_path, weights_only=True)
    """,
    needs=("val_losses", "best_checkpoint"),
    check="""
    assert len(val_losses) == 30, f"one validation loss per epoch (30), got {len(val_losses)}"
    best_epoch = min(range(30), key=lambda i: val_losses[i]) + 1
    assert best_checkpoint["epoch"] == best_epoch, (
        f"the lowest validation loss came after epoch {best_epoch} ({val_losses[best_epoch - 1]:.4f}), "
        f"but the file holds epoch {best_checkpoint['epoch']}: save only when the loss is a new minimum"
    )
    judge = make_model()
    judge.load_state_dict(best_checkpoint["model_state_dict"])
    measured = validation_loss(judge)
    assert abs(measured - val_losses[best_epoch - 1]) < 1e-6, (
        f"the saved weights score {measured:.4f} on the validation split, but val_losses says "
        f"{val_losses[best_epoch - 1]:.4f}: record validation_loss(model) on X_val, after each epoch"
    )
    final = validation_loss(model)
    print(f"OK: best epoch {best_epoch} of 30, validation loss {measured:.4f} "
          f"(the last epoch's weights: {final:.4f})")
    print("validation loss by epoch: " + " ".join(f"{loss:.3f}" for loss in val_losses))
    """,
)

E6 = exercise(
    brief="""
    ## Exercise 6 (predict, then explain): why weights_only=True refuses a whole model

    `torch.save(model)` looks simpler than saving a state_dict, and it pickles the **whole Python
    object**: the file names the class (`torch.nn.modules.container.Sequential`, or your own
    `my_project.models.Net`) and unpickling rebuilds it by importing that class and calling into
    it. Rename the class or move its file and the checkpoint no longer loads. Worse, a pickle can
    name *any* function to call while loading. The setup cell saves a whole model, and also a small
    pickle whose only content is a call to `print`: loading it with `weights_only=False` runs that
    call. It could as well have been `os.system`.

    **Predict first**: what will `torch.load(whole_path, weights_only=True)` do?

    In your cell, try it inside `try`/`except`, keep the error in `refused`, print it and read its
    last lines. Then set `why` to the letter of the right explanation:

    - `"a"`: the file is damaged: `torch.save(model)` writes an incomplete file;
    - `"b"`: the file asks the unpickler to import and call a class that is not on the allow-list
      (tensors, dicts, lists, numbers, strings), and loading an arbitrary global could run any code;
    - `"c"`: `weights_only=True` only reads files saved on the same version of PyTorch.

    The habit: save and share state_dicts, load with `weights_only=True`, and never load an
    untrusted file with `weights_only=False`.
    """,
    setup="""
    class RunsCodeWhenLoaded:
        \"\"\"Unpickling calls what __reduce__ returns: here a harmless print.\"\"\"
        def __reduce__(self):
            return (print, ("  this line was printed by torch.load: the file ran code",))


    torch.manual_seed(0)
    whole_path = workdir / "whole_model.pt"
    torch.save(make_model(), whole_path)  # the whole object, pickled
    sneaky_path = workdir / "sneaky.pt"
    torch.save(RunsCodeWhenLoaded(), sneaky_path)
    print("torch.load(sneaky_path, weights_only=False):")
    torch.load(sneaky_path, weights_only=False)  # only because we wrote this file ourselves
    """,
    scaffold="""
    refused = None
    try:
        pass  # TODO: torch.load(whole_path, weights_only=True)
    except pickle.UnpicklingError as error:
        pass  # TODO: refused = error; print(error)
    why = None  # TODO: "a", "b" or "c"
    """,
    solution="""
    refused = None
    try:
        torch.load(whole_path, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = error
        print(error)
    why = "b"
    """,
    needs=("refused", "why"),
    check="""
    assert isinstance(refused, pickle.UnpicklingError), (
        f"refused should be the UnpicklingError torch.load raised, got {type(refused).__name__}"
    )
    assert "Sequential" in str(refused), "the error should name the class it refused to load"
    assert why in ("a", "b", "c"), f'why should be "a", "b" or "c", got {why!r}'
    assert why != "a", "the file is complete: weights_only=False would load it. What does the error say?"
    assert why != "c", "same PyTorch, same machine, and still refused: read the error's last lines"
    try:
        torch.load(sneaky_path, weights_only=True)
        ran = True
    except pickle.UnpicklingError:
        ran = False
    assert not ran
    print("OK: weights_only=True refused the pickled Sequential (and the print call): only tensors, "
          "dicts, lists, numbers and strings get through. A state_dict needs nothing more.")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **state_dict**: `torch.save(model.state_dict(), path)`, then
      `model.load_state_dict(torch.load(path, weights_only=True))` into the same architecture. That
      file is the portable model you export and share.
    - **Checkpoints**: epoch, model and optimizer state dicts, loss, saved every epoch; a crash
      costs at most one epoch.
    - **An exact resume** needs everything that shapes the next step: the weights, the optimizer's
      state (Adam's averages and step count; a fresh optimizer sends the run elsewhere) and the RNG
      state (shuffles, dropout). A run that uses a learning-rate scheduler saves its `state_dict()`
      too.
    - **`map_location`**: the file remembers each tensor's device; load onto the device you have.
    - **Best epoch on validation**: keep the checkpoint with the lowest validation loss; the test
      set is for the final report only.
    - **`weights_only=True`**: a pickled whole model is fragile (tied to its class and module path)
      and can run code when loaded; only load trusted files with `weights_only=False`, and prefer
      not to need it.

    When a run misbehaves (2.2.3's workflow), a checkpoint from every epoch lets you go back to the
    last good one and look. Next, 2.3.2: the same loop on a GPU.
    """
)

CLEANUP = code(
    """
    import shutil

    shutil.rmtree(workdir)  # the temporary files, gone
    print(f"removed {workdir}")
    """
)

CELLS = [INTRO, SETUP, *E1, *E2, *E3, *E4, *E5, *E6, SUMMARY, CLEANUP]
