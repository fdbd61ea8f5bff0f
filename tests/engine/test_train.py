"""The training engine: its loaders, the one loop (fit), evaluation, Stop, seeds and exact resume."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from course.engine import data
from course.engine.models import ModelConfig, build_model, improved_mlp
from course.engine.train import (
    LIMITS,
    InMemoryBatches,
    Run,
    RunConfig,
    evaluate,
    fast_loader,
    fit,
    loader_speeds,
    textbook_loader,
    validated,
)
from course.runs.checkpoints import load_checkpoint, restore_run, save_run


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def mnist_train(data_dir) -> data.SplitTensors:
    return data.split_tensors("mnist", True)


@pytest.fixture(scope="module")
def mnist_test(data_dir) -> data.SplitTensors:
    return data.split_tensors("mnist", False)


def indexed_split(n: int) -> data.SplitTensors:
    """n fake images whose label is their own index and whose every pixel equals that index."""
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1).expand(n, 28, 28).clone()
    return data.SplitTensors(name="mnist", train=True, images=images, labels=torch.arange(n))


def epoch_batches(loader) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return list(loader)


def state_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def assert_same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), f"{name} differs"


def without_seconds(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


# --- fast_loader: what DataLoader(batch_size, shuffle=True) means --------------------------------


def test_fast_loader_yields_every_index_once_with_the_partial_last_batch():
    split = indexed_split(100)
    loader = fast_loader(split, 8, shuffle=True, generator=torch.Generator().manual_seed(0))

    batches = epoch_batches(loader)

    assert len(loader) == 13
    assert [len(labels) for _, labels in batches] == [8] * 12 + [4]
    seen = torch.cat([labels for _, labels in batches])
    assert torch.equal(seen.sort().values, torch.arange(100))
    assert not torch.equal(seen, torch.arange(100)), "shuffle=True kept the stored order"


def test_fast_loader_batches_pair_each_image_with_its_own_label_normalised():
    split = indexed_split(100)
    loader = fast_loader(split, 8, shuffle=True, generator=torch.Generator().manual_seed(1))

    for images, labels in loader:
        assert images.shape == (len(labels), 1, 28, 28)
        assert images.dtype == torch.float32
        assert torch.equal(images, data.normalize_batch(split.images[labels], "mnist"))


def test_fast_loader_draws_a_new_order_each_epoch():
    loader = fast_loader(indexed_split(100), 8, shuffle=True,
                         generator=torch.Generator().manual_seed(0))

    first = torch.cat([labels for _, labels in loader])
    second = torch.cat([labels for _, labels in loader])

    assert torch.equal(second.sort().values, torch.arange(100))
    assert not torch.equal(first, second)


def test_fast_loader_without_shuffle_keeps_the_stored_order():
    loader = fast_loader(indexed_split(100), 8, shuffle=False)

    assert torch.equal(torch.cat([labels for _, labels in loader]), torch.arange(100))


def test_fast_loader_limit_trains_on_the_first_n_images_only():
    loader = fast_loader(indexed_split(100), 8, shuffle=True,
                         generator=torch.Generator().manual_seed(0), limit=40)

    seen = torch.cat([labels for _, labels in loader])

    assert len(loader) == 5
    assert torch.equal(seen.sort().values, torch.arange(40))


def test_fast_loader_without_a_generator_follows_torch_manual_seed_like_dataloader():
    split = indexed_split(100)
    reference = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(split.labels),
                                            batch_size=8, shuffle=True)

    torch.manual_seed(5)
    expected = [torch.cat([batch for (batch,) in reference]) for _ in range(2)]
    torch.manual_seed(5)
    loader = fast_loader(split, 8, shuffle=True)
    got = [torch.cat([labels for _, labels in loader]) for _ in range(2)]

    assert all(torch.equal(a, b) for a, b in zip(expected, got))
    assert not torch.equal(got[0], got[1])


def test_normalize_batch_leaves_its_input_untouched():
    images = torch.full((2, 28, 28), 255, dtype=torch.uint8)
    as_float = images.float()

    data.normalize_batch(images)
    data.normalize_batch(as_float)

    assert torch.equal(images, torch.full((2, 28, 28), 255, dtype=torch.uint8))
    assert torch.equal(as_float, torch.full((2, 28, 28), 255.0))


def test_in_memory_batches_counts_samples_not_batches():
    dataset = InMemoryBatches(indexed_split(100), limit=30)

    images, labels = dataset[[3, 1, 2]]

    assert len(dataset) == 30
    assert torch.equal(labels, torch.tensor([3, 1, 2]))
    assert images.shape == (3, 1, 28, 28)


def assert_same_batches(fast_iter, textbook_iter, count: int | None) -> int:
    compared = 0
    for (fast_images, fast_labels), (book_images, book_labels) in zip(fast_iter, textbook_iter):
        assert torch.equal(fast_labels, book_labels), f"batch {compared}: labels differ"
        torch.testing.assert_close(fast_images, book_images, rtol=0, atol=1e-6)
        compared += 1
        if count is not None and compared == count:
            break
    return compared


def test_fast_loader_matches_textbook_loader_on_train_split_in_both_epochs(mnist_train):
    fast = fast_loader(mnist_train, 64, shuffle=True, generator=torch.Generator().manual_seed(7))
    book = textbook_loader("mnist", 64, shuffle=True, train=True,
                           generator=torch.Generator().manual_seed(7))

    assert len(fast) == len(book) == 938
    assert assert_same_batches(iter(fast), iter(book), 50) == 50
    # a new epoch: both loaders draw the next permutation from their generators alike
    assert assert_same_batches(iter(fast), iter(book), 10) == 10


def test_fast_loader_matches_textbook_loader_for_a_whole_shuffled_epoch_and_the_next(mnist_test):
    fast = fast_loader(mnist_test, 64, shuffle=True, generator=torch.Generator().manual_seed(3))
    book = textbook_loader("mnist", 64, shuffle=True, train=False,
                           generator=torch.Generator().manual_seed(3))

    assert assert_same_batches(iter(fast), iter(book), None) == 157  # 156 full + 16 left over
    assert assert_same_batches(iter(fast), iter(book), 5) == 5


def test_fast_loader_matches_textbook_loader_for_evaluation_order(mnist_test):
    fast = fast_loader(mnist_test, 1000, shuffle=False)
    book = textbook_loader("mnist", 1000, shuffle=False, train=False)

    assert assert_same_batches(iter(fast), iter(book), None) == 10


def test_loader_speeds_reports_both_pipelines_with_consistent_extrapolation(mnist_train):
    rows = loader_speeds(mnist_train, batches=30)

    assert [row["loader"].split(":")[0] for row in rows] == ["textbook", "engine"]
    for row in rows:
        assert row["seconds per epoch (extrapolated)"] == pytest.approx(
            row["seconds for 30 batches"] * 938 / 30)
    assert rows[0]["speed-up"] == 1.0
    assert rows[1]["speed-up"] == pytest.approx(
        rows[0]["seconds per epoch (extrapolated)"] / rows[1]["seconds per epoch (extrapolated)"])
    assert rows[1]["speed-up"] > 1.0, "slicing whole batches should beat per-sample transforms"


# --- fit: one epoch of the course's recipe on real MNIST -----------------------------------------


@pytest.mark.slow
def test_one_epoch_of_simple_mlp_lowers_the_loss_and_passes_90_percent(mnist_train, mnist_test):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="mlp"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_loader = fast_loader(mnist_train, 64, shuffle=True,
                               generator=torch.Generator().manual_seed(0))
    test_loader = fast_loader(mnist_test, 1000, shuffle=False)

    events = list(fit(model, optimizer, train_loader, test_loader, epochs=1, report_every=50))

    steps = [event for event in events if event.kind == "step"]
    final = events[-1]
    assert [event.step for event in steps] == list(range(50, 938, 50))
    assert final.kind == "epoch" and final.step == 938 and final.fraction == 1.0
    assert final.train_loss < 0.6 * steps[0].train_loss
    assert final.test_accuracy > 0.90
    assert 0 < final.test_loss < 0.5
    assert final.epoch_seconds > 0 and final.samples_per_second > 0


def test_fit_stops_between_steps_and_keeps_exactly_what_it_trained(mnist_train):
    k = 7
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="mlp"))
    initial = state_copy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = fast_loader(mnist_train, 64, shuffle=True, generator=torch.Generator().manual_seed(0))
    snapshots = []

    def should_stop() -> bool:
        snapshots.append(state_copy(model))  # the weights before the step about to run
        return len(snapshots) > k

    events = list(fit(model, optimizer, loader, None, epochs=2, should_stop=should_stop,
                      report_every=1))

    assert [event.kind for event in events] == ["step"] * k + ["stopped"]
    assert events[-1].step == k and events[-1].epoch == 1
    assert 0 < events[-1].train_loss < 3.0
    assert_same_state(state_copy(model), snapshots[-1])
    assert any(not torch.equal(initial[name], tensor) for name, tensor in model.state_dict().items())

    # the same k steps written out by hand land on the very same weights
    torch.manual_seed(0)
    by_hand = build_model(ModelConfig(kind="mlp"))
    hand_optimizer = torch.optim.Adam(by_hand.parameters(), lr=1e-3)
    hand_loader = fast_loader(mnist_train, 64, shuffle=True,
                              generator=torch.Generator().manual_seed(0))
    by_hand.train()
    for step, (images, labels) in enumerate(hand_loader):
        if step == k:
            break
        loss = nn.functional.cross_entropy(by_hand(images), labels)
        hand_optimizer.zero_grad()
        loss.backward()
        hand_optimizer.step()
    assert_same_state(state_copy(model), state_copy(by_hand))


def test_fit_reports_the_running_mean_loss_and_accuracy_of_the_steps_taken(mnist_train):
    def run():
        torch.manual_seed(0)
        model = build_model(ModelConfig(kind="mlp"))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        loader = fast_loader(mnist_train, 64, shuffle=True, limit=1000,
                             generator=torch.Generator().manual_seed(0))
        return model, optimizer, loader

    model, optimizer, loader = run()
    events = list(fit(model, optimizer, loader, None, epochs=1, report_every=5))

    # the same 16 steps by hand (15 batches of 64, then 40), summing per sample as fit must
    model, optimizer, loader = run()
    model.train()
    sums, hits, counts = [], [], []
    for images, labels in loader:
        outputs = model(images)
        loss = nn.functional.cross_entropy(outputs, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        sums.append(loss.item() * len(labels))
        hits.append((outputs.argmax(dim=1) == labels).sum().item())
        counts.append(len(labels))

    assert [(event.kind, event.step) for event in events] == [
        ("step", 5), ("step", 10), ("step", 15), ("epoch", 16)]
    assert counts[-1] == 40
    for event in events:
        n = event.step
        assert event.train_loss == pytest.approx(sum(sums[:n]) / sum(counts[:n]), rel=1e-6)
        assert event.train_accuracy == sum(hits[:n]) / sum(counts[:n])

    model, optimizer, loader = run()
    taken = iter(range(7))  # seven steps allowed, then Stop
    stopped = list(fit(model, optimizer, loader, None, epochs=1, report_every=5,
                       should_stop=lambda: next(taken, None) is None))[-1]
    assert (stopped.kind, stopped.step) == ("stopped", 7)
    assert stopped.train_loss == pytest.approx(sum(sums[:7]) / sum(counts[:7]), rel=1e-6)
    assert stopped.train_accuracy == sum(hits[:7]) / sum(counts[:7])


def test_fit_asked_to_stop_at_once_changes_nothing(mnist_train):
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="mlp"))
    initial = state_copy(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = fast_loader(mnist_train, 64, shuffle=True, generator=torch.Generator().manual_seed(0))

    events = list(fit(model, optimizer, loader, None, epochs=1, should_stop=lambda: True))

    assert [(event.kind, event.step) for event in events] == [("stopped", 0)]
    assert events[0].train_loss == 0.0
    assert_same_state(state_copy(model), initial)


# --- evaluate -------------------------------------------------------------------------------------


def test_evaluate_runs_in_eval_mode_without_gradients_and_is_deterministic(mnist_test):
    torch.manual_seed(0)
    model = improved_mlp(dropout=0.5)
    model.train()
    loader = fast_loader(mnist_test, 500, shuffle=False, limit=2000)
    calls = []
    model.register_forward_hook(
        lambda module, inputs, output: calls.append((module.training, torch.is_grad_enabled())))

    first = evaluate(model, loader)
    model.train()
    second = evaluate(model, loader)

    assert first == second
    assert calls and all(state == (False, False) for state in calls)
    assert model.training is False

    images = data.normalize_batch(mnist_test.images[:2000], "mnist")
    labels = mnist_test.labels[:2000]
    with torch.no_grad():
        outputs = model.eval()(images)
    assert first[0] == pytest.approx(nn.functional.cross_entropy(outputs, labels).item(), rel=1e-5)
    assert first[1] == pytest.approx((outputs.argmax(dim=1) == labels).float().mean().item())


# --- RunConfig and validated ----------------------------------------------------------------------


def test_default_run_config_is_the_course_recipe_and_valid():
    config = RunConfig()

    assert validated(config) is config
    assert (config.model, config.epochs, config.batch_size, config.lr) == ("mlp", 5, 64, 1e-3)
    assert config.model_config == ModelConfig(kind="mlp", dropout=0.3)


@pytest.mark.parametrize("field", sorted(LIMITS))
def test_validated_accepts_both_ends_of_every_limit(field):
    low, high = LIMITS[field]
    for value in (low, high):
        assert getattr(validated(replace(RunConfig(), **{field: value})), field) == value


@pytest.mark.parametrize(("field", "value"), [
    ("epochs", 0), ("epochs", 51), ("batch_size", 0), ("batch_size", 5000), ("lr", 0.0),
    ("lr", 2.0), ("dropout", -0.1), ("dropout", 0.95), ("weight_decay", -1e-4),
    ("weight_decay", 0.5), ("train_subset", 99), ("train_subset", 60_001), ("seed", -1),
])
def test_validated_refuses_out_of_range_values_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field} must be between"):
        validated(replace(RunConfig(), **{field: value}))


@pytest.mark.parametrize(("field", "value"), [
    ("dataset", "cifar10"), ("model", "resnet"), ("device", "tpu"), ("schedule", "cosine"),
])
def test_validated_refuses_unknown_choices_naming_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field} must be"):
        validated(replace(RunConfig(), **{field: value}))


def test_run_config_from_dict_round_trips_ignores_extra_keys_and_validates():
    config = RunConfig(model="mlp-bn", epochs=3, lr=0.01, seed=9, train_subset=5000)

    assert RunConfig.from_dict({**config.to_dict(), "label": "my run"}) == config
    with pytest.raises(ValueError, match="epochs"):
        RunConfig.from_dict({**config.to_dict(), "epochs": 0})


def test_one_cycle_warms_up_to_the_peak_lr_then_anneals_to_almost_nothing(data_dir):
    run = Run(RunConfig(epochs=2, train_subset=1000, batch_size=100, lr=0.01, schedule="one-cycle"))
    rates = []
    for event in run.events(report_every=1):
        if event.kind == "step":
            rates.append(run.optimizer.param_groups[0]["lr"])

    assert len(rates) == 20
    peak = rates.index(max(rates))
    assert 0 < peak < 10 and max(rates) == pytest.approx(0.01, rel=0.05)
    # rates[i] is the lr that step i + 2 uses, so rates[-2] is the last step's: almost nothing.
    assert rates[0] < 0.002 and rates[-2] < 1e-5
    assert all(a <= b for a, b in zip(rates[:peak], rates[1:peak + 1]))
    assert all(a >= b for a, b in zip(rates[peak:-1], rates[peak + 1:-1]))


def test_constant_schedule_keeps_the_lr_and_has_no_scheduler(data_dir):
    run = Run(RunConfig(epochs=1, train_subset=500, batch_size=100, lr=0.002))
    for _event in run.events():
        pass

    assert run.scheduler is None and run.optimizer.param_groups[0]["lr"] == 0.002


def test_engine_optimizer_is_adam_with_the_configured_lr_and_weight_decay(data_dir):
    run = Run(RunConfig(epochs=1, train_subset=500, lr=0.003, weight_decay=1e-4))

    assert type(run.optimizer) is torch.optim.Adam
    group = run.optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["fused"]) == (0.003, 1e-4, True)


# --- Run: seeds, history, save and restore --------------------------------------------------------


def finished_history(config: RunConfig) -> list[dict]:
    run = Run(config)
    for _event in run.events():
        pass
    return run.history.epochs


@pytest.mark.slow
def test_same_seed_gives_identical_history_and_another_seed_differs(data_dir):
    config = RunConfig(epochs=2, train_subset=5000, seed=11)

    first = finished_history(config)
    again = finished_history(config)
    other = finished_history(replace(config, seed=12))

    assert [row["epoch"] for row in first] == [1, 2]
    assert without_seconds(first) == without_seconds(again)
    assert first[0]["train_loss"] != other[0]["train_loss"]
    assert without_seconds(first) != without_seconds(other)


def test_run_trains_on_the_subset_and_tests_on_the_whole_test_split(data_dir):
    run = Run(RunConfig(epochs=1, train_subset=500, batch_size=100))

    assert len(run.train_loader) == 5
    assert sum(len(labels) for _, labels in run.test_loader) == 10_000


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "schedule"), [
    ("mlp", "constant"), ("mlp-bn", "constant"), ("mlp", "one-cycle")])
def test_run_interrupted_after_epoch_one_and_restored_ends_identical(data_dir, tmp_path, kind,
                                                                    schedule):
    config = RunConfig(model=kind, epochs=3, train_subset=3000, seed=4, dropout=0.3,
                       schedule=schedule)

    uninterrupted = Run(config)
    for _event in uninterrupted.events():
        pass

    interrupted = Run(config)
    for event in interrupted.events():
        if event.kind == "epoch":
            save_run(interrupted, tmp_path / "epoch1.pt")
            break
    checkpoint = load_checkpoint(tmp_path / "epoch1.pt")
    assert checkpoint.epoch == 1 and len(checkpoint.history) == 1
    assert checkpoint.config == config.to_dict()

    resumed = Run(config)
    restore_run(resumed, checkpoint)
    assert resumed.completed_epochs == 1
    epochs_seen = [event.epoch for event in resumed.events() if event.kind == "epoch"]

    assert epochs_seen == [2, 3]
    assert_same_state(state_copy(resumed.model), state_copy(uninterrupted.model))
    assert without_seconds(resumed.history.epochs) == without_seconds(uninterrupted.history.epochs)
    assert resumed.history.epochs[-1]["test_accuracy"] == uninterrupted.history.epochs[-1][
        "test_accuracy"]


def test_run_saved_checkpoint_holds_the_last_epoch_metrics_and_config(data_dir, tmp_path):
    config = RunConfig(epochs=1, train_subset=500)
    run = Run(config)
    for _event in run.events():
        pass

    checkpoint = load_checkpoint(save_run(run, tmp_path / "final.pt"))

    assert checkpoint.epoch == 1
    assert checkpoint.metrics["test_accuracy"] == run.history.epochs[-1]["test_accuracy"]
    assert RunConfig.from_dict(checkpoint.config) == config
    assert_same_state(checkpoint.model_state, state_copy(run.model))


def test_restored_run_that_already_finished_trains_no_further(data_dir, tmp_path):
    config = RunConfig(epochs=1, train_subset=500)
    run = Run(config)
    for _event in run.events():
        pass
    save_run(run, tmp_path / "done.pt")

    again = Run(config)
    restore_run(again, load_checkpoint(tmp_path / "done.pt"))
    before = state_copy(again.model)

    assert list(again.events()) == []
    assert_same_state(state_copy(again.model), before)
    assert len(again.history.epochs) == 1

