"""The merge driver installed in real clones, through git merge, rebase, cherry-pick and stash."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from testing.repos import bare_remote
from testing.repos import commit_msg_002_by_hand
from testing.repos import git
from tests.conftest import Coord

from gitcoord import model


class Clones:
    """Two clones of one coordination repository, each with the driver installed."""

    def __init__(self, tmp: Path, coord: Coord) -> None:
        self.coord = coord
        remote = bare_remote(tmp / "remote.git")
        self.a = tmp / "a"
        git(tmp, "init", "-q", "-b", "main", str(self.a))
        self.run(self.a, "init", "--example", "--branch", "main")
        git(self.a, "remote", "add", "origin", str(remote))
        git(self.a, "push", "-q", "origin", "main")
        self.b = tmp / "b"
        git(tmp, "clone", "-q", str(remote), str(self.b))
        self.run(self.b, "install")
        for clone in (self.a, self.b):  # steps stay in each clone: git's own merges move them here
            git(clone, "config", "coord.sync", "false")

    def run(self, where: Path, *args: str) -> str:
        result = self.coord(where, *args)
        assert result.code == 0, result
        return result.out.strip()

    def doc(self, where: Path, file: str) -> Any:
        return json.loads((where / "coordination" / file).read_text())

    def record(self, where: Path, file: str, rid: str) -> dict[str, Any]:
        coll = model.COLLECTIONS[file]
        doc = self.doc(where, file)
        return next(r for name in coll.lists for r in doc[name] if r[coll.id_key] == rid)


@pytest.fixture
def clones(tmp_path: Path, coord: Coord) -> Clones:
    return Clones(tmp_path, coord)


def _concurrent_work(c: Clones) -> None:
    """Both clones change all four files at the same time, as six instances would."""
    c.run(c.a, "--as", "instance-1", "checkin")
    c.run(c.a, "--as", "instance-2", "task", "complete", "task_001")
    c.run(c.a, "--as", "instance-1", "task", "claim", "task_002")
    c.run(c.a, "--as", "instance-1", "msg", "reply", "msg_001", "--body", "REST, please")
    c.run(c.a, "--as", "instance-1", "decision", "input", "dec_002", "--option", "REST API")
    git(c.a, "push", "-q", "origin", "main")
    c.run(c.b, "--as", "instance-3", "checkin")
    c.run(c.b, "--as", "instance-2", "task", "complete", "task_001")
    c.run(c.b, "--as", "instance-5", "task", "claim", "task_002")  # loses: instance-1 claimed first
    c.run(
        c.b,
        "--as",
        "instance-3",
        "msg",
        "send",
        "--to",
        "instance-6",
        "--subject",
        "Auth?",
        "--body",
        "JWT?",
        "--requires-response",
    )
    c.run(c.b, "--as", "instance-3", "decision", "input", "dec_002", "--option", "GraphQL Federation")


def _assert_merged(c: Clones, where: Path) -> None:
    assert git(where, "ls-files", "-u") == ""
    assert c.coord(where, "validate").code == 0
    registry = c.doc(where, model.REGISTRY)["instances"]
    assert registry["instance-1"]["status"] == registry["instance-3"]["status"] == "active"
    task = c.record(where, model.TASKS, "task_002")
    assert (task["assigned_to"], task["contested"][0]["assigned_to"]) == ("instance-1", "instance-5")
    log = c.doc(where, model.MESSAGES)
    assert len(log["messages"]) == 3
    assert [e["from"] for e in log["response_queue"]] == ["instance-6"]
    assert {i["from"] for i in c.record(where, model.DECISIONS, "dec_002")["inputs"]} == {"instance-1", "instance-3"}


def test_git_merge_merges_all_four_files(clones: Clones) -> None:
    _concurrent_work(clones)
    base = git(clones.b, "rev-parse", "HEAD~5")
    done = subprocess.run(
        ["git", "-c", "coord.instance=instance-5", "pull", "--no-rebase", "--no-edit", "origin", "main"],
        cwd=clones.b,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "coordination/task-queue.json: task_002: instance-5 (assigned) lost to instance-1 (assigned)" in done.stderr
    _assert_merged(clones, clones.b)
    assert clones.coord(clones.b, "check", "--range", f"{base}..HEAD").code == 0


def test_git_rebase_replays_with_the_driver(clones: Clones) -> None:
    _concurrent_work(clones)
    git(clones.b, "fetch", "-q", "origin")
    done = subprocess.run(["git", "rebase", "origin/main"], cwd=clones.b, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_merged(clones, clones.b)
    replayed = git(clones.b, "log", "--format=%s", "origin/main..HEAD")
    for event in (
        "instance-3 checks in",
        "instance-5 claims task_002",
        "instance-3 asks instance-6",
        "instance-3 gives input on dec_002",
    ):
        assert event in replayed


def test_git_cherry_pick_uses_the_driver(clones: Clones) -> None:
    _concurrent_work(clones)
    git(clones.b, "fetch", "-q", "origin")
    reply = git(clones.b, "log", "--format=%H", "--grep", "answers msg_001", "origin/main")
    git(clones.b, "cherry-pick", reply)
    assert git(clones.b, "ls-files", "-u") == ""
    messages = clones.doc(clones.b, model.MESSAGES)["messages"]
    assert {m["from"] for m in messages} == {"instance-1", "instance-2", "instance-3"}
    assert clones.coord(clones.b, "validate").code == 0


def test_git_stash_apply_uses_the_driver(clones: Clones) -> None:
    clones.run(clones.a, "--as", "instance-4", "checkin")
    git(clones.a, "push", "-q", "origin", "main")
    path = clones.b / "coordination" / model.REGISTRY
    registry = json.loads(path.read_text())
    registry["instances"]["instance-6"]["expertise_areas"].append("threat-modelling")
    path.write_text(json.dumps(registry, indent=2))
    git(clones.b, "stash")
    git(clones.b, "pull", "-q", "--ff-only", "origin", "main")
    git(clones.b, "stash", "apply")
    assert git(clones.b, "ls-files", "-u") == ""
    merged = clones.doc(clones.b, model.REGISTRY)["instances"]
    assert merged["instance-4"]["status"] == "active"
    assert "threat-modelling" in merged["instance-6"]["expertise_areas"]


def test_a_conflict_leaves_valid_json_for_a_person_to_resolve(clones: Clones) -> None:
    commit_msg_002_by_hand(clones.a, "Ship on Friday")
    git(clones.a, "push", "-q", "origin", "main")
    commit_msg_002_by_hand(clones.b, "Hold the release")
    done = subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit", "origin", "main"],
        cwd=clones.b,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "CONFLICT in msg_002.message: both sides wrote msg_002 with a different message" in done.stderr
    text = (clones.b / "coordination" / model.MESSAGES).read_text()
    assert "<<<<<<<" not in text
    conflicts = json.loads(text)["merge_conflicts"]
    assert conflicts[0]["values"] == ["Hold the release", "Ship on Friday"]
    refused = clones.coord(clones.b, "validate")
    assert refused.code == 1
    assert "unresolved merge conflict in msg_002.message" in refused.out
    listing = clones.run(clones.b, "resolve")
    assert "msg_002 message: both sides wrote msg_002" in listing
    # Each candidate says whose it is: this clone's (ours) or the one merged in (theirs).
    ours, theirs = git(clones.b, "rev-parse", "HEAD"), git(clones.b, "rev-parse", "MERGE_HEAD")
    assert f'1 (ours, instance-2 in {ours[:12]}): "Hold the release"' in listing
    assert f'2 (theirs, instance-2 in {theirs[:12]}): "Ship on Friday"' in listing
    [entry] = json.loads(clones.run(clones.b, "resolve", "--json"))["data"]
    assert [s["side"] for s in entry["sides"]] == ["ours", "theirs"]
    assert [s["commit"] for s in entry["sides"]] == [ours, theirs]
    for bad in ("NaN", '"\\ud800"', "[1,"):
        refused = clones.coord(clones.b, "resolve", "msg_002", "message", "--value", bad)
        assert refused.code == 1, refused
        assert "--value must be JSON" in refused.err
    clones.run(clones.b, "resolve", "msg_002", "message", "--pick", "2")
    assert clones.coord(clones.b, "validate").code == 0
    assert git(clones.b, "ls-files", "-u") == ""
    git(clones.b, "-c", "coord.instance=instance-2", "commit", "-q", "--no-edit")
    assert clones.record(clones.b, model.MESSAGES, "msg_002")["message"] == "Ship on Friday"
    # Settled either way, one of the two sent messages would be gone: CI refuses the merge, and
    # this clone's msg_002 takes a new id on its own line first.
    checked = clones.coord(clones.b, "check", "--range", "HEAD~2..HEAD")
    assert checked.code == 1, checked
    assert "msg_002 exists, made before, on the line this merge joins" in checked.out


def test_a_change_slipped_into_a_merge_is_caught(clones: Clones) -> None:
    _concurrent_work(clones)
    git(clones.b, "fetch", "-q", "origin")
    git(clones.b, "merge", "-q", "--no-commit", "origin/main")
    path = clones.b / "coordination" / model.TASKS
    text = path.read_text().replace('"title": "Design Agent UI/UX Interface"', '"title": "Rewritten while merging"')
    path.write_text(text)
    git(clones.b, "-c", "coord.instance=instance-5", "commit", "-qa", "--no-verify", "--no-edit")
    result = clones.coord(clones.b, "check", "--range", "HEAD~6..HEAD", "--json")
    assert result.code == 1
    findings = json.loads(result.out)["data"]["findings"]
    assert [(f["rule"], f["message"]) for f in findings] == [
        ("authorization", "instance-5 may not change its title on task_003; the human coordinator (human) may")
    ]


def test_without_the_driver_git_merges_as_text_and_doctor_says_so(clones: Clones) -> None:
    git(clones.b, "config", "--remove-section", "merge.coord")  # a fresh clone that never ran `coord install`
    (clones.b / ".git" / "info" / "attributes").write_text("")
    doctor = clones.coord(clones.b, "doctor", "--driver")
    assert doctor.code == 1
    assert "not registered in this clone" in doctor.out
    commit_msg_002_by_hand(clones.a, "one")
    git(clones.a, "push", "-q", "origin", "main")
    commit_msg_002_by_hand(clones.b, "two", verify=False)  # the coord-merge-driver hook refuses this clone's commits
    subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit", "origin", "main"], cwd=clones.b, capture_output=True, check=False
    )
    result = clones.coord(clones.b, "validate")
    assert result.code == 1
    assert "git conflict marker" in result.out
    assert "conflict markers" in clones.coord(clones.b, "doctor").out


def _driver(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitcoord", "merge-driver", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_a_side_that_does_not_parse_falls_back_to_a_text_merge(tmp_path: Path) -> None:
    base, ours, theirs = (tmp_path / n for n in ("base", "ours", "theirs"))
    base.write_text('{"messages": [], "response_queue": []}\n')
    ours.write_text('{"messages": [], "response_queue": [],}\n')
    theirs.write_text('{"messages": [], "response_queue": []}\n\n')
    done = _driver(str(base), str(ours), str(theirs), "coordination/communication-log.json", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot merge as JSON: a side does not parse" in done.stderr
    merged = ours.read_text()  # git's text merge: both sides kept, between markers for a person
    assert merged.startswith("<<<<<<< ours\n" + '{"messages": [], "response_queue": [],}\n')
    assert '{"messages": [], "response_queue": []}\n' in merged


def test_the_path_is_a_label_never_a_command(tmp_path: Path) -> None:
    for side in ("base", "ours", "theirs"):
        (tmp_path / side).write_text('{"decisions": [], "pending_decisions": []}\n')
    label = "coordination/$(touch pwned); touch pwned2 `touch pwned3`/decisions.json"
    done = _driver("base", "ours", "theirs", label, cwd=tmp_path)
    assert done.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base", "ours", "theirs"]


def test_an_empty_base_means_both_sides_added_the_file(clones: Clones) -> None:
    for where in (clones.a, clones.b):
        git(where, "rm", "-q", f"coordination/{model.DECISIONS}")
        git(where, "-c", "coord.instance=human", "commit", "-q", "--no-verify", "-m", "drop decisions")
    # Deleting and re-creating a store file breaks the rules (the push hook would refuse it); what
    # this checks is the driver's reading of an empty base, so the pushes skip the hook.
    git(clones.a, "push", "-q", "--no-verify", "origin", "main")
    git(clones.b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    for where, option in ((clones.a, "A"), (clones.b, "B")):
        doc = {
            "decisions": [],
            "pending_decisions": [
                {"decision_id": f"dec_{option.lower()}", "title": option, "options": [{"option": "x"}, {"option": "y"}]}
            ],
        }
        (where / "coordination" / model.DECISIONS).write_text(json.dumps(doc))
        git(where, "add", "-A")
        git(where, "-c", "coord.instance=human", "commit", "-q", "--no-verify", "-m", f"add decision {option}")
        if where == clones.a:
            git(where, "push", "-q", "--no-verify", "origin", "main")
    git(clones.b, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    assert git(clones.b, "ls-files", "-u") == ""
    ids = [d["decision_id"] for d in clones.doc(clones.b, model.DECISIONS)["pending_decisions"]]
    assert ids == ["dec_a", "dec_b"]


def test_the_driver_starts_without_the_command_line_framework(tmp_path: Path) -> None:
    for side in ("base", "ours", "theirs"):
        (tmp_path / side).write_text('{"decisions": [], "pending_decisions": []}\n')
    done = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "gitcoord",
            "merge-driver",
            "base",
            "ours",
            "theirs",
            "coordination/decisions.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert "click" not in imported
    assert "jsonschema" not in imported
    assert "jsonschema_rs" not in imported
