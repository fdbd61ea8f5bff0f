from course.charts import figures, tensors
from course.concepts.device_timing import Timing


def test_timing_chart_has_a_curve_per_device_and_one_with_transfer():
    timings = [Timing("cpu", n, n ** 3 * 1e-9, None) for n in (16, 64)] + [
        Timing("cuda", n, 1e-5, 2e-5) for n in (16, 64)]
    figure = tensors.matmul_timing(timings)
    names = [trace.name for trace in figure.data]
    assert names == ["cpu matmul", "cuda matmul", "cuda matmul + transfer"]
    assert [round(us, 6) for us in figure.data[2].y] == [30.0, 30.0]  # (1e-5 + 2e-5) s in µs
    assert figure.layout.xaxis.type == "log" and figure.layout.yaxis.type == "log"
    # colour is never the only cue: each curve also has its own marker and dash
    assert len({t.marker.symbol for t in figure.data}) == 3 and len({t.line.dash for t in figure.data}) == 3
    assert figure.data[0].line.color == figures.PALETTE[0]
