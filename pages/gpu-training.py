"""Lesson 2.3.2 GPU training: device-aware code, and when the GPU (and mixed precision) pays.

Honest by construction: every number is measured on the machine serving the page, and figures
from a GPU measured elsewhere are shown only as "measured on ...". The sweep and the profiler run
on a button press and are kept per session; every other control reruns only its own fragment.
"""

from course.ui.navigation import use_app_navigation

use_app_navigation()

import os
from pathlib import Path

import pandas as pd
import streamlit as st
import torch

from course.charts import gpu as gpu_charts
from course.concepts import (
    device_panel,
    grad_scaling,
    optimizer_placement,
    step_profile,
    step_timing,
)
from course.ui import callouts, checks, lesson

# benchmarks/gpu_figures.py writes it; COURSE_GPU_FIGURES points elsewhere (the tests do)
REFERENCE = os.environ.get("COURSE_GPU_FIGURES") or str(
    Path(__file__).resolve().parent.parent / "course" / "reference" / "gpu_figures.json")
HAS_CUDA = torch.cuda.is_available()


@st.cache_data(show_spinner=False)
def reference_figures(path: str) -> dict | None:
    return step_timing.load_reference(path)


@st.cache_data(show_spinner=False)
def gradients() -> torch.Tensor:
    return grad_scaling.real_gradients()


@st.cache_data(show_spinner=False)
def scale_history(device: str) -> list[dict]:
    return grad_scaling.scale_history(device=device)


@st.cache_data(show_spinner=False)
def scale_figure(device: str):
    return gpu_charts.scale_over_steps(scale_history(device))


@st.cache_data(show_spinner=False)
def fp16_view(exponent: int):
    """The histogram and the damage table for one loss scale (plotly figures are slow to build)."""
    real, scale = gradients(), float(2 ** exponent)
    rows = [grad_scaling.fp16_damage(real, 1.0), grad_scaling.fp16_damage(real, scale)]
    return gpu_charts.fp16_histogram(real, scale), rows, real.numel()


@st.cache_data(show_spinner=False)
def phase_figure(rows: list[dict], title: str):
    return gpu_charts.phase_bars(rows, title)


@st.cache_data(show_spinner=False)
def placement_rows(target: str) -> list[dict]:
    return optimizer_placement.as_rows(optimizer_placement.experiment())


def machine_line() -> str:
    """What is serving this page, in one line."""
    if HAS_CUDA:
        return f"a CUDA GPU ({torch.cuda.get_device_name(0)}) and {os.cpu_count()} CPU cores"
    if torch.backends.mps.is_available():
        return f"an Apple GPU (mps) and {os.cpu_count()} CPU cores"
    threads = torch.get_num_threads()
    return (f"{os.cpu_count()} CPU cores and no GPU; torch runs on {threads} "
            f"thread{'s' if threads != 1 else ''} here")


lesson.lesson_header("gpu-training")
st.markdown(
    "Your training loop already works. This lesson makes it **device-aware** (the same code on a "
    "laptop CPU, an Apple GPU and a CUDA GPU) and asks the question that matters: **when** does "
    "the GPU, or mixed precision, actually make a step faster? Every number below is measured on "
    f"the machine serving this page: **{machine_line()}**."
)
callouts.foundations_link(
    "Link: **Tensors (2.1.1), \"GPU wins at scale\"**. There a single matrix product was slower on "
    "the GPU when small and faster when large. A training step is many such products plus the "
    "copies and launches around them: the same rule, with a different crossover."
)

# --- 1. Devices ------------------------------------------------------------------------------
st.header("1. Which devices are here, and the device-aware loop")
st.markdown(
    "`torch.cuda.is_available()` (NVIDIA), `torch.backends.mps.is_available()` (Apple) and the "
    "CPU, which is always there. Pick the device **once**, at the top; everything else receives it."
)
st.dataframe(pd.DataFrame(device_panel.device_rows()), hide_index=True)
callouts.show_source(device_panel.pick_device)
st.markdown(
    "The loop below is the code that runs when you press the button: the model moves **once** "
    "(before the optimizer is built), and **both** the inputs and the targets move **inside** the "
    "loop, every batch. It names no device: it is handed one."
)
callouts.show_source(device_panel.train_on)


@st.fragment
def loop_section() -> None:
    if st.button("Run this loop on the picked device", key="gpu.run_loop", type="primary"):
        device = device_panel.pick_device()
        torch.manual_seed(0)
        model = device_panel.small_classifier()
        losses = device_panel.train_on(device, model, device_panel.toy_batches())
        st.session_state["gpu.loop"] = (str(device), str(next(model.parameters()).device), losses)
    result = st.session_state.get("gpu.loop")
    if result is None:
        st.caption("24 tiny steps: a few milliseconds.")
        return
    device, where, losses = result
    st.success(f"Trained on `{device}` (the parameters are now on `{where}`): loss "
               f"{losses[0]:.3f} → {losses[-1]:.3f} over {len(losses)} steps.")


loop_section()

st.subheader("Forget one `.to(device)`")
callouts.misconception(
    "Moving to the GPU is just one line",
    "`model.to(device)` moves the parameters. The inputs **and** the targets of every batch must "
    "move too, and the optimizer must see the moved parameters. Forget one and PyTorch stops with "
    "a device-mismatch error (if you are lucky: section 5 shows a case that fails silently).",
)
checks.check_choice(
    "gpu.q_move", "The model is on the GPU; the loop moves `inputs` but not `targets`. What happens?",
    ["It trains normally: PyTorch moves the targets for you",
     "The forward pass runs, then the loss raises a device-mismatch RuntimeError",
     "It trains, but silently on the CPU"], 1,
    "The model's forward sees GPU inputs and runs; `loss_fn(outputs, targets)` then mixes a GPU "
    "tensor and a CPU tensor, and PyTorch refuses: it never moves data between devices on its own.")


@st.fragment
def mismatch_section() -> None:
    if st.button("Leave the batch on the CPU", key="gpu.mismatch"):
        st.session_state["gpu.mismatch_demo"] = device_panel.forgotten_batch_error()
    demo = st.session_state.get("gpu.mismatch_demo")
    if demo is None:
        return
    st.error(f"RuntimeError: {demo.message}")
    st.caption(f"Raised just now on this machine: {demo.where}.")
    if not demo.live or not HAS_CUDA:
        recorded = device_panel.recorded_cuda_error()
        st.markdown("On a CUDA machine the same mistake reads:")
        st.code(f"RuntimeError: {recorded.message}", language="text", wrap_lines=True)
        st.caption(f"Not run here: {recorded.where}. The fix is the same: "
                   "`inputs, targets = inputs.to(device), targets.to(device)`.")


mismatch_section()
callouts.takeaway("Pick the device once; move the model once; move every batch inside the loop. "
                  "Code that never names a device runs everywhere.")

# --- 2. The crossover ------------------------------------------------------------------------
st.header("2. When does the GPU win? The crossover")
callouts.misconception(
    "The GPU is always faster",
    "A GPU is fast at **big** arithmetic. A small step (a narrow MLP, a small batch) is a few "
    "microseconds of maths wrapped in kernel launches and copies, and a CPU does it as fast or "
    "faster. The sweep below measures where the line is.",
)
checks.check_choice(
    "gpu.q_faster", "A GPU does roughly 100× the arithmetic per second of a laptop CPU. For a "
    "784 → 32 → 32 → 10 MLP with batch 16, how much faster is its training step on the GPU?",
    ["About 100×", "About 10×", "About the same or slower: the step is too small to fill the GPU"],
    2, "Each step launches dozens of tiny kernels and, unless the data already lives there, copies "
       "the batch; that fixed cost dwarfs the few thousand multiply-adds. The GPU only pulls "
       "ahead when each step carries enough work: wide layers and big batches.")
st.markdown(
    "One full training step (forward, loss, backward, SGD update) of a 784 → width → width → 10 "
    "MLP, timed with `torch.utils.benchmark.Timer`: a warm-up first, the device synchronised "
    "around every block, the median of several blocks. On the CPU: float32 and `bfloat16` "
    "autocast. On a CUDA GPU also float16 autocast with a GradScaler, each with the batch already "
    "on the GPU and copied there every step."
)
callouts.show_source(step_timing.make_step, "The step that is timed: autocast and the scaler are "
                     "switched off by `enabled=` for fp32, so one function serves every precision.")


def run_sweeps() -> list[step_timing.StepTiming]:
    plans = step_timing.sweep_plan("cpu") + (step_timing.sweep_plan("cuda") if HAS_CUDA else [])
    bar = st.progress(0.0, text="Timing training steps…")

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=f"Timed {done} of {total} settings")

    timings = step_timing.run_sweep(plans, progress)
    bar.empty()
    return timings


@st.fragment
def sweep_section() -> None:
    if st.button("Run the sweep on this machine", key="gpu.sweep_run", type="primary"):
        st.session_state["gpu.sweep"] = run_sweeps()
    timings = st.session_state.get("gpu.sweep")
    reference = reference_figures(REFERENCE)
    if timings is None and reference is None:
        st.caption("Press the button: the CPU part takes a few seconds on 2 cores.")
        return
    others = reference["timings"] if reference else []
    device_name = f"the {reference['device']} machine" if reference else ""
    local_gpu = timings and any(t.device != "cpu" for t in timings)
    crossing = step_timing.crossover(timings) if local_gpu else (
        reference["crossover"] if reference else [])
    source = timings if local_gpu else others
    wins = [t for t in source if t.device != "cpu" and t.precision == "fp32" and t.data_on_device]
    cpu_best = step_timing.fastest_cpu(source)
    first = min((t for t in wins if (t.width, t.batch) in cpu_best
                 and t.median_seconds < cpu_best[(t.width, t.batch)]),
                key=lambda t: t.width * t.batch, default=None)
    wins_at = None if first is None else step_timing.step_flops(first.width, first.batch) / 1e9
    st.plotly_chart(gpu_charts.step_times(timings or [], None if local_gpu else others,
                                          device_name, wins_at), key="gpu.sweep_chart")
    if timings:
        st.markdown(f"**Measured here** ({machine_line()}):")
        st.dataframe(pd.DataFrame(step_timing.as_rows(timings)), hide_index=True)
        ratio = pd.DataFrame(step_timing.bf16_vs_fp32(timings))
        slower = int((ratio["bf16 / fp32"] > 1).sum())
        load = os.getloadavg()[0]
        st.caption(f"Load average when the page drew this: {load:.1f} on {os.cpu_count()} cores. "
                   "Other work on a busy machine inflates and scatters these times: run it again "
                   "and compare.")
        st.markdown(f"**bf16 autocast on this CPU**: slower than fp32 in {slower} of {len(ratio)} "
                    "settings (above 1 = slower). Whether it helps depends on the CPU: only chips "
                    "with bfloat16 matrix instructions (such as Intel's AMX) can gain from it.")
        st.dataframe(ratio, hide_index=True)
    if reference:
        kind = "GPU figures" if reference["cuda"] else "Recorded figures (no GPU there either)"
        st.info(f"{kind} **measured on {reference['device']}** ({reference.get('measured', '')}, "
                f"PyTorch {reference.get('torch', '?')}) by `benchmarks/gpu_figures.py`, not on "
                "this machine.", icon="📏")
    if crossing:
        st.markdown("**Where the GPU starts to win** (against the CPU's best precision):")
        st.dataframe(pd.DataFrame(crossing), hide_index=True)
    elif local_gpu or (reference and reference["cuda"]):
        st.markdown("The GPU did not beat the CPU at any measured size.")
    else:
        st.warning("No CUDA GPU here and no GPU figures recorded yet, so the crossover can't be "
                   "drawn from a measurement. Run the notebook on Colab's GPU to see yours.")


sweep_section()
callouts.takeaway("The GPU wins when each step carries enough work to fill it: wide layers, big "
                  "batches, data already on the device. Measure before you buy or rent.")

# --- 3. Where the time goes ------------------------------------------------------------------
st.header("3. Where the time goes in one small step")
st.markdown(
    "`torch.profiler` records every operator of one step; the step is cut into named "
    "`record_function` ranges, so the phases add up to the step. On a GPU the last phase, "
    "`loss.item()`, is where the CPU **waits** for the GPU's queue (a sync): the GPU's work is "
    "asynchronous, and the time shows up wherever the host first needs a result."
)
callouts.show_source(step_profile.profiled_step)


@st.fragment
def profile_section() -> None:
    device = "cuda" if HAS_CUDA else "cpu"
    if st.button("Profile one step", key="gpu.profile_run"):
        with st.spinner("Profiling…"):
            st.session_state["gpu.profiles"] = {
                resident: step_profile.profile_step(device=device, whole_dataset_on_device=resident)
                for resident in (False, True)}
    profiles = st.session_state.get("gpu.profiles")
    resident = st.toggle("Whole dataset on the device", key="gpu.resident")
    if profiles is None:
        st.caption("Press the button: it profiles the step both ways (about a second).")
        return
    result = profiles[resident]
    rows = step_profile.as_rows(result)
    st.plotly_chart(phase_figure(rows, f"one step on {result.device}, {result.step_ms:.2f} ms"),
                    key="gpu.phase_chart")
    cols = st.columns(4)
    cols[0].metric("operator calls", result.operator_calls)
    cols[1].metric("GPU kernels", result.gpu_kernels)
    cols[2].metric("copy operators", result.copies)
    cols[3].metric(".item() syncs", result.syncs)
    st.caption(f"Phases sum to {result.phases_total_ms:.3f} ms of the profiled step's "
               f"{result.step_ms:.3f} ms (the rest is the gaps between ranges); the same step by the "
               f"wall clock: {result.wall_ms:.3f} ms.")
    if device == "cpu":
        st.info("On a CPU-only machine there is nowhere to copy to: `.to('cpu')` returns the same "
                "tensor, so the toggle changes nothing here, and no kernel waits. On a GPU, "
                "'batch to device' is a host-to-device copy every step unless the whole (small) "
                "dataset was moved there once.", icon="ℹ️")


profile_section()
callouts.takeaway("A small step's time is overhead: launches, copies and syncs. Keep small data "
                  "on the device, and call `.item()` once per logging interval, not every step.")

# --- 4. Mixed precision ----------------------------------------------------------------------
st.header("4. Mixed precision: autocast and the GradScaler")
callouts.misconception(
    "Mixed precision is complicated and risky",
    "`torch.autocast` picks, operator by operator, what runs in 16 bits (matrix products) and what "
    "stays in 32 (reductions, the loss); the weights stay float32. With float16 a GradScaler "
    "guards the gradients. It is two context managers; the skill is knowing **when** it helps: "
    "on GPUs with Tensor Cores, for steps big enough to be compute-bound.",
)
st.markdown(
    "**bfloat16** keeps float32's range (8 exponent bits), so it needs no scaler. **float16** has "
    "5 exponent bits: values below 2⁻²⁴ ≈ 6·10⁻⁸ become 0 and above 65504 become inf. Small "
    "gradients are the casualty, so the scaler multiplies the loss (and with it every gradient) "
    "by a large factor before `backward()` and divides it out before the optimizer step."
)
st.code('scaler = torch.amp.GradScaler("cuda")   # today\n'
        "scaler = torch.cuda.amp.GradScaler()     # older code: a deprecated alias, same class\n\n"
        'with torch.autocast(device_type="cuda", dtype=torch.float16):\n'
        "    loss = loss_fn(model(inputs), targets)\n"
        "scaler.scale(loss).backward()   # gradients x scale: small ones survive float16\n"
        "scaler.step(optimizer)          # unscale; skip the step if any gradient is inf/NaN\n"
        "scaler.update()                 # halve the scale after a skip, grow it after a calm run",
        language="python")

st.subheader("Real gradients through float16")


@st.fragment
def histogram_section() -> None:
    exponent = st.select_slider("Loss scale (2^k)", options=list(range(0, 29, 4)), value=16,
                                key="gpu.scale_exp", format_func=lambda k: f"2^{k} = {2 ** k:,}")
    figure, rows, count = fp16_view(exponent)
    st.plotly_chart(figure, key="gpu.fp16_hist")
    st.dataframe(pd.DataFrame(rows), hide_index=True)
    st.caption(f"{count:,} gradients of a 4-layer sigmoid MLP after 20 real SGD steps, cast "
               "to float16 as a float16 backward would hold them. Too small a scale loses the "
               "small ones to zero; too large a scale turns the big ones into inf (the scaler "
               "then skips that step).")


histogram_section()

st.subheader("The scale over steps, skipped steps marked")
history_device = "cuda" if HAS_CUDA else "cpu"
history = scale_history(history_device)
st.plotly_chart(scale_figure(history_device), key="gpu.scale_chart")
skipped = sum(row["skipped"] for row in history)
st.caption(f"`torch.amp.GradScaler(\"{history_device}\", init_scale=2**24, growth_interval=8)` "
           f"training a small MLP under float16 autocast on {history_device}: {skipped} of "
           f"{len(history)} steps skipped. It starts too high, halves on each overflow, then "
           "doubles after every 8 good steps until it overflows again: a search, not a failure.")
checks.check_choice(
    "gpu.q_scaler", "The scale is 65,536 and this step's scaled gradients contain an inf. What do "
    "`scaler.step(optimizer)` and `scaler.update()` do?",
    ["Apply the step with the inf clipped to 65504", "Skip the optimizer step and halve the scale "
     "to 32,768", "Raise an OverflowError"], 1,
    "The weights stay as they were for this step, and the next step tries half the scale. A few "
    "skipped steps early in training are the scaler finding its level.")

st.subheader("The scaler belongs in the checkpoint")
callouts.misconception(
    "Saving the model saves everything needed to resume",
    "A resumable checkpoint holds the model's **and** the optimizer's state (momentum, Adam's "
    "moments) and, with float16, the **scaler's** scale and growth tracker: without it a resumed "
    "run restarts its search from 65,536 and skips steps again.",
)
callouts.show_source(grad_scaling.checkpoint)


@st.fragment
def checkpoint_section() -> None:
    if st.button("Save and resume a scaler", key="gpu.ckpt"):
        last = history[-1]
        model = grad_scaling.deep_sigmoid_net(width=8, depth=2, inputs=4)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=last["scale"], growth_interval=8)
        saved = grad_scaling.saved_bytes(grad_scaling.checkpoint(model, optimizer, scaler, 3))
        resumed, state = grad_scaling.resume_scaler(saved)
        st.session_state["gpu.ckpt_result"] = (sorted(state), state["scaler"], resumed.get_scale())
    result = st.session_state.get("gpu.ckpt_result")
    if result:
        keys, saved_state, scale = result
        st.code(f"checkpoint keys: {keys}\ncheckpoint['scaler'] = {saved_state}\n"
                f"resumed scaler.get_scale() = {scale:,.0f}", language="text")


checkpoint_section()
callouts.takeaway("Autocast + GradScaler is a few lines; bf16 needs no scaler; save the scaler "
                  "with the optimizer; and measure: on hardware without fast 16-bit units it is "
                  "slower.")

# --- 5. Optimizer and device -----------------------------------------------------------------
st.header("5. Build the optimizer before or after `model.to(device)`?")
st.markdown(
    "Folklore says \"always after\". The experiment: build each optimizer before and after the "
    "move, take two steps, and look at where its state lives. `.to()` changes parameters **in "
    "place** (the same `Parameter` objects, pytorch/pytorch#7844), so an optimizer built before "
    "still holds the model's parameters. State created at construction is another matter."
)
target = optimizer_placement.stand_in_target()
if not HAS_CUDA:
    st.info("No CUDA GPU here, so the move is `model.to(torch.float64)`, a stand-in: `.to()` "
            "changes dtype in place exactly as it changes device, and state built too early keeps "
            "the old dtype as it would keep the old device. On a GPU this table shows the real "
            "`model.to(\"cuda\")`.", icon="ℹ️")
st.dataframe(pd.DataFrame(placement_rows(str(target))), hide_index=True)
st.caption(f"Measured just now: each model moved to `{target}`. Adam's and Adagrad's `step` "
           "counter lives on the CPU on purpose and is not compared.")
callouts.takeaway("Model, data **and** optimizer state must share a device. SGD and Adam survive "
                  "either order, Adagrad does not: build the optimizer after `.to(device)` and "
                  "you never need to remember which is which.")

lesson.next_lesson_link("gpu-training")
