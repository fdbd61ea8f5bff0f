import itertools

import pytest
import torch

from course.concepts import broadcasting

SIZES = [(), (1,), (3,), (4,), (1, 1), (3, 1), (1, 4), (2, 3), (3, 4), (2, 1, 4), (5, 1, 3),
         (2, 4, 1), (0,), (1, 0), (2, 3, 4), (4, 3)]
PAIRS = list(itertools.product(SIZES, repeat=2))


def torch_answer(*shapes):
    """What torch says: the result shape, or the message of really adding tensors."""
    try:
        return tuple(torch.broadcast_shapes(*shapes)), None
    except RuntimeError:
        pass
    try:
        total = torch.zeros(shapes[0])
        for shape in shapes[1:]:
            total = total + torch.zeros(shape)
    except RuntimeError as error:
        return None, str(error)
    raise AssertionError("broadcast_shapes refused what addition accepted")


@pytest.mark.parametrize("a, b", PAIRS)
def test_xray_agrees_with_torch_on_every_pair(a, b):
    ray = broadcasting.xray(a, b)
    result, error = torch_answer(a, b)
    assert ray.result == result
    assert ray.error == error
    sizes = tuple(column.size for column in ray.columns)
    if result is not None:
        assert sizes == result and not ray.conflicts
    else:
        assert ray.conflicts and "must match the size of tensor b" in ray.error


@pytest.mark.parametrize("shapes", [((2, 3), (3,), (1,)), ((2, 3), (3,), (4,)), ((4, 1), (3,), (1, 1, 3)),
                                    ((3,), (4,), (3, 1)), ((), (2,), (2, 2))])
def test_three_shapes_agree_with_torch(shapes):
    ray = broadcasting.xray(*shapes)
    assert (ray.result, ray.error) == torch_answer(*shapes)


def test_error_names_the_offending_axis():
    ray = broadcasting.xray((2, 3), (4,))
    assert ray.error == ("The size of tensor a (3) must match the size of tensor b (4) "
                         "at non-singleton dimension 1")
    assert ray.conflicts == [1]
    column = ray.columns[1]
    assert [cell.size for cell in column.cells] == [3, 4]


def test_padding_and_stretching_are_marked():
    ray = broadcasting.xray((3, 1), (4,))
    first, second = ray.columns
    assert [c.padded for c in first.cells] == [False, True]  # b's (4,) becomes (1, 4)
    assert [c.stretched for c in first.cells] == [False, True]
    assert [c.stretched for c in second.cells] == [True, False]  # a's 1 stretched to 4
    assert ray.result == (3, 4)


@pytest.mark.parametrize("a, b", [p for p in PAIRS if torch_answer(*p)[1]])
def test_offered_fix_really_works(a, b):
    ray = broadcasting.xray(a, b)
    if ray.fix is None:
        return
    assert broadcasting.run_fixed(ray.fix) == ray.fix.result
    # the fix is one unsqueeze: exactly one input gained one axis of size 1
    changed = [(old, new) for old, new in zip((a, b), ray.fix.shapes) if old != new]
    assert len(changed) == 1 and len(changed[0][1]) == len(changed[0][0]) + 1
    # and both spellings do the same thing on a real tensor
    name, call = ray.fix.code.split(".", 1)
    original = torch.zeros(changed[0][0])
    by_call = eval(f"t.{call}", {"t": original})
    by_index = eval(ray.fix.index_code.replace(name, "t", 1), {"t": original})
    assert tuple(by_call.shape) == tuple(by_index.shape) == changed[0][1]
    result = torch.zeros(ray.fix.shapes[0]) + torch.zeros(ray.fix.shapes[1])
    assert tuple(result.shape) == ray.fix.result


def test_classic_outer_and_row_fixes():
    assert broadcasting.xray((3,), (4,)).fix.code == "a.unsqueeze(-1)"
    assert broadcasting.xray((3,), (4,)).fix.result == (3, 4)
    row_means = broadcasting.xray((2, 3), (2,)).fix  # x - x.mean(dim=1) without keepdim
    assert row_means.code == "b.unsqueeze(-1)" and row_means.result == (2, 3)


@pytest.mark.parametrize("text, shape", [("3, 1", (3, 1)), ("(2,3)", (2, 3)), ("[4]", (4,)),
                                         ("2 3", (2, 3)), ("5", (5,)), ("()", ()), (" (3,) ", (3,)),
                                         ("torch.Size([2, 3])", (2, 3)), ("0, 2", (0, 2))])
def test_parse_shape_reads_what_learners_type(text, shape):
    assert broadcasting.parse_shape(text) == shape


@pytest.mark.parametrize("text, hint", [("", "Type a shape"), ("a, b", "not a whole number"),
                                        ("-1", "negative"), ("3.5", "not a whole number"),
                                        ("1,2,3,4,5,6,7", "dimensions"), ("999999999", "larger")])
def test_parse_shape_errors_are_friendly(text, hint):
    with pytest.raises(broadcasting.ShapeError, match=hint):
        broadcasting.parse_shape(text)


def test_big_shapes_cost_nothing():
    ray = broadcasting.xray((100_000, 1, 100_000), (100_000, 1))
    assert ray.result == (100_000, 100_000, 100_000)
    assert broadcasting.xray((100_000, 3), (100_000, 4)).error.startswith("The size of tensor a (3)")


def test_a_huge_middle_result_is_never_allocated():
    # (a + b) alone would be 10^15 elements; the error for c still comes back at once
    ray = broadcasting.xray((100_000, 1, 100_000), (100_000, 1), (7,))
    assert ray.error == ("The size of tensor a (100000) must match the size of tensor b (7) "
                         "at non-singleton dimension 2")


@pytest.mark.parametrize("a, b", [p for p in PAIRS if torch_answer(*p)[0] is not None])
def test_explicit_expand_equals_implicit_broadcasting(a, b):
    explicit, implicit = broadcasting.explicit_then_implicit((a, b))
    assert torch.equal(explicit, implicit)
    assert tuple(implicit.shape) == tuple(torch.broadcast_shapes(a, b))


def test_expand_is_a_view_with_stride_zero():
    a = broadcasting.sample_inputs(((3, 1),))[0]
    stretched = a.expand(3, 4)
    assert stretched.stride() == (1, 0)
    assert stretched.untyped_storage().data_ptr() == a.untyped_storage().data_ptr()


def test_explicit_is_none_when_nothing_to_show():
    assert broadcasting.explicit_then_implicit(((2, 3), (4,))) is None
    assert broadcasting.explicit_then_implicit(((1000, 1), (1, 1000))) is None
