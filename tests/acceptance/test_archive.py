"""coord archive: old closed records move to coordination/archive/, and nothing breaks."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from testing.repos import git
from tests.conftest import Coord

from gitcoord import model

LATER = "2030-01-01T00:00:00Z"
# What is due at LATER (archive_after_days 2) moves into the shard of the last day it covers.
SHARD = "archive/2029/12/29"


@pytest.fixture
def worked(seed_repo: Path, coord: Coord) -> Path:
    """The seed after its examples: task_001 done, msg_001 answered and closed, dec_002 decided."""
    for who, *args in (
        ("instance-2", "task", "complete", "task_001"),
        ("instance-1", "msg", "reply", "msg_001", "--body", "REST"),
        ("instance-2", "msg", "ack", "msg_001"),
        ("human", "decision", "assign", "dec_002", "instance-2"),
        ("instance-2", "decision", "decide", "dec_002", "--option", "REST API", "--rationale", "simple", "--force"),
    ):
        assert coord(seed_repo, "--as", who, *args).code == 0
    return seed_repo


def _doc(repo: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo / "coordination" / name).read_text())
    return data


def test_old_closed_records_move_and_the_store_stays_valid(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = git(worked, "rev-parse", "HEAD")
    monkeypatch.setenv("COORD_NOW", LATER)
    dry = json.loads(coord(worked, "--as", "human", "archive", "--dry-run", "--json").out)["data"]
    assert dry["would_archive"][model.TASKS] == [], "task_002 and task_003 still depend on task_001"
    assert len(dry["would_archive"][model.MESSAGES]) == 2
    assert dry["would_archive"][model.DECISIONS] == ["dec_001", "dec_002"]
    assert git(worked, "rev-parse", "HEAD") == start, "a dry run moves nothing"
    result = coord(worked, "--as", "human", "archive")
    assert result.code == 0, result
    assert "human archives 2 messages, 2 decisions closed before" in result.out
    assert _doc(worked, model.MESSAGES)["messages"] == []
    assert [d["decision_id"] for d in _doc(worked, f"{SHARD}/decisions.json")["decisions"]] == ["dec_001", "dec_002"]
    assert not (worked / "coordination" / SHARD / model.TASKS).exists()
    assert coord(worked, "validate").code == 0
    assert coord(worked, "check", "--range", f"{start}..HEAD").code == 0
    assert coord(worked, "status").code == 0


def test_references_to_archived_records_stay_valid(worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COORD_NOW", LATER)
    assert coord(worked, "--as", "human", "archive").code == 0
    path = worked / "coordination" / model.MESSAGES
    log = json.loads(path.read_text())
    follow_up = {
        "message_id": "msg_900",
        "from": "instance-2",
        "to": "instance-1",
        "type": "consultation_response",
        "timestamp": LATER,
        "subject": "Re: API Design",
        "message": "As decided in dec_002.",
        "requires_response": False,
        "context": {"related_task": "task_002", "related_decision": "dec_002", "related_files": []},
        "status": "sent",
        "in_reply_to": "msg_001",
    }
    log["messages"].append(follow_up)
    path.write_text(json.dumps(log))
    assert coord(worked, "validate").code == 0, "msg_001 and dec_002 resolve in the archive"
    follow_up["in_reply_to"] = "msg_404"
    path.write_text(json.dumps(log))
    result = coord(worked, "validate")
    assert result.code == 1
    assert "'msg_404' is not a record in communication-log.json" in result.out


def test_a_task_moves_once_nothing_live_depends_on_it(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    for who, *args in (
        ("instance-1", "task", "claim", "task_002"),
        ("instance-1", "task", "start", "task_002"),
        ("instance-1", "task", "complete", "task_002"),
        ("instance-3", "task", "claim", "task_003"),
        ("instance-3", "task", "start", "task_003"),
        ("instance-3", "task", "complete", "task_003"),
    ):
        assert coord(worked, "--as", who, *args).code == 0
    monkeypatch.setenv("COORD_NOW", LATER)
    assert coord(worked, "--as", "human", "archive").code == 0
    archived = _doc(worked, f"{SHARD}/task-queue.json")["completed_tasks"]
    assert [t["task_id"] for t in archived] == ["task_001", "task_002", "task_003"]
    assert coord(worked, "validate").code == 0


def test_nothing_to_archive(seed_repo: Path, coord: Coord) -> None:
    result = coord(seed_repo, "--as", "human", "archive", "--older-than", "100000")
    assert result.code == 1
    assert "nothing to archive" in result.err


def test_the_archive_does_not_change_by_hand(worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COORD_NOW", LATER)
    assert coord(worked, "--as", "human", "archive").code == 0
    path = worked / "coordination" / SHARD / model.DECISIONS
    path.write_text(path.read_text().replace('"decision": "REST API"', '"decision": "GraphQL Federation"'))
    done = subprocess.run(
        ["git", "-c", "coord.instance=human", "commit", "-qam", "rewrite history"],
        cwd=worked,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "archived dec_002 changed; archived records never change" in done.stdout


def test_a_cut_off_later_than_the_policy_allows_is_moved_back_and_said(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORD_NOW", LATER)
    dry = coord(worked, "--as", "human", "archive", "--older-than", "0", "--dry-run", "--json")
    said = json.loads(dry.out)
    assert said["data"]["before"] == "2029-12-30T00:00:00Z"
    [note] = said["notes"]
    assert "the cut-off asked, 2030-01-01T00:00:00Z, is later than the policy allows" in note
    assert "so it is 2029-12-30T00:00:00Z" in note
    done = json.loads(coord(worked, "--as", "human", "archive", "--older-than", "0", "--json").out)
    assert done["ok"]
    assert any("later than the policy allows" in n for n in done["notes"])
    plain = json.loads(coord(worked, "--as", "human", "archive", "--dry-run", "--json").out)
    assert plain["notes"] == [], "the policy's own cut-off needs no note"


def test_a_record_both_live_and_in_a_dated_shard_is_invalid(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COORD_NOW", LATER)
    assert coord(worked, "--as", "human", "archive").code == 0
    archived = _doc(worked, f"{SHARD}/decisions.json")["decisions"][0]
    live = _doc(worked, model.DECISIONS)
    live["decisions"] = [*live["decisions"], archived]
    (worked / "coordination" / model.DECISIONS).write_text(json.dumps(live, indent=2) + "\n")
    result = coord(worked, "validate")
    assert result.code == 1, result
    assert f"{archived['decision_id']} is both live and archived" in result.out
    assert "decisions.json:" in result.out
    assert "[duplicate-id]" in result.out


def _archived_task(repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch, *, done: bool) -> tuple[str, str]:
    """A task of instance-1's, completed or cancelled and archived; then another of its tasks made
    to depend on it, by hand (a creator's lawful edit; the command takes only live dependencies).
    Returns (the archived task, the task that waits for it)."""

    def run(who: str, *args: str) -> str:
        result = coord(repo, "--as", who, *args)
        assert result.code == 0, result
        return result.out.strip()

    dep = run("instance-1", "task", "add", "Done long ago")
    if done:
        for step in ("claim", "start", "complete"):
            run("instance-1", "task", step, dep)
    else:
        run("instance-1", "task", "cancel", dep, "--reason", "not needed")
    waiting = run("instance-1", "task", "add", "Builds on it")
    monkeypatch.setenv("COORD_NOW", LATER)
    run("human", "archive")
    path = repo / "coordination" / model.TASKS
    assert dep not in path.read_text(), "it left the live file"
    queue = json.loads(path.read_text())
    next(t for t in queue["pending_tasks"] if t["task_id"] == waiting)["dependencies"] = [dep]
    path.write_text(json.dumps(queue))
    git(repo, "commit", "-qam", "it builds on the old one\n\nCoord-Instance: instance-1", "--no-verify")
    return dep, waiting


def test_a_dependency_archived_completed_is_done(worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    start = git(worked, "rev-parse", "HEAD")
    _, waiting = _archived_task(worked, coord, monkeypatch, done=True)
    ready = json.loads(coord(worked, "task", "ready", "--json").out)["data"]
    assert waiting in [t["task_id"] for t in ready]
    assert coord(worked, "--as", "instance-2", "task", "claim", waiting).code == 0
    assert coord(worked, "--as", "instance-2", "task", "start", waiting).code == 0
    health = json.loads(coord(worked, "health", "--json").out)["data"]
    invalid = [f for f in health["findings"] if f["rule"] == "invalid"]
    assert invalid == [], "the health check reads the archive too"
    assert coord(worked, "check", "--range", f"{start}..HEAD").code == 0


def test_a_dependency_archived_cancelled_is_never_done(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = git(worked, "rev-parse", "HEAD")
    dep, waiting = _archived_task(worked, coord, monkeypatch, done=False)
    claimed = coord(worked, "--as", "instance-2", "task", "claim", waiting)
    assert claimed.code == 1
    assert f"it waits for {dep} (cancelled, archived)" in claimed.err
    # By hand, past the hooks: the task taken and started all the same.
    path = worked / "coordination" / model.TASKS
    queue = json.loads(path.read_text())
    task = next(t for t in queue["pending_tasks"] if t["task_id"] == waiting)
    queue["pending_tasks"].remove(task)
    queue["active_tasks"].append({**task, "status": "in_progress", "assigned_to": "instance-1", "assigned_at": LATER})
    path.write_text(json.dumps(queue))
    validated = coord(worked, "validate")
    assert validated.code == 1
    assert f"{waiting} is in_progress but its dependency {dep} is cancelled, archived" in validated.out
    git(worked, "commit", "-qam", "start it by hand\n\nCoord-Instance: instance-1", "--no-verify")
    checked = coord(worked, "check", "--range", f"{start}..HEAD")
    assert checked.code == 1
    assert f"its dependency {dep} is cancelled, archived" in checked.out


def test_an_archived_message_is_answered_by_no_one(worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its thread is over, and whom it was sent to is no longer at hand: an answer by hand, in the
    name of anyone, is refused (that msg_001 went to instance-1 cannot be checked any more)."""
    monkeypatch.setenv("COORD_NOW", LATER)
    assert coord(worked, "--as", "human", "archive").code == 0
    start = git(worked, "rev-parse", "HEAD")
    _answer_by_hand(worked, "msg_901", "instance-3", "consultation_response", "instance-1 says: GraphQL.")
    git(worked, "commit", "-qam", "answer it by hand\n\nCoord-Instance: instance-3", "--no-verify")
    checked = coord(worked, "check", "--range", f"{start}..HEAD")
    assert checked.code == 1, checked
    assert "instance-3 may not answer msg_001, which is archived: its thread is closed" in checked.out


def test_a_dependency_stays_live_while_its_dependent_does_even_in_the_commit_that_claims_it(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One commit that moves a completed task to the archive and claims a task that waits for it
    is refused for the archive, not for the claim: the task it waits for is done either way (the
    archive takes it as is), but a task stays live while a live task depends on it, as `coord
    archive` keeps it, so that whether a task can start is answered from the live files."""
    start = git(worked, "rev-parse", "HEAD")
    path = worked / "coordination" / model.TASKS
    queue = json.loads(path.read_text())
    done = next(t for t in queue["completed_tasks"] if t["task_id"] == "task_001")
    queue["completed_tasks"].remove(done)
    waiting = next(t for t in queue["pending_tasks"] if t["task_id"] == "task_002")
    queue["pending_tasks"].remove(waiting)
    queue["active_tasks"].append({**waiting, "status": "assigned", "assigned_to": "instance-1", "updated": LATER})
    path.write_text(json.dumps(queue))
    shard = worked / "coordination" / model.archive_of(model.TASKS)
    shard.parent.mkdir(exist_ok=True)
    shard.write_text(json.dumps({"pending_tasks": [], "active_tasks": [], "completed_tasks": [done]}))
    git(worked, "add", "-A", "coordination")
    monkeypatch.setenv("COORD_NOW", LATER)
    later = {"GIT_COMMITTER_DATE": LATER, "GIT_AUTHOR_DATE": LATER}

    def commit(subject: str, *more: str) -> None:
        git(worked, "commit", "-qam", f"{subject}\n\nCoord-Instance: instance-1", "--no-verify", *more, env=later)

    commit("archive task_001, claim task_002")
    checked = coord(worked, "check", "--range", f"{start}..HEAD")
    assert checked.code == 1, checked
    assert "task_001 is what task_002 waits for: a task stays live while a live task depends on it" in checked.out
    assert "not ready" not in checked.out, "the claim itself is lawful: what it waits for is completed"
    # Deleted rather than archived, it is no dependency done: the deletion is what is refused.
    shard.unlink()
    commit("without the archive", "--amend")
    checked = coord(worked, "check", "--range", f"{start}..HEAD")
    assert checked.code == 1
    assert "task_001 was deleted" in checked.out


def test_an_archived_thread_is_answered_by_no_side_line_grown_from_before_it_left(
    worked: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a line grown from before msg_001 was archived, its thread is still there to answer;
    merged into the line that archived it, the answer is refused as it is on that line."""
    monkeypatch.setenv("COORD_NOW", LATER)
    later = {"GIT_COMMITTER_DATE": LATER, "GIT_AUTHOR_DATE": LATER}
    start = git(worked, "rev-parse", "HEAD")
    git(worked, "checkout", "-q", "-b", "side")
    _answer_by_hand(worked, "msg_902", "instance-1", "notification", "correction: NOT REST")
    git(worked, "commit", "-qam", "a word more, on a side line\n\nCoord-Instance: instance-1", "--no-verify", env=later)
    git(worked, "checkout", "-q", "main")
    assert coord(worked, "--as", "human", "archive").code == 0
    git(worked, "merge", "-q", "--no-edit", "side", "-m", "merge\n\nCoord-Instance: instance-1", env=later)
    checked = coord(worked, "check", "--range", f"{start}..HEAD")
    assert checked.code == 1, checked
    assert "msg_902 answers msg_001, which the line this merge joins archived: its thread is closed" in checked.out


@pytest.mark.parametrize(
    "padded",
    [None, "empty", "note"],
    ids=["merged", "an-empty-commit-dated-back-on-top", "a-note-beside-the-store-dated-back-on-top"],
)
def test_a_close_dated_back_through_an_old_parent_still_waits_on_the_line(
    repo: Path, coord: Coord, monkeypatch: pytest.MonkeyPatch, padded: str | None
) -> None:
    """A side line grown from a commit of four days ago may date a close back to then (its floor is
    its own parent's); merged today, the task looks closed for four days. The line held it in
    progress two days ago, and the archive's wait counts on the line: it stays live. An empty
    commit dated back on top of the line (no rule dates what changes nothing), nor one of a note
    beside the store, is a witness."""
    then = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=4)
    monkeypatch.setenv("COORD_NOW", _stamp(then))
    assert coord(repo, "init", "--example", "--branch", "main").code == 0
    made = coord(repo, "--as", "human", "task", "add", "Ship it", "--json")
    task = json.loads(made.out)["data"]["record"]["task_id"]
    for step in ("claim", "start"):
        assert coord(repo, "--as", "instance-1", "task", step, task).code == 0
    old = git(repo, "rev-parse", "HEAD")
    monkeypatch.delenv("COORD_NOW")
    assert coord(repo, "--as", "instance-3", "checkin").code == 0  # the line moves on, today
    start = git(repo, "rev-parse", "HEAD")
    back = _stamp(then + dt.timedelta(minutes=1))
    git(repo, "checkout", "-q", "-b", "side", old)
    path = repo / "coordination" / model.TASKS
    queue = json.loads(path.read_text())
    held = next(t for t in queue["active_tasks"] if t["task_id"] == task)
    queue["active_tasks"].remove(held)
    queue["completed_tasks"].append({**held, "status": "completed", "updated": back})
    path.write_text(json.dumps(queue))
    dated = {"GIT_COMMITTER_DATE": back, "GIT_AUTHOR_DATE": back}
    git(repo, "commit", "-qam", "done, four days ago\n\nCoord-Instance: instance-1", "--no-verify", env=dated)
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "side", "-m", "merge\n\nCoord-Instance: instance-1")
    if padded == "note":  # on the code branch, a file beside the store is code, and no rule dates it
        (repo / "coordination" / "NOTES.md").write_text("four days ago\n")
        git(repo, "add", "coordination/NOTES.md")
    if padded:
        git(repo, "commit", "-q", "--allow-empty", "--no-verify", "-m", "nothing, four days ago", env=dated)
    assert coord(repo, "--as", "human", "archive").code == 0
    assert task not in path.read_text(), "its stamp says it is due: `coord archive` moved it"
    checked = coord(repo, "check", "--range", f"{start}..HEAD")
    assert checked.code == 1, checked
    assert f"{task} was in_progress on this line 2 days before this commit" in checked.out, checked.out


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _answer_by_hand(repo: Path, mid: str, sender: str, kind: str, text: str) -> None:
    """A message to instance-2 in msg_001's thread, written into the log by hand (not committed)."""
    path = repo / "coordination" / model.MESSAGES
    log = json.loads(path.read_text())
    log["messages"].append(
        {
            "message_id": mid,
            "from": sender,
            "to": "instance-2",
            "type": kind,
            "timestamp": LATER,
            "subject": "Re: API Design",
            "message": text,
            "requires_response": False,
            "status": "sent",
            "in_reply_to": "msg_001",
        }
    )
    path.write_text(json.dumps(log))
