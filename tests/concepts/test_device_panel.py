import torch

from course.concepts import device_panel


def test_device_rows_agree_with_torch():
    rows = {row["device"]: row for row in device_panel.device_rows()}
    assert rows["cpu"]["available"]
    assert rows["cuda"]["available"] == torch.cuda.is_available()
    assert rows["mps"]["available"] == torch.backends.mps.is_available()
    assert any(name.startswith("cuda:") for name in rows) == torch.cuda.is_available()


def test_pick_device_prefers_an_accelerator():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert device_panel.pick_device().type == expected


def test_device_aware_loop_trains_on_the_cpu_and_leaves_the_model_there():
    torch.manual_seed(0)
    model = device_panel.small_classifier()
    losses = device_panel.train_on(torch.device("cpu"), model, device_panel.toy_batches(), epochs=5)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert sum(losses[-8:]) < 0.7 * sum(losses[:8]), "the loop should learn the toy labels"
    assert {p.device.type for p in model.parameters()} == {"cpu"}


def test_device_aware_loop_names_no_device():
    assert device_panel.device_literals(device_panel.train_on) == []


def test_device_literals_finds_a_hard_coded_device():
    def hard_coded(model, x):
        """Runs on 'cuda' only."""
        return model.to("cuda")(x.to("cuda:0"))

    assert device_panel.device_literals(hard_coded) == ["cuda", "cuda:0"]


def test_the_loop_moves_inputs_and_targets_of_every_batch_to_its_device():
    moves = []

    class Batch:
        """A CPU tensor that notes each .to(device) call made on it."""

        def __init__(self, tensor, name):
            self.tensor, self.name = tensor, name

        def to(self, device):
            moves.append((self.name, device))
            return self.tensor.to(device)

    device = torch.device("cpu")
    batches = [(Batch(x, "inputs"), Batch(y, "targets")) for x, y in device_panel.toy_batches(3)]
    device_panel.train_on(device, device_panel.small_classifier(), batches, epochs=2)
    assert moves == [("inputs", device), ("targets", device)] * 6


def test_a_forgotten_batch_raises_pytorchs_device_error():
    demo = device_panel.forgotten_batch_error()
    assert demo.live
    assert "device" in demo.message
    assert "batch on cpu" in demo.where


def test_recorded_cuda_message_is_labelled_as_recorded():
    demo = device_panel.recorded_cuda_error()
    assert not demo.live
    assert "Expected all tensors to be on the same device" in demo.message
    assert "recorded" in demo.where
