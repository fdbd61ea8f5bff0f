"""Lesson 2.1.1 through AppTest: every widget of the tensors page, its checks, no exception."""

import torch

from course.concepts import broadcasting, dtypes, memory_layout, numpy_bridge, tensor_puzzles
from tests.pages.conftest import metric, open_lesson

PAGE = "pages/tensors.py"


def test_page_opens_like_the_lesson():
    at = open_lesson(PAGE)
    text = " ".join(m.value for m in at.markdown)
    assert "with GPU superpowers" in text and "You already know this" in text
    assert "never actually trained a real model" in text
    assert any("PyTorch is doing something different" in w.value for w in at.warning)
    assert any("Foundations link" in i.value for i in at.info)
    assert any("GPU wins at scale" in s.value for s in at.success)
    assert any("where does each result live" in m.value for m in at.markdown)
    assert any(dtypes.float64_into_linear()[0] in e.value for e in at.error)


def test_bridge_widgets_share_or_copy():
    at = open_lesson(PAGE)
    for way in numpy_bridge.WAYS:
        for array_dtype in ("float64", "float32"):
            at.selectbox(key="tensors.way").set_value(way)
            at.selectbox(key="tensors.array_dtype").set_value(array_dtype)
            at.number_input(key="tensors.new_value").set_value(42.0).run()
            assert not at.exception
            result = numpy_bridge.edit_the_array(way, 0, 42.0, array_dtype)
            assert metric(at, f"t ({result.tensor_dtype})") == str(result.tensor_after)
            said = " ".join(s.value for s in at.success) + " ".join(i.value for i in at.info)
            assert ("Shared memory" in said) == result.shares_memory
    at.button(key="tensors.numpy_error").click().run()
    assert any(numpy_bridge.numpy_of_tracked_tensor() in e.value for e in at.error)


def test_dtype_table_and_bad_shape():
    at = open_lesson(PAGE)
    at.text_input(key="tensors.dtype_shape").input("(2, 3)").run()
    table = next(d.value for d in at.dataframe if "bytes per element" in d.value.columns)
    assert table["memory for (2, 3)"].tolist()[0] == "24 bytes"
    at.text_input(key="tensors.dtype_shape").input("2, x").run()
    assert not at.exception and any("not a whole number" in e.value for e in at.error)


def test_checks_answer_and_the_result_type_cards():
    at = open_lesson(PAGE)
    at.radio(key="tensors.q_result_type.choice").set_value("torch.float32")
    at.button(key="tensors.q_result_type.check").click().run()
    assert any("Right." in s.value for s in at.success)
    at.radio(key="tensors.q_view.choice").set_value("Returns a copy")
    at.button(key="tensors.q_view.check").click().run()
    assert any("Not quite. Think again" in e.value for e in at.error)
    at.radio(key="tensors.q_broadcast.choice").set_value("(3, 4)")
    at.button(key="tensors.q_broadcast.check").click().run()
    assert not at.exception
    for expression in list(dtypes.CARDS)[1:]:
        at.selectbox(key="tensors.card").set_value(expression).run()
        at.radio(key=f"tensors.card_guess.{expression}").set_value("torch.float64").run()
        at.button(key="tensors.card_reveal").click().run()
        assert any(f"PyTorch says `{dtypes.result_type(expression)}`" in m.value
                   for m in [*at.success, *at.error])


def test_layout_widgets():
    at = open_lesson(PAGE)
    at.slider(key="tensors.rows").set_value(2)
    at.slider(key="tensors.cols").set_value(5).run()
    for operation in memory_layout.OPERATIONS:
        at.selectbox(key="tensors.operation").set_value(operation).run()
        assert not at.exception
        layout = memory_layout.apply(operation, 2, 5)
        if layout.error:
            assert any(layout.error in e.value for e in at.error)
        else:
            assert metric(at, "y.stride()") == str(layout.stride)


def test_broadcast_xray_result_error_and_fix():
    at = open_lesson(PAGE)
    at.text_input(key="tensors.shape_a").input("3, 1")
    at.text_input(key="tensors.shape_b").input("(4,)").run()
    assert any("Result shape of `a + b`: `(3, 4)`" in s.value for s in at.success)
    at.text_input(key="tensors.shape_a").input("3")
    at.text_input(key="tensors.shape_b").input("4").run()
    ray = broadcasting.xray((3,), (4,))
    assert any(ray.error in e.value for e in at.error)
    assert any("a.unsqueeze(-1) + b" in s.value and "(3, 4)" in s.value for s in at.success)
    at.text_input(key="tensors.shape_c").input("2, 1, 1").run()
    assert not at.exception
    at.text_input(key="tensors.shape_b").input("four").run()
    assert any("Shape of b" in e.value for e in at.error)
    at.text_input(key="tensors.shape_a").input("()")
    at.text_input(key="tensors.shape_b").input("()")
    at.text_input(key="tensors.shape_c").input("").run()
    assert not at.exception


def test_timing_button_and_puzzles():
    at = open_lesson(PAGE)
    at.button(key="tensors.time").click().run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "matmul (µs)" in d.value.columns)
    assert (table["matmul (µs)"] > 0).all()
    if not torch.cuda.is_available():
        assert any("No GPU on this machine" in i.value for i in at.info)
    for key, puzzle in tensor_puzzles.PUZZLES.items():
        at.selectbox(key="tensors.puzzle").set_value(key).run()
        for attempt in puzzle.attempts:
            at.radio(key=f"tensors.attempt.{key}").set_value(attempt).run()
            assert not at.exception
            result = tensor_puzzles.grade(key, attempt)
            shown = " ".join(m.value for m in [*at.success, *at.error])
            if result.error:
                assert result.error in shown
            else:
                assert ("Accepted" in shown) == result.accepted
