"""The server's heap settings: freed tensors go back to the system instead of staying in arenas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from course.runs import memory

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Eight threads (like eight sessions' scripts) each build and free 31 MB tensors, the size of
# the normalised MNIST test set; the process then reports its resident memory in MB.
WORKLOAD = """
import sys, threading
from course.runs import memory
if sys.argv[1] == "on":
    assert memory.return_freed_memory()
import torch

def evaluate_test_set():
    for _ in range(4):
        images = torch.ones(10_000, 784)
        scaled = images * 2
        del images, scaled

threads = [threading.Thread(target=evaluate_test_set) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
status = open("/proc/self/status").read()
print(int(status.split("VmRSS:")[1].split()[0]) // 1024)
"""


def resident_mb(setting: str) -> int:
    done = subprocess.run([sys.executable, "-c", WORKLOAD, setting], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_settings_take_effect_on_glibc():
    assert memory.return_freed_memory() is True


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_tensors_of_many_threads_are_returned_to_the_system():
    kept = resident_mb("off")
    returned = resident_mb("on")

    # Without the settings the threads' arenas keep several freed 31 MB blocks.
    assert kept - returned > 60, (kept, returned)
