"""Lesson 2.1.4 Training Loop: the Foundations fits again, with torch.optim, in the same four lines.

Speed: every fit here is tiny (50 points, a 2-parameter line or a 1-16-1 net) and cached; the
playground trains inside a fragment only while it plays.
"""

from course.ui.navigation import use_app_navigation

use_app_navigation()

import pandas as pd
import streamlit as st

from course.charts import figures, training_loop
from course.concepts import curve_fit, heartbeat, linear_regression, step_inspector
from course.ui import callouts, checks, lesson
from course.ui.playground import playground_section

lesson.lesson_header("training-loop")

st.markdown(
    "Full circle. In Foundations you fitted a line to y = 2x + 1 with NumPy and trained a small "
    "neural network by hand. Here you do both again in PyTorch, and every one of them is the same "
    "four-line **heartbeat**: **① forward, ② loss, ③ backward, ④ step**. First the explicit "
    "version with raw tensors, then `nn.Linear`, `nn.MSELoss` and `torch.optim` doing the same "
    "thing, then a playground where you train real networks yourself."
)
callouts.foundations_link(
    "Foundations link: the regression is **1.1 linear regression**, the network is **1.2's neural "
    "net**, and `optim.SGD` / `optim.Adam` are the **optimizers of 1.3.5**, ready-made."
)
st.markdown("**The module's arc:** “I already understand this” → “Oh, PyTorch just automates "
            "what I did manually” → **“I can build real things now.”** This is the lesson where "
            "the gap “I understand *how* training works, but I've never trained a real model” closes.")

st.header("1. Linear regression by hand, on tensors")
st.markdown(
    "Fifty points of y = 2x + 1 plus noise. `w` and `b` are tensors with `requires_grad=True`; "
    "autograd gives their gradients, and **you** write the update under `torch.no_grad()` "
    "(the update itself must not be recorded in the graph)."
)


@st.cache_data(show_spinner=False, max_entries=64)
def hand_fit(noise: float, lr: float, steps: int):
    """The fit and its animated figure (cached: building the figure's frames is the slow part)."""
    x, y = linear_regression.regression_data(noise=noise)
    frames = linear_regression.fit_by_hand(x, y, lr=lr, steps=steps)
    return frames, training_loop.fit_animation(x, y, frames, title="by hand, ")


@st.cache_data(show_spinner=False, max_entries=64)
def optimizer_fit(name: str, noise: float, lr: float, steps: int):
    x, y = linear_regression.regression_data(noise=noise)
    return linear_regression.fit_with_optimizer(x, y, name, lr=lr, steps=steps)


@st.fragment
def by_hand_section() -> None:
    cols = st.columns(3)
    noise = cols[0].select_slider("Noise on the points", [0.0, 0.1, 0.3, 0.5], 0.3, key="loop.noise")
    lr = cols[1].select_slider("Learning rate", [0.01, 0.03, 0.1, 0.3], 0.1, key="loop.lr")
    steps = cols[2].select_slider("Steps", [25, 50, 100, 200], 100, key="loop.steps")
    frames, figure = hand_fit(noise, lr, steps)
    st.plotly_chart(figure, key="loop.hand_chart")
    w, b, loss = frames[-1]
    st.write(f"After {steps} steps: **w = {w:.3f}** (true 2), **b = {b:.3f}** (true 1), MSE {loss:.4f} "
             "(the noise keeps it above 0). Press **▶ Replay the training** to watch the line move.")


by_hand_section()
callouts.show_heartbeat(linear_regression.fit_by_hand, "The code that ran, heartbeat highlighted.")

st.subheader("The same fit with nn.Linear, nn.MSELoss and torch.optim")
st.markdown("`nn.Linear(1, 1)` holds w and b, `nn.MSELoss()` is the loss as an object you call, "
            "`optimizer.step()` does the two update lines and `optimizer.zero_grad()` the two "
            "clearing lines. The loop body is the heartbeat every later lesson uses:")
callouts.show_heartbeat(heartbeat.train)


@st.fragment
def optimizer_section() -> None:
    name = st.radio("Optimizer", ["sgd", "adam"], horizontal=True, key="loop.opt",
                    format_func={"sgd": "optim.SGD (same as by hand)", "adam": "optim.Adam"}.get)
    frames, _ = hand_fit(0.3, 0.1, 100)
    fitted = optimizer_fit(name, 0.3, 0.1, 100)
    (w, b, _), (ow, ob, oloss) = frames[-1], fitted[-1]
    st.caption("The default data and settings of section 1: noise 0.3, learning rate 0.1, 100 steps.")
    cols = st.columns(3)
    cols[0].metric("w", f"{ow:.3f}", f"{ow - w:+.5f} vs by hand", delta_color="off")
    cols[1].metric("b", f"{ob:.3f}", f"{ob - b:+.5f} vs by hand", delta_color="off")
    cols[2].metric("MSE", f"{oloss:.4f}")
    if name == "sgd":
        same = abs(ow - w) < 1e-5 and abs(ob - b) < 1e-5
        st.success("Identical to the hand-written loop, step for step." if same else
                   "Close to the hand-written loop (float rounding).")
    else:
        st.info("Adam takes steps of about the learning rate in every direction, scaled per "
                "parameter: a different path to the same line.")
    st.plotly_chart(figures.curves({"by hand": [f[2] for f in frames],
                                    f"optim.{'SGD' if name == 'sgd' else 'Adam'}": [f[2] for f in fitted]},
                                   y_title="MSE", log_y=True), key="loop.compare_chart")


optimizer_section()
callouts.takeaway("Same heartbeat, new instruments: forward, loss, backward, step. The optimizer, "
                  "the loss object and the model are instruments; the heartbeat never changes.")

st.header("2. The loss landscape")
st.markdown(
    "The MSE of every (w, b) as contours; the star is the true line. Each optimizer walks down "
    "from (0, 0). The learning rate decides the stride: too small crawls, too large overshoots "
    "the valley and climbs out of it."
)
checks.check_choice(
    "loop.q_lr", "Predict first: which learning rate makes plain SGD **diverge** on this data?",
    ["0.01", "0.3", "1.05"], 2,
    "On this data SGD diverges above 2 / (largest curvature) ≈ 0.99: at 1.05 every step overshoots "
    "the valley by more than it started, and the loss grows without bound.")


@st.cache_data(show_spinner=False, max_entries=32)
def landscape_paths(names: tuple[str, ...], lr: float, steps: int):
    x, y = linear_regression.regression_data()
    ws = [i / 20 for i in range(-20, 81)]   # w from -1 to 4
    bs = [i / 20 for i in range(-40, 61)]   # b from -2 to 3
    surface = linear_regression.loss_surface(x, y, ws, bs)
    paths = {n: linear_regression.fit_with_optimizer(x, y, n, lr=lr, steps=steps) for n in names}
    return ws, bs, surface, paths, linear_regression.divergence_threshold(x)


LABELS = {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam"}


@st.fragment
def landscape_section() -> None:
    cols = st.columns([2, 2, 3])
    names = cols[0].multiselect("Optimizers", list(LABELS), ["sgd", "momentum", "adam"],
                                format_func=LABELS.get, key="loop.land_opts")
    lr = cols[1].select_slider("Learning rate", [0.01, 0.05, 0.3, 0.9, 1.05], 0.3,
                               format_func=lambda v: {0.01: "0.01 (too small)", 0.3: "0.3 (good)",
                                                      1.05: "1.05 (diverges)"}.get(v, str(v)),
                               key="loop.land_lr")
    upto = cols[2].slider("Steps shown", 0, 60, 30, key="loop.land_upto")
    if not names:
        st.info("Pick at least one optimizer to draw its path.")
        return
    ws, bs, surface, paths, limit = landscape_paths(tuple(names), lr, 60)
    st.plotly_chart(training_loop.landscape(ws, bs, surface, {LABELS[n]: paths[n] for n in names}, upto),
                    key="loop.land_chart")
    rows = [{"optimizer": LABELS[n], "w": f"{paths[n][upto - 1][0]:.3g}" if upto else "0",
             "b": f"{paths[n][upto - 1][1]:.3g}" if upto else "0",
             "MSE": f"{paths[n][upto - 1][2]:.3g}" if upto else "-"} for n in names]
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"Plain SGD is stable on this data below lr ≈ {limit:.2f} (2 / the largest eigenvalue "
               "of the loss's curvature). Momentum gathers speed along the valley; Adam scales each "
               "parameter's step by its own gradient history.")


landscape_section()

st.header("3. One iteration in four clicks")
st.markdown(
    "A real `nn.Sequential(Linear(1, 3), Tanh(), Linear(3, 1))` on four points. Each click runs "
    "one stage of the heartbeat; the table shows exactly what that stage changed. Only the next "
    "stage's button is enabled."
)
INSPECTOR_KEY = "loop.inspector"


def run_stage() -> None:
    st.session_state[INSPECTOR_KEY].advance()


def new_inspector() -> None:
    st.session_state[INSPECTOR_KEY] = step_inspector.Inspector()


@st.fragment
def inspector_section() -> None:
    if INSPECTOR_KEY not in st.session_state:
        new_inspector()
    inspector = st.session_state[INSPECTOR_KEY]
    cols = st.columns(5)
    for index, stage in enumerate(step_inspector.STAGES):
        label = ["① forward", "② loss", "③ backward", "④ step"][index]
        cols[index].button(label, key=f"loop.stage.{stage}", on_click=run_stage,
                           disabled=inspector.next_stage != stage, use_container_width=True)
    cols[4].button("Start over", key="loop.stage.restart", on_click=new_inspector,
                   use_container_width=True)
    done = step_inspector.STAGES[inspector.stage - 1] if (inspector.iteration or inspector.stage) else None
    info = st.columns(3)
    info[0].metric("Iteration", inspector.iteration)
    info[1].metric("Output", "—" if inspector.output is None else f"shape {tuple(inspector.output.shape)}")
    info[2].metric("Loss", "—" if inspector.loss is None else f"{inspector.loss.item():.4f}")
    st.dataframe(pd.DataFrame(inspector.table()), hide_index=True)
    if done:
        changed = inspector.changes()
        values = sum(c["value"] for c in changed.values())
        grads = sum(c["grad"] for c in changed.values())
        st.caption(f"Last stage: **{done}**. It changed {values} of 4 parameter tensors' values and "
                   f"{grads} of 4 `.grad`s. " + {
                       "forward": "zero_grad() cleared the .grads (to None), then the output was computed.",
                       "loss": "One number; nothing in the model moved.",
                       "backward": "Every .grad filled in; no parameter moved.",
                       "step": "Every parameter moved by -lr × its .grad; the .grads stay until "
                               "the next zero_grad()."}[done])


inspector_section()

st.header("4. Three bugs that raise no error")
st.markdown("Each buggy loop trains beside a faint **ghost**: the correct loop with the same seed. "
            "None of them crashes; the only symptom is where the line ends up.")
callouts.misconception(
    "optimizer.zero_grad() is just boilerplate.",
    "Gradients **accumulate** by default: every `backward()` adds to `.grad`. Without "
    "`zero_grad()` each step follows the sum of all past gradients, not the current one.")
checks.check_choice(
    "loop.q_zero_grad", "Predict first: the same gradient g comes out of `backward()` three times "
    "and nobody calls `zero_grad()`. What is in `.grad`?", ["g", "3g", "0"], 1,
    "3g: backward() adds into .grad. That is why it is cleared at the top of every iteration.")


@st.cache_data(show_spinner=False, max_entries=16)
def buggy_fit(bug: str):
    x, y = linear_regression.regression_data()
    frames, warning = linear_regression.fit_with_bug(x, y, bug)
    ghost, _ = linear_regression.fit_with_bug(x, y, "none")
    return training_loop.fit_animation(x, y, frames, ghost=ghost, title="buggy loop, "), warning


BUG_STORIES = {
    "no_zero_grad": "The gradients pile up: each step is pushed by every earlier gradient, so the "
                    "line overshoots and swings instead of settling.",
    "step_before_backward": "`zero_grad()` sets every `.grad` to None, so `step()` finds nothing to "
                            "apply and the weights **never move**; the backward pass after it is "
                            "cleared before the next step can use it.",
    "target_shape": "A target of shape (N,) against an output of (N, 1) broadcasts to (N, N): every "
                    "prediction is compared with every target, so the best line is the flat mean.",
}


@st.fragment
def bugs_section() -> None:
    bug = st.radio("Inject a bug", [b for b in linear_regression.BUGS if b != "none"],
                   format_func=linear_regression.BUGS.get, key="loop.bug")
    figure, warning = buggy_fit(bug)
    st.plotly_chart(figure, key="loop.bug_chart")
    st.markdown(BUG_STORIES[bug])
    if warning:
        st.warning(f"PyTorch only warns:\n\n`{warning}`")
    callouts.show_source(linear_regression.fit_with_bug)


bugs_section()

st.header("5. The playground: train a real network on 2-D data")
st.markdown(
    "A small network of `nn.Linear` layers classifies points of the plane. **▶ Play** trains it "
    "(ten full-batch optimizer steps per redraw), **Step** runs exactly one, **Rewind** returns to "
    "the same initial weights, **Reset** draws new ones. Change the learning rate, optimizer, "
    "activation or widths while it plays: the weights stay where the shapes allow. The settings "
    "are in the page address, so a link reopens the same playground; **Export** downloads a "
    "standalone script that trains the same network on the same data."
)
playground_section()

st.header("6. Same heartbeat, new instruments: a neural net fits a curve")
st.markdown(
    "1.2's network, 1 → hidden → 1 with a tanh, fitting y = sin(x): no line can. The loop body is "
    "**the same `heartbeat.train`** the regression used; only the model and the optimizer "
    "(Adam) are new. `model.train()` before the loop and `model.eval()` before evaluating are the "
    "habit to start now: they switch layers like dropout and batch norm between their training "
    "and evaluation behaviour (the MNIST lessons need it)."
)


@st.cache_data(show_spinner=False, max_entries=8)
def curve(hidden: int):
    import torch

    model, losses, grid_mse = curve_fit.fit_curve(hidden)
    x, y = curve_fit.curve_data()
    grid = torch.linspace(-3, 3, 121).view(-1, 1)
    with torch.no_grad():
        fitted = model(grid).view(-1).tolist()
    return x.view(-1).tolist(), y.view(-1).tolist(), grid.view(-1).tolist(), fitted, losses, grid_mse


@st.fragment
def curve_section() -> None:
    hidden = st.select_slider("Hidden neurons", [1, 2, 4, 16], 16, key="loop.hidden")
    xs, ys, grid, fitted, losses, grid_mse = curve(hidden)
    left, right = st.columns(2)
    left.plotly_chart(training_loop.curve_fit(xs, ys, grid, fitted, hidden), key="loop.curve_chart")
    right.plotly_chart(figures.curves({"training MSE": losses}, y_title="MSE", log_y=True),
                       key="loop.curve_loss")
    st.write(f"MSE against sin(x) on a grid, in eval mode: **{grid_mse:.4f}**.")
    callouts.show_source(curve_fit.fit_curve)


curve_section()
checks.check_choice(
    "loop.q_eval", "What does `model.eval()` switch off?",
    ["Gradient tracking", "The training behaviour of layers like dropout and batch norm",
     "The optimizer"], 1,
    "Only layer behaviour. Gradient tracking is `torch.no_grad()`'s job: evaluation uses both.")
callouts.misconception(
    "PyTorch is doing something different from what I learned.",
    "Every fit on this page is Foundations' gradient descent: the same derivatives, the same "
    "update rule. PyTorch computes the derivatives and keeps the bookkeeping.")
callouts.takeaway("Same heartbeat, new instruments. Next: the data-feeding line changes to a "
                  "DataLoader, and the loop body stays exactly this.")

lesson.next_lesson_link("training-loop")
