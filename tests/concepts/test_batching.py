"""What a DataLoader does with N samples: counts, shapes, order, and what batch size changes."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from course.concepts import batching, loops
from course.concepts.teaching_datasets import SimpleDataset, SortedDataset
from course.engine import data

# --- How many batches -------------------------------------------------------------------------


def test_iterations_per_epoch_counts_the_partial_last_batch():
    assert batching.iterations_per_epoch(100, 8) == 13


def test_drop_last_discards_partial_batch_from_the_count():
    assert batching.iterations_per_epoch(100, 8, drop_last=True) == 12


def test_iterations_per_epoch_for_mnist_train_with_batch_64():
    assert batching.iterations_per_epoch(60_000, 64) == 938
    assert batching.iterations_per_epoch(60_000, 64, drop_last=True) == 937


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterations_per_epoch_with_exact_division_ignores_drop_last(drop_last):
    assert batching.iterations_per_epoch(96, 8, drop_last) == 12


def test_fewer_samples_than_one_batch_with_drop_last_gives_an_empty_epoch():
    assert batching.iterations_per_epoch(5, 8, drop_last=True) == 0
    assert batching.iterations_per_epoch(5, 8) == 1


def test_zero_samples_give_zero_iterations():
    assert batching.iterations_per_epoch(0, 8) == 0


@pytest.mark.parametrize(("n", "batch_size"), [(-1, 8), (100, 0), (100, -8)])
def test_iterations_per_epoch_rejects_invalid_inputs(n, batch_size):
    with pytest.raises(ValueError):
        batching.iterations_per_epoch(n, batch_size)


def test_batch_sizes_lists_full_batches_then_the_partial_one():
    assert batching.batch_sizes(100, 8) == [8] * 12 + [4]


def test_batch_sizes_with_drop_last_has_only_full_batches():
    assert batching.batch_sizes(100, 8, drop_last=True) == [8] * 12
    assert batching.batch_sizes(5, 8, drop_last=True) == []


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 8, 64])
@pytest.mark.parametrize("n", [1, 5, 8, 9, 64, 100, 257])
def test_real_dataloader_agrees_with_the_formula(n, batch_size, drop_last):
    shapes = batching.loader_batch_shapes(SimpleDataset(n=n), batch_size, shuffle=True,
                                          drop_last=drop_last)
    assert len(shapes) == batching.iterations_per_epoch(n, batch_size, drop_last)
    assert [x[0] for x, _ in shapes] == batching.batch_sizes(n, batch_size, drop_last)


def test_loader_batch_shapes_prepend_the_batch_dimension_with_partial_last_batch():
    shapes = batching.loader_batch_shapes(SimpleDataset(n=100), 8)
    assert shapes == [([8, 1], [8, 1])] * 12 + [([4, 1], [4, 1])]


# --- In which order ---------------------------------------------------------------------------

def test_first_batch_per_epoch_differs_between_epochs():
    dataset = SimpleDataset(n=100)
    firsts = batching.first_batch_per_epoch(dataset, batch_size=8, epochs=3)
    assert [len(batch) for batch in firsts] == [8, 8, 8]
    for earlier in range(3):
        for later in range(earlier + 1, 3):
            assert not torch.equal(firsts[earlier], firsts[later])
    targets = set(dataset.y.flatten().tolist())
    assert all(value in targets for batch in firsts for value in batch.tolist())


def test_first_batch_per_epoch_is_reproducible_with_the_same_seed():
    dataset = SimpleDataset(n=100)
    first = batching.first_batch_per_epoch(dataset, 8, epochs=2, seed=3)
    again = batching.first_batch_per_epoch(dataset, 8, epochs=2, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))


def test_unshuffled_batches_of_sorted_data_are_narrow_increasing_slices():
    dataset = SortedDataset(n=512)
    ranges = batching.batch_target_ranges(dataset, 32, shuffle=False)
    full_range = (dataset.y.max() - dataset.y.min()).item()
    assert len(ranges) == 16
    assert all(high - low < 0.15 * full_range for low, high in ranges)
    assert all(previous[1] <= following[0] for previous, following in zip(ranges, ranges[1:]))


def test_shuffled_batches_of_sorted_data_span_most_of_the_range():
    dataset = SortedDataset(n=512)
    ranges = batching.batch_target_ranges(dataset, 32, shuffle=True)
    full_range = (dataset.y.max() - dataset.y.min()).item()
    assert len(ranges) == 16
    assert all(high - low > 0.6 * full_range for low, high in ranges)


def test_shuffle_race_is_deterministic():
    dataset = SortedDataset(n=256)
    assert batching.shuffle_race(dataset, shuffle=True, epochs=3) == batching.shuffle_race(
        dataset, shuffle=True, epochs=3)


def test_shuffle_race_records_the_full_data_loss_after_every_step():
    losses = batching.shuffle_race(SortedDataset(n=100), shuffle=True, epochs=2, batch_size=32)
    assert len(losses) == 2 * batching.iterations_per_epoch(100, 32)
    assert all(loss > 0 for loss in losses)


def test_without_shuffle_sorted_data_ends_with_a_higher_loss():
    dataset = SortedDataset(n=512)
    unshuffled = batching.shuffle_race(dataset, shuffle=False, epochs=8)
    shuffled = batching.shuffle_race(dataset, shuffle=True, epochs=8)
    assert unshuffled[-1] > 1.5 * shuffled[-1]
    assert shuffled[-1] < shuffled[0]


# --- What batch size changes ------------------------------------------------------------------

def test_activation_bytes_counts_input_and_every_layer_output():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10), nn.ReLU())
    inputs = torch.zeros(4, 1, 28, 28)
    # float32: input 4*784*4 + flatten 4*784*4 + linear 4*10*4 + relu 4*10*4
    assert batching.activation_bytes(model, inputs) == 12_544 + 12_544 + 160 + 160


def test_activation_bytes_grows_linearly_with_batch_and_leaves_no_hooks():
    model = batching.mlp_for_images()
    small = batching.activation_bytes(model, torch.zeros(8, 1, 28, 28))
    large = batching.activation_bytes(model, torch.zeros(64, 1, 28, 28))
    assert large == 8 * small
    assert all(not layer._forward_hooks for layer in model.children())


@pytest.fixture(scope="module")
def mnist_subset(data_dir):
    """The first 2,000 real MNIST training images, normalised, with their labels."""
    split = data.split_tensors("mnist", True, str(data_dir))
    return data.normalize_batch(split.images[:2000]), split.labels[:2000]


def test_gradient_noise_shrinks_as_batch_size_grows(mnist_subset):
    images, labels = mnist_subset
    model = batching.mlp_for_images()
    noise = [batching.gradient_noise(model, images, labels, size) for size in (8, 64, 512)]
    assert noise[0] > noise[1] > noise[2] > 0
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())


def test_a_batch_of_all_the_data_has_no_gradient_noise(mnist_subset):
    images, labels = mnist_subset
    assert batching.gradient_noise(batching.mlp_for_images(), images, labels, len(labels),
                                   draws=2) < 1e-4


def test_batch_size_rows_on_real_mnist_shrink_noise_and_grow_memory_with_b(mnist_subset):
    images, labels = mnist_subset
    rows = [batching.batch_size_row(images, labels, size) for size in (8, 64, 512)]
    assert [row["batch size"] for row in rows] == [8, 64, 512]
    assert [row["updates per epoch"] for row in rows] == [math.ceil(1600 / b) for b in (8, 64, 512)]
    for row in rows:
        for key in ("activation memory (KB)", "seconds", "samples / s",
                    "gradient noise", "train accuracy", "held-out accuracy"):
            assert row[key] > 0, key
        assert row["held-out accuracy"] <= 1
    memory = [row["activation memory (KB)"] for row in rows]
    noise = [row["gradient noise"] for row in rows]
    assert memory == sorted(memory) and noise == sorted(noise, reverse=True)
    assert rows[0]["held-out accuracy"] > 0.6  # 200 updates on real digits beat chance (0.1)


def test_batch_size_row_memory_matches_activation_bytes(mnist_subset):
    images, labels = mnist_subset
    row = batching.batch_size_row(images[:500], labels[:500], 16)
    expected = batching.activation_bytes(batching.mlp_for_images(), images[:16]) / 1024
    assert row["activation memory (KB)"] == expected
    assert row["updates per epoch"] == len(DataLoader(range(400), batch_size=16))


def test_first_images_are_the_splits_first_images_normalised_like_the_loaders(data_dir):
    split = data.split_tensors("mnist", True, str(data_dir))
    images, labels = batching.first_images(split, 64)
    assert tuple(images.shape) == (64, 1, 28, 28) and images.dtype == torch.float32
    assert torch.equal(labels, split.labels[:64])
    loader = DataLoader(data.load_dataset("mnist", True, data.normalize_transform("mnist"),
                                          root=data_dir), batch_size=64)
    loader_images, loader_labels = next(iter(loader))
    torch.testing.assert_close(images, loader_images, rtol=0, atol=1e-6)
    assert torch.equal(labels, loader_labels)


def test_comparison_rows_show_whole_kb_and_percent_and_drop_the_per_epoch_count(mnist_subset):
    images, labels = mnist_subset
    row = batching.batch_size_row(images[:500], labels[:500], 16)
    shown = batching.comparison_rows([row])[0]
    assert "updates per epoch" not in shown
    assert shown["activation memory (KB)"] == round(row["activation memory (KB)"])
    assert isinstance(shown["samples / s"], int)
    assert shown["held-out accuracy"] == pytest.approx(row["held-out accuracy"] * 100)
    assert shown["gap (train − held-out)"] == pytest.approx(row["gap (train − held-out)"] * 100)
    assert row["held-out accuracy"] <= 1  # the measured row itself is left as it was


def test_batch_size_row_with_equal_updates_trains_exactly_that_many_steps(mnist_subset):
    images, labels = mnist_subset
    row = batching.batch_size_row(images, labels, 64, updates=60)
    assert row["updates per epoch"] == 25 and row["updates made"] == 60
    assert row["epochs"] == pytest.approx(60 * 64 / 1600)
    assert row["gap (train − held-out)"] == pytest.approx(row["train accuracy"]
                                                         - row["held-out accuracy"])


def test_more_updates_on_the_same_images_fit_the_training_images_better(mnist_subset):
    images, labels = mnist_subset
    one_epoch = batching.batch_size_row(images, labels, 512)
    many = batching.batch_size_row(images, labels, 512, updates=200)
    assert one_epoch["updates made"] == 4
    assert many["train accuracy"] > one_epoch["train accuracy"] + 0.2
    assert many["gap (train − held-out)"] > one_epoch["gap (train − held-out)"]


def test_batch_size_row_is_deterministic_apart_from_timing(mnist_subset):
    images, labels = mnist_subset
    timing = {"seconds", "samples / s"}
    first, second = (batching.batch_size_row(images[:500], labels[:500], 32) for _ in range(2))
    assert {k: v for k, v in first.items() if k not in timing} == {
        k: v for k, v in second.items() if k not in timing}


def test_shape_rows_keep_the_first_three_and_last_two_batches_of_a_long_epoch():
    rows = batching.shape_rows(batching.loader_batch_shapes(SimpleDataset(n=100), 8))
    assert [row["iteration"] for row in rows] == ["1", "2", "3", "…", "12", "13"]
    assert [row["x.shape"] for row in rows] == ["[8, 1]"] * 3 + ["…", "[8, 1]", "[4, 1]"]
    short = batching.shape_rows(batching.loader_batch_shapes(SimpleDataset(n=10), 4))
    assert [row["x.shape"] for row in short] == ["[4, 1]", "[4, 1]", "[2, 1]"]


def test_first_batch_columns_name_each_epoch_and_differ_between_epochs():
    columns = batching.first_batch_columns(SimpleDataset(n=100), batch_size=8, epochs=2)
    first, second = columns["epoch 1, first batch y"], columns["epoch 2, first batch y"]
    assert len(first) == len(second) == 8 and first != second
    targets = {round(value, 2) for value in SimpleDataset(n=100).y.flatten().tolist()}
    assert set(first) <= targets


def test_naive_batches_forget_the_partial_batch_and_keep_the_order():
    x = SimpleDataset(n=100).x
    batches = batching.naive_batches(x, 8)
    assert len(batches) == 12 == batching.iterations_per_epoch(100, 8, drop_last=True)
    assert torch.equal(torch.cat(batches), x[:96])  # the last 4 samples are never seen
    assert all(torch.equal(a, b) for a, b in zip(batches, batching.naive_batches(x, 8)))


def test_fastest_picks_the_row_with_the_most_samples_per_second():
    rows = [{"batch size": 8, "samples / s": 900.0}, {"batch size": 64, "samples / s": 2500.0},
            {"batch size": 512, "samples / s": 1800.0}]
    assert batching.fastest(rows)["batch size"] == 64


def test_source_diff_marks_the_signature_and_the_dataloader_line_only():
    diff = batching.source_diff(loops.train_on_tensors, loops.train_on_dataloader).splitlines()
    changed = [line for line in diff if line[0] in "+-"]
    assert changed == [
        "- def train_on_tensors(model, x, y, loss_fn, optimizer, epochs):",
        "+ def train_on_dataloader(model, train_loader, loss_fn, optimizer, epochs):",
        "+         for x, y in train_loader:",
    ]
    body = [line[2:].strip() for line in diff if line.startswith("  ")]
    assert "predictions = model(x)" in body and "optimizer.step()" in body


def test_source_diff_of_a_function_with_itself_marks_nothing():
    assert all(line.startswith("  ")
               for line in batching.source_diff(loops.train_on_tensors,
                                                loops.train_on_tensors).splitlines())


def test_race_both_ways_trains_both_settings_and_ranges_each_batch():
    dataset = SortedDataset(n=128)
    losses, ranges = batching.race_both_ways(dataset, epochs=2, range_batch_size=32)
    assert list(losses) == ["shuffle=False", "shuffle=True"]
    assert [len(values) for values in losses.values()] == [2 * 4, 2 * 4]
    assert losses["shuffle=True"] == batching.shuffle_race(dataset, shuffle=True, epochs=2)
    narrow, wide = ranges.values()
    assert len(narrow) == len(wide) == 4
    # sorted targets, no shuffle: each batch covers only its quarter of the range
    assert max(high - low for low, high in narrow) < min(high - low for low, high in wide)
    assert [low for low, _ in narrow] == sorted(low for low, _ in narrow)


def test_first_epochs_is_the_prefix_a_shorter_race_would_train():
    dataset = SortedDataset(n=128)
    long, _ = batching.race_both_ways(dataset, epochs=5)
    short = batching.first_epochs(long, 3, trained_epochs=5)
    for shuffle in (False, True):
        assert short[f"shuffle={shuffle}"] == batching.shuffle_race(dataset, shuffle=shuffle,
                                                                    epochs=3)


def test_a_shorter_shuffle_race_is_the_start_of_a_longer_one():
    """The page trains the race once, to the most epochs, and shows its first `epochs` epochs."""
    dataset = SortedDataset(n=512)
    for shuffle in (False, True):
        short = batching.shuffle_race(dataset, shuffle=shuffle, epochs=3)
        long = batching.shuffle_race(dataset, shuffle=shuffle, epochs=5)
        assert len(short) == 3 * 16 and short == long[:len(short)]


def measured(batch_size: int, samples_per_second: float, held_out: float, train: float) -> dict:
    return {"batch size": batch_size, "updates made": math.ceil(1600 / batch_size), "epochs": 1.0,
            "activation memory (KB)": 7.2 * batch_size, "samples / s": samples_per_second,
            "gradient noise": 3 / batch_size ** 0.5, "train accuracy": train,
            "held-out accuracy": held_out, "gap (train − held-out)": train - held_out}


def test_caption_names_the_measured_fastest_batch_even_when_it_is_not_the_largest():
    rows = [measured(8, 2_000, 0.86, 0.88), measured(64, 16_500, 0.83, 0.84),
            measured(512, 16_100, 0.65, 0.64)]
    caption = batching.describe_comparison(rows, None)
    assert "B=64 trained fastest (16,500 samples/s), B=8 slowest (2,000 samples/s)" in caption
    assert "bigger was not faster all the way" in caption
    assert "throughput usually grows" not in caption.lower()
    assert "B=8 made 200 updates and B=512 only 4" in caption
    assert "B=8: +2.0, B=64: +1.0, B=512: -1.0" in caption


def test_caption_says_so_when_the_largest_batch_was_fastest_and_budgets_are_equal():
    rows = [measured(16, 3_000, 0.80, 0.81), measured(256, 40_000, 0.84, 0.97)]
    rows[1]["epochs"] = 32.0
    caption = batching.describe_comparison(rows, 200)
    assert "the largest batch was also the fastest" in caption
    assert "200 updates each" in caption and "B=256 saw 32.0 epochs" in caption
    assert "Generalization" in caption


def test_caption_for_one_batch_size_compares_nothing_but_still_reports_the_gap():
    caption = batching.describe_comparison([measured(32, 9_000, 0.8, 0.9)], None)
    assert "**Speed**" not in caption and "**Memory**" not in caption
    assert "B=32: +10.0" in caption
