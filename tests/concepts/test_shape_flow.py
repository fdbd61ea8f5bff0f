"""Forward hooks report each layer's shapes; a mismatched Linear stops the pass at that layer."""

import torch

from course.concepts import shape_flow


def test_hooks_record_every_layer_of_a_matching_network():
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    rows, error = shape_flow.trace_shapes(model, torch.randn(4, 2))
    assert error is None
    assert [(r["input"], r["output"], r["parameters"]) for r in rows] == [
        ("(4, 2)", "(4, 8)", 24), ("(4, 8)", "(4, 8)", 0), ("(4, 8)", "(4, 1)", 9)]
    assert not model._forward_hooks and not model[0]._forward_hooks  # hooks removed


def test_mismatch_stops_at_the_failing_layer_with_pytorchs_error():
    bad = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    rows, error = shape_flow.trace_shapes(bad, torch.randn(5, 2))
    assert len(rows) == 2 and "cannot be multiplied (5x8 and 4x1)" in error
    assert shape_flow.failing_layer(bad, rows).startswith("2: Linear(in_features=4")
    assert all(not m._forward_hooks for m in bad.children())
