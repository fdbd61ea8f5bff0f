import torch

from course.charts import figures, gpu
from course.concepts import grad_scaling, step_timing
from course.concepts.step_timing import StepTiming


def timing(device, width, batch, ms, precision="fp32"):
    return StepTiming(device, precision, width, batch, True, ms / 1e3, 1.0)


def test_step_times_draw_a_curve_per_setting_and_the_reference_beside():
    here = [timing("cpu", 32, 16, 1.0), timing("cpu", 512, 64, 9.0), timing("cpu", 32, 16, 2.0, "bf16")]
    other = [timing("cuda", 32, 16, 0.5), timing("cuda", 512, 64, 0.6)]
    figure = gpu.step_times(here, other, "NVIDIA H200", wins_at=0.1)
    names = [trace.name for trace in figure.data]
    assert names == ["cpu fp32 (here)", "cpu bf16 (here)",
                     "cuda fp32, data on device (measured on NVIDIA H200)"]
    assert list(figure.data[0].y) == [1.0, 9.0]
    assert figure.data[0].x[1] == step_timing.step_flops(512, 64) / 1e9
    assert len({t.marker.symbol for t in figure.data}) == 3
    assert figure.layout.shapes, "the crossover is marked"


def test_scale_chart_marks_every_skipped_step():
    history = grad_scaling.scale_history(steps=20)
    figure = gpu.scale_over_steps(history)
    skipped = [row["step"] for row in history if row["skipped"]]
    assert list(figure.data[1].x) == skipped and skipped
    assert figure.data[1].marker.color == figures.RED


def test_fp16_histogram_counts_zeros_in_its_own_bar():
    gradients = torch.tensor([1e-9, 1e-9, 1e-3, 0.25])
    figure = gpu.fp16_histogram(gradients, 2.0 ** 16)
    unscaled = figure.data[1]
    assert unscaled.y[0] == 2, "1e-9 is below float16's smallest subnormal: two zeros"
    assert figure.data[0].y[0] == 0 and figure.data[2].y[0] == 0
    assert sum(figure.data[0].y) == gradients.numel()
    assert len({t.marker.pattern.shape for t in figure.data}) == 3


def test_phase_bars_follow_the_rows():
    rows = [{"phase": "forward + loss", "ms": 1.5, "share of the step": "60%"},
            {"phase": "backward", "ms": 1.0, "share of the step": "40%"}]
    figure = gpu.phase_bars(rows, "one step")
    assert list(figure.data[0].x) == [1.5, 1.0]
