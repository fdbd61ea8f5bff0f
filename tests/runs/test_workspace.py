"""A learner's workspace: valid tokens only, private runs, no path tricks, a quota, stale cleanup."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from course.runs import workspace
from course.runs.workspace import Workspace, WorkspaceError, remove_stale_workspaces

DAY = 86_400


def test_new_tokens_are_valid_22_character_and_distinct():
    tokens = {workspace.new_token() for _ in range(50)}

    assert len(tokens) == 50
    assert all(workspace.is_token(token) and len(token) == 22 for token in tokens)


@pytest.mark.parametrize("token", [
    "", "short", "A" * 21, "A" * 23, "../../../../etc/passwd", "../" + "A" * 19, "A" * 20 + "/.",
    "A" * 21 + ".", "A" * 21 + " ", "/" + "A" * 21, "Ä" * 22, None, 12345,
])
def test_malformed_tokens_are_refused_and_create_no_folder(tmp_path, token):
    assert not workspace.is_token(token)
    with pytest.raises(WorkspaceError, match="not valid"):
        Workspace(token, root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_token_with_a_trailing_newline_is_refused(tmp_path):
    # `$` in TOKEN_PATTERN also matches just before a final "\n", so "?ws=<token>%0A" is accepted
    # and creates a second folder whose name ends in a newline.
    token = "A" * 22 + "\n"

    assert not workspace.is_token(token)
    with pytest.raises(WorkspaceError):
        Workspace(token, root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_workspace_creates_its_runs_folder_and_marks_itself_used(tmp_path):
    token = workspace.new_token()

    space = Workspace(token, root=tmp_path)

    assert space.path == tmp_path / token
    assert (space.path / "runs").is_dir()
    assert float((space.path / ".last-used").read_text()) == pytest.approx(time.time(), abs=60)


def test_new_run_dirs_are_listed_and_found_by_their_id(tmp_path):
    space = Workspace(workspace.new_token(), root=tmp_path)

    first = space.new_run_dir()
    second = space.new_run_dir()

    assert first != second
    assert space.run_ids() == sorted([first.name, second.name])
    assert all(workspace.RUN_ID_PATTERN.match(run_id) for run_id in space.run_ids())
    assert space.run_dir(first.name) == first


def test_two_workspaces_never_see_each_others_runs(tmp_path):
    mine = Workspace(workspace.new_token(), root=tmp_path)
    theirs = Workspace(workspace.new_token(), root=tmp_path)

    run = mine.new_run_dir()

    assert theirs.run_ids() == []
    with pytest.raises(WorkspaceError, match="not a run of this workspace"):
        theirs.run_dir(run.name)
    assert mine.run_ids() == [run.name]


def test_deleting_another_workspaces_run_id_is_refused_and_leaves_it(tmp_path):
    mine = Workspace(workspace.new_token(), root=tmp_path)
    theirs = Workspace(workspace.new_token(), root=tmp_path)
    run = mine.new_run_dir()

    with pytest.raises(WorkspaceError):
        theirs.delete_run(run.name)
    assert run.is_dir()

    mine.delete_run(run.name)
    assert not run.exists() and mine.run_ids() == []


@pytest.mark.parametrize("run_id", [
    "../x", "..", ".", "", "/etc", "runs/../../x", "run-20240101-000000-abcdef/../../x",
    "run-20240101-000000-ABCDEF", "run-2024-01-01", "../" + "A" * 22, None,
])
def test_run_dir_refuses_anything_but_a_run_id_of_this_workspace(tmp_path, run_id):
    space = Workspace(workspace.new_token(), root=tmp_path)
    (tmp_path / "x").mkdir()

    with pytest.raises(WorkspaceError):
        space.run_dir(run_id)


def test_run_dir_refuses_a_well_formed_id_that_does_not_exist(tmp_path):
    space = Workspace(workspace.new_token(), root=tmp_path)

    with pytest.raises(WorkspaceError, match="run-20240101-000000-abcdef"):
        space.run_dir("run-20240101-000000-abcdef")


def test_run_ids_ignore_folders_that_are_not_runs(tmp_path):
    space = Workspace(workspace.new_token(), root=tmp_path)
    (space.path / "runs" / "notes").mkdir()
    (space.path / "runs" / "run-20240101-000000-abcdef.txt").write_text("x")

    assert space.run_ids() == []


def test_full_workspace_refuses_new_runs_with_a_message_to_delete_some(tmp_path):
    space = Workspace(workspace.new_token(), root=tmp_path, quota_bytes=4096)
    run = space.new_run_dir()
    (run / "final.pt").write_bytes(b"\0" * 5000)

    assert space.used_bytes() >= 5000
    with pytest.raises(WorkspaceError, match="workspace is full.*Delete some runs"):
        space.new_run_dir()
    assert space.run_ids() == [run.name]

    space.delete_run(run.name)
    assert space.new_run_dir().is_dir()


def test_check_quota_counts_the_bytes_about_to_be_written(tmp_path):
    space = Workspace(workspace.new_token(), root=tmp_path, quota_bytes=10_000)
    used = space.used_bytes()

    space.check_quota(extra_bytes=10_000 - used)
    with pytest.raises(WorkspaceError, match="full"):
        space.check_quota(extra_bytes=10_001 - used)


def age(folder: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(folder / ".last-used", (then, then))


def test_remove_stale_workspaces_deletes_old_ones_and_keeps_fresh_ones(tmp_path):
    old = Workspace(workspace.new_token(), root=tmp_path)
    old.new_run_dir()
    fresh = Workspace(workspace.new_token(), root=tmp_path)
    recent = Workspace(workspace.new_token(), root=tmp_path)
    age(old.path, 20)
    age(recent.path, 3)

    removed = remove_stale_workspaces(tmp_path, max_age_days=14)

    assert removed == [old.token]
    assert not old.path.exists()
    assert fresh.path.is_dir() and recent.path.is_dir()


def test_remove_stale_workspaces_leaves_folders_that_are_not_workspaces(tmp_path):
    other = tmp_path / "not-a-workspace"
    other.mkdir()
    then = time.time() - 100 * DAY
    os.utime(other, (then, then))

    assert remove_stale_workspaces(tmp_path) == []
    assert other.is_dir()


def test_touching_a_workspace_saves_it_from_cleanup(tmp_path):
    space = Workspace(workspace.new_token(), root=tmp_path)
    age(space.path, 30)

    Workspace(space.token, root=tmp_path)  # the learner comes back with their link

    assert remove_stale_workspaces(tmp_path) == []
    assert space.path.is_dir()


def test_remove_stale_workspaces_of_a_missing_root_removes_nothing(tmp_path):
    assert remove_stale_workspaces(tmp_path / "never-created") == []


def test_course_runs_dir_sets_where_workspaces_live(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_RUNS_DIR", str(tmp_path / "runs-root"))

    space = Workspace(workspace.new_token())

    assert workspace.runs_root() == tmp_path / "runs-root"
    assert space.path.parent == tmp_path / "runs-root"
    assert (space.path / "runs").is_dir()
    age(space.path, 30)
    assert remove_stale_workspaces() == [space.token]


def test_runs_root_without_course_runs_dir_is_under_the_users_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_RUNS_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))

    assert workspace.runs_root() == tmp_path / "pytorch-course-lab" / "workspaces"


def test_a_file_renamed_while_the_quota_is_counted_is_not_an_error(tmp_path, monkeypatch):
    # A training run renames its checkpoint's temporary file while the panel counts bytes (CI saw
    # this: Repeat with 3 seeds raised FileNotFoundError from used_bytes). The rename lands right
    # after the file was seen to be a file, before its size is read.
    space = Workspace(workspace.new_token(), root=tmp_path, quota_bytes=10_000)
    run = space.new_run_dir()
    (run / "final.pt").write_bytes(b"\0" * 3000)
    temporary = run / ".epoch-001.pt.tmp"
    temporary.write_bytes(b"\0" * 500)
    is_file = Path.is_file

    def renamed_just_after_the_look(path):
        seen = is_file(path)
        if path == temporary and seen:
            path.rename(run / "epoch-001.pt")
        return seen

    monkeypatch.setattr(Path, "is_file", renamed_just_after_the_look)

    assert 3000 <= space.used_bytes() <= 3500
