from tests.pages.conftest import open_lesson

PAGE = "pages/nn-module.py"


def test_page_builds_and_controls_work():
    at = open_lesson(PAGE)
    assert "33" in [m.value for m in at.metric if m.label.startswith("Parameters")][0]
    at.button(key="nnm.add").click().run()
    assert len(at.session_state["nnm.layers"]) == 3
    at.button(key="nnm.remove").click().run()
    at.button(key="nnm.remove").click().run()
    assert len(at.session_state["nnm.layers"]) == 1
    assert at.button(key="nnm.remove").disabled
    at.number_input(key="nnm.in_last").set_value(4).run()
    assert any("cannot be multiplied" in e.value for e in at.error)
    at.slider(key="nnm.n_layers").set_value(5).run()
    assert not at.exception
