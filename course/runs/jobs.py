"""Training runs in the background: one worker process per slot, the run's folder as its record.

Why processes: every Streamlit session's reruns share the server's GIL, and a training thread
inside the server slowed from 0.7 s to 40-58 s under four polling pages. A spawned worker keeps
its own interpreter. Why files: a run's folder (config, status, checkpoints) survives a server
restart, is visible to every app process on the same runs root, and belongs to one workspace.

The page writes config.json and submits; the worker writes status.json (atomically, about
twice a second) and an epoch checkpoint; Stop is a file named STOP that the worker checks
between steps.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
import time
import traceback
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from course.runs import recorder
from course.runs.run_files import (
    CANCEL_REASON,
    CONFIG_FILE,
    EPOCH_CHECKPOINT,
    FINAL_CHECKPOINT,
    SHUTDOWN_REASON,
    STATUS_FILE,
    STOP_FILE,
    read_json,
    run_config,
    write_json,
)

HEARTBEAT_SECONDS = 0.5
TELEMETRY_EVERY = 50  # optimizer steps between two health readings


# ----------------------------------------------------------------------------- the worker


def _worker_init(threads: int) -> None:
    from course.runs import memory, server

    server.run_in_the_background()  # already, when forked from the fork server
    server.configure_threads(threads)  # each run then fixes its own count (execute)
    memory.return_freed_memory()


def warm_up() -> int:
    """Import torch, the engine and the datasets once, before the first learner clicks Train."""
    from torch.utils.tensorboard import SummaryWriter  # noqa: F401 (every run logs with it)

    from course.engine import data, telemetry, train  # noqa: F401

    try:  # MNIST only: Fashion-MNIST loads on the first run that needs it (memory per worker)
        data.split_tensors("mnist", True)
        data.split_tensors("mnist", False)
    except data.DatasetUnavailable:
        pass
    return os.getpid()


def execute(run_dir: str, on_event=None, data_root: str | None = None) -> str:
    """Train the run in run_dir to the end or until STOP appears; returns the final state.

    A run folder that already holds an epoch checkpoint continues from it (resume). Besides
    status.json the worker keeps per-step curves, a TensorBoard log with the network's health
    readings (course.engine.telemetry) and the weights after every epoch. `data_root`: the data
    folder the server uses now (a worker process started earlier may have another in its
    environment, e.g. started while a page had no data).
    """
    if data_root is not None:
        os.environ["COURSE_DATA_DIR"] = data_root
    from course.concepts.bugs import bug_run
    from course.engine.data import DatasetUnavailable
    from course.engine.telemetry import Telemetry, initial_loss
    from course.runs.checkpoints import (
        CheckpointError,
        load_checkpoint,
        restore_run,
        save_checkpoint,
        save_run,
    )

    folder = Path(run_dir)
    stop_flag = folder / STOP_FILE
    record = read_json(folder / STATUS_FILE)
    if stop_flag.exists():  # stopped (or the server shut down) before it ever started
        record.update(state=_stopped_state(stop_flag), updated=time.time())
        write_json(folder / STATUS_FILE, record)
        return record["state"]
    record.update(state="running", started=time.time(), pid=os.getpid(), host=socket.gethostname(),
                  updated=time.time())
    record.pop("progress", None)  # the page says "starting…" until the first step is reported
    write_json(folder / STATUS_FILE, record)
    log = None
    try:
        record_threads(folder)
        run = bug_run(run_config(folder))  # the engine's Run, with a bug lab's bug if it has one
        if (folder / EPOCH_CHECKPOINT).exists():
            restore_run(run, load_checkpoint(folder / EPOCH_CHECKPOINT))
            record["resumed_from_epoch"] = run.completed_epochs
        elif (folder / FINAL_CHECKPOINT).exists():  # a finished run keeps only final.pt
            final = load_checkpoint(folder / FINAL_CHECKPOINT)
            if final.epoch >= run.config.epochs:  # resuming it trains nothing
                restore_run(run, final)
                record["resumed_from_epoch"] = run.completed_epochs
        step_offset = run.completed_epochs * len(run.train_loader)
        log = recorder.TensorBoardLog(folder, purge_step=step_offset or None)
        if not run.completed_epochs:
            images, labels = next(iter(run.test_loader))
            record["telemetry"] = {"initial_loss": initial_loss(run.model, images, labels)}
            log.scalar("initial_loss", record["telemetry"]["initial_loss"], 0)
        telemetry = Telemetry(run.model, run.optimizer, every=TELEMETRY_EVERY)
        curve = recorder.StepCurve([point for point in record.get("steps", [])
                                    if point["step"] <= step_offset])  # a resume replays the rest
        record["params"] = sum(p.numel() for p in run.model.parameters())
        last_write, stopped = 0.0, False
        for event in run.events(should_stop=stop_flag.exists, report_every=10):
            if on_event:
                on_event(event)
            readings = telemetry.take()
            for reading in readings:
                log.reading(reading, step_offset)
            recorder.latest_telemetry(record, readings, step_offset)
            if event.kind == "stopped":
                stopped = True  # recorded below, once the weights are safely on disk
                continue
            curve.add(event)
            if event.kind == "step" and curve.points:
                log.step(curve.points[-1])
            record["progress"] = event.__dict__ | {"fraction": event.fraction}
            record["steps"] = curve.points
            if event.kind == "epoch":
                save_run(run, folder / EPOCH_CHECKPOINT)
                snapshot = recorder.snapshot_path(folder, event.epoch)
                snapshot.parent.mkdir(exist_ok=True)
                save_checkpoint(snapshot, run.model, None, event.epoch, run.history.epochs[-1],
                                config=run.config.to_dict())
                record["history"] = run.history.epochs
                log.epoch(event)
            now = time.time()
            if event.kind == "epoch" or now - last_write > HEARTBEAT_SECONDS:
                record["updated"] = now
                write_json(folder / STATUS_FILE, record)
                last_write = now
        save_run(run, folder / FINAL_CHECKPOINT)
        record["state"] = _stopped_state(stop_flag) if stopped else "done"
        if record["state"] == "done":  # final.pt holds the same epoch: keep the quota for runs
            (folder / EPOCH_CHECKPOINT).unlink(missing_ok=True)
    except (DatasetUnavailable, CheckpointError, ValueError) as error:
        record.update(state="failed", error=str(error))
    except Exception as error:  # the learner sees a sentence; the log keeps the traceback
        traceback.print_exc()
        record.update(state="failed", error=f"Training stopped with an error: {error}")
    finally:
        if log is not None:
            log.close()
    record["updated"] = time.time()
    write_json(folder / STATUS_FILE, record)
    return record["state"]


def record_threads(folder: Path) -> int:
    """The run's torch thread count, fixed at its first start and kept in its config.json.

    Products and sums split over another thread count round differently: a resume on the count
    the run started with continues it exactly, whatever this process would choose for a new run.
    """
    from course.runs import server

    values = read_json(folder / CONFIG_FILE)
    threads = server.threads_for_run(values.get("threads"))
    if values.get("threads") != threads:
        write_json(folder / CONFIG_FILE, {**values, "threads": threads})
    return threads


def _stopped_state(stop_flag: Path) -> str:
    """'interrupted' (Resume offered) when the server shut down, 'stopped' when the learner asked."""
    try:
        reason = stop_flag.read_text()
    except OSError:
        return "stopped"
    return {SHUTDOWN_REASON: "interrupted", CANCEL_REASON: "cancelled"}.get(reason, "stopped")


# ----------------------------------------------------------------------------- the runner


def pool_context() -> multiprocessing.context.BaseContext:
    """Workers forked from a fork server that preloaded torch and MNIST share that memory.

    Not plain fork: the app's process runs threads (Streamlit's), which fork would copy mid-step.
    The fork server is a fresh single-threaded interpreter. Spawn, where there is no fork server,
    imports everything again in every worker.
    """
    from course.runs.server import wait_passively

    wait_passively()  # inherited by the fork server (or spawned workers) before they load torch
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["course.runs.preload"])
    return context


def default_slots() -> int:
    """COURSE_TRAINING_SLOTS, else the usable cores; with COURSE_REPLICAS_PER_HOST set, never
    more than this replica's core budget divided by each worker's torch threads."""
    from course.runs.server import chosen_threads, core_budget, usable_cores

    budget = core_budget()
    asked = int(os.environ.get("COURSE_TRAINING_SLOTS", "0") or 0)
    if budget is None:
        return max(1, asked or usable_cores())
    return max(1, min(asked or budget, budget // chosen_threads()))


class JobRunner:
    """At most `slots` runs train at once in this app process; the rest wait their turn."""

    def __init__(self, slots: int | None = None):
        from course.runs.server import chosen_threads

        self.slots = slots or default_slots()
        # One thread per worker unless COURSE_TORCH_THREADS says otherwise: several runs then
        # train side by side on the cores, each deterministic and unslowed by a busy neighbour.
        threads = chosen_threads()
        self.executor = ProcessPoolExecutor(
            max_workers=self.slots, mp_context=pool_context(),
            initializer=_worker_init, initargs=(threads,))
        self.futures: dict[str, Future] = {}
        self.lock = threading.Lock()
        # The pool's own exit hook would first train every queued run to the end; this one,
        # registered later, runs before it (threading's exit hooks run newest first).
        register = getattr(threading, "_register_atexit", None)
        if register is not None:
            register(self.stop_for_shutdown)

    def warm(self) -> None:
        """Start the workers in the background: the fork server spends seconds importing torch
        and loading MNIST, and the page that asked must not wait for it (a first visit's
        whole page would take that much longer). A Train click meanwhile simply queues."""
        threading.Thread(target=self._start_workers, name="course-warm-workers", daemon=True).start()

    def _start_workers(self) -> None:
        try:
            for _ in range(self.slots):
                self.executor.submit(warm_up)
        except RuntimeError:  # shut down before the workers started (a test, a server exit)
            pass

    def submit(self, run_dir: Path) -> None:
        from course.engine.data import data_root

        key = str(Path(run_dir).resolve())
        (Path(run_dir) / STOP_FILE).unlink(missing_ok=True)
        record = read_json(Path(run_dir) / STATUS_FILE)
        record.update(state="queued", submitted=time.time(), updated=time.time())
        write_json(Path(run_dir) / STATUS_FILE, record)
        with self.lock:
            self.futures[key] = self.executor.submit(execute, key, None, str(data_root()))

    def is_tracked(self, run_dir: Path) -> bool:
        future = self.futures.get(str(Path(run_dir).resolve()))
        return future is not None and not future.done()

    def failure(self, run_dir: Path) -> str | None:
        """Why this process's worker could not run the job (e.g. it died), if it could not."""
        future = self.futures.get(str(Path(run_dir).resolve()))
        if future is None or not future.done() or future.cancelled():
            return None
        error = future.exception()
        return f"{type(error).__name__}: {error}" if error else None

    def queue_position(self, run_dir: Path) -> int | None:
        """1 for the next run to start, 2 after it, ...; None when it is not waiting."""
        key = str(Path(run_dir).resolve())
        with self.lock:
            waiting = [path for path, future in self.futures.items()
                       if not future.done() and read_json(Path(path) / STATUS_FILE).get("state")
                       == "queued"]
        waiting.sort(key=lambda path: read_json(Path(path) / STATUS_FILE).get("submitted", 0))
        return waiting.index(key) + 1 if key in waiting else None

    def stop(self, run_dir: Path) -> None:
        """Ask the run to stop; it keeps the weights trained so far."""
        (Path(run_dir) / STOP_FILE).touch()
        future = self.futures.get(str(Path(run_dir).resolve()))
        if future is not None:
            future.cancel()
        # A run still waiting is stopped now: the pool may already hold it in its call queue
        # (uncancellable), but its worker will see STOP before training a single step.
        record = read_json(Path(run_dir) / STATUS_FILE)
        if record.get("state") == "queued":
            record.update(state="stopped", updated=time.time())
            write_json(Path(run_dir) / STATUS_FILE, record)

    def cancel(self, run_dir: Path) -> None:
        """Take a waiting run out of the queue; it never trains (a running one is stopped)."""
        record = read_json(Path(run_dir) / STATUS_FILE)
        if record.get("state") != "queued":
            self.stop(run_dir)
            return
        (Path(run_dir) / STOP_FILE).write_text(CANCEL_REASON)
        future = self.futures.get(str(Path(run_dir).resolve()))
        if future is not None:
            future.cancel()  # the pool may already hold it: its worker then sees STOP first
        record.update(state="cancelled", updated=time.time())
        write_json(Path(run_dir) / STATUS_FILE, record)

    def forget(self, run_dir: Path) -> None:
        """Drop a finished run's bookkeeping (before its folder is deleted)."""
        with self.lock:
            future = self.futures.get(str(Path(run_dir).resolve()))
            if future is not None and future.done():
                del self.futures[str(Path(run_dir).resolve())]

    def running_count(self) -> int:
        with self.lock:
            return sum(1 for path, future in self.futures.items() if not future.done()
                       and read_json(Path(path) / STATUS_FILE).get("state") == "running")

    def stop_for_shutdown(self) -> None:
        """The app is exiting: stop every run at its next step, resumable, and start no more."""
        with self.lock:
            pending = [path for path, future in self.futures.items() if not future.done()]
        for path in pending:
            try:
                (Path(path) / STOP_FILE).write_text(SHUTDOWN_REASON)
            except OSError:
                pass
        self.shutdown()

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
