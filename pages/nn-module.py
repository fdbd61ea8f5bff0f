"""Lesson 2.1.3 nn.Module: the explicit operations first (x @ W.T + b), then the module that
holds them. Every section is an st.fragment over small tensors, so each control answers at once."""

from course.ui.navigation import use_app_navigation

use_app_navigation()  # first, before torch

import pandas as pd
import streamlit as st
import torch

from course.concepts import (
    linear_by_hand,
    network_builder,
    registration,
    shape_flow,
    state_dict_keys,
)
from course.ui import callouts, checks, lesson

IN_FEATURES = 2
LAYERS_KEY = "nnm.layers"

lesson.lesson_header("nn-module")
st.markdown(
    "In Foundations you defined a neuron mathematically: a weighted sum plus a bias, then an "
    "activation. `nn.Module` is that definition written in code: it holds the weights, registers "
    "them so an optimizer can find them, and runs the forward pass."
)
callouts.foundations_link(
    "Foundations link: `nn.Linear` and `nn.Module` ↔ **Neurons and layers (1.2)**: the neurons "
    "you defined mathematically are now defined in code."
)

# --- Linear by hand -----------------------------------------------------------------------
st.header("1. Linear by hand: `x @ W.T + b`")
st.markdown(
    "Before `nn.Linear`, the explicit operation. A layer with 3 inputs and 2 outputs keeps a "
    "weight matrix of shape `(out, in) = (2, 3)` and a bias of shape `(2,)`; its output is "
    "`x @ W.T + b`. Edit one weight and watch both outputs change together."
)
checks.check_number("nnm.q_weight_shape_rows", "`nn.Linear(3, 2).weight` has shape (a, b). What is a?",
                    2, "The weight is stored as (out_features, in_features): 2 rows, one per output.")


@st.fragment
def linear_section() -> None:
    layer = linear_by_hand.make_layer()
    x = torch.tensor([[1.0, 2.0, 3.0]])
    value = st.slider("Weight W[0, 0]", -2.0, 2.0, round(layer.weight[0, 0].item(), 2), 0.05,
                      key="nnm.w00")
    edited = linear_by_hand.with_edited_weight(layer, 0, 0, value)
    manual = linear_by_hand.by_hand(x, edited.weight.detach(), edited.bias.detach())
    with torch.no_grad():
        builtin = edited(x)
    cols = st.columns(2)
    cols[0].metric("x @ W.T + b  (output 0)", f"{manual[0, 0].item():.4f}")
    cols[1].metric("layer(x)  (output 0)", f"{builtin[0, 0].item():.4f}")
    st.write(f"`W.shape == {tuple(edited.weight.shape)}`, the two agree: "
             f"`{bool(torch.allclose(manual, builtin))}`")
    callouts.show_source(linear_by_hand.by_hand)


linear_section()
callouts.misconception(
    "More PyTorch API means better code.",
    "`nn.Linear` does nothing `x @ W.T + b` doesn't; it keeps the weights and registers them. "
    "Know the operation first, then use the convenience.")

# --- Build by clicking --------------------------------------------------------------------
st.header("2. Build a network by clicking")
st.markdown(
    "Add and remove layers. The printed module, the `nn.Module` subclass that builds the same "
    "network, its `named_parameters` and the count `in × out + out` per Linear all update at once."
)
if LAYERS_KEY not in st.session_state:
    st.session_state[LAYERS_KEY] = [(8, "ReLU"), (1, "none")]


def add_layer() -> None:
    layers = st.session_state[LAYERS_KEY]
    if len(layers) < network_builder.MAX_LAYERS:
        width = int(st.session_state.get("nnm.new_width", 8))
        activation = st.session_state.get("nnm.new_act", "ReLU")
        st.session_state[LAYERS_KEY] = [*layers[:-1], (width, activation), layers[-1]]


def remove_layer() -> None:
    layers = st.session_state[LAYERS_KEY]
    if len(layers) > network_builder.MIN_LAYERS:
        st.session_state[LAYERS_KEY] = [*layers[:-2], layers[-1]]


@st.fragment
def builder_section() -> None:
    layers = st.session_state[LAYERS_KEY]
    cols = st.columns([2, 2, 1.5, 1.7], vertical_alignment="bottom")
    cols[0].number_input("New hidden layer width", 1, 64, 8, key="nnm.new_width")
    cols[1].selectbox("Its activation", ["ReLU", "Tanh", "Sigmoid", "none"], key="nnm.new_act")
    cols[2].button("Add layer", icon=":material/add:", key="nnm.add", on_click=add_layer,
                   disabled=len(layers) >= network_builder.MAX_LAYERS)
    cols[3].button("Remove layer", icon=":material/remove:", key="nnm.remove",
                   on_click=remove_layer,
                   disabled=len(layers) <= network_builder.MIN_LAYERS)
    model = network_builder.build_sequential(IN_FEATURES, layers)
    formula = network_builder.formula_count(IN_FEATURES, layers)
    counted = network_builder.parameter_count(model)
    left, right = st.columns(2)
    with left:
        st.markdown("**print(model)**")
        st.code(str(model), language="text", wrap_lines=True)
        st.markdown("**named_parameters**")
        st.dataframe(pd.DataFrame(network_builder.parameter_table(model)), hide_index=True)
    with right:
        st.markdown("**The same network as a subclass**")
        st.code(network_builder.subclass_code(IN_FEATURES, layers), language="python")
    terms = " + ".join(f"{i}×{o}+{o}" for i, o in network_builder.layer_sizes(IN_FEATURES, layers))
    st.metric("Parameters (in × out + out per Linear)", f"{formula:,}")
    st.write(f"{terms} = {formula:,}; `sum(p.numel() for p in model.parameters())` = {counted:,}. "
             "`model.parameters()` is exactly what `optim.SGD(model.parameters(), lr=...)` receives: "
             f"{len(list(model.parameters()))} tensors.")


builder_section()
checks.check_number("nnm.q_params", "How many parameters does `nn.Linear(10, 5)` have?", 55,
                    "10 × 5 weights + 5 biases = 55.")

# --- Shape flow ---------------------------------------------------------------------------
st.header("3. Shape flow through a forward pass")
st.markdown(
    "Forward hooks record each layer's input and output shape on a batch of 4 samples. Change "
    "the last Linear's in-features so it no longer matches: the pass stops at that layer with "
    "PyTorch's own error."
)


@st.fragment
def shape_section() -> None:
    in_last = st.number_input("in_features of the last Linear", 1, 32, 8, key="nnm.in_last")
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(int(in_last), 1))
    rows, error = shape_flow.trace_shapes(model, torch.randn(4, 2))
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    if error:
        st.error(f"Stopped at `{shape_flow.failing_layer(model, rows)}`:\n\n`{error}`\n\n"
                 "Fix: a Linear's in_features must equal the previous layer's out_features (8).")
    else:
        st.success("Every layer's input matches the previous layer's output.")


shape_section()

# --- Registration -------------------------------------------------------------------------
st.header("4. Registration: a plain list hides layers")
st.markdown(
    "Layers assigned as attributes are registered; layers kept in a plain Python list are not, "
    "so `parameters()`, the optimizer and `.to(device)` never see them. `nn.ModuleList` fixes it "
    "(a classic of the PyTorch tracker, pytorch/pytorch#8017)."
)
checks.check_choice("nnm.q_plain_list", "A model keeps 3 `nn.Linear(4, 4)` in a plain list. "
                    "How many parameters does `model.parameters()` yield?",
                    ["0", "60", "20"], 0, "The list is invisible to the module: nothing is registered.")


@st.fragment
def registration_section() -> None:
    n = st.slider("Layers in the list", 1, 5, 3, key="nnm.n_layers")
    cols = st.columns(2)
    cols[0].metric("plain list: parameters()",
                   registration.visible_parameters(registration.PlainListNet(n)))
    cols[1].metric("nn.ModuleList: parameters()",
                   registration.visible_parameters(registration.ModuleListNet(n)))
    callouts.show_source(registration.ModuleListNet)


registration_section()
st.markdown(
    "**What `.to()` does.** `model.to(device)` or `model.to(dtype)` moves or casts every "
    "*registered* parameter. Here (it works the same on any machine) `.to(torch.float64)` "
    "casts: each Linear's weight and bias dtype before and after."
)


@st.fragment
def to_section() -> None:
    cols = st.columns(2)
    for col, (label, net) in zip(cols, (("plain list", registration.PlainListNet),
                                        ("nn.ModuleList", registration.ModuleListNet))):
        rows = registration.dtypes_before_and_after_to(net(2))
        col.markdown(f"**{label}: `model.to(torch.float64)`**")
        col.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption("The plain list's layers stay float32: a float64 input then fails inside them "
               "(“mat1 and mat2 must have the same dtype, but got Double and Float”), and with "
               "`.to('cuda')` they would stay behind on the CPU.")
    callouts.show_source(registration.dtypes_before_and_after_to)


to_section()

# --- state_dict keys ----------------------------------------------------------------------
st.header("5. state_dict keys")
st.markdown(
    "The same network as `nn.Sequential` and as a subclass stores the same tensors under "
    "different names. Loading one into the other with `strict=False` loads nothing and tells you why: "
    "the bridge to saving and loading."
)
st.dataframe(pd.DataFrame(state_dict_keys.keys_side_by_side(), columns=["nn.Sequential", "subclass"]),
             hide_index=True)
missing, unexpected = state_dict_keys.load_mismatched()
st.write(f"`load_state_dict(strict=False)` → missing: `{missing}`, unexpected: `{unexpected}`")
callouts.takeaway("An nn.Module is parameters plus a forward pass; registration decides what the "
                  "optimizer sees, and the attribute names become the state_dict keys.")

lesson.next_lesson_link("nn-module")
