"""The specification's workflow examples, played with six instances from the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from testing.repos import files_in
from testing.repos import git
from tests.conftest import Coord
from tests.conftest import Result

from gitcoord import model


class Team:
    """Instances taking turns in one repository, each command checked as it goes."""

    def __init__(self, repo: Path, coord: Coord) -> None:
        self.repo = repo
        self.coord = coord

    def __call__(self, who: str, *args: str, stdin: str | None = None) -> str:
        result = self.coord(self.repo, "--as", who, *args, stdin=stdin)
        assert result.code == 0, result
        assert self.coord(self.repo, "validate").code == 0
        assert git(self.repo, "status", "--porcelain") == "", "the checkout follows the shared branch"
        return result.out.strip()

    def refused(self, who: str, *args: str) -> Result:
        head = git(self.repo, "rev-parse", "HEAD")
        before = files_in(self.repo)
        result = self.coord(self.repo, "--as", who, *args)
        assert result.code == 1, result
        assert result.err.startswith("error: "), result
        assert git(self.repo, "rev-parse", "HEAD") == head, "a refused step commits nothing"
        assert files_in(self.repo) == before
        return result

    def json(self, who: str, *args: str) -> Any:
        return json.loads(self(who, *args, "--json"))["data"]

    def doc(self, file: str) -> Any:
        return json.loads((self.repo / "coordination" / file).read_text())

    def task(self, task_id: str) -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(self.coord(self.repo, "task", "show", task_id, "--json").out)["data"]
        return shown


@pytest.fixture
def team(seed_repo: Path, coord: Coord) -> Team:
    return Team(seed_repo, coord)


def events(repo: Path, n: int) -> list[str]:
    return git(repo, "log", f"-{n}", "--format=%s").splitlines()[::-1]


def test_example_1_new_feature_development(team: Team) -> None:
    # 1-4. Instance-2 identifies the need, works on task_001 (the seed), and finishes the design.
    briefing = team("instance-2", "checkin")
    assert "Your tasks:\n  task_001  in_progress" in briefing
    team("instance-2", "task", "complete", "task_001")
    # 5. It creates the backend task (the seed's task_002 already exists; this is a follow-up).
    backend = team(
        "instance-2",
        "task",
        "add",
        "Implement agent registry API",
        "--priority",
        "high",
        "--depends",
        "task_001",
        "--expertise",
        "api-design",
        "--suggest",
        "instance-1",
        "--deliverable",
        "src/api/registry.py",
    )
    assert backend.startswith("task_")
    # 6. It consults instance-1 about the API design (the seed's msg_001 is that request).
    # 7. Instance-1 checks in, sees the question, and answers in the thread.
    briefing = team("instance-1", "checkin")
    assert (
        "Waiting for your answer (coord msg reply MSG --body-file -):\n  msg_001  instance-2 -> instance-1" in briefing
    )
    assert "Ready for you to claim (coord task claim TASK):\n  task_002" in briefing
    assert backend in briefing
    answer = team(
        "instance-1",
        "msg",
        "reply",
        "msg_001",
        "--body-file",
        "-",
        stdin="REST with clear resources;\nGraphQL later if fan-out grows.",
    )
    assert answer.startswith("msg_")
    team("instance-1", "task", "claim", "task_002")
    team("instance-1", "task", "start", "task_002")
    assert team.doc(model.REGISTRY)["instances"]["instance-1"]["current_task"] == "task_002"
    # 8. Instance-2 reads the answer, updates the design, and closes the thread.
    assert (
        "Answers to your questions (each stays until you ack it or its question: coord msg ack MSG):\n  " + answer
        in team("instance-2", "inbox")
    )
    team("instance-2", "msg", "ack", "msg_001")
    log = team.doc(model.MESSAGES)
    assert [m["status"] for m in log["messages"] if m["message_id"] in ("msg_001", answer)] == [
        "closed",
        "acknowledged",
    ]
    assert log["response_queue"] == []
    # 9. It creates task_003's sibling for the frontend and offers it to instance-3.
    ui = team("instance-2", "task", "add", "Agent dashboard", "--depends", backend, "--expertise", "react")
    team("instance-2", "task", "assign", ui, "instance-3")
    offered = "Offered to you (coord task accept TASK, or coord task decline TASK --reason ...):\n  " + ui
    assert offered in team("instance-3", "checkin")
    team("instance-3", "task", "accept", ui)
    assert team.task(ui)["status"] == "assigned"
    # 10. The process continues: the log tells the story, one commit per step.
    assert events(team.repo, 3) == [
        f"coord(task): instance-2 offers {ui} to instance-3",
        "coord(instance): instance-3 checks in",
        f"coord(task): instance-3 accepts {ui}",
    ]
    story = team("instance-1", "log", "--subject", "msg_001")
    assert "instance-2 closes msg_001" in story.splitlines()[0]
    trailers = git(team.repo, "log", "-1", "--format=%(trailers)")
    assert trailers == f"Coord-Event: task.accept\nCoord-Instance: instance-3\nCoord-Subject: {ui}"


def test_example_2_cross_instance_problem_solving(team: Team) -> None:
    # 1-2. Instance-2 has dec_002 in decisions.json and needs input from instance-1 and instance-3.
    assert "Decisions needing your input:\n  dec_002" in team("instance-1", "checkin")
    # 3-4. Each analyses from its perspective and gives input.
    team(
        "instance-1",
        "decision",
        "input",
        "dec_002",
        "--option",
        "GraphQL Federation",
        "--comment",
        "one endpoint scales with agent count",
    )
    team("instance-3", "decision", "input", "dec_002", "--option", "REST API", "--comment", "simpler for the UI")
    shown = team.json("instance-2", "decision", "show", "dec_002")
    assert shown["inputs_missing"] == []
    # 5. Instance-2 synthesizes and makes the final call; the inputs are kept. The specification's
    # dec_002 names nobody to decide it, so the human coordinator names instance-2 first.
    decide = ["decision", "decide", "dec_002", "--option", "REST API", "--rationale", "r"]
    assert "may not decide it" in team.refused("instance-2", *decide).err
    team("human", "decision", "assign", "dec_002", "instance-2")
    team(
        "instance-2",
        "decision",
        "decide",
        "dec_002",
        "--option",
        "REST API",
        "--rationale",
        "simplest to debug now; revisit at 10 agents",
    )
    made = next(d for d in team.doc(model.DECISIONS)["decisions"] if d["decision_id"] == "dec_002")
    assert (made["decision"], made["decided_by"], len(made["inputs"])) == ("REST API", ["instance-2"], 2)
    assert team.doc(model.DECISIONS)["pending_decisions"] == []
    # 6. All instances see what affects them.
    assert "Decisions that affect you:\n" in team("instance-3", "checkin")


def test_msg_list_shows_ones_own_messages_and_with_all_every_one(team: Team) -> None:
    between = team("instance-2", "msg", "send", "--to", "instance-3", "--subject", "between us", "--body", "b")
    to_all = team("instance-3", "msg", "send", "--to", "all", "--subject", "for everyone", "--body", "b")
    mine = [m["message_id"] for m in team.json("instance-1", "msg", "list")]
    assert "msg_001" in mine, mine
    assert to_all in mine, mine
    assert between not in mine, "another pair's thread is not mine"
    every = [m["message_id"] for m in team.json("instance-1", "msg", "list", "--all")]
    assert between in every
    assert set(mine) <= set(every)
    listed = team.json("instance-1", "msg", "list", "--all")
    assert [(m["timestamp"], m["message_id"]) for m in listed] == sorted(
        (m["timestamp"], m["message_id"]) for m in listed
    )
    open_ones = team.json("instance-1", "msg", "list", "--all", "--open")
    assert open_ones
    assert all(m["status"] in ("pending_response", "sent") for m in open_ones)
    assert "between us" in team("instance-1", "msg", "list", "--all")
    refused = team.refused("instance-1", "msg", "reply", "msg_nope", "--body", "x")
    assert "`coord msg list --all` shows them" in refused.err, refused.err


def test_disagreement_goes_to_the_human_coordinator(team: Team) -> None:
    team("instance-1", "decision", "input", "dec_002", "--option", "GraphQL Federation")
    team("instance-3", "decision", "input", "dec_002", "--option", "REST API", "--comment", "simpler")
    dec = team(
        "instance-1",
        "escalate",
        "dec_002",
        "--reason",
        "REST will not scale",
        "--position",
        "instance-2=wants REST to ship now",
    )
    assert dec == "dec_002"
    shown = team("human", "decision", "show", "dec_002")
    assert "escalated to human, who decides it" in shown
    assert re.search(r"escalated:\s+by instance-1 at \S+: REST will not scale", shown), shown
    # Another's position says who wrote it down: the human never reads instance-1's words as instance-2's.
    assert re.search(r"\s{2}instance-2 \(per instance-1\): wants REST to ship now$", shown, re.MULTILINE), shown
    assert "Escalations for you to resolve:\n  dec_002" in team("human", "inbox")
    refused = team.refused("instance-2", "decision", "decide", "dec_002", "--option", "REST API", "--rationale", "mine")
    assert "may not resolve it (escalated -> active) on dec_002; the human coordinator (human) may" in refused.err
    team(
        "human",
        "decision",
        "decide",
        "dec_002",
        "--option",
        "REST API",
        "--rationale",
        "ship now, revisit with load data",
    )
    decided = team("human", "decision", "list", "--decided")
    assert re.search(r"dec_002\s+decided\s+Agent Communication Protocol\s+-> REST API$", decided, re.MULTILINE), decided
    # None pending now: the list says so, and where the others are, not that there are none at all.
    assert team("human", "decision", "list") == "(no pending decisions; `--all` shows the 2 other(s))"
    # A task dispute too: recorded as a decision for the human, with both sides.
    dispute = team("instance-3", "escalate", "task_003", "--reason", "the UI should not wait for the backend")
    assert dispute.startswith("dec_")
    assert dispute != "dec_002"
    assert team.json("human", "decision", "show", dispute)["escalation"]["subject"] == "task_003"
    # The human decides it: asked to, not for an input to it, and not told that its own input is missing.
    kinds = {item["kind"] for item in team.json("human", "next")["items"] if item["id"] == dispute}
    assert kinds == {"escalation"}, kinds
    assert dispute not in {d["decision_id"] for d in team.json("human", "inbox")["decisions_needing_my_input"]}
    resolved = team.coord(
        team.repo, "--as", "human", "decision", "decide", dispute, "--option", "instance-3", "--rationale", "r"
    )
    assert resolved.code == 0, resolved
    assert "decided without input" not in resolved.err, resolved.err


@pytest.mark.parametrize(
    ("who", "args", "words"),
    [
        (
            "instance-3",
            ["task", "start", "task_002"],
            "nobody holds it: take it first with `coord task claim task_002`",
        ),
        ("instance-2", ["task", "start", "task_001"], "task_001 is in_progress; start needs it assigned or blocked"),
        ("instance-3", ["task", "claim", "task_002"], "task_002 is not ready: it waits for task_001 (in_progress)"),
        ("instance-3", ["task", "accept", "task_002"], "task_002 is pending_assignment; accept needs it offered"),
        (
            "instance-1",
            ["task", "complete", "task_001"],
            "instance-1 may not complete it (in_progress -> completed) on task_001; its holder (instance-2) may",
        ),
        ("instance-2", ["task", "add", "x", "--depends", "task_404"], "there is no task 'task_404'"),
        (
            "instance-2",
            ["task", "add", "x", "--deliverable", "../../etc/passwd"],
            "is not a path inside the repository",
        ),
        ("instance-3", ["msg", "reply", "msg_001", "--body", "me?"], "which was sent to instance-1"),
        ("instance-2", ["msg", "send", "--to", "ghost", "--subject", "s", "--body", "b"], "'ghost' is not registered"),
        ("instance-1", ["decision", "input", "dec_002", "--option", "SOAP"], "'SOAP' is not an option of dec_002"),
        (
            "instance-2",
            ["decision", "decide", "dec_002", "--option", "REST API", "--rationale", "r"],
            "ask the human to name who decides it (human)",
        ),
        (
            "instance-9",
            ["checkin"],
            "instance-9 is not registered; register it with `coord register instance-9 --role ROLE",
        ),
        ("instance-2", ["escalate", "nothing", "--reason", "r"], "not a task, message or decision id"),
    ],
)
def test_refusals_say_why_and_change_nothing(team: Team, who: str, args: list[str], words: str) -> None:
    assert words in team.refused(who, *args).err


def test_a_dependency_cycle_is_refused(team: Team) -> None:
    # `coord task edit` refuses a cycle (test_agent_input); a hand edit that makes one is refused by the hooks.
    path = team.repo / "coordination" / model.TASKS
    data = json.loads(path.read_text())
    data["active_tasks"][0]["dependencies"] = ["task_003"]
    path.write_text(json.dumps(data))
    assert "dependency cycle: task_001 -> task_003" in team.coord(team.repo, "validate").out


def test_identity_comes_from_flag_env_or_config(team: Team, monkeypatch: pytest.MonkeyPatch) -> None:
    no_one = team.coord(team.repo, "checkin")
    assert no_one.code == 1
    assert "once per clone: `coord install --as INSTANCE`" in no_one.err
    assert "or pass --as INSTANCE to each command" in no_one.err
    git(team.repo, "config", "coord.instance", "instance-4")
    assert team.coord(team.repo, "whoami").out.startswith(
        "instance-4, ai-ml-specialist, pending (from git config coord.instance)"
    )
    monkeypatch.setenv("COORD_INSTANCE", "instance-5")
    assert "(from COORD_INSTANCE)" in team.coord(team.repo, "whoami").out
    assert (
        json.loads(team.coord(team.repo, "whoami", "--as", "human", "--json").out)["data"]["human_coordinator"] is True
    )
    team("instance-6", "register", "instance-7", "--role", "qa-testing", "--expertise", "testing")
    assert team.doc(model.REGISTRY)["instances"]["instance-7"]["status"] == "pending"


def test_creating_commands_print_the_id_and_json_prints_the_record(team: Team) -> None:
    added = team.json("instance-2", "task", "add", "Write the README", "--priority", "low")
    record = added["record"]
    assert added["task_id"] == record["task_id"]
    assert record["task_id"].startswith("task_")
    assert record["status"] == "pending_assignment"
    envelope = team.json("instance-2", "task", "claim", record["task_id"])
    assert (envelope["event"], envelope["instance"], envelope["subject"]) == (
        "task.claim",
        "instance-2",
        record["task_id"],
    )
    assert envelope["commit"] == git(team.repo, "rev-parse", "HEAD")
    assert [t["task_id"] for t in team.json("instance-2", "task", "list", "--mine")] == ["task_001", record["task_id"]]
    ready = team.json("instance-2", "task", "ready")
    assert ready == []


def test_a_step_whose_text_cannot_be_written_is_refused_by_its_checks(seed_repo: Path, coord: Coord) -> None:
    """A lone surrogate (what the shell makes of bytes that are not UTF-8) cannot be written as
    UTF-8: the step's files, written while its checks run, wait for them, and they say why."""
    head = git(seed_repo, "rev-parse", "HEAD")
    send = ["--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", "\udcff", "--body", "b"]
    result = coord(seed_repo, *send)
    assert result.code == 1, result
    assert "subject: text holds a lone surrogate" in result.err
    assert "nothing was committed" in result.err
    assert git(seed_repo, "rev-parse", "HEAD") == head


def test_no_commit_stages_the_change_for_a_person(seed_repo: Path, coord: Coord) -> None:
    head = git(seed_repo, "rev-parse", "HEAD")
    result = coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001", "--no-commit")
    assert result.code == 0, result
    assert "staged, not committed" in result.out
    assert git(seed_repo, "rev-parse", "HEAD") == head
    assert git(seed_repo, "diff", "--cached", "--name-only") == "coordination/task-queue.json"
    # A step on another file goes ahead; one on the staged file would overwrite it, and is refused.
    assert coord(seed_repo, "--as", "instance-2", "checkin").code == 0
    assert git(seed_repo, "diff", "--cached", "--name-only") == "coordination/task-queue.json"
    refused = coord(seed_repo, "--as", "instance-2", "task", "add", "Another")
    assert refused.code == 1
    assert "uncommitted changes to files this step would update" in refused.err
    git(seed_repo, "-c", "coord.instance=instance-2", "commit", "-q", "-m", "instance-2 completes task_001")
    assert coord(seed_repo, "check", "--range", f"{head}..HEAD").code == 0, coord(
        seed_repo, "check", "--range", f"{head}..HEAD"
    )


def test_an_instance_on_a_feature_branch_coordinates_without_touching_its_checkout(
    seed_repo: Path, coord: Coord
) -> None:
    git(seed_repo, "checkout", "-q", "-b", "feature/ui")
    (seed_repo / "app.py").write_text("print('work in progress')\n")
    before = files_in(seed_repo)
    index = git(seed_repo, "ls-files", "--stage")
    assert coord(seed_repo, "--as", "instance-3", "task", "add", "Dashboard").code == 0
    assert files_in(seed_repo) == before
    assert git(seed_repo, "ls-files", "--stage") == index
    assert git(seed_repo, "rev-parse", "--abbrev-ref", "HEAD") == "feature/ui"
    assert "coord(task): instance-3 adds" in git(seed_repo, "log", "-1", "--format=%s", "main")


def test_a_worktree_on_the_shared_branch_follows(seed_repo: Path, coord: Coord, tmp_path: Path) -> None:
    git(seed_repo, "checkout", "-q", "-b", "feature/api")
    git(seed_repo, "worktree", "add", "-q", str(tmp_path / "shared"), "main")
    assert coord(seed_repo, "--as", "instance-2", "task", "complete", "task_001").code == 0
    assert git(tmp_path / "shared", "status", "--porcelain") == ""
    assert '"status": "completed"' in (tmp_path / "shared" / "coordination" / model.TASKS).read_text()
    (tmp_path / "shared" / "coordination" / model.MESSAGES).write_text("{}")
    refused = coord(seed_repo, "--as", "instance-1", "msg", "reply", "msg_001", "--body", "hi")
    assert refused.code == 1
    assert "uncommitted changes to files this step would update" in refused.err
    assert (tmp_path / "shared" / "coordination" / model.MESSAGES).read_text() == "{}"


def _break_by_hand(repo: Path, edit: Any) -> None:
    path = repo / "coordination" / model.TASKS
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc, indent=2))
    git(repo, "commit", "-q", "--no-verify", "-am", "broken by hand, past the hooks")


def test_a_record_broken_by_hand_blocks_only_steps_that_touch_it(team: Team) -> None:
    _break_by_hand(team.repo, lambda d: d["active_tasks"][0].update(priority="urgent!!"))  # task_001
    result = team.coord(team.repo, "--as", "instance-2", "task", "add", "Unrelated work")
    assert result.code == 0, "a step is not blamed for what was broken before it"
    refused = team.refused("instance-2", "task", "complete", "task_001")
    assert '$.completed_tasks[0].priority: "urgent!!" is not one of: high, medium, low' in refused.err
    assert "nothing was committed" in refused.err


def test_a_store_a_step_cannot_read_is_reported_not_crashed_on(team: Team) -> None:
    _break_by_hand(team.repo, lambda d: d.update(active_tasks="oops"))
    refused = team.refused("instance-2", "task", "add", "More work")
    assert 'task-queue.json:2:19: $.active_tasks: "oops" is not a list [schema]' in refused.err
    assert "fix it (`coord validate`)" in refused.err
    assert "Traceback" not in refused.err
