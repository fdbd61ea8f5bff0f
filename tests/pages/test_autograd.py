"""Lesson 2.1.2 through AppTest: the graph, the step slider, the typed derivation and the error lab."""

from course.concepts import autograd_errors, backprop_example
from tests.pages.conftest import open_lesson


def cmp_rows(at):
    """The rows of the cmp() table: the dataframe with a verdict column."""
    frame = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    return {row["gradient of"]: row for row in frame.to_dict("records")}


def test_autograd_page():
    at = open_lesson("pages/autograd.py")
    assert not at.exception
    at.slider(key="autograd.step").set_value(1).run()
    assert not at.exception
    at.selectbox(key="autograd.expr").set_value("y = tanh(w·x + b)").run()
    assert not at.exception


def test_error_lab_shows_each_message_and_node():
    at = open_lesson("pages/autograd.py")
    for name in autograd_errors.ERRORS:
        at.radio(key="autograd.err").set_value(name).run()
        at.button(key="autograd.err_run").click().run()
        assert not at.exception
        result = autograd_errors.trigger(name)
        shown = at.error if result.kind == "error" else at.warning
        assert any(result.message in e.value and name in e.value for e in shown)
        assert any(result.node in i.value for i in at.info)


def test_typed_derivation_is_judged_per_intermediate():
    at = open_lesson("pages/autograd.py")
    assert {r["verdict"] for r in cmp_rows(at).values()} == {"not typed yet"}
    auto = backprop_example.by_autograd(backprop_example.inputs())
    at.text_input(key="autograd.hand.out").input(backprop_example.readable(auto["out"])).run()
    at.text_input(key="autograd.hand.h").input(str(auto["h"].reshape(-1).tolist())).run()
    at.text_input(key="autograd.hand.W2").input("[[1.0], [2.0], [3.0]]").run()
    rows = cmp_rows(at)
    assert rows["out"]["verdict"] == "exact"
    assert rows["h"]["verdict"] == "wrong shape"
    assert rows["W2"]["verdict"] == "different"
    at.text_input(key="autograd.hand.z1").input("[[1, 2], [3]]").run()
    assert not at.exception
    assert any("equal-length" in e.value for e in at.error)
    for name in backprop_example.INTERMEDIATES:
        at.text_input(key=f"autograd.hand.{name}").input(backprop_example.readable(auto[name]))
    at.run()
    assert {r["verdict"] for r in cmp_rows(at).values()} == {"exact"}
    assert any("Every intermediate matches" in s.value for s in at.success)
    assert not any("-0.0" in c.value for c in at.code)
    by_hand = next(d.value for d in at.dataframe if "by hand" in d.value.columns)
    assert not by_hand["by hand"].str.contains("-0.0").any()
