"""Lesson 2.1.3 through AppTest: build by clicking, linear by hand, shape flow, registration, .to()."""

import torch

from course.concepts import linear_by_hand, network_builder
from tests.pages.conftest import metric, open_lesson

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


def test_weight_slider_changes_both_outputs_alike():
    at = open_lesson(PAGE)
    manual_before = metric(at, "x @ W.T + b  (output 0)")
    assert manual_before == metric(at, "layer(x)  (output 0)")
    at.slider(key="nnm.w00").set_value(1.5).run()
    manual_after = metric(at, "x @ W.T + b  (output 0)")
    assert manual_after != manual_before
    assert manual_after == metric(at, "layer(x)  (output 0)")
    layer = linear_by_hand.make_layer()
    x = torch.tensor([[1.0, 2.0, 3.0]])
    expected = (x @ layer.weight.T + layer.bias)[0, 0] + (1.5 - layer.weight[0, 0]) * x[0, 0]
    assert float(manual_after) == round(expected.item(), 4)


def test_three_checks_answer():
    at = open_lesson(PAGE)
    at.number_input(key="nnm.q_weight_shape_rows.guess").set_value(2)
    at.button(key="nnm.q_weight_shape_rows.check").click().run()
    at.number_input(key="nnm.q_params.guess").set_value(50)  # wrong: one retry
    at.button(key="nnm.q_params.check").click().run()
    assert at.session_state["nnm.q_params.retry"]
    at.number_input(key="nnm.q_params.guess").set_value(55)
    at.button(key="nnm.q_params.check").click().run()
    at.radio(key="nnm.q_plain_list.choice").set_value("0")
    at.button(key="nnm.q_plain_list.check").click().run()
    assert not at.exception
    assert at.session_state["nnm.q_weight_shape_rows.result"] == 2
    assert at.session_state["nnm.q_params.result"] == 55
    assert at.session_state["nnm.q_plain_list.result"] == "0"
    assert sum("Right" in s.value for s in at.success) == 3


def test_to_casts_only_registered_layers():
    at = open_lesson(PAGE)
    frames = [d.value for d in at.dataframe if "after .to()" in d.value.columns]
    plain, listed = frames
    assert set(plain["after .to()"]) == {"torch.float32"}
    assert set(listed["after .to()"]) == {"torch.float64"}
    assert set(plain["before .to()"]) == set(listed["before .to()"]) == {"torch.float32"}


def test_shown_subclass_code_runs_with_the_shapes_in_the_table():
    at = open_lesson(PAGE)
    at.button(key="nnm.add").click().run()  # three Linears: 2→8→8→1
    code = next(c.value for c in at.code if "class Net(nn.Module)" in c.value)
    net = network_builder.run_subclass_code(code)
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["name", "shape", "count"])
    assert [str(tuple(p.shape)) for p in net.parameters()] == list(table["shape"])
    assert sum(p.numel() for p in net.parameters()) == int(
        metric(at, "Parameters (in × out + out per Linear)").replace(",", ""))
