"""A learner's own folder: runs, checkpoints and uploads, under a configurable runs root.

A workspace is named by a random token that only its learner holds (it travels in "your
link"), so one session can never list, load or overwrite another's files. Nothing a learner
types or uploads is ever used as a path.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from pathlib import Path

TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")
RUN_ID_PATTERN = re.compile(r"run-[0-9]{8}-[0-9]{6}-[a-z0-9]{6}")
DEFAULT_QUOTA_BYTES = 200 * 1024 * 1024
DEFAULT_MAX_AGE_DAYS = 14.0


class WorkspaceError(RuntimeError):
    """The workspace cannot do what was asked (full, unknown run, bad token)."""


def runs_root() -> Path:
    """COURSE_RUNS_DIR when set, else a per-user data folder."""
    configured = os.environ.get("COURSE_RUNS_DIR")
    if configured:
        return Path(configured).expanduser()
    share = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(share) / "pytorch-course-lab" / "workspaces"


def new_token() -> str:
    return secrets.token_urlsafe(16)


def is_token(value: object) -> bool:
    return isinstance(value, str) and bool(TOKEN_PATTERN.fullmatch(value))


def exists(token: str, root: Path | None = None) -> bool:
    """Whether a workspace with this token was ever made here (and not cleaned up since)."""
    return is_token(token) and (Path(root or runs_root()) / token / "runs").is_dir()


class Workspace:
    def __init__(self, token: str, root: Path | None = None,
                 quota_bytes: int = DEFAULT_QUOTA_BYTES):
        if not is_token(token):
            raise WorkspaceError("That workspace link is not valid.")
        self.token = token
        self.path = Path(root or runs_root()) / token
        self.quota_bytes = quota_bytes
        (self.path / "runs").mkdir(parents=True, exist_ok=True)
        self.touch()

    def touch(self) -> None:
        """Mark the workspace as in use so the stale-workspace cleanup leaves it alone."""
        (self.path / ".last-used").write_text(str(time.time()))

    def new_run_dir(self) -> Path:
        self.check_quota()
        run_id = time.strftime("run-%Y%m%d-%H%M%S-") + secrets.token_hex(3)
        path = self.path / "runs" / run_id
        path.mkdir()
        return path

    def run_dir(self, run_id: str) -> Path:
        """The folder of one of this workspace's runs; never a path built from other input."""
        if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
            raise WorkspaceError(f"{run_id!r} is not a run of this workspace.")
        path = self.path / "runs" / run_id
        if not path.is_dir():
            raise WorkspaceError(f"{run_id!r} is not a run of this workspace.")
        return path

    def run_ids(self) -> list[str]:
        return sorted(p.name for p in (self.path / "runs").iterdir()
                      if p.is_dir() and RUN_ID_PATTERN.fullmatch(p.name))

    def delete_run(self, run_id: str) -> None:
        shutil.rmtree(self.run_dir(run_id), ignore_errors=True)

    def used_bytes(self) -> int:
        """Bytes on disk; a file that goes while we count (a checkpoint's temporary file renamed
        by a training run) counts as gone, not as an error."""
        return sum(_size(p) for p in self.path.rglob("*"))

    def check_quota(self, extra_bytes: int = 0) -> None:
        used = self.used_bytes()
        if used + extra_bytes > self.quota_bytes:
            raise WorkspaceError(
                f"Your workspace is full ({used / 2**20:.0f} MB of {self.quota_bytes / 2**20:.0f} "
                "MB). Delete some runs to make room.")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else 0
    except FileNotFoundError:
        return 0


def remove_stale_workspaces(root: Path | None = None,
                            max_age_days: float = DEFAULT_MAX_AGE_DAYS) -> list[str]:
    """Delete workspaces untouched for longer than max_age_days; returns the removed tokens."""
    root = Path(root or runs_root())
    if not root.is_dir():
        return []
    cutoff = time.time() - max_age_days * 86_400
    removed = []
    for folder in root.iterdir():
        if not (folder.is_dir() and is_token(folder.name)):
            continue
        marker = folder / ".last-used"
        last_used = marker.stat().st_mtime if marker.exists() else folder.stat().st_mtime
        if last_used < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
    return removed
