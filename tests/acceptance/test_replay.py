"""`coord check --range` judges every commit against its parent's state: no commit, no case, is skipped."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from testing.repos import git
from tests.conftest import Coord

from gitcoord import model


def hand_commit(repo: Path, message: str, *, date: str | None = None) -> str:
    env = {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else None
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "--allow-empty", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD")


def rewrite(repo: Path, file: str, change: Any) -> None:
    path = repo / "coordination" / file
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def verdict(coord: Coord, repo: Path, base: str, head: str = "HEAD") -> dict[str, Any]:
    result = coord(repo, "check", "--range", f"{base}..{head}", "--json")
    data: dict[str, Any] = json.loads(result.out)["data"]
    assert (result.code == 0) == data["valid"], result
    return data


def rules(data: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in data["findings"]}


def forge_message(d: dict[str, Any]) -> None:
    d["messages"][0]["message"] = "I never asked that"


BY_2 = "\n\nCoord-Instance: instance-2"


def test_an_honest_history_passes(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    assert coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001").code == 0
    assert coord(seed_repo, "--as", "instance-1", "msg", "reply", "msg_001", "--body", "REST").code == 0
    assert verdict(coord, seed_repo, base)["valid"]


def test_adding_an_archive_file_does_not_switch_the_check_off(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    archive = seed_repo / "coordination" / "archive"
    archive.mkdir()
    (archive / model.MESSAGES).write_text('{"messages": [], "response_queue": []}\n')
    rewrite(seed_repo, model.MESSAGES, forge_message)
    hand_commit(seed_repo, "tidy the archive" + BY_2)
    data = verdict(coord, seed_repo, base)
    assert "immutable" in rules(data), data


def test_deleting_and_restoring_the_store_is_two_changes_like_any_other(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    saved = {f: (seed_repo / "coordination" / f).read_text() for f in model.FILES}
    git(seed_repo, "rm", "-q", "-r", "coordination")
    wipe = hand_commit(seed_repo, "wipe" + BY_2)
    (seed_repo / "coordination").mkdir()
    for name, text in saved.items():
        (seed_repo / "coordination" / name).write_text(text)
    rewrite(seed_repo, model.MESSAGES, forge_message)
    hand_commit(seed_repo, "restore" + BY_2)
    data = verdict(coord, seed_repo, base)
    commits = {f["commit"] for f in data["findings"]}
    assert wipe in commits, "the wipe deletes every record"
    assert len(commits) == 2, "and the restore re-creates records, one of them changed"
    assert {"deleted", "immutable"} <= rules(data) or "authorization" in rules(data)


def test_a_root_commit_is_judged_from_the_empty_store(tmp_path: Path, coord: Coord) -> None:
    repo = tmp_path / "fresh"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    assert coord(repo, "init", "--example", "--branch", "main").code == 0
    root = git(repo, "rev-list", "--max-parents=0", "HEAD")
    # The store's first state is the root of trust; checking from the very first commit works.
    assert verdict(coord, repo, "0" * 40)["valid"]
    assert git(repo, "rev-parse", "HEAD") == root


def test_a_merge_of_a_store_created_apart_is_refused(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "checkout", "-q", "--orphan", "forged")
    git(seed_repo, "rm", "-q", "-r", "--cached", ".")
    rewrite(seed_repo, model.MESSAGES, forge_message)
    hand_commit(seed_repo, "a store of my own" + BY_2)
    git(seed_repo, "checkout", "-q", "-f", "main")
    done = subprocess.run(
        [
            "git",
            "merge",
            "-q",
            "--no-verify",
            "--allow-unrelated-histories",
            "-s",
            "ours",
            "forged",
            "-m",
            "merge" + BY_2,
        ],
        cwd=seed_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "merge" in rules(verdict(coord, seed_repo, base))


def test_an_octopus_merge_that_touches_the_store_is_refused(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    for branch in ("one", "two"):
        git(seed_repo, "checkout", "-q", "-b", branch, base)
        (seed_repo / f"{branch}.txt").write_text(branch)
        hand_commit(seed_repo, branch)
    git(seed_repo, "checkout", "-q", "main")
    git(seed_repo, "merge", "-q", "--no-verify", "--no-ff", "--no-commit", "one", "two")
    rewrite(seed_repo, model.MESSAGES, forge_message)
    hand_commit(seed_repo, "octopus" + BY_2)
    assert len(git(seed_repo, "rev-list", "--parents", "-n1", "HEAD").split()) == 4
    assert "merge" in rules(verdict(coord, seed_repo, base))


def test_a_rewound_branch_is_refused(seed_repo: Path, coord: Coord) -> None:
    assert coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001").code == 0
    ahead = git(seed_repo, "rev-parse", "HEAD")
    git(seed_repo, "reset", "-q", "--hard", "HEAD~1")
    data = verdict(coord, seed_repo, ahead)
    assert rules(data) == {"rewritten"}, data


def test_the_instance_is_the_one_trailer_of_the_trailer_block(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    rewrite(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(status="closed"))
    # instance-2 may close its own question, but a "Coord-Instance:" line in the body is just text.
    hand_commit(seed_repo, "close\n\nCoord-Instance: instance-2\n\nas discussed")
    data = verdict(coord, seed_repo, base)
    assert any("names no instance" in f["message"] for f in data["findings"]), data
    git(seed_repo, "reset", "-q", "--hard", base)
    rewrite(seed_repo, model.MESSAGES, lambda d: d["messages"][0].update(status="closed"))
    hand_commit(seed_repo, "close\n\nCoord-Instance: instance-1\nCoord-Instance: instance-2")
    assert "trailer" in rules(verdict(coord, seed_repo, base))


def test_a_commit_dated_in_the_future_is_not_believed(seed_repo: Path, coord: Coord) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    rewrite(
        seed_repo, model.REGISTRY, lambda d: d["instances"]["instance-2"].update(last_update="2099-01-01T00:00:00Z")
    )
    hand_commit(seed_repo, "heartbeat" + BY_2, date="2099-01-01T00:00:00Z")
    assert "time" in rules(verdict(coord, seed_repo, base))


@pytest.mark.parametrize("who", ["instance-2", "instance-5"])
def test_archiving_by_hand_an_open_task_is_refused(seed_repo: Path, coord: Coord, who: str) -> None:
    base = git(seed_repo, "rev-parse", "HEAD")
    queue = json.loads((seed_repo / "coordination" / model.TASKS).read_text())
    task = queue["pending_tasks"].pop(0)
    (seed_repo / "coordination" / model.TASKS).write_text(json.dumps(queue))
    shard = seed_repo / "coordination" / "archive" / "2024" / "01" / "15"
    shard.mkdir(parents=True)
    (shard / model.TASKS).write_text(json.dumps({"active_tasks": [], "pending_tasks": [task], "completed_tasks": []}))
    hand_commit(seed_repo, f"archive\n\nCoord-Instance: {who}")
    assert "archive" in rules(verdict(coord, seed_repo, base))


def test_a_range_judged_a_part_at_a_time_says_what_it_says_judged_whole(
    seed_repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year of history is judged in parts (`replay.PART` commits), so its trees are not all
    held at once; parts of one commit find the same findings, in the same order."""
    from gitcoord import replay

    base = git(seed_repo, "rev-parse", "HEAD")
    assert coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001").code == 0
    rewrite(seed_repo, model.MESSAGES, forge_message)
    hand_commit(seed_repo, "a rewritten message\n\nCoord-Instance: instance-3")
    assert coord(seed_repo, "--as", "instance-1", "checkin").code == 0
    whole = verdict(coord, seed_repo, base)
    assert not whole["valid"]
    assert "immutable" in rules(whole)
    monkeypatch.setattr(replay, "PART", 1)
    assert verdict(coord, seed_repo, base) == whole


def test_an_empty_range_says_it_checked_no_commit(seed_repo: Path, coord: Coord) -> None:
    """Not that a staged change keeps the rules: nothing was looked at."""
    result = coord(seed_repo, "check", "--range", "HEAD..HEAD")
    assert (result.code, result.out) == (0, "ok: 0 commit(s) checked\n")
