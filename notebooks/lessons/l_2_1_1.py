"""Lesson 2.1.1 notebook: the NumPy bridge, creation and dtype, shapes, broadcasting, the device,
and two tensor puzzles graded by a strict checker that never broadcasts."""

from notebooks.cells import code, exercise, markdown

SLUG = "tensors"  # code, title and notebook name come from course/lessons.py

INTRO = markdown(
    """
    You already know this. A PyTorch tensor is a NumPy array **with GPU superpowers** (and, next
    lesson, a memory of how it was computed): the same shapes, the same indexing, the same
    broadcasting rules, new spelling. This notebook practises the five things that trip people
    up when they move from NumPy: memory sharing, dtype, shapes, broadcasting and the device.
    Then two tensor puzzles, graded strictly.

    Each exercise has a brief, **your cell** (fill in the `# TODO`s), a **check** cell to run
    after your attempt, then a folded solution (try first!). If you are stuck, open it, copy it
    into your cell and run the check again.
    """
)

SETUP = code(
    r'''
    import numpy as np
    import torch
    from torch import nn
    from torch.utils import benchmark

    torch.manual_seed(0)
    print(f"PyTorch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")


    def grade(got, expected, atol=1e-6, rtol=1e-5):
        """Shape, dtype, device and values, each graded on its own: "ok" or what is wrong.

        Values are compared only when the shapes are equal: this checker never broadcasts, so
        tensor(6), tensor([6]) and tensor([[6]]) are three different answers.
        """
        if not isinstance(got, torch.Tensor):
            return {"tensor": f"expected a tensor, got a {type(got).__name__}: {got!r}"}
        grades = {"shape": "ok", "dtype": "ok", "device": "ok", "values": "ok"}
        if tuple(got.shape) != tuple(expected.shape):
            grades["shape"] = f"got {list(got.shape)}, expected {list(expected.shape)} (no broadcasting here)"
        if got.dtype != expected.dtype:
            grades["dtype"] = f"got {got.dtype}, expected {expected.dtype}"
        if got.device.type != expected.device.type:
            grades["device"] = f"got {got.device}, expected {expected.device}"
        if grades["shape"] != "ok":
            grades["values"] = "not compared: the shapes differ"
        else:
            wrong = cells_that_differ(got, expected, atol, rtol)
            if wrong:
                grades["values"] = f"{len(wrong)} of {got.numel()} cells differ: " + "; ".join(wrong[:5])
        return grades


    def cells_that_differ(got, expected, atol, rtol):
        """'index: got x, expected y' for every cell that differs (same shapes only)."""
        a = got.detach().cpu().double().reshape(-1)
        b = expected.detach().cpu().double().reshape(-1)
        if got.is_floating_point() or expected.is_floating_point():
            same = torch.isclose(a, b, atol=atol, rtol=rtol, equal_nan=True)
        else:
            same = a == b
        rows = []
        for flat in (~same).nonzero().flatten().tolist():
            index = [int(i) for i in torch.unravel_index(torch.tensor(flat), tuple(got.shape))] if got.dim() else []
            rows.append(f"{index}: got {a[flat].item():g}, expected {b[flat].item():g}")
        return rows


    def verdict(got, expected):
        """One word for the table: the first aspect that fails, or exact / close."""
        grades = grade(got, expected)
        failing = [aspect for aspect, result in grades.items() if result != "ok"]
        if failing:
            return f"wrong {failing[0]}"
        exact = torch.equal(got.detach().cpu(), expected.detach().cpu())
        return "exact" if exact else "close"


    def check_tensor(name, got, expected):
        """Assert that `got` is `expected` in shape, dtype, device and values; say which fail."""
        grades = grade(got, expected)
        failing = {aspect: result for aspect, result in grades.items() if result != "ok"}
        assert not failing, f"{name}:\n" + "\n".join(f"  {aspect:>6}: {result}" for aspect, result in grades.items())
        print(f"  {name}: {verdict(got, expected)} (shape {list(got.shape)}, {got.dtype}, {got.device})")
    '''
)

STRICT_DEMO = markdown(
    """
    The cell above defines the **strict checker** the puzzles use. The famous tensor-puzzle
    checkers compare with broadcasting, so `tensor(6)`, `tensor([6])` and `tensor([[6]])` all
    pass for one another. Ours grades shape, dtype, device and values separately. Run the cell
    below to see the difference.
    """
)

STRICT_DEMO_CODE = code(
    """
    answer = torch.tensor([6])
    for candidate in (torch.tensor(6), torch.tensor([6]), torch.tensor([[6]]), torch.tensor([6.0])):
        broadcast_says = bool((candidate == answer).all())
        print(f"{str(candidate):>20}: broadcasting == says {broadcast_says}, "
              f"strict says {verdict(candidate, answer)}")
    """
)

E1 = exercise(
    brief="""
    ## Exercise 1 (guided): the NumPy bridge

    There are two ways across from NumPy, and they behave differently:

    - `torch.from_numpy(array)` **shares** the array's memory: change one, the other changes;
    - `torch.tensor(array)` **copies** it: the two are independent from then on.

    (`torch.as_tensor` shares when it can and copies when it must, for example to change the
    dtype.) Make `shared` and `copied` from `prices`. The cell then changes `prices[0]`.
    Predict what `shared[0]` and `copied[0]` are before you run the check.
    """,
    scaffold="""
    prices = np.array([1.0, 2.0, 3.0])
    shared = None  # TODO: a tensor that shares prices' memory
    copied = None  # TODO: a tensor that copies prices

    prices[0] = 100.0  # change the NumPy array after both tensors exist
    print("shared:", shared, "\\ncopied:", copied)
    """,
    solution="""
    prices = np.array([1.0, 2.0, 3.0])
    shared = torch.from_numpy(prices)  # same memory as prices
    copied = torch.tensor(prices)  # its own memory

    prices[0] = 100.0  # change the NumPy array after both tensors exist
    print("shared:", shared, "\\ncopied:", copied)
    """,
    needs=("shared", "copied"),
    check="""
    array_address = prices.__array_interface__["data"][0]
    assert shared.data_ptr() == array_address, (
        "shared should use prices' own memory: torch.from_numpy(prices)"
    )
    assert copied.data_ptr() != array_address, "copied should have its own memory: torch.tensor(prices)"
    assert shared[0].item() == 100.0, "shared sees the change to prices[0]"
    assert copied[0].item() == 1.0, "copied keeps the value it had when it was made"
    # Both keep NumPy's dtype: float64, which matters in the next exercise.
    check_tensor("shared", shared, torch.tensor([100.0, 2.0, 3.0], dtype=torch.float64))
    check_tensor("copied", copied, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    print("OK: from_numpy shares memory (it saw 100.0), torch.tensor copies (it kept 1.0)")
    """,
)

DTYPE_TRAP = markdown(
    """
    ### The float64-from-NumPy trap

    NumPy makes `float64` by default; PyTorch's layers hold `float32` weights. Feed one to the
    other and you get PyTorch's own message, as the cell below shows.
    """
)

DTYPE_TRAP_CODE = code(
    """
    features_np = np.random.default_rng(0).normal(size=(5, 3))  # NumPy's default: float64
    layer = nn.Linear(3, 2)  # weights in float32
    print("NumPy dtype:", features_np.dtype, "| layer weight dtype:", layer.weight.dtype)
    try:
        layer(torch.from_numpy(features_np))
    except RuntimeError as error:
        print("RuntimeError:", error)
    """
)

E2 = exercise(
    brief="""
    ## Exercise 2 (guided): creation and dtype

    1. `features`: the `features_np` data as a **float32** tensor (`torch.tensor(..., dtype=...)`
       or `torch.from_numpy(...).float()`); then `outputs = layer(features)` runs.
    2. Three creation functions: `zeros` (shape `[2, 3]`, float32, all zeros), `steps` (the
       whole numbers 0, 2, 4, 6, 8 with `torch.arange`: what dtype do you get?) and `grid`
       (5 evenly spaced floats from 0 to 1 with `torch.linspace`).
    """,
    scaffold="""
    features = None  # TODO: features_np as float32
    outputs = None  # TODO: layer(features)

    zeros = None  # TODO: [2, 3] of zeros
    steps = None  # TODO: 0, 2, 4, 6, 8 with torch.arange
    grid = None  # TODO: 0, 0.25, 0.5, 0.75, 1 with torch.linspace
    """,
    solution="""
    features = torch.from_numpy(features_np).float()  # or torch.tensor(features_np, dtype=torch.float32)
    outputs = layer(features)

    zeros = torch.zeros(2, 3)
    steps = torch.arange(0, 10, 2)  # whole numbers give int64
    grid = torch.linspace(0, 1, 5)
    """,
    needs=("features", "outputs", "zeros", "steps", "grid"),
    check="""
    check_tensor("features", features, torch.tensor(features_np, dtype=torch.float32))
    check_tensor("outputs", outputs, features @ layer.weight.T + layer.bias)
    check_tensor("zeros", zeros, torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    check_tensor("steps", steps, torch.tensor([0, 2, 4, 6, 8]))
    check_tensor("grid", grid, torch.tensor([0.0, 0.25, 0.5, 0.75, 1.0]))
    print(f"OK: float32 in, float32 out; arange of whole numbers is {steps.dtype}, "
          f"each element {steps.element_size()} bytes")
    """,
)

E3 = exercise(
    brief="""
    ## Exercise 3 (supported): shapes, views and `.contiguous()`

    `images` is a batch of 2 images with 3 channels of 4 x 5 pixels: `[N, C, H, W]`.

    1. `flat`: each image as one row, `[2, 60]` (`reshape`, with `-1` for "whatever is left").
    2. `channels_last`: `[N, H, W, C]` = `[2, 4, 5, 3]` (`permute`: it reorders the axes).
    3. `one_image`: `images[0]` is `[3, 4, 5]`; a model wants a batch: make it `[1, 3, 4, 5]`
       (`unsqueeze`).
    4. `matrix.T.view(6)` fails (run the cell: PyTorch says why). `transpose` only swaps the
       strides, so the numbers are no longer laid out row by row. Make `flat_transposed`, the
       transposed matrix as 6 numbers, with `.contiguous()` then `.view(6)`.

    `permute`, `unsqueeze` and `view` return **views** (same memory, new strides); the check
    tells you which of yours share memory with `images`.
    """,
    setup="""
    images = torch.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    matrix = torch.arange(6).reshape(2, 3)
    print("matrix.T strides:", matrix.T.stride(), "contiguous?", matrix.T.is_contiguous())
    try:
        matrix.T.view(6)
    except RuntimeError as error:
        print("RuntimeError:", error)
    """,
    scaffold="""
    flat = None  # TODO: [2, 60]
    channels_last = None  # TODO: [2, 4, 5, 3]
    one_image = None  # TODO: images[0] as a batch of one, [1, 3, 4, 5]
    flat_transposed = None  # TODO: matrix.T as 6 numbers: .contiguous(), then .view(6)
    """,
    solution="""
    flat = images.reshape(2, -1)
    channels_last = images.permute(0, 2, 3, 1)
    one_image = images[0].unsqueeze(0)
    flat_transposed = matrix.T.contiguous().view(6)  # contiguous() copies into row order
    """,
    needs=("flat", "channels_last", "one_image", "flat_transposed"),
    check="""
    check_tensor("flat", flat, images.flatten(start_dim=1))
    check_tensor("channels_last", channels_last, torch.einsum("nchw->nhwc", images))
    check_tensor("one_image", one_image, images[:1])
    check_tensor("flat_transposed", flat_transposed, torch.tensor([0, 3, 1, 4, 2, 5]))
    assert channels_last.data_ptr() == images.data_ptr(), "permute returns a view: no copy needed"
    for name, tensor in [("flat", flat), ("channels_last", channels_last), ("one_image", one_image),
                         ("flat_transposed", flat_transposed)]:
        shares = tensor.untyped_storage().data_ptr() == images.untyped_storage().data_ptr()
        print(f"  {name:>15}: strides {tensor.stride()}, shares images' memory: {shares}")
    print("OK: reshape / permute / unsqueeze change the shape; .contiguous() makes view possible")
    """,
)

E4 = exercise(
    brief="""
    ## Exercise 4 (supported): make two shapes broadcast

    Broadcasting lines the shapes up **from the right**; each pair of sizes must be equal or
    one of them 1 (a 1 is stretched; a missing axis counts as 1).

    1. `table`: the price of every item (`prices`, shape `[3]`) at every discount (`discounts`,
       shape `[4]`): `table[i, j] = prices[i] * (1 - discounts[j])`, shape `[3, 4]`. `prices *
       (1 - discounts)` fails (see the message below: 3 and 4 meet on the same axis). Give
       `prices` a second axis with `unsqueeze(1)` or `[:, None]`.
    2. `centered`: `scores` (`[4, 3]`) minus each row's mean. `scores.mean(dim=1)` is `[4]`,
       and lined up from the right it meets the 3 columns: put it on its own axis.
    3. `broadcast_shape`: predict, as a tuple, the shape of a `[5, 1, 3]` tensor plus a
       `[4, 1]` one. Work it out by hand, not by running it.
    """,
    setup="""
    prices = torch.tensor([10.0, 20.0, 40.0])
    discounts = torch.tensor([0.0, 0.1, 0.25, 0.5])
    scores = torch.tensor([[1.0, 2.0, 3.0], [4.0, 4.0, 4.0], [0.0, 5.0, 10.0], [2.0, 0.0, 1.0]])
    try:
        prices * (1 - discounts)
    except RuntimeError as error:
        print("RuntimeError:", error)
    """,
    scaffold="""
    table = None  # TODO: [3, 4]: every price at every discount
    centered = None  # TODO: scores minus each row's mean, [4, 3]
    broadcast_shape = None  # TODO: a tuple: the shape of a [5, 1, 3] tensor plus a [4, 1] tensor
    """,
    solution="""
    table = prices.unsqueeze(1) * (1 - discounts)  # [3, 1] with [4] -> [3, 4]
    centered = scores - scores.mean(dim=1)[:, None]  # or scores.mean(dim=1, keepdim=True)
    broadcast_shape = (5, 4, 3)  # right-aligned: (5, 1, 3) and (1, 4, 1)
    """,
    needs=("table", "centered", "broadcast_shape"),
    check="""
    expected_table = torch.tensor([[p * (1 - d) for d in discounts.tolist()] for p in prices.tolist()])
    check_tensor("table", table, expected_table)
    row_means = [sum(row) / len(row) for row in scores.tolist()]
    expected_centered = torch.tensor([[value - mean for value in row]
                                      for row, mean in zip(scores.tolist(), row_means)])
    check_tensor("centered", centered, expected_centered)
    assert tuple(broadcast_shape) == tuple(torch.broadcast_shapes((5, 1, 3), (4, 1))), (
        f"broadcast_shape: {tuple(broadcast_shape)} is not it. Pad [4, 1] on the left to "
        "[1, 4, 1], then take the larger size on each axis"
    )
    print(f"OK: [3, 1] x [4] -> {list(table.shape)}; [4, 3] - [4, 1] -> {list(centered.shape)}; "
          f"[5, 1, 3] + [4, 1] -> {list(broadcast_shape)}")
    """,
)

E5 = exercise(
    brief="""
    ## Exercise 5 (guided): device placement

    The same code should run on a laptop and on a GPU. The idiom:

    ```python
    device = "cuda" if torch.cuda.is_available() else "cpu"
    ```

    Then `.to(device)` moves a tensor (or a model) there. An operation needs all its tensors
    on one device, and `.numpy()` works only on the CPU, so results come back with `.cpu()`.

    Set `device`, put `weights` and `inputs` on it, compute `result = weights @ inputs` there,
    and bring it back as `result_cpu`.
    """,
    scaffold="""
    device = None  # TODO: "cuda" if a GPU is available, else "cpu"
    weights = torch.randn(3, 3)  # TODO: move to device
    inputs = torch.randn(3, 2)  # TODO: move to device
    result = None  # TODO: weights @ inputs, computed on device
    result_cpu = None  # TODO: result brought back to the CPU
    """,
    solution="""
    device = "cuda" if torch.cuda.is_available() else "cpu"
    weights = torch.randn(3, 3).to(device)
    inputs = torch.randn(3, 2).to(device)
    result = weights @ inputs
    result_cpu = result.cpu()
    """,
    needs=("device", "result", "result_cpu"),
    check="""
    expected_device = "cuda" if torch.cuda.is_available() else "cpu"
    assert str(device) == expected_device, f"device should be {expected_device!r} here, got {device!r}"
    for name, tensor in [("weights", weights), ("inputs", inputs), ("result", result)]:
        assert tensor.device.type == expected_device, f"{name} is on {tensor.device}: .to(device)"
    check_tensor("result", result, (weights.cpu() @ inputs.cpu()).to(device))
    check_tensor("result_cpu", result_cpu, weights.cpu() @ inputs.cpu())
    print(f"OK: computed on {result.device}, back on {result_cpu.device}; "
          f"result_cpu.numpy() works: {result_cpu.numpy().shape}")
    """,
)

TIMING = markdown(
    """
    ### GPU wins at scale

    Moving data to a GPU costs time, and a small matmul is over before the GPU is busy. The
    cell below times `a @ a` for a few sizes (warmed up, synchronised, the median of repeats
    with `torch.utils.benchmark`). On a GPU it also times the copy there and back. On a
    CPU-only machine you see the CPU row only: in Colab choose *Runtime > Change runtime type >
    GPU* to compare.
    """
)

TIMING_CODE = code(
    """
    def median_ms(statement, **names):
        \"\"\"Median time of `statement` in milliseconds (Timer warms up and synchronises CUDA).\"\"\"
        timer = benchmark.Timer(stmt=statement, globals={"torch": torch, **names})
        return timer.blocked_autorange(min_run_time=0.1).median * 1000


    for size in (64, 256, 1024):
        a = torch.randn(size, size)
        line = f"{size:>5} x {size:<5} cpu {median_ms('a @ a', a=a):8.3f} ms"
        if torch.cuda.is_available():
            a_gpu = a.to("cuda")
            copy_ms = median_ms("a.to('cuda').cpu()", a=a)
            line += f" | cuda {median_ms('a @ a', a=a_gpu):8.3f} ms | copy there and back {copy_ms:8.3f} ms"
        print(line)
    if not torch.cuda.is_available():
        print("No GPU here: only the CPU is timed.")
    """
)

P1 = exercise(
    brief="""
    ## Puzzle 1 (independent): `eye(n)`

    The n x n identity matrix **as whole numbers** (int64): ones on the diagonal, zeros
    elsewhere. One line, using `torch.arange`, broadcasting and a comparison (a bool tensor
    becomes int64 with `.long()`). Not `torch.eye`: try it, and the strict checker tells you
    why it fails.
    """,
    scaffold="""
    def eye(n):
        # TODO: compare a column of 0..n-1 with a row of 0..n-1
        raise NotImplementedError("eye(n): return the n x n identity as int64")
    """,
    solution="""
    def eye(n):
        return (torch.arange(n)[:, None] == torch.arange(n)).long()  # [n, 1] == [n] -> [n, n]
    """,
    check="""
    for n in (1, 3, 5):
        expected = torch.tensor([[1 if row == col else 0 for col in range(n)] for row in range(n)])
        check_tensor(f"eye({n})", eye(n), expected)
    print("OK: a column compared with a row broadcasts to the whole matrix")
    """,
)

P2 = exercise(
    brief="""
    ## Puzzle 2 (independent): `total(x)`

    The sum of a 1-D tensor `x`, as a tensor of shape **`[1]`** with `x`'s dtype. Use `@`
    with a column of ones (`torch.ones(..., dtype=x.dtype)`), not `.sum()`. `x.sum()` has
    shape `[]` and `x @ ones` of shape `[n, 1]` has shape `[1]`: a broadcasting checker accepts
    both, the strict one does not.
    """,
    scaffold="""
    def total(x):
        # TODO: x @ a column of ones, shape [len(x), 1], in x's dtype
        raise NotImplementedError("total(x): return the sum of x with shape [1]")
    """,
    solution="""
    def total(x):
        return x @ torch.ones(len(x), 1, dtype=x.dtype)  # [n] @ [n, 1] -> [1]
    """,
    check="""
    for x in (torch.tensor([1, 2, 3]), torch.tensor([0.5, -1.5, 2.0, 4.0]), torch.tensor([7])):
        check_tensor(f"total({x.tolist()})", total(x), torch.tensor([sum(x.tolist())], dtype=x.dtype))
    print("OK: shape [1], the input's dtype, the right sum")
    """,
)

SUMMARY = markdown(
    """
    ## What you practised

    - **The NumPy bridge**: `torch.from_numpy` shares memory, `torch.tensor` copies.
    - **dtype**: NumPy's float64 meets a float32 `nn.Linear` and fails; `.float()` fixes it.
      `arange` of whole numbers is int64.
    - **Shapes**: `reshape`, `permute`, `unsqueeze`, and `.contiguous()` before `view` on a
      transposed tensor.
    - **Broadcasting**: shapes line up from the right; `unsqueeze` / `None` adds the axis that
      makes them fit.
    - **Device**: `device = "cuda" if torch.cuda.is_available() else "cpu"`, `.to(device)`,
      `.cpu()` to come back; the GPU wins at scale.
    - **Strict checking**: shape, dtype, device and values are four separate questions.

    Next: autograd, where a tensor also remembers how it was computed.
    """
)

CELLS = [INTRO, SETUP, STRICT_DEMO, STRICT_DEMO_CODE, *E1, DTYPE_TRAP, DTYPE_TRAP_CODE, *E2, *E3,
         *E4, *E5, TIMING, TIMING_CODE, *P1, *P2, SUMMARY]
