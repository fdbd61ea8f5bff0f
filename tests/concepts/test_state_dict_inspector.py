"""The plain calls round-trip real tensors, and the inspector reads Adam's real state."""

from __future__ import annotations

import torch

from course.concepts import state_dict_inspector as inspector


def test_state_dict_file_reloads_identical_weights(tmp_path):
    model, _ = inspector.small_model_and_adam(5)
    inspector.save_weights(model, tmp_path / "model.pt")
    fresh, _ = inspector.small_model_and_adam(0, seed=1)
    assert not torch.equal(fresh[0].weight, model[0].weight)
    inspector.load_weights(fresh, tmp_path / "model.pt")
    for key, tensor in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], tensor)


def test_checkpoint_dict_restores_epoch_loss_and_adam(tmp_path):
    model, optimizer = inspector.small_model_and_adam(4)
    inspector.save_checkpoint(tmp_path / "ckpt.pt", model, optimizer, epoch=7, loss=0.25)
    assert set(torch.load(tmp_path / "ckpt.pt", weights_only=True)) == {
        "epoch", "model_state_dict", "optimizer_state_dict", "loss"}
    fresh, fresh_optimizer = inspector.small_model_and_adam(0, seed=3)
    epoch, loss = inspector.load_checkpoint(tmp_path / "ckpt.pt", fresh, fresh_optimizer)
    assert (epoch, loss) == (7, 0.25)
    saved, loaded = optimizer.state_dict()["state"], fresh_optimizer.state_dict()["state"]
    assert all(torch.equal(saved[i]["exp_avg_sq"], loaded[i]["exp_avg_sq"]) for i in saved)


def test_model_rows_list_every_key_with_its_shape_and_bytes():
    model, _ = inspector.small_model_and_adam(0)
    rows = inspector.model_rows(model)
    assert [row["key"] for row in rows] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert rows[0]["shape"] == "[3, 4]" and rows[0]["bytes"] == 48
    assert sum(row["values"] for row in rows) == 4 * 3 + 3 + 3 * 2 + 2


def test_optimizer_rows_count_steps_and_hold_both_averages():
    model, optimizer = inspector.small_model_and_adam(0)
    assert all(row["step"] == 0 and row["exp_avg shape"] == "(none yet)"
               for row in inspector.optimizer_rows(model, optimizer))
    model, optimizer = inspector.small_model_and_adam(3)
    rows = inspector.optimizer_rows(model, optimizer)
    assert [row["step"] for row in rows] == [3, 3, 3, 3]
    assert rows[0]["exp_avg shape"] == "[3, 4]"
    assert all(row["mean exp_avg_sq"] > 0 for row in rows)
    # Adam keeps two tensors per parameter, each the parameter's size (+ a scalar step each)
    assert inspector.optimizer_state_size(optimizer) == 2 * 23 * 4 + 4 * 4


def test_param_groups_keep_the_learning_rate():
    _, optimizer = inspector.small_model_and_adam(1)
    settings = inspector.param_group_settings(optimizer)
    assert settings["lr"] == "0.01" and settings["betas"] == "(0.9, 0.999)"
