"""The backprop worked example: chain rule by hand equals autograd, and the strict cmp() table
judges a learner's typed derivation per intermediate."""

import pytest
import torch

from course.concepts import backprop_example as bp


@pytest.fixture
def autograd_grads():
    return bp.by_autograd(bp.inputs())


def test_by_hand_equals_autograd_and_gradcheck_passes(autograd_grads):
    hand = bp.by_hand(bp.inputs())
    for name in bp.INTERMEDIATES:
        assert hand[name].shape == autograd_grads[name].shape
        assert torch.equal(hand[name], autograd_grads[name])
    assert bp.gradcheck_passes()


def test_cmp_table_says_exact_for_autograd_against_itself(autograd_grads):
    typed = {name: g.clone() for name, g in autograd_grads.items()}
    rows = bp.cmp_table(typed, autograd_grads)
    assert [r["gradient of"] for r in rows] == list(bp.INTERMEDIATES)
    assert all(r["verdict"] == "exact" and r["max difference"] == 0.0 for r in rows)


def test_typed_derivation_round_trips_through_readable_text(autograd_grads):
    typed = {name: bp.parse_derivation(bp.readable(g)) for name, g in autograd_grads.items()}
    assert {r["verdict"] for r in bp.cmp_table(typed, autograd_grads)} == {"exact"}


def test_cmp_table_flags_wrong_and_wrongly_shaped_derivatives(autograd_grads):
    typed = {name: g.clone() for name, g in autograd_grads.items()}
    typed["W2"] = typed["W2"] * 2 + 1                  # a wrong derivation
    typed["h"] = autograd_grads["h"].reshape(-1)         # right numbers, shape [3] not [1, 3]
    typed["z1"] = autograd_grads["z1"] + 5e-5            # rounded when typed: close, not exact
    typed["W1"] = None                                   # not typed yet
    rows = {r["gradient of"]: r for r in bp.cmp_table(typed, autograd_grads)}
    assert rows["out"]["verdict"] == "exact"
    assert rows["W2"]["verdict"] == "different"
    assert rows["W2"]["max difference"] == pytest.approx(
        (autograd_grads["W2"] + 1).abs().max().item())
    assert rows["h"]["verdict"] == "wrong shape" and rows["h"]["max difference"] is None
    assert rows["h"]["your shape"] == "[3]" and rows["h"]["expected shape"] == "[1, 3]"
    assert rows["z1"]["verdict"] == "close" and 0 < rows["z1"]["max difference"] < 1e-4
    assert rows["W1"]["verdict"] == "not typed yet"


def test_parse_derivation_keeps_the_typed_shape():
    assert bp.parse_derivation("[[-0.75]]").shape == (1, 1)
    assert bp.parse_derivation("[-0.75]").shape == (1,)
    assert bp.parse_derivation("-0.75").shape == ()
    with pytest.raises(bp.DerivationError, match="not a list of numbers"):
        bp.parse_derivation("__import__('os')")
    with pytest.raises(bp.DerivationError, match="equal-length"):
        bp.parse_derivation("[[1, 2], [3]]")


def test_negative_zero_reads_as_zero():
    hand = bp.by_hand(bp.inputs())
    assert torch.signbit(hand["z1"][0, 0])                 # relu's mask gives -0.0 here
    assert bp.readable(hand["z1"]) == "[[0.0, 0.0, -0.375]]"
    assert "-0.0" not in bp.readable(hand["W1"])
