"""The resume race on real MNIST: only a checkpoint with optimizer, scheduler and RNG state
resumes exactly; weights alone (a fresh Adam) regress."""

from __future__ import annotations

import io

import pytest
import torch

from course.concepts import best_checkpoint, resume_race


@pytest.fixture(scope="module")
def race(data_dir, one_torch_thread):
    return resume_race.run_race()


def test_race_uses_real_mnist(race):
    assert race.source == "MNIST"
    assert sorted(race.uninterrupted.epoch_losses) == list(range(1, resume_race.EPOCHS + 1))


def test_full_resume_equals_the_uninterrupted_run_exactly(race):
    full = race.resumed["c"]
    assert resume_race.same_weights(full.final_state, race.uninterrupted.final_state)
    after = resume_race.CRASH_AFTER * race.steps_per_epoch
    assert full.step_losses == race.uninterrupted.step_losses[after:]
    assert full.test_accuracy == {e: race.uninterrupted.test_accuracy[e] for e in (48, 49, 50)}


def test_weights_only_resume_regresses(race):
    spike_a = resume_race.loss_spike(race, "a")
    assert spike_a > 5 * resume_race.loss_spike(race, "b")
    assert spike_a > 0.02
    mean = {key: resume_race.mean_loss_after_resume(race, key) for key in "abc"}
    assert mean["a"] > 1.5 * mean["b"] and mean["a"] > 1.5 * mean["c"]


def test_optimizer_without_rng_and_scheduler_is_close_but_not_identical(race):
    assert not resume_race.same_weights(race.resumed["b"].final_state,
                                        race.uninterrupted.final_state)


def test_a_separately_crashed_run_resumes_to_the_same_weights(race, data_dir, one_torch_thread):
    """A second run of the same seed, killed during epoch 48 and resumed from its own last.pt."""
    data = resume_race.race_data()
    trainer = resume_race.fresh_trainer()
    crashed = resume_race.train(data, trainer, resume_race.RaceRun("crashed", 1),
                                resume_race.CRASH_AFTER)
    del trainer  # the process dies: only last.pt survives
    resumed = resume_race.resumed_run(crashed.last_checkpoint, "c", data)
    assert resume_race.same_weights(resumed.final_state, race.uninterrupted.final_state)


def test_checkpoint_holds_the_tutorial_keys_and_loads_weights_only(race):
    checkpoint = torch.load(io.BytesIO(race.crash_checkpoint), weights_only=True)
    assert checkpoint["epoch"] == resume_race.CRASH_AFTER
    assert {"model_state_dict", "optimizer_state_dict", "loss", "scheduler_state_dict",
            "rng_state"} <= set(checkpoint)
    assert checkpoint["optimizer_state_dict"]["state"][0]["step"].item() == (
        resume_race.CRASH_AFTER * race.steps_per_epoch)


def test_best_checkpoint_is_the_best_validation_epoch(race):
    run = race.uninterrupted
    assert run.best_epoch == best_checkpoint.best_epoch(run.val_accuracy)
    assert run.best_checkpoint == run.snapshots[run.best_epoch]
    model = best_checkpoint.load_weights(run.best_checkpoint)
    data = resume_race.race_data()
    assert resume_race.accuracy(model, data.val_x, data.val_y) == max(run.val_accuracy.values())


def test_timeline_reloads_the_saved_epochs_exact_weights(race, data_dir, one_torch_thread):
    epoch = 12
    data = resume_race.race_data()
    trainer = resume_race.fresh_trainer()
    resume_race.train(data, trainer, resume_race.RaceRun("to 12", 1), epoch)
    reloaded = best_checkpoint.load_weights(race.uninterrupted.snapshots[epoch])
    assert resume_race.same_weights(reloaded.state_dict(), trainer.model.state_dict())
    assert resume_race.accuracy(reloaded, data.test_x, data.test_y) == (
        race.uninterrupted.test_accuracy[epoch])


def test_early_stopping_stops_after_patience_epochs_without_a_new_best():
    history = {1: 0.5, 2: 0.7, 3: 0.69, 4: 0.7, 5: 0.65, 6: 0.9}
    assert best_checkpoint.best_epoch(history) == 6
    assert best_checkpoint.early_stopping_epoch(history, patience=3) == 5
    assert best_checkpoint.early_stopping_epoch(history, patience=4) == 6


def test_synthetic_task_races_the_same_way(one_torch_thread):
    race = resume_race.run_race(race=resume_race.synthetic_data())
    assert race.source == "synthetic"
    assert resume_race.same_weights(race.resumed["c"].final_state,
                                    race.uninterrupted.final_state)
    assert resume_race.loss_spike(race, "a") > resume_race.loss_spike(race, "b")


def test_predictions_report_true_and_predicted_labels(race, data_dir):
    data = resume_race.race_data()
    rows = best_checkpoint.predictions(
        best_checkpoint.load_weights(race.uninterrupted.snapshots[50]), data.test_x, data.test_y, 5)
    assert [row["true"] for row in rows] == data.test_y[:5].tolist()
    assert all(0 <= row["predicted"] < 10 and 0.1 <= row["confidence"] <= 1 for row in rows)
