"""Run once in the training pool's fork server: every worker forked from it shares these pages.

torch, torchvision and the engine (about 500 MB per process on the CUDA wheel) and the MNIST
tensors are loaded here once; a worker then starts in milliseconds and copies only what it writes.
"""

import gc
import multiprocessing.spawn

from course.runs.server import run_in_the_background

run_in_the_background()  # before the imports: a first page visit renders while this loads torch

import torch  # noqa: E402

from course.runs import jobs  # noqa: E402
from course.runs.server import first_optimizer_step  # noqa: E402

# A worker is told to re-run the parent's __main__ before its task, and inside Streamlit that is
# whichever page script was running when the pool started a process (Streamlit swaps __main__ per
# script run): a whole lesson page, or app.py's navigation, executed in the worker. The workers
# only run functions of course.runs.jobs, found by name, so they skip that step.
multiprocessing.spawn._fixup_main_from_path = lambda main_path: None

# One thread here, so OpenMP never starts a thread pool in this process: a pool that exists at
# fork time is missing in the child, and the child's first parallel op would wait for it forever.
# Each worker sets its own thread count after the fork.
torch.set_num_threads(1)
try:
    jobs.warm_up()
except Exception:  # noqa: BLE001 - a worker reports a missing or broken dataset when it trains
    pass


first_optimizer_step()
# Python's garbage collector writes to every object it scans, which would copy these shared
# pages into each worker one by one; frozen objects are never scanned.
gc.freeze()
