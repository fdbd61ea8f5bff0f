"""Lesson 2.1.1 Tensors: the NumPy arrays you know, with GPU superpowers.

Every section is an st.fragment over tiny tensors (broadcasting works on stand-ins that hold one
element), so each control answers at once; the timing sweep runs only when its button is pressed.
"""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch

import numpy as np
import pandas as pd
import streamlit as st
import torch

from course.charts import tensors as tensor_charts
from course.concepts import (
    broadcasting,
    device_timing,
    dtypes,
    memory_layout,
    numpy_bridge,
    tensor_puzzles,
)
from course.ui import callouts, checks, lesson

lesson.lesson_header("tensors")
st.markdown(
    "A PyTorch tensor is a NumPy array **with GPU superpowers**. You already know this: every "
    "forward pass you wrote in Foundations was NumPy arrays multiplied and added. A tensor has the "
    "same shape, the same indexing, the same broadcasting rules. What is new is the API's spelling, "
    "and two powers NumPy lacks: it can live on a GPU, and it can remember how it was computed "
    "(the next lesson, autograd)."
)
st.markdown(
    "**Module 2.1, PyTorch Core:** build, train and debug a neural network in PyTorch through "
    "tensors, autograd, `nn.Module` and the training loop, translating every Foundations concept "
    "into working code. Where you stand now: *\"I understand HOW this works, but I've never "
    "actually trained a real model.\"* Series 1 was NumPy and widgets; this module closes that gap, "
    "and tensors are the first step."
)
callouts.foundations_link(
    "Foundations link: `torch.Tensor` ↔ **the NumPy arrays of Series 1**. `np.array` → "
    "`torch.tensor`, `a @ b` is still `a @ b`, `a.reshape(2, 3)` is still `a.reshape(2, 3)`. "
    "The concepts are review; the new learning is the API."
)
callouts.misconception(
    "PyTorch is doing something different from what I learned.",
    "It is doing the same arithmetic on the same arrays. Each section below puts the NumPy you "
    "know beside its PyTorch spelling and shows they agree.",
)

# --- 1. NumPy to tensors ------------------------------------------------------------------
st.header("1. From NumPy to tensors")
st.markdown(
    "Creation functions read the same in both libraries. The one difference that bites: NumPy's "
    "default float is `float64`, PyTorch's is `float32`."
)


@st.cache_data
def creation_rows() -> list[dict]:
    """Each creation call run in both libraries: the same shape, and the dtype each picks."""
    pairs = [("np.array([[1, 2], [3, 4]])", "torch.tensor([[1, 2], [3, 4]])"),
             ("np.zeros((2, 3))", "torch.zeros(2, 3)"),
             ("np.ones((2, 3))", "torch.ones(2, 3)"),
             ("np.arange(6)", "torch.arange(6)"),
             ("np.linspace(0, 1, 5)", "torch.linspace(0, 1, 5)"),
             ("np.random.randn(2, 3)", "torch.randn(2, 3)"),
             ("np.eye(3)", "torch.eye(3)"),
             ("np.full((2, 2), 7.0)", "torch.full((2, 2), 7.0)")]
    rows = []
    for numpy_code, torch_code in pairs:
        a, t = eval(numpy_code, {"np": np}), eval(torch_code, {"torch": torch})
        rows.append({"NumPy": numpy_code, "shape": str(a.shape), "NumPy dtype": str(a.dtype),
                     "PyTorch": torch_code, "tensor shape": str(tuple(t.shape)),
                     "tensor dtype": str(t.dtype).removeprefix("torch.")})
    return rows


st.dataframe(pd.DataFrame(creation_rows()), hide_index=True)

st.subheader("Shared memory or a copy?")
st.markdown(
    "Three ways to turn an array `a` into a tensor. Pick one, then write into the **array**: does "
    "the tensor see it? `from_numpy` wraps the array's own bytes; `torch.tensor` always copies; "
    "`as_tensor` shares when it can and copies when a dtype change forces it."
)


@st.fragment
def bridge_section() -> None:
    cols = st.columns(3)
    way = cols[0].selectbox("Make the tensor with", numpy_bridge.WAYS, key="tensors.way")
    array_dtype = cols[1].selectbox("The array's dtype", ["float64", "float32"], key="tensors.array_dtype")
    value = cols[2].number_input("Then set a[0] =", value=100.0, step=1.0, key="tensors.new_value")
    st.code(f"a = np.arange(4, dtype=np.{array_dtype})\nt = {way}\na[0] = {value:g}", language="python")
    result = numpy_bridge.edit_the_array(way, 0, value, array_dtype)
    left, right = st.columns(2)
    left.metric("a (the array)", str(result.array_after))
    right.metric(f"t ({result.tensor_dtype})", str(result.tensor_after))
    if result.shares_memory:
        st.success("Shared memory: the tensor reads the array's bytes, so it changed too.")
    else:
        st.info("A copy: the tensor kept the old values.")


bridge_section()
st.markdown("The way back is `.numpy()`, which also shares memory. It refuses a tensor that "
            "autograd is tracking:")


@st.fragment
def numpy_error_section() -> None:
    if not st.button("Run `torch.ones(3, requires_grad=True).numpy()`", key="tensors.numpy_error"):
        return
    st.error(f"RuntimeError: {numpy_bridge.numpy_of_tracked_tensor()}")
    gpu_message = numpy_bridge.numpy_of_gpu_tensor()
    if gpu_message:
        st.error(f"And on a GPU tensor: {gpu_message}")
    st.markdown("The fix for both: leave the graph, come back to the CPU, then convert.")
    callouts.show_source(numpy_bridge.safe_numpy)


numpy_error_section()

# --- 2. dtypes ----------------------------------------------------------------------------
st.header("2. dtype: what each number costs")
st.markdown("Every element of a tensor has the same dtype. Type a shape to see what it costs in "
            "each; the sizes come from PyTorch (`element_size()`).")


@st.cache_data
def dtype_rows(shape: tuple[int, ...]) -> list[dict]:
    return dtypes.dtype_table(shape)


@st.fragment
def dtype_section() -> None:
    text = st.text_input("Shape", "60000, 28, 28", key="tensors.dtype_shape",
                         help="MNIST's training images: 60,000 of 28 × 28")
    try:
        shape = broadcasting.parse_shape(text)
    except broadcasting.ShapeError as error:
        st.error(str(error))
        return
    st.dataframe(pd.DataFrame(dtype_rows(shape)), hide_index=True)


dtype_section()
st.subheader("The float64 trap")
st.markdown("An array straight from NumPy is float64; an `nn.Linear`'s weights are float32. "
            "They don't mix:")
trap_message, fixed_dtype = dtypes.float64_into_linear()
st.code("layer = torch.nn.Linear(3, 2)\nx = torch.from_numpy(np.ones((1, 3)))   # float64\nlayer(x)",
        language="python")
st.error(f"RuntimeError: {trap_message}")
st.markdown(f"The fix is one call: `layer(x.float())` gives a `{fixed_dtype}` output.")

first_card = next(iter(dtypes.CARDS.values()))
checks.check_choice("tensors.q_result_type", f"What dtype does `{first_card.expression}` give?",
                    dtypes.DTYPE_CHOICES,
                    dtypes.DTYPE_CHOICES.index(dtypes.result_type(first_card.expression)),
                    first_card.note)

st.markdown("**More predict-the-dtype cards.** Pick one, commit to a guess, then reveal what "
            "PyTorch says.")


@st.fragment
def result_type_section() -> None:
    expression = st.selectbox("Expression", list(dtypes.CARDS)[1:], key="tensors.card")
    st.code(expression, language="python")
    guess = st.radio("Your guess", dtypes.DTYPE_CHOICES, index=None, horizontal=True,
                     key=f"tensors.card_guess.{expression}")
    if st.button("Reveal", key="tensors.card_reveal", disabled=guess is None):
        answer = dtypes.result_type(expression)
        verdict = st.success if guess == answer else st.error
        verdict(f"PyTorch says `{answer}`. {dtypes.CARDS[expression].note}")


result_type_section()

# --- 3. Shapes and memory -----------------------------------------------------------------
st.header("3. Shapes and memory layout: views and copies")
st.markdown(
    "A tensor is a flat block of storage plus a **shape** and **strides**: how many elements to "
    "skip to move one step along each dimension. `view`, `transpose`, `permute`, `unsqueeze` and "
    "slicing only change the strides: they return a **view** of the same storage. Pick an "
    "operation and look underneath."
)
checks.check_choice("tensors.q_view", "`x = torch.arange(12).reshape(3, 4)`. What does "
                    "`x.transpose(0, 1).view(-1)` do?",
                    ["Returns a view of x's storage", "Returns a copy", "Raises an error"],
                    2, "After transpose, reading in order jumps through storage (strides (1, 4)); "
                    "no single stride can walk it as one flat run, so view refuses. "
                    "`.contiguous()` copies it into reading order first, or `reshape` does that for you.")


@st.fragment
def layout_section() -> None:
    cols = st.columns([1, 1, 3])
    rows = cols[0].slider("rows", 2, 5, 3, key="tensors.rows")
    columns = cols[1].slider("cols", 2, 5, 4, key="tensors.cols")
    operation = cols[2].selectbox("Operation on x", list(memory_layout.OPERATIONS), index=3,
                                  key="tensors.operation")
    x = memory_layout.make_x(rows, columns)
    st.code(f"x = torch.arange({rows * columns}).reshape({rows}, {columns})\n"
            f"# shape {tuple(x.shape)}, stride {x.stride()}\ny = {operation}", language="python")
    layout = memory_layout.apply(operation, rows, columns)
    if layout.error:
        st.error(f"RuntimeError: {layout.error}")
        st.markdown("Fix: `.contiguous()` first (a copy in reading order), or `reshape`, which "
                    "views when it can and copies when it must.")
        return
    metrics = st.columns(4)
    metrics[0].metric("y.shape", str(layout.shape))
    metrics[1].metric("y.stride()", str(layout.stride))
    metrics[2].metric("is_contiguous()", str(layout.is_contiguous))
    metrics[3].metric("shares x's storage?", "yes: a view" if layout.shares_storage else "no: a copy")
    offsets = memory_layout.memory_offsets(layout.shape, layout.stride, layout.storage_offset)
    moved = ("" if layout.data_ptr_moved is None
             else f" `y.data_ptr() - x.data_ptr()` = {layout.data_ptr_moved} bytes.")
    order = ("in order: contiguous" if memory_layout.reads_in_order(layout)
             else "with jumps: not contiguous")
    st.markdown(f"Reading y in order visits storage positions `{offsets[:24]}`"
                f"{' …' if len(offsets) > 24 else ''} ({order}).{moved}")


layout_section()
with st.expander("Every operation on x = torch.arange(12).reshape(3, 4), side by side"):
    st.dataframe(pd.DataFrame([{"operation": one.operation, "shape": str(one.shape or "-"),
                                "stride": str(one.stride or "-"), "verdict": one.verdict,
                                "error": one.error or ""} for one in memory_layout.all_layouts()]),
                 hide_index=True)
callouts.takeaway("view and friends change only the walk over the same storage; when no walk "
                  "fits, .contiguous() copies, and reshape does the copy for you when it must.")

# --- 4. Broadcasting ----------------------------------------------------------------------
st.header("4. Broadcasting X-ray")
st.markdown(
    "NumPy's rule, unchanged: line the shapes up on the **right**, pad the shorter with 1s on the "
    "left, and in every column the sizes must agree or be 1; a 1 is stretched to match. Explicitly "
    "that is `a.expand(out) + b.expand(out)`; broadcasting is the convenience that does the "
    "expanding for you, without copying (an expanded axis has stride 0)."
)
checks.check_choice("tensors.q_broadcast", "What shape does `torch.ones(3, 1) + torch.ones(4)` give?",
                    ["(3, 4)", "(4, 3)", "(3, 1)", "an error"],
                    ["(3, 4)", "(4, 3)", "(3, 1)"].index(str(broadcasting.xray((3, 1), (4,)).result)),
                    "(4,) is padded to (1, 4); then a's 1 stretches to 4 and b's 1 to 3: (3, 4).")


@st.cache_data
def cached_xray(shapes: tuple[tuple[int, ...], ...]) -> broadcasting.XRay:
    return broadcasting.xray(*shapes)


def xray_table(ray: broadcasting.XRay) -> str:
    """The aligned shapes as a markdown table: (1) padded, 1→n stretched, ✗ the conflict."""
    header = "| | " + " | ".join(f"dim {c.dimension}" + (" ✗ conflict" if c.conflict else "")
                                  for c in ray.columns) + " |"
    lines = [header, "|---|" + "---|" * len(ray.columns)]
    for i, shape in enumerate(ray.shapes):
        cells = []
        for column in ray.columns:
            cell = column.cells[i]
            text = "(1) padded" if cell.padded else str(cell.size)
            if cell.stretched:
                text += f" → {column.size}"
            if column.conflict and cell.size != 1:
                text = f"**{text}** ✗"
            cells.append(text)
        lines.append(f"| {broadcasting.NAMES[i]} {shape} | " + " | ".join(cells) + " |")
    lines.append("| **result** | " + " | ".join("**?**" if c.conflict else f"**{c.size}**"
                                                 for c in ray.columns) + " |")
    return "\n".join(lines)


@st.fragment
def broadcast_section() -> None:
    cols = st.columns(3)
    texts = [cols[0].text_input("Shape of a", "2, 3", key="tensors.shape_a"),
             cols[1].text_input("Shape of b", "2", key="tensors.shape_b"),
             cols[2].text_input("Shape of c (optional)", "", key="tensors.shape_c",
                                placeholder="leave empty for a + b")]
    shapes = []
    for name, text in zip(broadcasting.NAMES, texts):
        if name == "c" and not text.strip():
            continue
        try:
            shapes.append(broadcasting.parse_shape(text))
        except broadcasting.ShapeError as error:
            st.error(f"Shape of {name}: {error}")
            return
    ray = cached_xray(tuple(shapes))
    expression = " + ".join(broadcasting.NAMES[: len(shapes)])
    if not ray.columns:
        st.markdown(f"All scalars: `{expression}` has shape `()`.")
        return
    st.markdown(xray_table(ray))
    if ray.result is not None:
        st.success(f"Result shape of `{expression}`: `{ray.result}`")
        shown = broadcasting.explicit_then_implicit(ray.shapes)
        if shown is not None:
            explicit, implicit = shown
            st.markdown(f"Explicit `expand` then add, and implicit broadcasting, on real tensors: "
                        f"equal? `{bool(torch.equal(explicit, implicit))}`")
        return
    dims = ", ".join(str(d) for d in ray.conflicts)
    st.error(f"RuntimeError: {ray.error}\n\nThe sizes disagree at dim {dims} (marked ✗), and "
             "neither is 1.")
    if ray.fix is None:
        st.info("No single `unsqueeze` fixes these shapes: a size itself has to change "
                "(a different tensor, or a transpose).")
        return
    st.markdown(f"**One-call fix:** `{ray.fix.code}` (the same as `{ray.fix.index_code}`) "
                f"gives shapes `{', '.join(str(s) for s in ray.fix.shapes)}`.")
    fixed = " + ".join(ray.fix.code if i == ray.fix.input_index else name
                       for i, name in enumerate(broadcasting.NAMES[: len(shapes)]))
    st.success(f"Result shape of `{fixed}`: `{broadcasting.run_fixed(ray.fix)}`, run by PyTorch. "
               "Check it pairs the axes you meant: broadcasting never asks.")


broadcast_section()
callouts.takeaway("Right-align the shapes; each column must match or be 1. When it fails, add "
                  "the missing axis of size 1 (unsqueeze or None) where you meant it.")

# --- 5. Devices ---------------------------------------------------------------------------
st.header("5. Devices: CPU, GPU and the cost of moving")
st.markdown(
    "Every tensor lives on a device. Explicitly: `x.to(\"cuda\")` copies it to the GPU, "
    "`x.to(\"cpu\")` copies it back; an operation needs all its tensors on the same device. "
    "The usual convenience picks the device once: "
    "`device = \"cuda\" if torch.cuda.is_available() else \"cpu\"`."
)
st.dataframe(pd.DataFrame(device_timing.available_devices()), hide_index=True)
here = device_timing.best_device()
st.code(f"device = \"cuda\" if torch.cuda.is_available() else \"cpu\"   # → {here!r}\n"
        f"x = torch.randn(3, 3).to(device)                           # x.device → "
        f"{device_timing.move(torch.randn(3, 3), here).device}", language="python")
expressions = "\n".join(f"- `{code}`" for code in device_timing.MIXED_EXPRESSIONS)
if torch.cuda.is_available():
    answers = device_timing.mixed_expression_devices("cuda")
    answer = "\n".join(f"- `{code}` → {result}" for code, result in answers.items())
    answer += ("\n\nRun here on the GPU: a Python number and a 0-dimensional CPU tensor may join "
               "a GPU tensor, and the result stays on the GPU; a CPU tensor with dimensions may not.")
else:
    answer = ("No GPU on this machine, so these can't run here (run them in the notebook on Colab "
              "with a GPU). PyTorch's rule: a Python number and a 0-dimensional CPU tensor may "
              "join a GPU tensor, and the result stays on the GPU (the first two); a CPU tensor "
              "with dimensions may not: the third raises `RuntimeError: Expected all tensors to be "
              "on the same device`.")
callouts.reveal(f"With `device = \"cuda\"`, where does each result live?\n\n{expressions}", answer)
st.markdown(
    "**Timing it honestly.** A matrix product of growing size, timed with "
    "`torch.utils.benchmark.Timer`: a warm-up run first, the GPU synchronised before each reading "
    "(its work is asynchronous), and the median of 7 repeats. With a GPU the copy of both inputs "
    "to it is timed too."
)


@st.fragment
def timing_section() -> None:
    if st.button("Time the matmuls", key="tensors.time", type="primary"):
        with st.spinner("Timing…"):
            timings = device_timing.sweep("cpu")
            if torch.cuda.is_available():
                timings += device_timing.sweep("cuda")
        st.session_state["tensors.timings"] = timings
    timings = st.session_state.get("tensors.timings")
    if not timings:
        st.caption("Press the button: the CPU sweep takes a fraction of a second.")
        return
    st.plotly_chart(tensor_charts.matmul_timing(timings), key="tensors.timing_chart")
    st.caption("Measured just now, on one CPU thread of this machine. A server other learners "
               "share makes the curve wobble: press again to measure again.")
    # without a GPU nothing is transferred: no empty transfer column
    st.dataframe(pd.DataFrame(device_timing.as_rows(timings)).dropna(axis=1, how="all"),
                 hide_index=True)
    cpu = [t for t in timings if t.device == "cpu"]
    gpu = [t for t in timings if t.device != "cpu"]
    if not gpu:
        st.info("No GPU on this machine, so only the CPU curve. On a GPU the smallest products "
                "lose (launching a kernel and copying the data cost more than the arithmetic), "
                "and the large ones win by orders of magnitude.")
    else:
        wins = device_timing.gpu_wins_from(cpu, gpu)
        st.markdown(f"Here the GPU, paying the transfer, beats the CPU from n = {wins} on."
                    if wins else "Here the GPU, paying the transfer, never beat the CPU at these sizes.")


timing_section()
callouts.takeaway("GPU wins at scale: for small tensors the transfer and launch overhead "
                  "dominate; for large matrix products the GPU is far faster. Move data once, "
                  "keep it there.")

# --- 6. Puzzles ---------------------------------------------------------------------------
st.header("6. Tensor puzzles with a strict checker")
st.markdown(
    "Pick a puzzle and one of the answers a learner might write. The checker grades **value, "
    "shape, dtype and device separately**: `tensor(6)`, `tensor([6])` and `tensor([[6]])` are "
    "three different answers here, although `torch.allclose` (which broadcasts) calls them equal."
)
callouts.misconception(
    "More PyTorch API means better code.",
    "Each puzzle is one line of plain operations you already know: arange, indexing, a sum. "
    "Knowing the shapes beats knowing more functions.",
)


@st.fragment
def puzzle_section() -> None:
    key = st.selectbox("Puzzle", list(tensor_puzzles.PUZZLES), key="tensors.puzzle",
                       format_func=lambda k: tensor_puzzles.PUZZLES[k].title)
    puzzle = tensor_puzzles.PUZZLES[key]
    st.markdown(puzzle.task)
    attempt = st.radio("Answer", list(puzzle.attempts), key=f"tensors.attempt.{key}",
                       format_func=lambda code: code)
    result = tensor_puzzles.grade(key, attempt)
    if result.error:
        st.error(f"`{attempt}` raises RuntimeError: {result.error}")
        return
    marks = {True: "✓", False: "✗", None: "-"}
    st.dataframe(pd.DataFrame([{name: marks[ok] for name, ok in result.checks().items()}]),
                 hide_index=True)
    st.code(f"got      = {result.got!r}\nexpected = {result.expected!r}", language="text")
    if result.accepted:
        st.success(f"Accepted: {result.comparison.message}")
    else:
        st.error(f"Not accepted: {result.comparison.message}")
        if result.broadcasting_checker_accepts:
            st.warning("A checker built on `torch.allclose` would have accepted this one.")
    rows = tensor_puzzles.diff_rows(result)
    if rows and not result.accepted:
        st.markdown("**Cell by cell**")
        st.dataframe(pd.DataFrame([{**row, "index": str(row["index"])} for row in rows]),
                     hide_index=True)
    with st.expander("Show the reference solution"):
        st.code(tensor_puzzles.solution_source(key), language="python")


puzzle_section()
callouts.takeaway("A tensor is NumPy you already know, plus a dtype, a device and a memory "
                  "layout you can inspect: check all four, not just the values.")

lesson.next_lesson_link("tensors")
