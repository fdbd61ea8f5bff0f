"""Lesson 2.3.2 through AppTest: the device panel, the loop, the mismatch, the CPU sweep, the
profiler toggle, the float16 histogram, the checkpoint and the optimizer experiment render."""

import pytest
import torch

from course.concepts import optimizer_placement
from tests.pages.conftest import open_lesson

PAGE = "pages/gpu-training.py"


@pytest.fixture(scope="module")
def at():
    return open_lesson(PAGE)


def test_device_panel_says_what_torch_says(at):
    panel = at.dataframe[0].value
    rows = dict(zip(panel["device"], panel["available"], strict=True))
    assert rows["cpu"] and rows["cuda"] == torch.cuda.is_available()
    assert any("train_on" in c.value and "inputs.to(device)" in c.value for c in at.code)


def test_the_loop_runs_on_the_picked_device(at):
    at.button(key="gpu.run_loop").click().run()
    assert not at.exception
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert any(f"Trained on `{expected}" in s.value for s in at.success)


def test_the_forgotten_batch_shows_pytorchs_error_and_the_labelled_cuda_message(at):
    at.button(key="gpu.mismatch").click().run()
    assert not at.exception
    assert any("device" in e.value for e in at.error)
    if not torch.cuda.is_available():
        assert any("Expected all tensors to be on the same device" in c.value for c in at.code)
        assert any("Not run here" in c.value and "recorded" in c.value for c in at.caption)


def test_the_cpu_sweep_renders_a_table_and_the_bf16_ratio(at):
    at.button(key="gpu.sweep_run").click().run(timeout=180)
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    steps = next(f for f in frames if "step (ms)" in f.columns)
    assert set(steps["setting"]) >= {"cpu fp32", "cpu bf16"}
    assert (steps["step (ms)"] > 0).all()
    assert any("bf16 / fp32" in f.columns for f in frames)
    if not torch.cuda.is_available():
        assert any("No CUDA GPU here" in w.value for w in at.warning) or any(
            "measured on" in i.value for i in at.info)


def test_the_profiler_toggle_switches_the_profile(at):
    at.button(key="gpu.profile_run").click().run()
    assert not at.exception
    calls = next(m for m in at.metric if m.label == "operator calls").value
    at.toggle(key="gpu.resident").set_value(True).run()
    assert not at.exception
    assert int(next(m for m in at.metric if m.label == "operator calls").value) > 0 and calls
    assert any("Phases sum to" in c.value for c in at.caption)


def test_the_scale_slider_changes_the_damage_table(at):
    at.select_slider(key="gpu.scale_exp").set_value(0).run()
    table = next(d.value for d in at.dataframe if "became zero" in d.value.columns)
    assert table["became zero"].iloc[0] > 0  # unscaled float16 flushes real gradients
    at.select_slider(key="gpu.scale_exp").set_value(16).run()
    table = next(d.value for d in at.dataframe if "became zero" in d.value.columns)
    assert table["became zero"].iloc[1] == 0
    assert not at.exception


def test_checkpoint_holds_the_scaler(at):
    at.button(key="gpu.ckpt").click().run()
    assert any("'scaler'" in c.value and "resumed scaler.get_scale()" in c.value for c in at.code)


def test_the_optimizer_table_is_the_experiment(at):
    table = next(d.value for d in at.dataframe if "state beside its parameter" in d.value.columns)
    expected = optimizer_placement.as_rows(optimizer_placement.experiment())
    assert table.to_dict("records") == expected
    adagrad = table[(table["optimizer"] == "Adagrad") & (table["built"] == "before .to()")]
    assert not adagrad["state beside its parameter"].iloc[0]


def test_checks_are_the_declared_ones(at):
    from course.runs import progress

    keys = {r.key for r in at.radio if r.key} | {b.key for b in at.button if b.key}
    for check in progress.LESSON_CHECKS["gpu-training"]:
        assert any(key.startswith(check) for key in keys), check


def test_recorded_figures_are_shown_as_measured_elsewhere(tmp_path, monkeypatch):
    from benchmarks import gpu_figures

    figures = tmp_path / "gpu_figures.json"
    assert gpu_figures.main(["--out", str(figures)]) == 0
    monkeypatch.setenv("COURSE_GPU_FIGURES", str(figures))
    at = open_lesson(PAGE)
    recorded = gpu_figures.device_name()
    assert any(f"measured on {recorded}" in i.value for i in at.info)
    if not torch.cuda.is_available():
        assert any("No CUDA GPU here" in w.value for w in at.warning)
