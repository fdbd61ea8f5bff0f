"""Device choice and CPU threads: the cgroup quota, torch's thread count, and CUDA requests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from course.engine import devices
from course.runs import server


@pytest.fixture
def restore_threads():
    previous = torch.get_num_threads()
    yield
    torch.set_num_threads(previous)


def quota_file(tmp_path, text: str):
    path = tmp_path / "cpu.max"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("text", "cores"), [
    ("200000 100000\n", 2),
    ("400000 100000\n", 4),
    ("150000 100000\n", 1),  # one and a half cores: whole cores only
    ("50000 100000\n", 1),  # less than a core still gets one thread
])
def test_cpu_quota_reads_whole_cores_from_cgroup_v2(tmp_path, text, cores):
    assert server.cpu_quota(quota_file(tmp_path, text)) == cores


def test_cpu_quota_max_means_no_limit(tmp_path):
    assert server.cpu_quota(quota_file(tmp_path, "max 100000\n")) is None


def test_cpu_quota_of_a_missing_file_is_none(tmp_path):
    assert server.cpu_quota(tmp_path / "absent") is None


@pytest.mark.parametrize("text", ["", "garbage", "\n", "abc 100000\n"])
def test_cpu_quota_of_garbage_is_none(tmp_path, text):
    # "abc 100000": int() at course/runs/server.py:20 runs outside the try and raises ValueError
    assert server.cpu_quota(quota_file(tmp_path, text)) is None


def test_usable_cores_is_at_least_one_and_at_most_the_cpus_we_may_run_on():
    cores = server.usable_cores()

    assert 1 <= cores <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert cores <= len(os.sched_getaffinity(0))


def test_configure_threads_sets_torchs_thread_count(restore_threads):
    assert server.configure_threads(1) == 1
    assert torch.get_num_threads() == 1


def test_configure_threads_falls_back_to_course_torch_threads(restore_threads, monkeypatch):
    torch.set_num_threads(1)
    monkeypatch.setenv("COURSE_TORCH_THREADS", "2")

    assert server.configure_threads() == 2
    assert torch.get_num_threads() == 2


def test_configure_threads_without_setting_uses_one_thread(restore_threads, monkeypatch):
    monkeypatch.delenv("COURSE_TORCH_THREADS", raising=False)
    torch.set_num_threads(2)

    assert server.configure_threads() == 1
    assert torch.get_num_threads() == 1
    assert server.configured_threads() == 1


@pytest.mark.parametrize("threads", [0, -1])
def test_configure_threads_refuses_fewer_than_one(threads, restore_threads):
    with pytest.raises(ValueError, match="at least 1"):
        server.configure_threads(threads)


def test_a_run_takes_its_recorded_thread_count_else_this_processs(restore_threads):
    server.configure_threads(1)

    assert server.threads_for_run(2) == 2  # a resume: the count the run started with
    assert torch.get_num_threads() == 2
    assert server.threads_for_run(None) == 1  # a new run: this process's count
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("requested", [None, "auto"])
def test_resolve_device_auto_picks_cuda_only_when_present(requested):
    expected = "cuda" if torch.cuda.is_available() else "cpu"

    assert devices.resolve_device(requested) == expected
    assert devices.default_device() == expected


def test_resolve_device_keeps_an_explicit_cpu():
    assert devices.resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("requested", ["cuda", "cuda:0"])
def test_resolve_device_cuda_without_a_gpu_is_a_clear_error(requested):
    if torch.cuda.is_available():
        assert devices.resolve_device(requested) == requested
        return
    with pytest.raises(ValueError, match="no GPU is available.*--device cpu"):
        devices.resolve_device(requested)


# ----------------------------------------------------------------------------- sharing the cores


def test_wait_passively_asks_for_sleeping_openmp_threads_unless_already_chosen():
    fresh, chosen = {}, {"OMP_WAIT_POLICY": "ACTIVE"}
    server.wait_passively(fresh)
    server.wait_passively(chosen)

    assert fresh == {"OMP_WAIT_POLICY": "PASSIVE"}
    assert chosen == {"OMP_WAIT_POLICY": "ACTIVE"}


def test_the_command_line_sets_the_wait_policy_before_torch_is_loaded():
    # devices itself must not import torch, or the policy would come too late
    script = ("import sys, os; import course.runs.server; torch_first = 'torch' in sys.modules; "
              "import course.__main__; print(torch_first, os.environ.get('OMP_WAIT_POLICY'))")
    environment = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    shown = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=environment, check=True, timeout=120).stdout.split()

    assert shown == ["False", "PASSIVE"]


def test_run_in_the_background_lowers_the_priority_once_and_only_in_its_own_process():
    code = ("import os\nfrom course.runs.server import run_in_the_background\n"
            "run_in_the_background(); run_in_the_background()\n"
            "print(os.getpriority(os.PRIO_PROCESS, 0))")
    before = os.getpriority(os.PRIO_PROCESS, 0)
    niceness = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True).stdout.strip()
    assert int(niceness) == max(before, server.BACKGROUND_NICENESS)  # not 20: set, not added
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
