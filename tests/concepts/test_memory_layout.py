import pytest
import torch

from course.concepts import memory_layout

SHAPES = [(3, 4), (2, 5), (4, 4), (1, 6), (5, 2)]


@pytest.mark.parametrize("rows, cols", SHAPES)
@pytest.mark.parametrize("operation", list(memory_layout.OPERATIONS))
def test_view_or_copy_verdict_matches_storage_and_data_ptr(operation, rows, cols):
    layout = memory_layout.apply(operation, rows, cols)
    x = memory_layout.make_x(rows, cols)
    try:
        result = memory_layout.OPERATIONS[operation](x)
    except RuntimeError as error:
        assert layout.error == str(error)
        return
    shared = result.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    assert layout.shares_storage is shared
    assert layout.shape == tuple(result.shape) and layout.stride == result.stride()
    if shared:
        # a view's first element sits storage_offset elements into x's storage
        assert layout.data_ptr_moved == result.storage_offset() * x.element_size()
        x.view(-1)[result.storage_offset()] = -1  # x's element under the view's first one
        assert result.numel() == 0 or result.flatten()[0].item() == -1
    else:
        x.view(-1)[0] = 999  # a copy never sees a later change of x
        assert not (result == 999).any()


def test_writes_through_a_view_reach_the_original():
    x = memory_layout.make_x()
    t = x.transpose(0, 1)
    t[0, 1] = 100
    assert x[1, 0] == 100


@pytest.mark.parametrize("operation, expected", [
    ("x.view(-1)", "view (shares x's storage)"),
    ("x.transpose(0, 1)", "view (shares x's storage)"),
    ("x.permute(1, 0)", "view (shares x's storage)"),
    ("x.unsqueeze(0)", "view (shares x's storage)"),
    ("x[:, 1:]", "view (shares x's storage)"),
    ("x.clone()", "copy (new storage)"),
    ("x.transpose(0, 1).reshape(-1)", "copy (new storage)"),
    ("x.transpose(0, 1).contiguous()", "copy (new storage)"),
    ("x.reshape(-1)", "view (shares x's storage)"),
    ("x.transpose(0, 1).view(-1)", "error"),
])
def test_lesson_verdicts(operation, expected):
    assert memory_layout.apply(operation).verdict == expected


def test_view_after_transpose_fails_with_pytorchs_message():
    layout = memory_layout.apply("x.transpose(0, 1).view(-1)")
    with pytest.raises(RuntimeError) as raised:
        torch.arange(12).reshape(3, 4).t().view(-1)
    assert layout.error == str(raised.value)
    assert "view size is not compatible" in layout.error and "reshape" in layout.error


def test_transpose_swaps_strides_and_is_not_contiguous():
    layout = memory_layout.apply("x.transpose(0, 1)", 3, 4)
    assert layout.stride == (1, 4) and not layout.is_contiguous
    assert not memory_layout.reads_in_order(layout)
    fixed = memory_layout.apply("x.transpose(0, 1).contiguous()", 3, 4)
    assert fixed.stride == (3, 1) and fixed.is_contiguous and memory_layout.reads_in_order(fixed)


@pytest.mark.parametrize("operation", list(memory_layout.OPERATIONS))
def test_memory_offsets_reproduce_the_values(operation):
    # x holds 0, 1, 2, ... in storage, so a view's values are its storage offsets
    layout = memory_layout.apply(operation)
    if layout.error or not layout.shares_storage:
        return
    result = memory_layout.OPERATIONS[operation](memory_layout.make_x())
    assert memory_layout.memory_offsets(layout.shape, layout.stride,
                                        layout.storage_offset) == result.flatten().tolist()


def test_is_contiguous_agrees_with_reads_in_order():
    for layout in memory_layout.all_layouts(4, 3):
        if layout.error is None and 1 not in layout.shape:
            assert memory_layout.reads_in_order(layout) == layout.is_contiguous, layout.operation


def test_unknown_operation():
    with pytest.raises(ValueError):
        memory_layout.apply("x.explode()")
