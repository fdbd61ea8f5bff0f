"""Gradient norms and their verdict, TensorBoard event files read back, torchinfo's X-ray."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from course.concepts import diagnostics
from course.engine import data, models
from course.engine.train import Run, RunConfig


@pytest.fixture(scope="module")
def batch(data_dir, one_torch_thread):
    split = data.split_tensors("mnist", True)
    return data.normalize_batch(split.images[:64], "mnist"), split.labels[:64]


def test_gradient_norms_match_hand_computed_norms_and_skip_parameters_without_grad():
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    model[2].bias.requires_grad_(False)
    model(torch.randn(5, 3)).sum().backward()
    norms = diagnostics.gradient_norms(model)
    assert set(norms) == {"0.weight", "0.bias", "2.weight"}
    assert norms["0.weight"] == pytest.approx(math.sqrt((model[0].weight.grad ** 2).sum().item()))


def test_verdict_passes_the_healthy_network_on_real_mnist(batch):
    norms = diagnostics.pulse(diagnostics.pulse_network("healthy"), *batch)
    verdict = diagnostics.gradient_verdict(norms)
    assert verdict.kind == "healthy"
    assert verdict.spread <= diagnostics.HEALTHY_SPREAD


def test_verdict_flags_the_deep_sigmoid_stack_as_vanishing(batch):
    norms = diagnostics.weight_norms(diagnostics.pulse(diagnostics.pulse_network("vanishing"), *batch))
    first, last = list(norms.values())[0], list(norms.values())[-1]
    assert last / first >= diagnostics.VANISHING_RATIO
    assert diagnostics.gradient_verdict(norms).kind == "vanishing"


def test_verdict_flags_the_oversized_relu_stack_as_exploding(batch):
    norms = diagnostics.pulse(diagnostics.pulse_network("exploding"), *batch)
    assert max(norms.values()) > diagnostics.EXPLODING_NORM
    assert diagnostics.gradient_verdict(norms).kind == "exploding"


def test_verdict_calls_nan_exploding_and_a_middling_spread_uneven():
    assert diagnostics.gradient_verdict({"0.weight": 0.1, "2.weight": float("nan")}).kind == "exploding"
    assert diagnostics.gradient_verdict({"0.weight": 1e-3, "2.weight": 1.0}).kind == "uneven"
    with pytest.raises(ValueError, match="backward"):
        diagnostics.gradient_verdict({})


def test_norms_over_steps_turn_nan_for_the_exploding_network(batch):
    names, norms = diagnostics.norms_over_steps(diagnostics.pulse_network("exploding"), *batch, steps=5)
    assert norms.shape == (5, len(names)) and len(names) == 10
    assert torch.isnan(norms[-1]).all()
    names, healthy = diagnostics.norms_over_steps(diagnostics.pulse_network("healthy"), *batch, steps=5)
    assert torch.isfinite(healthy).all()


def test_event_files_written_with_summary_writer_are_read_back(tmp_path, batch):
    model = diagnostics.pulse_network("healthy")
    writer = SummaryWriter(tmp_path)
    for step in range(7):
        diagnostics.pulse(model, *batch)
        diagnostics.log_gradient_norms(model, writer, step)
        writer.add_scalar("loss/train", 2.3 / (step + 1), step)
    writer.close()
    scalars = diagnostics.read_scalars(tmp_path)
    assert set(scalars) == {"loss/train"} | {f"grad_norm/{name}" for name, _ in model.named_parameters()}
    assert all(len(points) == 7 for points in scalars.values())
    assert scalars["loss/train"][3] == (3, pytest.approx(2.3 / 4))


def test_event_files_of_a_real_run_hold_one_point_per_reported_step(tmp_path, data_dir, one_torch_thread):
    run = Run(RunConfig(epochs=1, train_subset=640, batch_size=64))
    writer = SummaryWriter(tmp_path / "tb")
    reported = 0
    for event in run.events(report_every=2):
        if event.kind == "step":
            writer.add_scalar("loss/train", event.train_loss, event.step)
            reported += 1
        if event.kind == "epoch":
            writer.add_scalar("accuracy/test", event.test_accuracy, event.epoch)
    writer.close()
    scalars = diagnostics.read_scalars(tmp_path / "tb")
    assert len(scalars["loss/train"]) == reported == 5
    assert len(scalars["accuracy/test"]) == 1
    assert diagnostics.read_scalars(tmp_path / "nowhere") == {}


def test_xray_totals_match_the_sum_of_parameter_sizes():
    for model in (models.simple_mlp(), models.improved_mlp(), diagnostics.three_layer_model()):
        x = diagnostics.xray(model, (64, 1, 28, 28))
        assert x.total_params == x.trainable_params == sum(p.numel() for p in model.parameters())
        assert sum(row["parameters"] for row in x.rows) == x.total_params
    rows = diagnostics.xray(diagnostics.three_layer_model(), (32, 1, 28, 28)).rows
    assert [row["output shape"] for row in rows if "Linear" in row["layer"]] == [
        "[32, 128]", "[32, 64]", "[32, 10]"]
    assert [row["parameters"] for row in rows if "Linear" in row["layer"]] == [100_480, 8_256, 650]


def test_xray_catches_both_shape_bugs_before_any_training():
    with pytest.raises(diagnostics.ShapeMismatch, match=r"1792x28 and 784x256"):
        diagnostics.xray(diagnostics.missing_flatten_model(), (64, 1, 28, 28))
    with pytest.raises(diagnostics.ShapeMismatch, match=r"64x128 and 256x10"):
        diagnostics.xray(diagnostics.wrong_in_features_model(), (64, 1, 28, 28))
    fixed = diagnostics.xray(diagnostics.fixed_model(), (64, 1, 28, 28))
    assert fixed.rows[-1]["output shape"] == "[64, 10]" and fixed.total_params == 235_146


def test_verdict_messages_read_as_the_course_states_them():
    healthy = diagnostics.gradient_verdict({"0.weight": 0.3, "2.weight": 0.9})
    assert healthy.message == "All layers within 3× of each other: well under the 10-100× limit."
    vanishing = diagnostics.gradient_verdict({"0.weight": 1e-7, "2.weight": 0.73})
    assert "7.3 million× smaller" in vanishing.message
    assert diagnostics.times(12_345.4) == "12,345×" and diagnostics.times(2.5e9) == "2.5 billion×"


def test_heatmaps_share_one_colour_range_so_healthy_is_one_even_colour(batch):
    from course.charts import figures

    heatmaps = {kind: diagnostics.norms_over_steps(diagnostics.pulse_network(kind), *batch, steps=8)
                for kind in diagnostics.PULSE_NETWORKS}
    low, high = diagnostics.log_norm_range(*(norms for _, norms in heatmaps.values()))
    assert low <= -7 and high >= 6  # vanishing's whisper to exploding's roar
    figures = {kind: figures.norm_heatmap(names, norms, log_range=(low, high))
               for kind, (names, norms) in heatmaps.items()}
    for figure in figures.values():
        assert (figure.data[0].zmin, figure.data[0].zmax) == (low, high)
    healthy = [v for row in figures["healthy"].data[0].z for v in row]
    assert (max(healthy) - min(healthy)) / (high - low) < 0.1  # one colour, nearly


def test_heatmap_draws_nan_as_one_colour_with_one_legend_note(batch):
    from course.charts import figures

    names, norms = diagnostics.norms_over_steps(diagnostics.pulse_network("exploding"), *batch, steps=5)
    figure = figures.norm_heatmap(names, norms)
    values, mask = figure.data[0], figure.data[1]
    assert all(v is None for v in values.z[0][1:])  # NaN cells left to the mask, not labelled
    assert mask.z[0][-1] == 1 and mask.showscale is False and not values.text
    assert [trace.name for trace in figure.data if trace.showlegend is not False] == ["NaN (overflowed)"]
    assert figure.layout.showlegend


def test_accuracy_curves_keep_a_fixed_zero_to_one_axis():
    from course.charts import figures

    flat = {"run": [(1, 0.094), (2, 0.116)]}
    figure = figures.scalar_curves(flat, "accuracy/train", fraction=True)
    assert tuple(figure.layout.yaxis.range) == (0, 1.02) and figure.layout.yaxis.tickformat == ".0%"
    assert figures.scalar_curves(flat, "loss/train").layout.yaxis.range is None


def test_code_shown_on_the_page_fits_the_code_panel():
    import inspect

    from course.concepts import bugs

    shown = (diagnostics.gradient_norms, diagnostics.log_gradient_norms, diagnostics.three_layer_model,
             diagnostics.missing_flatten_model, diagnostics.wrong_in_features_model,
             diagnostics.fixed_model, bugs.capstone_model, bugs.capstone_training)
    for function in shown:
        for line in inspect.getsource(function).splitlines():
            assert len(line) <= 84, (function.__name__, line)


def test_log_axis_ticks_read_in_full_or_as_powers_of_ten():
    from course.charts import figures

    assert figures.gradient_norm_bars({"0.weight": 2e6, "0.bias": 0.5}).layout.yaxis.ticktext[-2:] == (
        "1,000,000", "10,000,000")
    assert figures.gradient_norm_bars({"0.weight": 1e-9, "0.bias": 0.7}).layout.yaxis.ticktext[:2] == (
        "10⁻⁹", "10⁻⁸")


def test_first_batch_is_the_first_training_images_as_the_lesson_pipeline_gives_them(data_dir):
    images, labels = diagnostics.first_batch()
    assert images.shape == (64, 1, 28, 28) and images.dtype == torch.float32
    reference = data.load_dataset("mnist", train=True, transform=data.normalize_transform())
    for index in (0, 63):
        image, label = reference[index]
        assert torch.allclose(images[index], image, atol=1e-6) and labels[index] == label
    assert len(diagnostics.first_batch(8)[0]) == 8


def test_step_one_norms_are_the_first_iterations_readings_of_every_layer(tmp_path, batch):
    model = diagnostics.pulse_network("healthy")
    writer = SummaryWriter(tmp_path)
    diagnostics.pulse(model, *batch)
    first = diagnostics.log_gradient_norms(model, writer, 1)
    torch.optim.SGD(model.parameters(), lr=0.05).step()
    diagnostics.pulse(model, *batch)
    later = diagnostics.log_gradient_norms(model, writer, 51)
    writer.add_scalar("loss/train", 2.3, 1)
    writer.close()
    scalars = diagnostics.read_scalars(tmp_path)
    norms = diagnostics.step_one_norms(scalars)
    assert norms == pytest.approx(first) and norms != pytest.approx(later)
    assert set(norms) == {name for name, _ in model.named_parameters()}  # no loss/train in it
    # A run resumed past step 1 has no first-iteration reading: nothing, rather than a wrong one.
    assert diagnostics.step_one_norms({"grad_norm/0.weight": [(51, 0.2)]}) == {}


def test_curves_by_tag_overlays_the_runs_that_logged_each_tag_in_the_order_asked(tmp_path, batch):
    logged = {}
    for name, steps in (("healthy", 3), ("buggy", 2)):
        writer = SummaryWriter(tmp_path / name)
        for step in range(1, steps + 1):
            writer.add_scalar("loss/train", 2.3 / step, step)
        if name == "healthy":
            writer.add_scalar("accuracy/test", 0.91, steps)
        writer.close()
        logged[name] = diagnostics.read_scalars(tmp_path / name)
    curves = diagnostics.curves_by_tag(logged, ["accuracy/test", "loss/train", "dead_relu/2"])
    assert list(curves) == ["accuracy/test", "loss/train"]  # no run logged dead_relu/2
    assert list(curves["accuracy/test"]) == ["healthy"]
    assert [len(points) for points in curves["loss/train"].values()] == [3, 2]
    assert curves["loss/train"]["buggy"][1] == (2, pytest.approx(1.15))
    assert diagnostics.curves_by_tag({}, ["loss/train"]) == {}


def test_worked_example_rows_put_the_live_pulse_beside_the_course_numbers(batch):
    healthy = diagnostics.pulse(diagnostics.pulse_network("healthy"), *batch)
    vanishing = diagnostics.pulse(diagnostics.pulse_network("vanishing"), *batch)
    exploding = diagnostics.pulse(diagnostics.pulse_network("exploding"), *batch)
    rows = diagnostics.worked_example_rows(healthy, "vanishing", vanishing)
    assert rows[""] == ["healthy", "vanishing"]
    assert rows["the course's worked example"] == ["~0.03 in every layer",
                                                   "early layers ~100,000× smaller than the late ones"]
    live_healthy, live_vanishing = rows["this page, live (one batch of 64)"]
    weights = list(diagnostics.weight_norms(healthy).values())
    assert live_healthy.startswith(f"{weights[0]:.2f}, ") and live_healthy.endswith(
        f"within {diagnostics.times(max(weights) / min(weights))}")
    assert "smaller than the last" in live_vanishing and "million×" in live_vanishing
    live_exploding = diagnostics.worked_example_rows(healthy, "exploding", exploding)[
        "this page, live (one batch of 64)"][1]
    low = min(diagnostics.weight_norms(exploding).values())
    assert live_exploding.startswith(f"every layer between {low:,.0f} and ") and low > 100
    with pytest.raises(ValueError, match="healthy"):
        diagnostics.worked_example_rows(healthy, "healthy", healthy)


def test_lesson_models_by_name_are_the_course_models_and_this_lessons_examples():
    sizes = {name: models.parameter_count(diagnostics.lesson_model(name))
             for name in ("mlp", "mlp-bn", "three-layer", "fixed", "capstone")}
    assert sizes["mlp"] == sizes["fixed"] == 235_146
    assert sizes["mlp-bn"] == models.parameter_count(models.improved_mlp())
    assert sizes["three-layer"] == 109_386
    with pytest.raises(diagnostics.ShapeMismatch, match="1792x28 and 784x256"):
        diagnostics.xray(diagnostics.lesson_model("capstone"), (64, 1, 28, 28))
    with pytest.raises(ValueError, match="no-such-model"):
        diagnostics.lesson_model("no-such-model")
