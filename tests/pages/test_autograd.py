"""Lesson 2.1.2 through AppTest: the graph, the step slider and the error lab."""

from tests.pages.conftest import open_lesson


def test_autograd_page():
    at = open_lesson("pages/autograd.py")
    assert not at.exception
    at.slider(key="autograd.step").set_value(1).run()
    assert not at.exception
    at.selectbox(key="autograd.expr").set_value("y = tanh(w·x + b)").run()
    assert not at.exception
    at.radio(key="autograd.err").set_value("requires_grad on an integer tensor").run()
    at.button(key="autograd.err_run").click().run()
    assert any("floating point" in e.value for e in at.error)
