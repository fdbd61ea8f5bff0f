"""Lesson 2.1.2 Autograd: the backprop you did by hand, on tensors, in one line.

Speed: each widget group is an st.fragment; every tensor here has at most a few elements.
"""

from course.ui.navigation import use_app_navigation

use_app_navigation()

import pandas as pd
import streamlit as st
import torch

from course.charts import figures
from course.concepts import autograd_errors, autograd_graph, backprop_example, gradient_accumulation
from course.ui import callouts, checks, lesson

lesson.lesson_header("autograd")

st.markdown(
    "In Foundations you computed gradients by hand: forward pass, then the chain rule node by "
    "node from the output back to the inputs. **Autograd does exactly that**: every operation on a "
    "tensor with `requires_grad=True` records a node, and `backward()` walks the nodes in reverse."
)
callouts.foundations_link(
    "Foundations link: `tensor.backward()` ↔ **Computational graphs (1.3.3)**. The graph below is "
    "micrograd's picture, drawn from PyTorch's own `grad_fn.next_functions` chain."
)
callouts.misconception(
    "PyTorch is doing something different from what I learned",
    "It is the same chain rule on the same graph: the table under the graph puts autograd's "
    "`.grad` beside the gradient derived by hand, and section 4 checks your own derivation "
    "against it number by number.",
)
callouts.misconception(
    "loss.backward() replaces understanding backprop",
    "Autograd automates the manual work; it does not replace understanding it. When a gradient "
    "is None, zero or wrong, you debug it with the chain rule you already know.",
)

# --- 1. Your expression's graph ---------------------------------------------------------------
st.header("1. requires_grad, backward() and .grad on your expression")
st.markdown("Pick an expression and move its inputs. Each box is a tensor with its value; "
            "step the backward pass to fill in the gradients from the output to the inputs.")


@st.fragment
def graph_section() -> None:
    expression = st.selectbox("Expression", list(autograd_graph.EXPRESSIONS), key="autograd.expr")
    formula, names = autograd_graph.EXPRESSIONS[expression]
    st.code(formula, language="python")
    cols = st.columns(len(names))
    values = {n: cols[i].slider(n, -5.0, 5.0, autograd_graph.DEFAULTS.get(n, 1.0), 0.5,
                                key=f"autograd.in.{n}") for i, n in enumerate(names)}
    nodes = autograd_graph.run_backward(expression, values)
    step = st.slider("Backward steps shown (output → inputs)", 0, len(nodes), len(nodes),
                     key="autograd.step")
    st.graphviz_chart(autograd_graph.to_dot(nodes, step))
    hand = autograd_graph.hand_gradients(expression, values)
    st.markdown("**`.grad` from `backward()` beside the hand-derived gradient**")
    st.dataframe(pd.DataFrame([{"input": n.name, ".grad (autograd)": n.grad,
                                "by hand (chain rule)": hand[n.name]}
                               for n in nodes if n.op == "leaf"]), hide_index=True)


graph_section()
callouts.show_source(autograd_graph.build, "How the graph is built: leaves with requires_grad, "
                     "intermediates with retain_grad() so the picture can show their .grad.")
checks.check_number("autograd.q_grad_a", "For L = (a·b + c)·f with a=2, b=-3, c=10, f=-2, "
                    "what is dL/da?", 6.0, "dL/da = f·b = (-2)·(-3) = 6.")
callouts.takeaway("Every operation records a node; backward() runs the chain rule through them "
                  "in reverse and leaves dL/dx in x.grad for each leaf x.")

# --- 2. Accumulation --------------------------------------------------------------------------
st.header("2. Gradient accumulation: zero_grad is not boilerplate")
callouts.misconception("zero_grad is just boilerplate",
                       "`.grad` **adds** each new gradient to the old one. Without zeroing, step "
                       "k uses the sum of k gradients.")
checks.check_number("autograd.q_accum", "L = w·3. After calling backward() 4 times without "
                    "zeroing, what is w.grad?", 12.0, "Each call adds dL/dw = 3: 3+3+3+3 = 12.")


@st.fragment
def accumulation_section() -> None:
    k = st.slider("backward() calls", 1, 10, 5, key="autograd.k")
    without = gradient_accumulation.grad_timeline(k, zero_each_time=False)
    with_zero = gradient_accumulation.grad_timeline(k, zero_each_time=True)
    st.plotly_chart(figures.curves({"without zero_grad": without, "with zero_grad": with_zero},
                                   x_title="backward() call", y_title="w.grad"),
                    key="autograd.timeline")
    x = torch.linspace(-1, 1, 12)
    y = 2 * x + 1
    parts = st.select_slider("micro-batches", [1, 2, 3, 4, 6, 12], 4, key="autograd.micro")
    full = gradient_accumulation.full_batch_grad(x, y).item()
    acc = gradient_accumulation.accumulated_grad(x, y, parts).item()
    st.code(f"full batch gradient            → {full:.6f}\n"
            f"sum of loss/{parts} over {parts} micro-batches → {acc:.6f}", language="text")


accumulation_section()
callouts.show_source(gradient_accumulation.accumulated_grad)
st.code(f"optimizer.zero_grad(set_to_none=True)  → w.grad = "
        f"{gradient_accumulation.zero_grad_effect(True)}\n"
        f"optimizer.zero_grad(set_to_none=False) → w.grad = "
        f"{gradient_accumulation.zero_grad_effect(False)}", language="text")
st.markdown("`set_to_none=True` (the default) frees `.grad` instead of filling it with zeros; the "
            "next backward() writes a fresh tensor.")
callouts.takeaway("Zero the gradients once per optimizer step; skip zeroing only on purpose, "
                  "to accumulate micro-batches (each loss divided by k).")

# --- 3. Turning autograd off ------------------------------------------------------------------
st.header("3. torch.no_grad(), detach() and requires_grad=False")
st.markdown("Three ways to keep a computation out of the graph: y = w·x with w = 2, x = 3.")
st.dataframe(pd.DataFrame([{"how": m, **gradient_accumulation.graph_effect(m)}
                           for m in ("torch.no_grad()", "detach()", "requires_grad=False")]),
             hide_index=True)
callouts.show_source(gradient_accumulation.graph_effect)
checks.check_choice("autograd.q_nograd", "Inside `with torch.no_grad():`, what is y.grad_fn for "
                    "y = w * x with w.requires_grad=True?", ["MulBackward0", "None"], 1,
                    "no_grad records no node, so y has no grad_fn and requires_grad=False.")

# --- 4. Backprop worked example ---------------------------------------------------------------
st.header("4. The backprop worked example: your derivation, checked by a strict cmp()")
st.markdown("A two-layer net x[1,2] → W1[2,3] → relu → W2[3,1] → squared error, with fixed numbers "
            "chosen for this page. Derive each intermediate gradient with the chain rule, output "
            "first, and type it as a nested list (`[[0.5, -1.0]]`): the shape you type is the shape "
            "that is checked.")
tensors = backprop_example.inputs()
z1, h, out, loss = backprop_example.forward(tensors["x"], tensors["W1"], tensors["W2"], tensors["y"])
st.code("\n".join([f"x  = {backprop_example.readable(tensors['x'])}",
                    f"W1 = {backprop_example.readable(tensors['W1'])}",
                    f"W2 = {backprop_example.readable(tensors['W2'])}",
                    f"y  = {backprop_example.readable(tensors['y'])}",
                    f"z1 = x @ W1        = {backprop_example.readable(z1)}",
                    f"h  = relu(z1)      = {backprop_example.readable(h)}",
                    f"out = h @ W2       = {backprop_example.readable(out)}",
                    f"loss = ((out - y)**2).sum() = {loss.item():g}"]), language="text")
DERIVATION_HINTS = {"out": "dloss/dout = 2·(out − y)", "W2": "dloss/dW2 = h.T @ dout",
                    "h": "dloss/dh = dout @ W2.T", "z1": "dloss/dz1 = dh · (z1 > 0)",
                    "W1": "dloss/dW1 = x.T @ dz1"}


@st.fragment
def derivation_section() -> None:
    auto = backprop_example.by_autograd(tensors)
    typed, problems = {}, []
    for name in backprop_example.INTERMEDIATES:
        text = st.text_input(f"d loss / d {name}   ({DERIVATION_HINTS[name]}, shape "
                             f"{list(auto[name].shape)})", key=f"autograd.hand.{name}",
                             placeholder="[[...]]")
        if not text.strip():
            continue
        try:
            typed[name] = backprop_example.parse_derivation(text)
        except backprop_example.DerivationError as error:
            problems.append(f"d loss / d {name}: {error}")
    for problem in problems:
        st.error(problem)
    rows = backprop_example.cmp_table(typed, auto)
    st.markdown("**cmp(): your derivation against autograd's `.grad`**")
    st.dataframe(pd.DataFrame(rows), hide_index=True, column_config={
        "message": st.column_config.TextColumn(width="large"),
        "max difference": st.column_config.NumberColumn(format="%.3g")})
    if all(r["verdict"] in ("exact", "close") for r in rows):
        st.success("Every intermediate matches autograd: you just did what `loss.backward()` does.")


derivation_section()
st.caption("Why strict: Karpathy's `cmp()` compares with broadcasting, so a gradient of shape "
           "`[3]` passes for one of shape `[1, 3]` (karpathy/nn-zero-to-hero#59). Here the shape "
           "is its own verdict.")
with st.expander("The chain rule in code, beside autograd (open after you tried)"):
    callouts.show_source(backprop_example.by_hand)
    hand = backprop_example.by_hand(tensors)
    auto = backprop_example.by_autograd(tensors)
    st.dataframe(pd.DataFrame([{"gradient of": k, "shape": str(list(hand[k].shape)),
                                "by hand": backprop_example.readable(hand[k]),
                                "autograd": backprop_example.readable(auto[k]),
                                "max difference": (hand[k] - auto[k]).abs().max().item()}
                               for k in backprop_example.INTERMEDIATES]), hide_index=True)
    st.caption("relu's mask times a negative gradient gives −0.0, which equals 0.0: the table "
               "shows it as 0.0.")
gradcheck_passes = st.cache_data(backprop_example.gradcheck_passes)
st.markdown(f"`torch.autograd.gradcheck` on the analytic gradient (float64): "
            f"**{gradcheck_passes()}**")
callouts.takeaway("All the manual work of the backprop worked example happens in one line, "
                  "`loss.backward()`, and gives the same numbers.")

# --- 5. Error lab -----------------------------------------------------------------------------
st.header("5. Autograd error lab")
st.markdown("One click each: the real message PyTorch gives, the graph node it points at, and "
            "the code that caused it.")


@st.fragment
def error_lab() -> None:
    st.radio("Mistake", list(autograd_errors.ERRORS), key="autograd.err", horizontal=True)
    st.button("Run it", key="autograd.err_run", on_click=lambda: st.session_state.update(
        {"autograd.err_shown": st.session_state["autograd.err"]}))
    shown = st.session_state.get("autograd.err_shown")
    if shown:
        result = autograd_errors.trigger(shown)
        (st.error if result.kind == "error" else st.warning)(
            f"**{shown}** → {result.kind}: {result.message}")
        st.info(f"The node it points at: **{result.node}**")
        callouts.show_source(autograd_errors.ERRORS[shown])
        if shown == ".grad of a non-leaf":
            st.markdown(f"Fix: `y.retain_grad()` before backward() → y.grad = "
                        f"{autograd_errors.non_leaf_fixed()}")


error_lab()

lesson.next_lesson_link("autograd")
