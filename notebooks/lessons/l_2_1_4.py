"""Lesson 2.1.4 notebook: the training loop, by hand first, then with nn, optim and a small net."""

from notebooks.cells import code, exercise, markdown

SLUG = "training-loop"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    In Foundations 1.1 you fitted a line to y = 2x + 1 with NumPy: you wrote the prediction, the
    mean squared error, the gradients by hand and the update `w = w - lr * dw`. This notebook
    does the same fit in PyTorch, and then lets PyTorch take over one piece at a time. Every
    version beats to the same four-line **heartbeat**:

    ```python
    y_pred = model(x)          # 1. forward: predict
    loss = loss_fn(y_pred, y)  # 2. loss: how wrong?
    loss.backward()            # 3. backward: autograd fills every .grad
    optimizer.step()           # 4. update: move the parameters against their gradients
    ```

    (plus `optimizer.zero_grad()`, which exercise 4 shows is not boilerplate). PyTorch is not
    doing something different from what you learned: it automates what you did by hand. So we
    write the explicit operations first (raw tensors, a manual update), then the convenience
    that replaces them (`nn.Linear`, `nn.MSELoss`, `optim.SGD`, `optim.Adam`), each doing the
    same thing.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run
    after your attempt, then a folded solution (try first!). If you are stuck, open it, copy it
    into your cell and run the check again: later exercises build on earlier ones.
    """
)

SETUP = code(
    """
    import math

    import torch
    from torch import nn, optim

    # These tensors are tiny: one thread is the quickest, and extra threads only wait on each other.
    torch.set_num_threads(1)

    # The Foundations data: y = 2x + 1 plus a little noise, x uniform in [-2, 2].
    torch.manual_seed(0)
    x = torch.rand(100, 1) * 4 - 2
    y = 2 * x + 1 + 0.1 * torch.randn(100, 1)
    print(f"PyTorch {torch.__version__}; x and y are {list(x.shape)}: 100 samples, 1 feature")
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): the loop by hand, on raw tensors

    The Foundations fit, with autograd doing the calculus. Write it with no `nn` and no `optim`:

    1. `w` and `b`: tensors holding `0.0`, shape `[1]`, with `requires_grad=True` so autograd
       tracks them (`torch.zeros(1, requires_grad=True)`).
    2. For 200 steps: the prediction `y_pred = x * w + b`, the loss
       `((y_pred - y) ** 2).mean()`, then `loss.backward()`, which fills `w.grad` and `b.grad`.
    3. The update, **under `torch.no_grad()`** (it is bookkeeping, not part of the model, so
       autograd must not record it): `w -= lr * w.grad`, the same for `b`.
    4. Empty the gradients for the next step: `w.grad.zero_()` and `b.grad.zero_()`.
       `backward()` *adds* into `.grad`; exercise 4 shows what happens if you forget.

    Record each step's `loss.item()` in `losses`. The check wants slope ≈ 2 and intercept ≈ 1.
    """,
    scaffold="""
    lr = 0.1
    w = None  # TODO: a [1] tensor holding 0.0 that autograd tracks (requires_grad=True)
    b = None  # TODO: the same for the intercept
    losses = []

    for step in range(200):
        # TODO: forward: y_pred = x * w + b
        # TODO: loss: the mean of the squared errors; then loss.backward()
        # TODO: under torch.no_grad(): w -= lr * w.grad, and the same for b
        # TODO: w.grad.zero_() and b.grad.zero_(); losses.append(loss.item())
        raise NotImplementedError("fill in the loop: forward, loss, backward, update, zero the grads")
    """,
    solution="""
    lr = 0.1
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []

    for step in range(200):
        y_pred = x * w + b                    # forward
        loss = ((y_pred - y) ** 2).mean()     # loss: mean squared error
        loss.backward()                       # backward: fills w.grad and b.grad
        with torch.no_grad():                 # update: not part of the graph
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad.zero_()                        # backward adds: empty .grad for the next step
        b.grad.zero_()
        losses.append(loss.item())
    """,
    needs=("w", "b"),
    check="""
    assert isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor), "w and b should be tensors"
    assert w.requires_grad and b.requires_grad, "create w and b with requires_grad=True"
    assert w.is_leaf and b.is_leaf, (
        "w and b should still be the tensors you created: update them in place (w -= ...) "
        "under torch.no_grad(), rather than making new ones with w = w - ..."
    )
    assert w.shape == (1,) and b.shape == (1,), f"w and b: shape [1], got {list(w.shape)}, {list(b.shape)}"
    assert len(losses) == 200, f"record one loss per step (200), got {len(losses)}"
    assert abs(w.item() - 2) < 0.1, f"the slope should be close to 2, got {w.item():.3f}"
    assert abs(b.item() - 1) < 0.1, f"the intercept should be close to 1, got {b.item():.3f}"
    assert float(losses[-1]) < 0.02 < float(losses[0]), (
        f"the loss should fall from above 0.02 to near the noise level (0.01), "
        f"got {float(losses[0]):.3f} -> {float(losses[-1]):.4f}"
    )
    print(f"OK: by hand, y = {w.item():.2f}x + {b.item():.2f} (true: y = 2x + 1); "
          f"loss {float(losses[0]):.3f} -> {float(losses[-1]):.4f}")
    """,
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): the same fit with nn.Linear, nn.MSELoss and optim.SGD

    Now let PyTorch hold the pieces you wrote by hand:

    | by hand (exercise 1)               | PyTorch                                        |
    |------------------------------------|------------------------------------------------|
    | `w`, `b` and `x * w + b`           | `model = nn.Linear(1, 1)`, `model(x)`          |
    | `((y_pred - y) ** 2).mean()`       | `loss_fn = nn.MSELoss()`, `loss_fn(y_pred, y)` |
    | `w -= lr * w.grad` under no_grad   | `optimizer.step()`                             |
    | `w.grad.zero_()`                   | `optimizer.zero_grad()`                        |

    `optim.SGD(model.parameters(), lr=0.1)` receives the model's parameters (its weight and
    bias) and does exactly your update. Train 200 steps with the heartbeat and record
    `sgd_losses`. Predict first: will it find the same line as exercise 1?
    """,
    scaffold="""
    torch.manual_seed(0)
    model = None  # TODO: nn.Linear(1, 1): one input feature, one output
    loss_fn = None  # TODO: nn.MSELoss()
    optimizer = None  # TODO: optim.SGD over model.parameters(), lr=0.1
    sgd_losses = []

    for step in range(200):
        # TODO: y_pred = model(x); loss = loss_fn(y_pred, y)
        # TODO: optimizer.zero_grad(); loss.backward(); optimizer.step()
        # TODO: sgd_losses.append(loss.item())
        raise NotImplementedError("fill in the heartbeat: forward, loss, zero_grad, backward, step")
    """,
    solution="""
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    sgd_losses = []

    for step in range(200):
        y_pred = model(x)             # forward
        loss = loss_fn(y_pred, y)     # loss
        optimizer.zero_grad()         # empty every parameter's .grad
        loss.backward()               # backward
        optimizer.step()              # update: p -= lr * p.grad, for every parameter
        sgd_losses.append(loss.item())
    """,
    needs=("model", "loss_fn", "optimizer"),
    check="""
    assert isinstance(model, nn.Linear) and model.in_features == model.out_features == 1, (
        f"model should be nn.Linear(1, 1), got {model}"
    )
    assert isinstance(loss_fn, nn.MSELoss), f"loss_fn should be nn.MSELoss(), got {loss_fn}"
    assert type(optimizer) is optim.SGD, f"optimizer should be optim.SGD, got {type(optimizer).__name__}"
    given = [p for group in optimizer.param_groups for p in group["params"]]
    assert len(given) == 2 and all(any(p is q for q in given) for p in model.parameters()), (
        "give the optimizer this model's parameters: optim.SGD(model.parameters(), lr=0.1)"
    )
    slope, intercept = model.weight.item(), model.bias.item()
    assert len(sgd_losses) == 200, f"record one loss per step (200), got {len(sgd_losses)}"
    assert abs(slope - 2) < 0.1, f"the slope should be close to 2, got {slope:.3f}"
    assert abs(intercept - 1) < 0.1, f"the intercept should be close to 1, got {intercept:.3f}"
    by_hand = ""
    if isinstance(globals().get("w"), torch.Tensor) and isinstance(globals().get("b"), torch.Tensor):
        assert abs(slope - w.item()) < 0.02 and abs(intercept - b.item()) < 0.02, (
            f"the same loop should find exercise 1's line: y = {w.item():.3f}x + {b.item():.3f}, "
            f"got y = {slope:.3f}x + {intercept:.3f}"
        )
        by_hand = f", the line you found by hand (y = {w.item():.2f}x + {b.item():.2f})"
    print(f"OK: nn.Linear + nn.MSELoss + optim.SGD found y = {slope:.2f}x + {intercept:.2f}{by_hand}")
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): swap in optim.Adam

    Foundations 1.3.5 compared optimizers: plain gradient descent, momentum, and Adam, which
    keeps a running average of each parameter's gradient (momentum) and scales each parameter's
    step by how large its gradients have been. In PyTorch that whole idea is **one line**:
    `optim.Adam(model.parameters(), lr=0.1)`. Everything else stays: **same heartbeat, new
    instruments**.

    Train a fresh `nn.Linear(1, 1)` with Adam for 200 steps, with the same loop body as
    exercise 2, and record `adam_losses`.
    """,
    scaffold="""
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = None  # TODO: optim.Adam over model.parameters(), lr=0.1: the only new line
    adam_losses = []

    for step in range(200):
        # TODO: the same loop body as exercise 2, recording adam_losses
        raise NotImplementedError("fill in the heartbeat: the same lines as exercise 2")
    """,
    solution="""
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.1)  # the only line that changed
    adam_losses = []

    for step in range(200):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        adam_losses.append(loss.item())
    """,
    needs=("optimizer",),
    check="""
    assert type(optimizer) is optim.Adam, f"optimizer should be optim.Adam, got {type(optimizer).__name__}"
    given = [p for group in optimizer.param_groups for p in group["params"]]
    assert len(given) == 2 and all(any(p is q for q in given) for p in model.parameters()), (
        "give Adam this model's parameters: optim.Adam(model.parameters(), lr=0.1)"
    )
    assert len(optimizer.state) == 2, "Adam has no running averages yet: did the loop call step()?"
    slope, intercept = model.weight.item(), model.bias.item()
    assert len(adam_losses) == 200, f"record one loss per step (200), got {len(adam_losses)}"
    assert abs(slope - 2) < 0.1, f"the slope should be close to 2, got {slope:.3f}"
    assert abs(intercept - 1) < 0.1, f"the intercept should be close to 1, got {intercept:.3f}"
    print(f"OK: Adam found y = {slope:.2f}x + {intercept:.2f}. Loss at steps 1, 10, 50, 200:")
    for name, curve in (("SGD", sgd_losses), ("Adam", adam_losses)):
        print(f"  {name:>4}: " + "  ".join(f"{curve[i - 1]:.4f}" for i in (1, 10, 50, 200)))
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (predict, then fix): the loop that forgets zero_grad

    "`optimizer.zero_grad()` is just boilerplate." Is it? `loss.backward()` does not replace
    `.grad`, it **adds** to it (that is what lets you sum gradients over several small batches).
    The loop in your cell below has no `zero_grad()`.

    **Predict first**: with the gradients of every past step piling up, what happens to the fit?
    Run the cell as it is and read its printout (the loss and the weight's `.grad` every 40
    steps), then run the check. Then fix the loop so the check passes.
    """,
    scaffold="""
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    for step in range(200):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        loss.backward()
        if step % 40 == 0 or step == 199:  # what backward has just left in .grad
            print(f"step {step:3d}: loss {loss.item():8.4f}, weight.grad {model.weight.grad.item():8.3f}")
        optimizer.step()
    # TODO: run it, read the printout, then fix the loop (one missing line, in the right place)
    """,
    solution="""
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    loss_fn = nn.MSELoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    for step in range(200):
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        optimizer.zero_grad()  # the fix: empty .grad before backward adds this step's gradient
        loss.backward()
        if step % 40 == 0 or step == 199:  # what backward has just left in .grad
            print(f"step {step:3d}: loss {loss.item():8.4f}, weight.grad {model.weight.grad.item():8.3f}")
        optimizer.step()
    """,
    check="""
    slope, intercept = model.weight.item(), model.bias.item()
    final_loss = loss_fn(model(x), y).item()
    assert abs(slope - 2) < 0.1 and abs(intercept - 1) < 0.1 and final_loss < 0.02, (
        f"the fit missed: y = {slope:.2f}x + {intercept:.2f}, loss {final_loss:.3f}. Without "
        "zero_grad, each step's .grad is the sum of every gradient so far, so the updates "
        "overshoot and swing around the answer; put optimizer.zero_grad() before loss.backward()"
    )
    print(f"OK: with zero_grad, y = {slope:.2f}x + {intercept:.2f}, loss {final_loss:.4f}: "
          "each step now uses only its own gradient")
    """,
)

E5 = exercise(
    brief="""
    ## Exercise 5 (independent): the same heartbeat trains a neural net

    Foundations 1.2 built neurons and stacked them into a network that can bend where a line
    cannot. The setup below samples y = sin(x) plus noise on [-3, 3]; no straight line fits it
    (the best one leaves a mean squared error near 0.17).

    1. `net`: `nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))`.
    2. `optimizer`: `optim.Adam(net.parameters(), lr=0.01)`; `loss_fn = nn.MSELoss()`.
    3. `net.train()`, then 500 steps of the **same loop body** on `x_curve`, `y_curve`.
    4. Evaluate: `net.eval()`, and under `torch.no_grad()` predict on `x_grid`; `test_mse` is the
       mean squared error against the noise-free `torch.sin(x_grid)`, as a float.

    `train()` and `eval()` switch layers that behave differently while training (dropout and
    batch norm, in module 2.2). This net has neither, so here they change nothing, but the habit
    starts now: train mode to train, eval mode and `no_grad()` to measure.
    """,
    setup="""
    torch.manual_seed(0)
    x_curve = torch.rand(200, 1) * 6 - 3                        # 200 training points in [-3, 3]
    y_curve = torch.sin(x_curve) + 0.05 * torch.randn(200, 1)   # a curve, with a little noise
    x_grid = torch.linspace(-3, 3, 101).unsqueeze(1)            # where we measure the fit
    """,
    scaffold="""
    torch.manual_seed(0)
    net = None  # TODO: Linear(1, 32) -> Tanh -> Linear(32, 1), in an nn.Sequential
    loss_fn = nn.MSELoss()
    optimizer = None  # TODO: optim.Adam over net.parameters(), lr=0.01
    test_mse = None
    # TODO: net.train(), then 500 steps of the heartbeat on x_curve, y_curve
    # TODO: net.eval(); under torch.no_grad(), test_mse = the MSE of net(x_grid) against
    #       torch.sin(x_grid), as a float (.item())
    """,
    solution="""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1))
    loss_fn = nn.MSELoss()
    optimizer = optim.Adam(net.parameters(), lr=0.01)

    net.train()                         # training mode
    for step in range(500):
        y_pred = net(x_curve)           # the same heartbeat as for the line
        loss = loss_fn(y_pred, y_curve)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    net.eval()                          # evaluation mode
    with torch.no_grad():               # no graph: we only measure
        test_mse = loss_fn(net(x_grid), torch.sin(x_grid)).item()
    """,
    needs=("net", "optimizer", "test_mse"),
    check="""
    layers = [type(layer) for layer in net] if isinstance(net, nn.Sequential) else None
    assert layers == [nn.Linear, nn.Tanh, nn.Linear], (
        f"net should be nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 1)), got {net}"
    )
    assert (net[0].in_features, net[0].out_features, net[2].out_features) == (1, 32, 1), (
        f"the layers should be Linear(1, 32) and Linear(32, 1), got {net[0]} and {net[2]}"
    )
    assert type(optimizer) is optim.Adam, f"optimizer should be optim.Adam, got {type(optimizer).__name__}"
    given = [p for group in optimizer.param_groups for p in group["params"]]
    assert len(given) == 4 and all(any(p is q for q in given) for p in net.parameters()), (
        "give Adam the net's parameters: optim.Adam(net.parameters(), lr=0.01)"
    )
    assert not net.training, "call net.eval() before measuring"
    assert not (isinstance(test_mse, torch.Tensor) and test_mse.requires_grad), (
        "compute test_mse under torch.no_grad(): measuring should not build a graph"
    )
    with torch.no_grad():
        measured = loss_fn(net(x_grid), torch.sin(x_grid)).item()
    assert abs(float(test_mse) - measured) < 1e-6, (
        f"test_mse should be the MSE of net(x_grid) against torch.sin(x_grid): {measured:.5f}, "
        f"got {float(test_mse):.5f}"
    )
    # The solution reaches about 0.001; a straight line cannot go below about 0.17.
    assert measured < 0.01, f"test_mse should be below 0.01, got {measured:.4f}: train all 500 steps?"
    print(f"OK: the net bends to sin(x): test MSE {measured:.4f} (the best line: about 0.17)")
    for point in (-3.0, -1.5, 0.0, 1.5, 3.0):
        with torch.no_grad():
            guess = net(torch.tensor([[point]])).item()
        print(f"  x = {point:4.1f}: net {guess:6.3f}, sin(x) {math.sin(point):6.3f}")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **The heartbeat**: forward, loss, backward, update (and `zero_grad()` before backward),
      the same lines for a line and for a neural net.
    - **By hand first**: `requires_grad=True`, `loss.backward()` filling `.grad`, the update under
      `torch.no_grad()`, emptying `.grad`: what Foundations 1.1 did with NumPy, with autograd
      doing the calculus.
    - **Then the instruments**: `nn.Linear` holds `w` and `b`, `nn.MSELoss` is the formula,
      `optim.SGD` is your update, `optim.Adam` (Foundations 1.3.5) is one line away.
    - **`zero_grad()` is not boilerplate**: gradients accumulate by default.
    - **`model.train()` / `model.eval()` + `torch.no_grad()`**: train in training mode, measure in
      evaluation mode without building a graph.

    Next, 2.2.1: real data does not fit in one tensor. A Dataset and a DataLoader feed this same
    loop one batch at a time, and the loop body does not change.
    """
)

CELLS = [INTRO, SETUP, *E1, *E2, *E3, *E4, *E5, SUMMARY]
