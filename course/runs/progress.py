"""What a learner has done, per lesson: the checks they answered and the lesson they were last in.

One small file in their workspace, progress.json, rewritten atomically: a learner who comes back
with their link (or after a server restart) finds their answers, and no other workspace sees them.
Runs are not copied into it: each run's config.json names the lesson it was made in
(run_files.create_run), so runs_made counts the workspace's runs of a lesson as they are now.

A lesson's total is the checks its page declares in LESSON_CHECKS, so Home knows it before the
learner has opened the page; tests/runs/test_progress.py renders every page and fails when a page
shows a check that is not declared here (add its key here when you add a check to a page).
"""

from __future__ import annotations

import time
from pathlib import Path

from course import lessons
from course.concepts import bugs
from course.runs.run_files import CONFIG_FILE, read_json, write_json

PROGRESS_FILE = "progress.json"
LESSON_CHECKS: dict[str, tuple[str, ...]] = {
    "datasets-and-dataloaders": ("dl.q_iterations", "dl.q_last_batch", "dl.q_shape",
                                 "dl.q_shuffle"),
    "mnist-project": ("mnist.q_logits",),
    "tensors": ("tensors.q_result_type", "tensors.q_broadcast", "tensors.q_view"),
    "autograd": ("autograd.q_grad_a", "autograd.q_accum", "autograd.q_nograd"),
    "nn-module": ("nnm.q_weight_shape_rows", "nnm.q_params", "nnm.q_plain_list"),
    "training-loop": ("loop.q_zero_grad", "loop.q_lr", "loop.q_eval"),
    "saving-and-loading": ("save.q_state_dict", "save.q_resume", "save.q_real_crash", "save.q_best"),
    "gpu-training": ("gpu.q_faster", "gpu.q_move", "gpu.q_scaler"),
    "fashion-mnist-project": ("fashion.q_harder", "fashion.q_select"),
    # the bug lab asks one prediction per bug it can inject
    "debugging-and-visualization": ("debug.q_params",
                                    *(f"debug.lab_check.{bug}" for bug in bugs.LAB_BUGS)),
}


def read_progress(folder: Path) -> dict:
    """The workspace's record; an empty one when there is none yet (or it cannot be read)."""
    record = read_json(Path(folder) / PROGRESS_FILE)
    lessons_done = record.get("lessons")
    return {"lessons": lessons_done if isinstance(lessons_done, dict) else {},
            "last_lesson": record.get("last_lesson")}


def _lesson_record(record: dict, slug: str) -> dict:
    lessons.lesson(slug)  # a slug outside the syllabus is refused, never written
    entry = record["lessons"].setdefault(slug, {})
    if not isinstance(entry.get("answers"), dict):
        entry["answers"] = {}
    return entry


def answers(folder: Path, slug: str) -> dict[str, dict]:
    """The lesson's answered checks: key -> {"answer": what the learner gave, "right": bool}."""
    return dict(_lesson_record(read_progress(folder), slug)["answers"])


def record_answer(folder: Path, slug: str, key: str, answer: str | float, right: bool) -> None:
    """Remember a check's answer (right or wrong) so it shows as answered on the next visit."""
    record = read_progress(folder)
    _lesson_record(record, slug)["answers"][key] = {"answer": answer, "right": bool(right),
                                                    "at": time.time()}
    record["last_lesson"] = slug  # answering is being in the lesson, even before a rerun
    write_json(Path(folder) / PROGRESS_FILE, record)


def record_visit(folder: Path, slug: str) -> None:
    """Remember the lesson the learner is in: Home's "Continue where you left off"."""
    record = read_progress(folder)
    _lesson_record(record, slug)["visited"] = time.time()
    record["last_lesson"] = slug
    write_json(Path(folder) / PROGRESS_FILE, record)


def last_lesson(folder: Path) -> lessons.Lesson | None:
    """The lesson the learner was last in, or None before their first lesson."""
    try:
        return lessons.lesson(read_progress(folder)["last_lesson"])
    except KeyError:
        return None


def forget_lesson(folder: Path, slug: str) -> None:
    """Reset one lesson: its answers go; its runs and every other lesson's answers stay."""
    record = read_progress(folder)
    _lesson_record(record, slug)["answers"] = {}
    write_json(Path(folder) / PROGRESS_FILE, record)


def runs_made(folder: Path, slug: str) -> int:
    """How many of the workspace's runs were made in this lesson (a deleted run no longer counts)."""
    runs = Path(folder) / "runs"
    if not runs.is_dir():
        return 0
    return sum(read_json(run / CONFIG_FILE).get("lesson") == slug for run in runs.iterdir())


def total_checks(slug: str, answered: dict | None = None) -> int:
    """The lesson's checks: those it declares, plus any answered one it no longer declares."""
    return len(set(LESSON_CHECKS.get(slug, ())) | set(answered or ()))


def lesson_progress(folder: Path, slug: str) -> dict:
    """Home's line for one lesson: checks answered, the lesson's total, runs made."""
    done = answers(folder, slug)
    return {"answered": len(done), "total": total_checks(slug, done),
            "runs": runs_made(folder, slug)}
