"""The data layer on the real MNIST / Fashion-MNIST files, and on an empty data root."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchvision import datasets

from course.engine import data

RAW_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte",
             "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
FOLDERS = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}

# Published per-class counts of the official splits (they match the files' documented MD5s).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def real_root(data_dir) -> str:
    return str(data_dir)


# --- Real data --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize(("train", "n"), [(True, 60_000), (False, 10_000)])
def test_split_tensors_holds_whole_split_as_uint8_images_and_int64_labels(real_root, name,
                                                                           train, n):
    split = data.split_tensors(name, train, real_root)
    assert (split.name, split.train, len(split)) == (name, train, n)
    assert split.images.shape == (n, 28, 28)
    assert split.images.dtype == torch.uint8
    assert split.labels.shape == (n,)
    assert split.labels.dtype == torch.int64
    assert set(split.labels.unique().tolist()) == set(range(10))


def test_split_tensors_is_built_once_per_process(real_root):
    assert data.split_tensors("mnist", False, real_root) is data.split_tensors("mnist", False,
                                                                               real_root)


@pytest.mark.parametrize(("train", "expected"), [(True, MNIST_TRAIN_COUNTS),
                                                 (False, MNIST_TEST_COUNTS)])
def test_mnist_label_counts_match_the_official_splits(real_root, train, expected):
    labels = data.split_tensors("mnist", train, real_root).labels
    assert torch.bincount(labels, minlength=10).tolist() == expected


@pytest.mark.parametrize(("train", "per_class"), [(True, 6000), (False, 1000)])
def test_fashion_mnist_splits_are_balanced(real_root, train, per_class):
    labels = data.split_tensors("fashion-mnist", train, real_root).labels
    assert torch.bincount(labels, minlength=10).tolist() == [per_class] * 10


def pixel_statistics(images: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of all pixels, scaled to [0, 1] as ToTensor does."""
    scaled = images.double() / 255.0
    return scaled.mean().item(), scaled.std().item()


@pytest.mark.parametrize(("name", "mean", "std"), [("mnist", 0.1307, 0.3081),
                                                   ("fashion-mnist", 0.2860, 0.3530)])
def test_pixel_statistics_of_training_split_match_normalization_constants(real_root, name,
                                                                          mean, std):
    measured_mean, measured_std = pixel_statistics(data.split_tensors(name, True,
                                                                           real_root).images)
    assert measured_mean == pytest.approx(mean, abs=5e-5)
    assert measured_std == pytest.approx(std, abs=5e-5)
    assert data.NORMALIZATION[name] == pytest.approx((measured_mean, measured_std), abs=5e-5)


def test_pixel_statistics_scales_like_to_tensor():
    images = torch.tensor([[0, 255], [0, 255]], dtype=torch.uint8)
    mean, std = pixel_statistics(images)
    assert mean == pytest.approx(0.5)
    assert std == pytest.approx(torch.tensor([0.0, 1.0, 0.0, 1.0]).std().item())


def test_normalize_batch_standardises_mnist_train_to_zero_mean_unit_std(real_root):
    batch = data.normalize_batch(data.split_tensors("mnist", True, real_root).images)
    assert batch.shape == (60_000, 1, 28, 28)
    assert batch.dtype == torch.float32
    assert batch.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert batch.std().item() == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_normalize_batch_equals_torchvision_to_tensor_and_normalize_per_sample(real_root, name):
    split = data.split_tensors(name, True, real_root)
    per_sample = data.load_dataset(name, train=True, transform=data.normalize_transform(name),
                                   root=Path(real_root))
    indices = [0, 1, 7, 12_345, 59_999]
    batch = data.normalize_batch(split.images[indices], name)
    for row, index in enumerate(indices):
        image, label = per_sample[index]
        assert image.shape == (1, 28, 28)
        assert label == split.labels[index].item()
        torch.testing.assert_close(batch[row], image, rtol=0, atol=0)


@pytest.mark.parametrize(("name", "cls"), [("mnist", datasets.MNIST),
                                           ("fashion-mnist", datasets.FashionMNIST)])
@pytest.mark.parametrize(("train", "n"), [(True, 60_000), (False, 10_000)])
def test_load_dataset_returns_the_torchvision_dataset_of_the_split(real_root, name, cls,
                                                                   train, n):
    dataset = data.load_dataset(name, train=train, root=Path(real_root))
    assert isinstance(dataset, cls)
    assert len(dataset) == n
    assert dataset.train is train


def test_load_dataset_reads_the_root_from_course_data_dir(real_root, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", real_root)
    assert len(data.load_dataset("mnist", train=False)) == 10_000


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_dataset_status_is_ready_on_the_real_root(real_root, monkeypatch, name):
    monkeypatch.setenv("COURSE_DATA_DIR", real_root)
    status = data.dataset_status(name)
    assert status == {"dataset": name, "root": real_root, "files": 4, "present": 4,
                      "ready": True, "configured": True}


def test_dataset_status_reports_an_explicit_root_as_not_configured(real_root, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    status = data.dataset_status("mnist", root=Path(real_root))
    assert status["ready"] is True
    assert status["configured"] is False


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_required_files_are_the_four_uncompressed_raw_files(tmp_path, name):
    expected = [tmp_path / FOLDERS[name] / "raw" / file for file in RAW_FILES]
    assert data.required_files(name, tmp_path) == expected


# --- An empty data root (offline: torchvision's download fails) ---------------------------------

@pytest.fixture
def empty_root(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "empty-data"
    root.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(root))
    return root


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_load_dataset_on_empty_root_raises_dataset_unavailable_naming_every_missing_file(
        empty_root, name):
    with pytest.raises(data.DatasetUnavailable) as caught:
        data.load_dataset(name, train=True, root=empty_root)
    message = str(caught.value)
    for file in RAW_FILES:
        assert str(empty_root / FOLDERS[name] / "raw" / file) in message
    assert "COURSE_DATA_DIR" in message
    assert f"{FOLDERS[name]}/raw/" in message
    assert isinstance(caught.value, RuntimeError)


def test_load_dataset_without_root_uses_course_data_dir_and_names_it(empty_root):
    with pytest.raises(data.DatasetUnavailable, match="COURSE_DATA_DIR") as caught:
        data.load_dataset("mnist", train=False)
    assert str(empty_root / "MNIST" / "raw" / "t10k-images-idx3-ubyte") in str(caught.value)


def test_split_tensors_on_empty_root_raises_dataset_unavailable(empty_root):
    with pytest.raises(data.DatasetUnavailable):
        data.split_tensors("fashion-mnist", False, str(empty_root))


def test_unavailable_message_lists_only_the_files_still_missing(empty_root, data_dir):
    raw = empty_root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for present in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copyfile(data_dir / "MNIST" / "raw" / present, raw / present)
    with pytest.raises(data.DatasetUnavailable) as caught:
        data.load_dataset("mnist", train=True, root=empty_root)
    message = str(caught.value)
    assert str(raw / "train-images-idx3-ubyte") in message
    assert str(raw / "t10k-images-idx3-ubyte") in message
    assert str(raw / "train-labels-idx1-ubyte") not in message
    assert str(raw / "t10k-labels-idx1-ubyte") not in message
    assert data.dataset_status("mnist", empty_root)["present"] == 2


def test_missing_files_stand_in_a_list_apart_from_the_sentences(empty_root):
    message = data.unavailable_message("mnist", empty_root)
    intro, listing, advice = message.split("\n\n")
    assert intro.endswith(f"missing under {empty_root}:")
    assert listing.splitlines() == [f"- {path}" for path in data.required_files("mnist", empty_root)]
    assert advice.startswith("Copy the uncompressed files there") and advice.endswith("then try again.")


def test_the_message_ends_where_the_learner_is(empty_root):
    page = data.unavailable_message("mnist", empty_root, then="reload the page", markdown=True)
    assert page.endswith("holds `MNIST/raw/`, then reload the page.")
    for path in data.required_files("mnist", empty_root):
        assert f"- `{path}`\n" in page + "\n"  # code spans: markdown leaves paths alone
    terminal = data.unavailable_message("mnist", empty_root, then="run the command again")
    assert terminal.endswith("then run the command again.") and "`" not in terminal


def test_dataset_unavailable_keeps_name_and_root_and_survives_pickling(empty_root):
    import pickle

    with pytest.raises(data.DatasetUnavailable) as caught:
        data.load_dataset("fashion-mnist", train=False, root=empty_root)
    copy = pickle.loads(pickle.dumps(caught.value))  # as it would cross to a worker and back
    assert (copy.name, copy.root) == ("fashion-mnist", empty_root)
    assert str(copy) == str(caught.value)


def test_command_line_tells_a_terminal_to_run_the_command_again(empty_root, capsys):
    from course.__main__ import main

    assert main(["train", "--epochs", "1", "--train-subset", "100"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: The mnist dataset is not available")
    assert error.rstrip().endswith("then run the command again.")
    assert "reload the page" not in error
    assert str(empty_root / "MNIST" / "raw" / "train-images-idx3-ubyte") in error


@pytest.mark.parametrize("page", ["pages/datasets-and-dataloaders.py", "pages/mnist-project.py"])
def test_page_without_data_shows_the_full_message_exactly_once(page, empty_root, tmp_path,
                                                               monkeypatch):
    from streamlit.testing.v1 import AppTest

    from course.ui import datasets

    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs"))
    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    datasets._cached_split.clear()
    app = AppTest.from_file(str(root / "app.py"), default_timeout=120)
    app.switch_page(page)
    for _ in range(2):  # the first run and a rerun alike
        app.run()
        assert not app.exception
        full = [error.value for error in app.error if "dataset is not available" in error.value]
        assert len(full) == 1, f"{page}: the full message should appear once, not {len(full)} times"
        assert full[0].endswith("then reload the page.")
        for path in data.required_files("mnist", empty_root):
            assert f"- `{path}`" in full[0]
        pointers = [c.value for c in app.caption if "needs the mnist dataset too" in c.value]
        assert all(pointer.count("\n") == 0 for pointer in pointers)  # later sections: one line
        if page == "pages/mnist-project.py":  # it asks for the training and the test split
            assert len(pointers) == 1
    datasets._cached_split.clear()


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_dataset_status_on_empty_root_is_not_ready(empty_root, name):
    status = data.dataset_status(name, root=empty_root)
    assert status == {"dataset": name, "root": str(empty_root), "files": 4, "present": 0,
                      "ready": False, "configured": True}
    assert data.missing_files(name, empty_root) == data.required_files(name, empty_root)


# --- Names and the data root --------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: data.load_dataset("cifar10"),
    lambda: data.required_files("cifar10"),
    lambda: data.missing_files("cifar10"),
    lambda: data.dataset_status("cifar10"),
    lambda: data.split_tensors("cifar10"),
], ids=["load_dataset", "required_files", "missing_files", "dataset_status", "split_tensors"])
def test_unknown_dataset_name_raises_value_error_listing_the_choices(tmp_path, monkeypatch, call):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="fashion-mnist"):
        call()


def test_normalize_transform_rejects_unknown_dataset_with_value_error():
    with pytest.raises(ValueError, match="cifar10"):
        data.normalize_transform("cifar10")


def test_data_root_honours_course_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "datasets"))
    assert data.data_root() == tmp_path / "datasets"


def test_data_root_expands_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("COURSE_DATA_DIR", "~/course-data")
    assert data.data_root() == tmp_path / "course-data"


def test_data_root_falls_back_to_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert data.data_root() == tmp_path / "pytorch-course-lab" / "data"


def test_data_root_falls_back_to_home_cache_without_any_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.data_root() == tmp_path / ".cache" / "pytorch-course-lab" / "data"
    assert data.dataset_status("mnist")["configured"] is False


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
@pytest.mark.parametrize("train", [True, False])
def test_the_in_memory_split_is_exactly_what_torchvision_reads(real_root, name, train):
    data._cached_split.cache_clear()
    split = data.split_tensors(name, train, real_root)
    reference = data.load_dataset(name, train=train, root=Path(real_root))
    assert split.images.dtype == torch.uint8 and split.labels.dtype == torch.int64
    assert torch.equal(split.images, reference.data)
    assert torch.equal(split.labels, reference.targets)
    assert data.CLASS_NAMES[name] == list(reference.classes) or name == "mnist"


def test_reading_the_data_does_not_import_torchvision(real_root):
    """torchvision loads torch._dynamo with it: 1.7 s a page that trains from memory never needs."""
    code = ("import sys; from course.engine import data; "
            f"data.split_tensors('mnist', False, {real_root!r}); "
            "print('torchvision' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "False"


def test_a_file_that_is_not_idx_is_refused(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "bad")
