"""The four-click inspector: each stage changes exactly what it says and nothing else."""

import torch

from course.concepts import step_inspector


def test_the_four_stages_change_exactly_what_they_say():
    inspector = step_inspector.Inspector()
    assert inspector.advance() == "forward"
    assert inspector.output.shape == (4, 1) and inspector.loss is None
    assert not any(c["value"] or c["grad"] for c in inspector.changes().values())
    assert inspector.advance() == "loss"
    assert inspector.loss.ndim == 0
    assert not any(c["value"] or c["grad"] for c in inspector.changes().values())
    assert inspector.advance() == "backward"
    changes = inspector.changes()
    assert all(c["grad"] and not c["value"] for c in changes.values())
    grads = {n: p.grad.clone() for n, p in inspector.model.named_parameters()}
    values = {n: p.detach().clone() for n, p in inspector.model.named_parameters()}
    assert inspector.advance() == "step"
    assert all(c["value"] and not c["grad"] for c in inspector.changes().values())
    for name, p in inspector.model.named_parameters():  # SGD: value - lr * grad
        assert torch.allclose(p.detach(), values[name] - 0.1 * grads[name])
    assert inspector.iteration == 1 and inspector.next_stage == "forward"


def test_the_next_forward_clears_the_gradients_to_none():
    inspector = step_inspector.Inspector()
    for _ in range(5):
        inspector.advance()
    assert all(p.grad is None for p in inspector.model.parameters())
    assert all(c["grad"] for c in inspector.changes().values())


def test_table_lists_every_parameter_with_its_shape():
    rows = step_inspector.Inspector().table()
    assert [r["parameter"] for r in rows] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert rows[0]["shape"] == "(3, 1)" and rows[0][".grad"] == "None"


def test_same_seed_same_model():
    a, b = step_inspector.inspector_model(3), step_inspector.inspector_model(3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
