"""Lesson 2.1.2 notebook: requires_grad / backward / .grad against the hand-derived gradient,
accumulation and zero_grad, no_grad and detach, the Foundations backprop worked example checked
by a strict cmp(), and gradcheck."""

from notebooks.cells import code, exercise, markdown

SLUG = "autograd"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    In the Foundations you did backpropagation by hand: a computational graph, then the chain
    rule from the output back to every input. PyTorch does exactly that, and in one line:
    `loss.backward()`. It is not doing something different from what you learned. Every
    operation on a tensor that `requires_grad` records a node of the graph, and `backward()`
    walks that graph in reverse. This notebook makes you check it against your own derivations,
    so `backward()` never replaces understanding backprop: it confirms it.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run
    after your attempt, then a folded solution (try first!). If you are stuck, open it, copy it
    into your cell and run the check again.
    """
)

SETUP = code(
    """
    import torch
    from torch import nn

    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}")
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): `requires_grad`, `backward()`, `.grad`

    Take f(a, b) = a² · b + 3b at a = 2, b = -1.

    1. Make `a` and `b` as float tensors with `requires_grad=True`, so PyTorch records what
       is computed from them.
    2. Compute `f`, then call `f.backward()`: the gradients land in `a.grad` and `b.grad`.
    3. Derive them by hand first: ∂f/∂a = 2ab and ∂f/∂b = a² + 3. Write your numbers (plain
       Python floats) in `da_by_hand` and `db_by_hand`.
    """,
    scaffold="""
    a = None  # TODO: 2.0 as a tensor that requires grad
    b = None  # TODO: -1.0 as a tensor that requires grad
    f = None  # TODO: a ** 2 * b + 3 * b, then call f.backward()

    da_by_hand = None  # TODO: 2ab at a = 2, b = -1
    db_by_hand = None  # TODO: a² + 3 at a = 2
    """,
    solution="""
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(-1.0, requires_grad=True)
    f = a ** 2 * b + 3 * b
    f.backward()

    da_by_hand = 2 * 2.0 * -1.0  # 2ab = -4
    db_by_hand = 2.0 ** 2 + 3  # a² + 3 = 7
    """,
    needs=("a", "b", "f", "da_by_hand", "db_by_hand"),
    check="""
    assert a.requires_grad and b.requires_grad, "make a and b with requires_grad=True"
    assert f.grad_fn is not None, "f should be computed from a and b, so it has a grad_fn"
    assert abs(f.item() - (-7.0)) < 1e-6, f"f(2, -1) = 4 * -1 + 3 * -1 = -7, got {f.item()}"
    assert a.grad is not None, "a.grad is None: call f.backward()"
    assert abs(a.grad.item() - (-4.0)) < 1e-6, (
        f"a.grad is {a.grad.item()}, not -4: did backward() run twice? Run your cell again from the top"
    )
    assert abs(da_by_hand - (-4.0)) < 1e-6, f"da_by_hand: 2ab = 2 * 2 * -1 = -4, you wrote {da_by_hand}"
    assert abs(db_by_hand - 7.0) < 1e-6, f"db_by_hand: a² + 3 = 4 + 3 = 7, you wrote {db_by_hand}"
    assert abs(b.grad.item() - db_by_hand) < 1e-6, f"b.grad is {b.grad.item()}, expected {db_by_hand}"
    print(f"OK: autograd says df/da = {a.grad.item()}, df/db = {b.grad.item()}; "
          f"by hand {da_by_hand}, {db_by_hand}")
    """,
)

GRAPH = markdown(
    """
    ### The graph behind `f`

    Foundations 1.3.3 drew computational graphs by hand. PyTorch builds one as it computes:
    each result's `grad_fn` is a node, and `next_functions` points to the nodes that made its
    inputs. The leaves `a` and `b` appear as `AccumulateGrad`: that is where `.grad` is
    written. The cell below walks the graph from `f` back to the leaves.
    """
)

GRAPH_CODE = code(
    """
    def walk(node, depth=0):
        \"\"\"Print a grad_fn node, then the nodes it passes gradients to, indented.\"\"\"
        if node is None:
            return
        print("  " * depth + type(node).__name__)
        for child, _ in node.next_functions:
            walk(child, depth + 1)


    if globals().get("f") is None or f.grad_fn is None:
        print("Finish exercise 1 first: f needs a grad_fn")
    else:
        walk(f.grad_fn)
    """
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): gradients accumulate

    `backward()` **adds** to `.grad`; it does not overwrite it. That is why the training loop
    calls `optimizer.zero_grad()`: zero_grad is not boilerplate.

    With `w = 3` and loss = w², the gradient is 2w = 6. Call `backward()` a second time (on a
    fresh `w ** 2`) and record `grad_after_two`. Then reset `w.grad` (`w.grad.zero_()`, or
    `w.grad = None`, which is what `zero_grad(set_to_none=True)`, the default, does), call
    `backward()` once more and record `grad_after_reset`. Predict both numbers first.
    """,
    scaffold="""
    w = torch.tensor(3.0, requires_grad=True)
    (w ** 2).backward()
    grad_after_one = w.grad.item()

    # TODO: backward() on w ** 2 again, then read w.grad
    grad_after_two = None
    # TODO: reset w.grad, backward() once more, then read w.grad
    grad_after_reset = None
    print(grad_after_one, grad_after_two, grad_after_reset)
    """,
    solution="""
    w = torch.tensor(3.0, requires_grad=True)
    (w ** 2).backward()
    grad_after_one = w.grad.item()

    (w ** 2).backward()  # a new graph each time; its gradient is added to w.grad
    grad_after_two = w.grad.item()
    w.grad = None  # or w.grad.zero_()
    (w ** 2).backward()
    grad_after_reset = w.grad.item()
    print(grad_after_one, grad_after_two, grad_after_reset)
    """,
    needs=("grad_after_two", "grad_after_reset"),
    check="""
    assert grad_after_one == 6.0, f"one backward of w² at w = 3 gives 2w = 6, got {grad_after_one}"
    assert grad_after_two == 12.0, (
        f"a second backward adds another 6: 12, got {grad_after_two}"
    )
    assert grad_after_reset == 6.0, (
        f"after resetting, one backward gives 6 again, got {grad_after_reset}: reset w.grad first"
    )
    print(f"OK: {grad_after_one} -> {grad_after_two} (accumulated) -> {grad_after_reset} (after the reset)")
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): accumulation on purpose: micro-batches

    When a batch is too big for memory, split it into k micro-batches and let the gradients
    accumulate. The mean-squared-error of the full batch is the average of the micro-batch
    losses, so divide each by k: the accumulated gradient then **equals** the full-batch one.

    The setup computes `full_batch_grad`. Zero the model's gradients once, run `backward()` on
    `loss / k` for each of the k = 3 micro-batches (`x_all.chunk(k)`), **without** zeroing in
    between, and keep a copy of the result in `accumulated_grad` (`model.weight.grad.clone()`).
    """,
    setup="""
    x_all = torch.randn(12, 3)
    y_all = x_all @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.1 * torch.randn(12, 1)
    model = nn.Linear(3, 1)
    loss_fn = nn.MSELoss()
    k = 3

    model.zero_grad()
    loss_fn(model(x_all), y_all).backward()
    full_batch_grad = model.weight.grad.clone()
    print("full-batch gradient of the weight:", full_batch_grad)
    """,
    scaffold="""
    model.zero_grad()
    for x_batch, y_batch in zip(x_all.chunk(k), y_all.chunk(k)):
        pass  # TODO: the loss of this micro-batch, divided by k, then backward()
    accumulated_grad = None  # TODO: a copy of model.weight.grad
    """,
    solution="""
    model.zero_grad()
    for x_batch, y_batch in zip(x_all.chunk(k), y_all.chunk(k)):
        loss = loss_fn(model(x_batch), y_batch) / k  # each micro-batch is 1/k of the full batch
        loss.backward()  # adds to model.weight.grad
    accumulated_grad = model.weight.grad.clone()
    """,
    needs=("accumulated_grad",),
    check="""
    assert accumulated_grad.shape == full_batch_grad.shape, (
        f"accumulated_grad should be the weight's gradient, {list(full_batch_grad.shape)}, "
        f"got {list(accumulated_grad.shape)}"
    )
    assert not torch.allclose(accumulated_grad, k * full_batch_grad, atol=1e-6), (
        "your gradient is k times the full-batch one: divide each micro-batch loss by k"
    )
    assert torch.allclose(accumulated_grad, full_batch_grad, atol=1e-6), (
        f"accumulated {accumulated_grad.tolist()} but the full batch gives "
        f"{full_batch_grad.tolist()}: zero once before the loop, never inside it"
    )
    max_difference = (accumulated_grad - full_batch_grad).abs().max().item()
    print(f"OK: {k} micro-batches, loss / {k} each, give the full-batch gradient "
          f"(largest difference {max_difference:.1e})")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): `torch.no_grad()` and `detach()`

    Not everything should be recorded. Two tools switch the graph off:

    - `with torch.no_grad():` nothing computed inside is recorded. Use it for the update step
      and for evaluation. Updating a leaf in place *outside* it fails with *"a leaf Variable
      that requires grad is being used in an in-place operation."*
    - `tensor.detach()` is the same numbers, in the same memory, cut off from the graph.

    1. Do one gradient-descent step by hand: `weights -= 0.1 * weights.grad`, inside
       `torch.no_grad()`.
    2. `evaluated`: `weights * 3`, computed inside `torch.no_grad()`.
    3. `frozen`: `weights.detach()`.
    """,
    scaffold="""
    weights = torch.tensor([1.0, 2.0], requires_grad=True)
    (weights ** 2).sum().backward()  # weights.grad = 2 * weights = [2, 4]

    # TODO: one step, weights -= 0.1 * weights.grad, without recording it
    evaluated = None  # TODO: weights * 3, inside torch.no_grad()
    frozen = None  # TODO: weights, detached from the graph
    tracked = weights * 3  # recorded: it has a grad_fn
    """,
    solution="""
    weights = torch.tensor([1.0, 2.0], requires_grad=True)
    (weights ** 2).sum().backward()  # weights.grad = 2 * weights = [2, 4]

    with torch.no_grad():
        weights -= 0.1 * weights.grad  # in place, not recorded: weights stays a leaf
        evaluated = weights * 3
    frozen = weights.detach()
    tracked = weights * 3  # recorded: it has a grad_fn
    """,
    needs=("evaluated", "frozen"),
    check="""
    assert weights.is_leaf and weights.requires_grad, "weights should still be a leaf that requires grad"
    assert torch.allclose(weights.detach(), torch.tensor([0.8, 1.6])), (
        f"after one step of 0.1 * [2, 4], weights should be [0.8, 1.6], got {weights.tolist()}"
    )
    assert not evaluated.requires_grad and evaluated.grad_fn is None, (
        "evaluated was recorded: compute it inside `with torch.no_grad():`"
    )
    assert torch.allclose(evaluated, torch.tensor([2.4, 4.8])), f"evaluated: weights * 3, got {evaluated}"
    assert not frozen.requires_grad, "frozen should not require grad: weights.detach()"
    assert frozen.data_ptr() == weights.data_ptr(), "detach() shares memory: no copy"
    assert tracked.grad_fn is not None
    for name, tensor in [("tracked", tracked), ("evaluated", evaluated), ("frozen", frozen)]:
        print(f"  {name:>9}: requires_grad={tensor.requires_grad}, grad_fn={type(tensor.grad_fn).__name__}")
    print("OK: the update and the evaluation left no graph; detach() kept the memory")
    """,
)

E5 = exercise(
    brief="""
    ## Exercise 5 (independent): the Foundations backprop worked example

    A two-layer net with fixed numbers (the app's page uses the same ones):

    z1 = x W1 (`[1, 3]`), h = relu(z1), out = h W2 (`[1, 1]`), loss = (out - y)².

    Write every intermediate gradient by hand with tensor operations, output to inputs:
    `d_out` = ∂loss/∂out, then `d_W2`, `d_h`, `d_z1` (relu passes the gradient only where
    z1 > 0) and `d_W1`. Each gradient has the **shape of the thing it is the gradient of**.
    The check asks autograd for the same five and compares each with a strict `cmp()`.
    It says exact, close, different (with the largest difference) or **wrong shape**:
    a `[3]` answer for a `[1, 3]` gradient is wrong even if the numbers agree.
    """,
    setup='''
    x = torch.tensor([[1.0, -2.0]])  # [1, 2]
    W1 = torch.tensor([[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]])  # [2, 3]
    W2 = torch.tensor([[1.0], [-2.0], [0.5]])  # [3, 1]
    y = torch.tensor([[1.0]])  # [1, 1]


    def forward(x, W1, W2, y):
        z1 = x @ W1
        h = torch.relu(z1)
        out = h @ W2
        loss = ((out - y) ** 2).sum()
        return z1, h, out, loss


    def cmp(name, mine, autograd, atol=1e-6, rtol=1e-5):
        """One row of the table: exact, close, different or wrong shape. Never broadcasts."""
        if mine is None:
            verdict, detail = "missing", "still None"
        elif not isinstance(mine, torch.Tensor):
            verdict, detail = "not a tensor", f"a {type(mine).__name__}"
        elif tuple(mine.shape) != tuple(autograd.shape):
            verdict, detail = "wrong shape", f"yours {list(mine.shape)}, autograd {list(autograd.shape)}"
        else:
            mine, autograd = mine.detach().double(), autograd.detach().double()
            max_difference = (mine - autograd).abs().max().item()
            if torch.equal(mine, autograd):
                verdict = "exact"
            elif torch.allclose(mine, autograd, atol=atol, rtol=rtol):
                verdict = "close"
            else:
                verdict = "different"
            detail = f"max difference {max_difference:.2e}"
        print(f"{name:>6} | {verdict:<12} | {detail}")
        return verdict


    z1, h, out, loss = forward(x, W1, W2, y)
    print(f"z1 = {z1.tolist()}, h = {h.tolist()}, out = {out.item()}, loss = {loss.item()}")
    ''',
    scaffold="""
    d_out = None  # TODO: ∂loss/∂out, [1, 1]
    d_W2 = None  # TODO: ∂loss/∂W2, [3, 1]: out = h @ W2
    d_h = None  # TODO: ∂loss/∂h, [1, 3]
    d_z1 = None  # TODO: ∂loss/∂z1, [1, 3]: relu lets the gradient through where z1 > 0
    d_W1 = None  # TODO: ∂loss/∂W1, [2, 3]: z1 = x @ W1
    """,
    solution="""
    d_out = 2 * (out - y)  # loss = (out - y)²
    d_W2 = h.T @ d_out  # [3, 1] @ [1, 1] -> [3, 1]
    d_h = d_out @ W2.T  # [1, 1] @ [1, 3] -> [1, 3]
    d_z1 = d_h * (z1 > 0).float()  # relu's derivative: 1 where z1 > 0, else 0
    d_W1 = x.T @ d_z1  # [2, 1] @ [1, 3] -> [2, 3]
    """,
    check="""
    # Autograd does all of it in one line: loss.backward().
    W1_leaf, W2_leaf = W1.clone().requires_grad_(), W2.clone().requires_grad_()
    z1_node, h_node, out_node, loss_node = forward(x, W1_leaf, W2_leaf, y)
    for node in (z1_node, h_node, out_node):
        node.retain_grad()  # keep the gradients of intermediate (non-leaf) tensors too
    loss_node.backward()
    autograd = {"out": out_node.grad, "W2": W2_leaf.grad, "h": h_node.grad,
                "z1": z1_node.grad, "W1": W1_leaf.grad}

    mine = {"out": d_out, "W2": d_W2, "h": d_h, "z1": d_z1, "W1": d_W1}
    verdicts = {name: cmp(name, mine[name], autograd[name]) for name in autograd}
    wrong = [f"d_{name} ({verdict})" for name, verdict in verdicts.items() if verdict not in ("exact", "close")]
    assert not wrong, f"not yet: {', '.join(wrong)}; derive them in order, output to inputs"
    print("OK: every gradient you derived matches autograd")
    """,
)

WHY_STRICT = markdown(
    """
    ### Why the shape is its own verdict

    A loose comparison such as `torch.allclose` broadcasts, so a gradient of the wrong shape
    can pass: `[3]` against `[1, 3]` agrees number by number. The strict `cmp()` does not let
    it through.
    """
)

WHY_STRICT_CODE = code(
    """
    flattened = autograd["h"].reshape(-1)  # the right numbers, shape [3] instead of [1, 3]
    print("torch.allclose says:", torch.allclose(flattened, autograd["h"]))
    cmp("h", flattened, autograd["h"])
    """
)

E6 = exercise(
    brief="""
    ## Exercise 6 (independent): `torch.autograd.gradcheck`

    How do you know a hand-written backward is right? `gradcheck` compares it with finite
    differences, (f(x + ε) - f(x - ε)) / 2ε, for every input. Use float64: with float32 the
    finite differences are too noisy.

    `Cube` is x³ as a custom autograd function. Its forward is given. Write its `backward`:
    the chain rule says grad_output times d(x³)/dx. The check runs `gradcheck` on it.
    """,
    scaffold='''
    class Cube(torch.autograd.Function):
        """x ** 3 with a hand-written backward."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            # TODO: grad_output times the derivative of x ** 3
            raise NotImplementedError("Cube.backward: return grad_output times the derivative of x ** 3")
    ''',
    solution='''
    class Cube(torch.autograd.Function):
        """x ** 3 with a hand-written backward."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 3 * x ** 2  # chain rule: upstream gradient times d(x³)/dx
    ''',
    check="""
    inputs = torch.randn(5, dtype=torch.float64, requires_grad=True)
    passed = torch.autograd.gradcheck(Cube.apply, (inputs,), raise_exception=False)
    assert passed, "gradcheck disagrees with your backward: d(x³)/dx = 3x², times grad_output"
    print("OK: gradcheck agrees with your backward of x³")
    """,
)

GRADCHECK_MORE = code(
    '''
    class WrongCube(Cube):
        """The same forward with a wrong backward: 2x² instead of 3x²."""

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 2 * x ** 2


    inputs = torch.randn(5, dtype=torch.float64, requires_grad=True)
    print("gradcheck on a wrong backward:", torch.autograd.gradcheck(WrongCube.apply, (inputs,),
                                                                     raise_exception=False))

    # And on the worked example's network, W1 and W2 in float64.
    W1_64 = W1.double().requires_grad_()
    W2_64 = W2.double().requires_grad_()
    def network_loss(first, second):
        return forward(x.double(), first, second, y.double())[3]


    print("gradcheck on the two-layer net:", torch.autograd.gradcheck(network_loss, (W1_64, W2_64)))
    '''
)

SUMMARY = markdown(
    """
    ## What you practised

    - **`requires_grad`, `backward()`, `.grad`**: autograd's gradient equals your derivation.
    - **The graph**: every result's `grad_fn` is a node of the computational graph you drew in
      the Foundations; `backward()` walks it output to inputs.
    - **Accumulation**: `backward()` adds to `.grad`; `zero_grad()` is not boilerplate, and
      accumulating `loss / k` over k micro-batches gives the full-batch gradient.
    - **`torch.no_grad()` and `detach()`**: no graph for updates and evaluation; `detach()`
      keeps the memory.
    - **The worked example**: every intermediate gradient by hand, checked strictly against
      autograd, and `gradcheck` against finite differences.

    Next: `nn.Module`, where the weights you just differentiated become a layer's parameters.
    """
)

CELLS = [INTRO, SETUP, *E1, GRAPH, GRAPH_CODE, *E2, *E3, *E4, *E5, WHY_STRICT, WHY_STRICT_CODE,
         *E6, GRADCHECK_MORE, SUMMARY]
