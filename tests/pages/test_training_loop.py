"""Lesson 2.1.4 through AppTest: every control of the fits, the inspector and the playground."""

import pytest

from tests.pages.conftest import open_lesson

PAGE = "pages/training-loop.py"


@pytest.fixture(scope="module")
def at():
    return open_lesson(PAGE)


def test_page_renders_every_section(at):
    assert not at.exception
    headers = [h.value for h in at.header]
    assert any("by hand" in h for h in headers) and any("playground" in h for h in headers)


def test_fit_controls_and_optimizer_switch(at):
    at.select_slider(key="loop.lr").set_value(0.3).run()
    at.radio(key="loop.opt").set_value("adam").run()
    assert not at.exception
    at.radio(key="loop.opt").set_value("sgd").run()
    assert any("Identical to the hand-written loop" in s.value for s in at.success)


def test_landscape_empty_selection_says_so(at):
    at.multiselect(key="loop.land_opts").set_value([]).run()
    assert any("Pick at least one optimizer" in i.value for i in at.info)
    at.multiselect(key="loop.land_opts").set_value(["sgd"]).run()
    at.select_slider(key="loop.land_lr").set_value(1.05).run()
    at.slider(key="loop.land_upto").set_value(0).run()
    assert not at.exception


def test_inspector_enables_only_the_next_stage(at):
    assert not at.button(key="loop.stage.forward").disabled
    assert at.button(key="loop.stage.loss").disabled
    for stage in ("forward", "loss", "backward", "step"):
        at.button(key=f"loop.stage.{stage}").click().run()
        assert not at.exception
    inspector = at.session_state["loop.inspector"]
    assert inspector.iteration == 1 and inspector.next_stage == "forward"


def test_each_bug_shows_its_story(at):
    for bug in ("no_zero_grad", "step_before_backward", "target_shape"):
        at.radio(key="loop.bug").set_value(bug).run()
        assert not at.exception
    assert any("target size" in w.value for w in at.warning)


def test_playground_step_rewind_and_controls(at):
    pg = at.session_state["loop.pg"]
    before = pg.steps
    at.button(key="loop.pg.step").click().run()
    pg = at.session_state["loop.pg"]
    assert pg.steps == before + 1
    at.select_slider(key="loop.pg.lr").set_value(0.1).run()
    assert at.session_state["loop.pg"].lr == 0.1 and at.session_state["loop.pg"].steps == before + 1
    at.slider(key="loop.pg.width").set_value(4).run()
    at.selectbox(key="loop.pg.act").set_value("relu").run()
    at.selectbox(key="loop.pg.dataset").set_value("circles").run()
    at.selectbox(key="loop.pg.neuron.4-4").set_value("hidden 1 · neuron 2").run()
    assert not at.exception
    assert at.session_state["loop.pg"].widths == (4, 4)
    assert at.query_params["pg_widths"] == ["4-4"] or at.query_params["pg_widths"] == "4-4"
    at.button(key="loop.pg.rewind").click().run()
    assert at.session_state["loop.pg"].steps == 0
    seed = at.session_state["loop.pg"].seed
    at.button(key="loop.pg.reset").click().run()
    assert at.session_state["loop.pg"].seed == seed + 1
    at.select_slider(key="loop.pg.noise").set_value(0.2).run()
    at.slider(key="loop.pg.layers").set_value(3).run()
    at.selectbox(key="loop.pg.opt").set_value("momentum").run()
    pg = at.session_state["loop.pg"]
    assert (pg.noise, pg.widths, pg.optimizer_name) == (0.2, (4, 4, 4), "momentum")
    assert not at.exception


def test_playground_play_then_pause(at):
    at.button(key="loop.pg.play").click().run()
    assert at.session_state["loop.pg.playing"] and at.button(key="loop.pg.play").disabled
    at.button(key="loop.pg.pause").click().run()
    assert not at.session_state["loop.pg.playing"]


def test_playground_reads_its_settings_from_the_address():
    fresh = open_lesson_with({"pg_data": "xor", "pg_widths": "6-6-6", "pg_act": "relu",
                              "pg_lr": "0.1", "pg_opt": "sgd", "pg_noise": "nonsense"})
    pg = fresh.session_state["loop.pg"]
    assert (pg.dataset, pg.widths, pg.activation, pg.lr, pg.optimizer_name, pg.noise) == (
        "xor", (6, 6, 6), "relu", 0.1, "sgd", 0.1)


def test_curve_and_checks(at):
    at.select_slider(key="loop.hidden").set_value(2).run()
    assert not at.exception


def open_lesson_with(params: dict):
    from streamlit.testing.v1 import AppTest

    from tests.pages.conftest import PROJECT_ROOT

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, at.exception
    return at
