"""Lesson 2.1.3 notebook: nn.Linear by hand, an nn.Module subclass, nn.Sequential, counting
parameters, and why layers go in an nn.ModuleList rather than a plain list."""

from notebooks.cells import code, exercise, markdown

SLUG = "nn-module"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    In the Foundations (1.2) you defined a neuron mathematically: a weighted sum of the inputs
    plus a bias, then an activation. A layer is many neurons side by side, and `nn.Module` is
    that definition written in code. It holds the weights, **registers** them so an optimizer
    can find them, and runs the forward pass. The explicit operation comes first, then the
    convenience that does the same thing.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run
    after your attempt, then a folded solution (try first!). If you are stuck, open it, copy it
    into your cell and run the check again.
    """
)

SETUP = code(
    """
    import torch
    from torch import nn, optim

    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}")
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): `nn.Linear` by hand

    `nn.Linear(3, 2)` is 2 neurons with 3 inputs each. It stores its weight as `(out, in)`,
    one row per neuron, so its output is `x @ W.T + b`.

    1. Predict `weight_shape`, the shape of `layer.weight`, as a tuple.
    2. Compute `by_hand` from `x`, `layer.weight` and `layer.bias` with `@`, `.T` and `+`
       (no calling `layer`). The check compares it with `layer(x)`.
    """,
    setup="""
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])  # a batch of 2 samples, 3 features each
    """,
    scaffold="""
    weight_shape = None  # TODO: the shape of layer.weight, e.g. (a, b)
    by_hand = None  # TODO: x @ W.T + b with layer.weight and layer.bias
    """,
    solution="""
    weight_shape = (2, 3)  # (out_features, in_features): one row per neuron
    by_hand = x @ layer.weight.T + layer.bias  # [2, 3] @ [3, 2] + [2] -> [2, 2]
    """,
    needs=("weight_shape", "by_hand"),
    check="""
    assert tuple(weight_shape) == tuple(layer.weight.shape), (
        f"weight_shape: nn.Linear(3, 2) stores (out_features, in_features), not {tuple(weight_shape)}"
    )
    expected = layer(x)
    assert by_hand.shape == expected.shape, (
        f"by_hand should be [batch, out] = {list(expected.shape)}, got {list(by_hand.shape)}"
    )
    assert torch.allclose(by_hand, expected), "by_hand differs from layer(x): x @ layer.weight.T + layer.bias"
    print(f"OK: weight {tuple(layer.weight.shape)}, bias {tuple(layer.bias.shape)}; "
          f"x @ W.T + b equals layer(x), shape {list(by_hand.shape)}")
    """,
)

E2 = exercise(
    brief="""
    ## Exercise 2 (supported): an `nn.Module` subclass with `forward`

    Write `TwoLayerNet(in_features, hidden, out_features)`:

    - in `__init__`, call `super().__init__()` first, then make `self.hidden` (a Linear from
      `in_features` to `hidden`) and `self.output` (from `hidden` to `out_features`);
    - `forward(x)` returns `self.output(torch.relu(self.hidden(x)))`.

    Setting a layer as an attribute is what registers it: its weights appear in
    `model.parameters()` under the attribute's name.
    """,
    scaffold="""
    class TwoLayerNet(nn.Module):
        def __init__(self, in_features, hidden, out_features):
            super().__init__()
            # TODO: self.hidden and self.output, two nn.Linear layers

        def forward(self, x):
            # TODO: hidden layer, relu, output layer
            raise NotImplementedError("TwoLayerNet.forward: hidden, relu, output")
    """,
    solution="""
    class TwoLayerNet(nn.Module):
        def __init__(self, in_features, hidden, out_features):
            super().__init__()
            self.hidden = nn.Linear(in_features, hidden)  # an attribute: registered
            self.output = nn.Linear(hidden, out_features)

        def forward(self, x):
            return self.output(torch.relu(self.hidden(x)))
    """,
    check="""
    torch.manual_seed(0)
    net = TwoLayerNet(4, 8, 1)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["hidden.weight", "hidden.bias", "output.weight", "output.bias"], (
        f"named_parameters should be hidden.weight, hidden.bias, output.weight, output.bias; got {names}"
    )
    batch = torch.randn(5, 4)
    result = net(batch)
    assert result.shape == (5, 1), f"5 samples in, 5 outputs: expected [5, 1], got {list(result.shape)}"
    explicit = torch.relu(batch @ net.hidden.weight.T + net.hidden.bias) @ net.output.weight.T + net.output.bias
    assert torch.allclose(result, explicit, atol=1e-6), "forward should be output(relu(hidden(x)))"
    print(net)
    print(f"OK: {len(names)} registered parameters; forward matches the explicit x @ W.T + b, relu, x @ W.T + b")
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (guided): the same network with `nn.Sequential`

    When the forward pass is "each layer in turn", `nn.Sequential` writes the `forward` for you.
    Build `sequential`: Linear(4, 8), ReLU, Linear(8, 1). The check copies `net`'s weights into
    it and shows the two give the same outputs.
    """,
    scaffold="""
    sequential = None  # TODO: nn.Sequential(...): Linear 4 -> 8, ReLU, Linear 8 -> 1
    """,
    solution="""
    sequential = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    """,
    needs=("sequential",),
    check="""
    kinds = [type(module).__name__ for module in sequential]
    assert kinds == ["Linear", "ReLU", "Linear"], f"expected Linear, ReLU, Linear; got {kinds}"
    assert (sequential[0].in_features, sequential[0].out_features) == (4, 8), "the first Linear: 4 -> 8"
    assert (sequential[2].in_features, sequential[2].out_features) == (8, 1), "the last Linear: 8 -> 1"
    with torch.no_grad():  # copying weights is not training
        sequential[0].weight.copy_(net.hidden.weight)
        sequential[0].bias.copy_(net.hidden.bias)
        sequential[2].weight.copy_(net.output.weight)
        sequential[2].bias.copy_(net.output.bias)
    assert torch.allclose(sequential(batch), net(batch)), "with the same weights the outputs should agree"
    print("parameter names:", [name for name, _ in sequential.named_parameters()])
    print("OK: the subclass and the Sequential are the same network; only the names differ")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): count the parameters

    Each `nn.Linear(in, out)` has in × out weights and out biases: **in × out + out**.

    1. `count_by_formula(sizes)`: for layer sizes such as `[784, 128, 64, 10]` (Linear
       784 -> 128, 128 -> 64, 64 -> 10), add up in × out + out over consecutive pairs.
    2. `count_by_torch(model)`: add up `p.numel()` over `model.parameters()`, the very tensors
       that `optim.SGD(model.parameters(), lr=...)` receives.
    """,
    scaffold="""
    def count_by_formula(sizes):
        # TODO: the sum of in * out + out over consecutive pairs of sizes
        raise NotImplementedError("count_by_formula: add in * out + out for each Linear")


    def count_by_torch(model):
        # TODO: the sum of p.numel() over model.parameters()
        raise NotImplementedError("count_by_torch: add p.numel() over model.parameters()")
    """,
    solution="""
    def count_by_formula(sizes):
        return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))


    def count_by_torch(model):
        return sum(p.numel() for p in model.parameters())
    """,
    check="""
    def mlp(sizes):
        layers = []
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        return nn.Sequential(*layers[:-1])  # no activation after the last Linear


    assert count_by_formula([10, 5]) == 55, f"nn.Linear(10, 5): 10 * 5 + 5 = 55, got {count_by_formula([10, 5])}"
    for sizes in ([10, 5], [4, 8, 1], [784, 128, 64, 10]):
        by_formula, by_torch = count_by_formula(sizes), count_by_torch(mlp(sizes))
        assert by_formula == by_torch, f"{sizes}: formula {by_formula}, PyTorch {by_torch}"
        print(f"  {sizes}: {by_formula:,} parameters")
    assert count_by_torch(net) == count_by_formula([4, 8, 1]) == 49, "TwoLayerNet(4, 8, 1): 4*8+8 + 8*1+1"
    print("OK: in * out + out per Linear, the same count PyTorch finds")
    """,
)

E5 = exercise(
    brief="""
    ## Exercise 5 (independent): a plain list vs `nn.ModuleList`

    `PlainListStack` keeps its layers in a plain Python list. Run the cell below: the layers
    work in `forward`, but **nothing is registered**. `parameters()` is empty, so an optimizer
    has nothing to train (PyTorch says so), and `.to(device)` and `state_dict()` would miss
    them too.

    Write `Stack(width, depth)`, the same network (depth Linear(width, width) layers, each
    followed by ReLU in `forward`), with the layers in an `nn.ModuleList`.
    """,
    setup="""
    class PlainListStack(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            self.layers = [nn.Linear(width, width) for _ in range(depth)]  # a plain list: not registered

        def forward(self, x):
            for layer in self.layers:
                x = torch.relu(layer(x))
            return x


    plain = PlainListStack(4, 3)
    print("output shape:", plain(torch.randn(2, 4)).shape, "| parameters:", list(plain.parameters()))
    try:
        optim.SGD(plain.parameters(), lr=0.1)
    except ValueError as error:
        print("ValueError:", error)
    """,
    scaffold="""
    class Stack(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            # TODO: self.layers = an nn.ModuleList of depth nn.Linear(width, width)

        def forward(self, x):
            # TODO: each layer, then relu, in turn
            raise NotImplementedError("Stack.forward: apply each layer, then relu, in turn")
    """,
    solution="""
    class Stack(nn.Module):
        def __init__(self, width, depth):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(width, width) for _ in range(depth))  # registered

        def forward(self, x):
            for layer in self.layers:
                x = torch.relu(layer(x))
            return x
    """,
    check="""
    stack = Stack(4, 3)
    assert isinstance(getattr(stack, "layers", None), nn.ModuleList), "keep the layers in self.layers, an nn.ModuleList"
    assert len(stack.layers) == 3, f"Stack(4, 3) should hold 3 layers, got {len(stack.layers)}"
    n_tensors = len(list(stack.parameters()))
    assert n_tensors == 6, f"3 Linear layers register 3 weights and 3 biases: 6 tensors, got {n_tensors}"
    batch = torch.randn(2, 4)
    expected = batch
    for layer in stack.layers:
        expected = torch.relu(expected @ layer.weight.T + layer.bias)
    assert torch.allclose(stack(batch), expected, atol=1e-6), "forward: each layer, then relu, in turn"
    optimizer = optim.SGD(stack.parameters(), lr=0.1)  # the optimizer now has something to train
    print("state_dict keys:", list(stack.state_dict()))
    print(f"OK: {n_tensors} parameter tensors ({sum(p.numel() for p in stack.parameters())} numbers) "
          "registered by nn.ModuleList")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **`nn.Linear` is `x @ W.T + b`**: the weight is stored `(out, in)`.
    - **An `nn.Module` subclass**: layers as attributes in `__init__` (that registers them),
      the computation in `forward`.
    - **`nn.Sequential`**: the same network when the forward pass is each layer in turn.
    - **Parameters**: in × out + out per Linear; `model.parameters()` is what the optimizer gets.
    - **`nn.ModuleList`, not a plain list**: otherwise the layers are invisible to
      `parameters()`, the optimizer, `.to(device)` and `state_dict()`.

    More PyTorch API does not make better code: each convenience here does what the explicit
    version did. Next: the training loop that puts these parameters to work.
    """
)

CELLS = [INTRO, SETUP, *E1, *E2, *E3, *E4, *E5, SUMMARY]
