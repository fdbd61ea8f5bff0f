"""The 2-D classification playground on a page: controls, Play / Pause / Step / Rewind / Reset.

It trains inside the page: a fragment that, while playing, advances STEPS_PER_TICK optimizer steps
every TICK_SECONDS (tiny full-batch steps, a few milliseconds each); leaving the page stops it.
The configuration lives in the page address, so a link reopens the same playground.
"""

from __future__ import annotations

import streamlit as st

from course.charts import training_loop
from course.concepts import playground
from course.ui import widgets

STATE_KEY = "loop.pg"
PLAYING_KEY = "loop.pg.playing"
TICK_SECONDS = 0.2  # 5 redraws a second while playing
STEPS_PER_TICK = 10
MAX_STEPS = 5000  # play pauses itself here, so a forgotten tab stops burning a shared server
LEARNING_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0]
OPTIMIZER_LABELS = {"adam": "Adam", "momentum": "SGD + momentum 0.9", "sgd": "SGD"}
URL = {"dataset": "pg_data", "noise": "pg_noise", "widths": "pg_widths", "activation": "pg_act",
       "optimizer": "pg_opt", "lr": "pg_lr"}


def config_from_address() -> dict:
    """The playground's settings from the page address; anything unreadable falls back to the default."""
    params = st.query_params
    config = {}
    if params.get(URL["dataset"]) in playground.DATASETS:
        config["dataset"] = params[URL["dataset"]]
    if params.get(URL["activation"]) in playground.ACTIVATIONS:
        config["activation"] = params[URL["activation"]]
    if params.get(URL["optimizer"]) in playground.OPTIMIZERS:
        config["optimizer_name"] = params[URL["optimizer"]]
    try:
        config["noise"] = widgets.nearest([0.0, 0.05, 0.1, 0.15, 0.2, 0.3], float(params[URL["noise"]]))
    except (KeyError, ValueError):
        pass
    try:
        config["lr"] = widgets.nearest(LEARNING_RATES, float(params[URL["lr"]]))
    except (KeyError, ValueError):
        pass
    try:
        widths = tuple(int(w) for w in params[URL["widths"]].split("-"))
        if 1 <= len(widths) <= 3 and all(1 <= w <= 8 for w in widths) and len(set(widths)) == 1:
            config["widths"] = widths
    except (KeyError, ValueError):
        pass
    return config


def write_address(pg: playground.Playground) -> None:
    wanted = {URL["dataset"]: pg.dataset, URL["noise"]: str(pg.noise),
              URL["widths"]: "-".join(str(w) for w in pg.widths), URL["activation"]: pg.activation,
              URL["optimizer"]: pg.optimizer_name, URL["lr"]: str(pg.lr)}
    for name, value in wanted.items():
        if st.query_params.get(name) != value:
            st.query_params[name] = value


def current() -> playground.Playground:
    """This learner's playground (made from the address on first visit)."""
    if STATE_KEY not in st.session_state:
        st.session_state[STATE_KEY] = playground.Playground(**config_from_address())
    return st.session_state[STATE_KEY]


def _play() -> None:
    st.session_state[PLAYING_KEY] = True


def _pause() -> None:
    st.session_state[PLAYING_KEY] = False


def _step_once() -> None:
    current().step(1)


def _rewind() -> None:
    current().rewind()


def _reset() -> None:
    pg = current()
    pg.reset(pg.seed + 1)


def _apply_controls(pg: playground.Playground) -> None:
    """Whatever the learner changed takes effect now, while it trains."""
    state = st.session_state
    pg.set_data(state["loop.pg.dataset"], state["loop.pg.noise"])
    pg.set_shape((state["loop.pg.width"],) * state["loop.pg.layers"], state["loop.pg.act"])
    if state["loop.pg.opt"] != pg.optimizer_name:
        pg.set_optimizer(state["loop.pg.opt"])
    if state["loop.pg.lr"] != pg.lr:
        pg.set_lr(state["loop.pg.lr"])


def _controls(pg: playground.Playground, playing: bool) -> None:
    defaults = {"loop.pg.dataset": pg.dataset, "loop.pg.noise": pg.noise,
                "loop.pg.layers": len(pg.widths), "loop.pg.width": pg.widths[0],
                "loop.pg.act": pg.activation, "loop.pg.opt": pg.optimizer_name, "loop.pg.lr": pg.lr}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)
    top = st.columns(4)
    top[0].selectbox("Dataset", playground.DATASETS, key="loop.pg.dataset")
    top[1].select_slider("Noise", [0.0, 0.05, 0.1, 0.15, 0.2, 0.3], key="loop.pg.noise")
    top[2].slider("Hidden layers", 1, 3, key="loop.pg.layers")
    top[3].slider("Neurons per hidden layer", 1, 8, key="loop.pg.width")
    middle = st.columns(3)
    middle[0].selectbox("Activation", list(playground.ACTIVATIONS), key="loop.pg.act")
    middle[1].selectbox("Optimizer", playground.OPTIMIZERS, key="loop.pg.opt",
                        format_func=lambda name: OPTIMIZER_LABELS.get(name, name))
    middle[2].select_slider("Learning rate", LEARNING_RATES, key="loop.pg.lr")
    _apply_controls(pg)
    # Fixed places, and the button that does not apply is disabled rather than replaced: the
    # second click of a double click on Play lands on a disabled Play, never on Pause.
    buttons = st.columns(5)
    buttons[0].button("▶ Play", key="loop.pg.play", on_click=_play, disabled=playing,
                      use_container_width=True)
    buttons[1].button("⏸ Pause", key="loop.pg.pause", on_click=_pause, disabled=not playing,
                      use_container_width=True)
    buttons[2].button("Step (one optimizer step)", key="loop.pg.step", on_click=_step_once,
                      disabled=playing, use_container_width=True)
    buttons[3].button("⏮ Rewind to the same start", key="loop.pg.rewind", on_click=_rewind,
                      use_container_width=True)
    buttons[4].button("🎲 Reset (new start)", key="loop.pg.reset", on_click=_reset,
                      use_container_width=True)


def _picked_neuron(pg: playground.Playground):
    options = ["none"] + [f"hidden {layer + 1} · neuron {i + 1}"
                          for layer, width in enumerate(pg.widths) for i in range(width)]
    # keyed by the shape: a pick from wider layers must not outlive them
    choice = st.selectbox("Show one neuron's activation over the plane", options,
                          key=f"loop.pg.neuron.{'-'.join(map(str, pg.widths))}")
    if choice == "none" or choice not in options:
        return None
    layer_part, neuron_part = choice.split(" · ")
    return int(layer_part.split()[1]) - 1, int(neuron_part.split()[1]) - 1


def _draw(pg: playground.Playground) -> None:
    step, train_loss, test_loss, accuracy = pg.history[-1]
    cols = st.columns(4)
    cols[0].metric("Optimizer steps", f"{step:,}")
    cols[1].metric("Train loss", f"{train_loss:.3f}")
    cols[2].metric("Test loss", f"{test_loss:.3f}")
    cols[3].metric("Test accuracy", f"{accuracy:.1%}")
    left, right = st.columns([3, 2])
    axis, probabilities = playground.boundary_grid(pg.model)
    left.plotly_chart(training_loop.boundary(axis, probabilities, pg.x_train, pg.y_train, pg.x_test,
                                             pg.y_test, f"decision boundary after {step:,} steps"),
                      key="loop.pg.boundary_chart")
    with right:
        st.plotly_chart(training_loop.playground_losses(pg.history), key="loop.pg.loss_chart")
        picked = _picked_neuron(pg)
    st.plotly_chart(training_loop.network(pg.widths, playground.network_links(pg.model), picked),
                    key="loop.pg.net_chart")
    if picked is not None:
        axis, activation = playground.neuron_grid(pg.model, *picked)
        st.plotly_chart(training_loop.neuron_map(
            axis, activation, f"hidden {picked[0] + 1} · neuron {picked[1] + 1}: its activation"),
            key="loop.pg.neuron_chart")


def playground_section() -> None:
    """The whole playground: it polls only while playing; Play and Pause redraw the page once."""
    pg = current()
    playing_now = st.session_state.get(PLAYING_KEY, False)

    @st.fragment(run_every=TICK_SECONDS if playing_now else None)
    def live() -> None:
        playing = st.session_state.get(PLAYING_KEY, False)
        _controls(pg, playing)
        if playing and playing_now:
            pg.step(STEPS_PER_TICK)
            if pg.steps >= MAX_STEPS:
                st.session_state[PLAYING_KEY] = playing = False
        write_address(pg)
        _draw(pg)
        st.download_button("⬇ Export as a script", playground.export_script(
            pg.config(), max(pg.steps, playground.DEFAULT_BUDGET)), file_name="playground_export.py",
            mime="text/x-python", key="loop.pg.export", on_click="ignore",
            help="A standalone torch file that trains this network on this data")
        if playing != playing_now:
            widgets.refresh_page()  # start or stop the ticking

    live()
