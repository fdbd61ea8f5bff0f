"""The lesson's own Datasets, and the training loop before and after the DataLoader."""

from __future__ import annotations

import PIL.Image
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import transforms

from course.concepts import batching, loops, torchvision_mnist
from course.concepts.teaching_datasets import (
    BrokenDataset,
    FixedBrokenDataset,
    LazyImageDataset,
    SimpleDataset,
    SortedDataset,
    collation_error,
    lazy_demo,
    write_image_folder,
)
from course.engine import data

# --- SimpleDataset and SortedDataset ----------------------------------------------------------


def test_simple_dataset_follows_y_equals_2x_plus_1():
    dataset = SimpleDataset(n=500)
    design = torch.cat([dataset.x, torch.ones_like(dataset.x)], dim=1)
    w, b = torch.linalg.lstsq(design, dataset.y).solution[:, 0]
    assert w.item() == pytest.approx(2.0, abs=0.05)
    assert b.item() == pytest.approx(1.0, abs=0.05)
    assert (dataset.y - (2 * dataset.x + 1)).abs().max() < 0.5  # noise 0.1: no wild points


def test_simple_dataset_items_are_one_input_one_target_pairs():
    dataset = SimpleDataset(n=100)
    x, y = dataset[7]
    assert len(dataset) == 100
    assert (x.shape, y.shape) == ((1,), (1,))
    assert -2 <= dataset.x.min() and dataset.x.max() <= 2


def test_simple_dataset_is_reproducible_per_seed():
    assert torch.equal(SimpleDataset(seed=1).y, SimpleDataset(seed=1).y)
    assert not torch.equal(SimpleDataset(seed=1).y, SimpleDataset(seed=2).y)


def test_sorted_dataset_targets_are_ascending():
    targets = SortedDataset(n=200).y[:, 0]
    assert torch.all(targets[1:] >= targets[:-1])


def test_sorted_dataset_keeps_each_input_with_its_target():
    simple, ordered = SimpleDataset(n=200), SortedDataset(n=200)
    order = torch.argsort(simple.y[:, 0])
    assert torch.equal(ordered.x, simple.x[order])
    assert torch.equal(ordered.y, simple.y[order])


# --- Collation --------------------------------------------------------------------------------

def test_broken_dataset_has_one_narrower_item():
    dataset = BrokenDataset()
    assert [tuple(dataset[i][0].shape) for i in range(len(dataset))].count((1, 28, 27)) == 1
    assert tuple(dataset[3][0].shape) == (1, 28, 27)


def test_broken_dataset_makes_the_dataloader_fail_to_stack():
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        for _ in DataLoader(BrokenDataset(), batch_size=8):
            pass


def test_fixed_broken_dataset_batches_to_uniform_image_shape():
    batches = list(DataLoader(FixedBrokenDataset(), batch_size=8))
    assert [tuple(images.shape) for images, _ in batches] == [(8, 1, 28, 28)] * 2
    labels = torch.cat([labels for _, labels in batches])
    assert torch.equal(labels, BrokenDataset().labels)


def test_collation_error_reads_the_stack_message_and_none_once_fixed():
    message = collation_error(BrokenDataset(), batch_size=8)
    assert message.startswith("stack expects each tensor to be equal size")
    assert "[1, 28, 28]" in message and "[1, 28, 27]" in message
    assert collation_error(FixedBrokenDataset(), batch_size=8) is None
    assert collation_error(BrokenDataset(), batch_size=3) is not None  # item 3 opens batch 2


def test_fixed_broken_dataset_leaves_well_shaped_items_unchanged():
    broken, fixed = BrokenDataset(), FixedBrokenDataset()
    assert torch.equal(fixed[0][0], broken[0][0])


# --- LazyImageDataset over real MNIST digits ----------------------------------------------------

@pytest.fixture(scope="module")
def mnist_test(data_dir):
    return data.split_tensors("mnist", False, str(data_dir))


@pytest.fixture
def digit_folder(tmp_path, mnist_test):
    folder = tmp_path / "digits"
    paths = write_image_folder(mnist_test.images[:40], mnist_test.labels[:40], folder)
    return folder, paths


def test_write_image_folder_names_files_label_underscore_index(digit_folder, mnist_test):
    folder, paths = digit_folder
    assert len(paths) == 40
    assert sorted(folder.glob("*.png")) == sorted(paths)
    for index, path in enumerate(paths):
        assert path.name == f"{int(mnist_test.labels[index])}_{index:04d}.png"


def test_lazy_dataset_length_and_labels_come_from_the_file_names(digit_folder, mnist_test):
    folder, _ = digit_folder
    lazy = LazyImageDataset(folder)
    assert len(lazy) == 40
    for item in range(len(lazy)):
        _, label = lazy[item]
        index = int(lazy.paths[item].stem.split("_")[1])
        assert label == mnist_test.labels[index].item()


def test_lazy_dataset_pixels_round_trip_exactly(digit_folder, mnist_test):
    folder, _ = digit_folder
    lazy = LazyImageDataset(folder, transform=transforms.ToTensor())
    for item in range(len(lazy)):
        image, _ = lazy[item]
        index = int(lazy.paths[item].stem.split("_")[1])
        assert image.shape == (1, 28, 28)
        assert torch.equal((image[0] * 255).round().to(torch.uint8), mnist_test.images[index])


def test_lazy_dataset_with_normalize_matches_normalize_batch(digit_folder, mnist_test):
    folder, _ = digit_folder
    lazy = LazyImageDataset(folder, transform=data.normalize_transform("mnist"))
    image, _ = lazy[0]
    index = int(lazy.paths[0].stem.split("_")[1])
    expected = data.normalize_batch(mnist_test.images[index:index + 1])[0]
    torch.testing.assert_close(image, expected, rtol=0, atol=1e-6)


def test_lazy_dataset_opens_files_only_when_items_are_read(digit_folder, monkeypatch):
    folder, _ = digit_folder
    opened = []
    real_open = PIL.Image.open

    def counting_open(path, *args, **kwargs):
        opened.append(path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", counting_open)
    lazy = LazyImageDataset(folder, transform=transforms.ToTensor())
    assert opened == []
    image, label = lazy[5]
    assert image.shape == (1, 28, 28) and label in range(10)
    assert opened == [lazy.paths[5]]
    images, labels = next(iter(DataLoader(lazy, batch_size=8, shuffle=True,
                                          generator=torch.Generator().manual_seed(0))))
    assert tuple(images.shape) == (8, 1, 28, 28)
    assert len(opened) == 1 + 8


def test_lazy_demo_writes_real_digits_and_batches_them_lazily(mnist_test):
    text = lazy_demo(mnist_test.images[:32], mnist_test.labels[:32],
                     transform=data.normalize_transform("mnist"))
    first, second = (f"{int(mnist_test.labels[i])}_{i:04d}.png" for i in range(2))
    lines = text.splitlines()
    assert lines[0] == f"folder holds 32 files: {first}, {second}, …"
    assert lines[1] == "len(lazy) → 32"
    assert lines[2].startswith("first batch → images [8, 1, 28, 28], labels [")
    labels = [int(v) for v in lines[2].split("labels [")[1].rstrip("]").split(", ")]
    assert len(labels) == 8 and set(labels) <= set(mnist_test.labels[:32].tolist())


# --- The training loop with and without a DataLoader --------------------------------------------

def test_train_on_tensors_recovers_w_2_b_1():
    dataset = SimpleDataset(n=100)
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loss = loops.train_on_tensors(model, dataset.x, dataset.y, nn.MSELoss(), optimizer, 200)
    assert model.weight.item() == pytest.approx(2.0, abs=0.1)
    assert model.bias.item() == pytest.approx(1.0, abs=0.1)
    assert loss < 0.05  # noise variance is 0.01


def test_train_on_dataloader_recovers_w_2_b_1():
    dataset = SimpleDataset(n=100)
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(dataset, batch_size=8, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    loss = loops.train_on_dataloader(model, loader, nn.MSELoss(), optimizer, 20)
    assert model.weight.item() == pytest.approx(2.0, abs=0.1)
    assert model.bias.item() == pytest.approx(1.0, abs=0.1)
    assert loss < 0.05


@pytest.mark.parametrize("shown", [SimpleDataset, BrokenDataset, FixedBrokenDataset,
                                   LazyImageDataset, lazy_demo, batching.loader_batch_shapes,
                                   batching.naive_batches, loops.run_both_loops,
                                   torchvision_mnist.load_mnist])
def test_sources_the_page_shows_fit_a_900_px_window_without_wrapping(shown):
    """A wrapped line starts at column 0 and reads as dedented code."""
    import inspect

    assert max(len(line) for line in inspect.getsource(shown).splitlines()) <= 84
