"""The training pool's fork server (course/runs/preload.py) leaves nothing for a worker's first step."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_ROOT

# A stand-in torchvision (no datasets in it): the real one imports torch._dynamo itself, which
# would hide a preload that does not.
FIRST_STEP_AFTER_PRELOAD = """
import sys, time, types
class NoDataset:
    classes, resources = [], []
sys.modules["torchvision"] = types.SimpleNamespace(
    datasets=types.SimpleNamespace(MNIST=NoDataset, FashionMNIST=NoDataset), transforms=None)
import course.runs.preload
import torch
preloaded = "torch._dynamo" in sys.modules
model = torch.nn.Linear(784, 256)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
model(torch.randn(64, 784)).sum().backward()
start = time.process_time()
optimizer.step()
print(preloaded, time.process_time() - start)
"""


def test_a_workers_first_optimizer_step_imports_nothing_after_the_preload():
    completed = subprocess.run([sys.executable, "-c", FIRST_STEP_AFTER_PRELOAD], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    preloaded, seconds = completed.stdout.split()
    assert preloaded == "True"  # the first step's import of torch._dynamo (~1.4 s CPU) is done
    assert float(seconds) < 0.5, seconds  # CPU time: the same on a loaded machine
