"""The agent's loop across clones of one bare remote: reads that fetch first, steps that share by
default, news with a cursor, `coord next`, `coord wait` woken by another clone's push, and the
Claude Code hooks run as Claude Code runs them (a subprocess, the event's JSON on stdin)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from testing.repos import files_in
from testing.repos import git
from testing.unsigned import UnsignedTeam
from tests.conftest import Coord

from gitcoord.commands import agents

STORE = "coord"  # the store's own branch, where `coord init` starts it


class Team(UnsignedTeam):
    """The example store on its own branch (the default layout), and a clone for each named instance."""

    def remote_subject(self) -> str:
        return git(self.remote, "log", "-1", "--format=%s", STORE)


@pytest.fixture
def team(tmp_path: Path, coord: Coord) -> Team:
    return Team(tmp_path, coord, ["instance-2", "instance-1"])


def coord_process(clone: Path, *args: str, stdin: str = "", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`coord` as its own process, as a hook or a shell runs it."""
    command = [sys.executable, "-m", "gitcoord", "-C", str(clone), *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=timeout, check=False)


def hook(clone: Path, name: str, event: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    return coord_process(clone, "hook", name, stdin=json.dumps(event))


# Never stale ------------------------------------------------------------------------------


def test_steps_share_by_default_and_reads_fetch_first(team: Team) -> None:
    asked = team(
        "instance-2",
        "msg",
        "send",
        "--to",
        "instance-1",
        "--subject",
        "Schema?",
        "--body",
        "Which one?",
        "--requires-response",
    )
    assert team.remote_subject() == "coord(msg): instance-2 asks instance-1: Schema?", "shared without --sync"
    inbox = team("instance-1", "inbox")
    assert f"{asked}  instance-2 -> instance-1" in inbox, "the inbox fetched before reading"
    assert "      Which one?" in inbox, "with what it says"
    briefing = team("instance-1", "checkin")
    assert "Nothing waits for you" not in briefing
    assert "Waiting for your answer (coord msg reply MSG --body-file -):\n  msg_001" in briefing
    assert f"  {asked}  instance-2 -> instance-1" in briefing
    assert "Next (coord next --all for the whole list):\n  answer: msg_001" in briefing
    assert team.remote_subject() == "coord(instance): instance-1 checks in"


def test_no_sync_and_the_clone_setting_keep_a_step_here(team: Team) -> None:
    before = team.remote_subject()
    team("instance-1", "task", "add", "Kept here", "--no-sync")
    assert team.remote_subject() == before
    git(team.clones["instance-1"], "config", "coord.sync", "false")
    team("instance-1", "task", "add", "Also kept here")
    assert team.remote_subject() == before
    shared = team("instance-1", "task", "add", "Shared", "--sync")
    assert shared
    assert "Shared" in team.remote_subject()


def test_a_clone_behind_the_remote_is_not_told_it_is_unregistered(team: Team, coord: Coord) -> None:
    late = team.clone("instance-7-clone", instance="instance-7")  # cloned before instance-7 registered
    team("instance-2", "register", "instance-7", "--role", "qa", "--expertise", "testing")
    briefing = team.ok(late, "checkin")
    assert briefing.startswith("Checked in as instance-7 (qa)")
    again = team.coord(late, "checkin", "--session", "other")  # a new session: committed and shared
    assert again.code == 0, again
    assert "instance-7 checks in (coord " in again.err, "the step's own line, as every step has"
    assert "synced coord in step with origin" in again.err


def test_an_unreachable_remote_is_said_plainly_with_how_old_the_view_is(team: Team, coord: Coord) -> None:
    clone = team.clones["instance-1"]
    git(clone, "remote", "set-url", "origin", str(team.tmp / "gone.git"))
    listed = coord(clone, "task", "list")
    assert listed.code == 0, listed
    assert "note: cannot fetch from origin" in listed.err
    tip = git(clone, "rev-parse", f"origin/{STORE}")[:12]  # a clone that made no step reads the tracking tip
    assert f"this clone's view as of {tip}, committed " in listed.err
    briefed = coord(clone, "checkin")  # committed here, not shared: briefed all the same, then told why
    assert briefed.code == 5, briefed
    assert briefed.out.startswith("Checked in as instance-1"), briefed
    assert "the step is committed here, but not shared yet" in briefed.err
    stranger = coord(clone, "--as", "instance-9", "checkin")
    assert stranger.code == 1
    assert "may be registered there already" in stranger.err
    assert "registering twice makes a conflict" in stranger.err


def test_a_slow_remote_is_given_the_clone_s_fetch_timeout(team: Team, coord: Coord) -> None:
    clone = team.clones["instance-1"]
    git(clone, "config", "remote.origin.uploadpack", "sleep 30; git-upload-pack")
    git(clone, "config", "coord.fetchTimeout", "0.5")
    began = time.monotonic()
    shown = coord(clone, "status")
    assert shown.code == 0, shown
    assert time.monotonic() - began < 20, "bounded, not 30 s"
    assert "note: origin did not answer within 0.5 s" in shown.err


def test_reading_never_touches_a_checkout(team: Team) -> None:
    clone = team.clones["instance-1"]
    team("instance-2", "task", "add", "Arrives by fetch")
    before, index = files_in(clone), git(clone, "ls-files", "-s")
    head = git(clone, "rev-parse", "HEAD")
    assert "Arrives by fetch" in team("instance-1", "task", "list"), "read from the remote-tracking tip"
    assert (files_in(clone), git(clone, "ls-files", "-s"), git(clone, "rev-parse", "HEAD")) == (before, index, head)
    git(clone, "switch", "-q", "-c", "feature")
    team("instance-2", "task", "add", "Arrives again")
    assert "Arrives again" in team("instance-1", "task", "list")
    assert git(clone, "rev-parse", f"origin/{STORE}") == git(team.remote, "rev-parse", STORE), (
        "fetched, not checked out"
    )


# What now ----------------------------------------------------------------------------------


def test_next_ready_mine_and_the_briefing_say_which_of_my_tasks_can_start(team: Team) -> None:
    task = team("instance-2", "task", "add", "Build on the design", "--depends", "task_001").splitlines()[0]
    team("instance-2", "task", "assign", task, "instance-1")
    team("instance-1", "task", "accept", task)
    assert task not in team("instance-1", "task", "ready", "--mine")
    team("instance-2", "task", "complete", "task_001", "--note", "the design is in docs/design.md")
    assert task in team("instance-1", "task", "ready", "--mine")
    briefing = team("instance-1", "checkin")
    assert f"can start now: coord task start {task}" in briefing
    nexts = team.json("instance-1", "next")
    assert [i["kind"] for i in nexts["items"]][:2] == ["answer", "input"]
    assert {"kind": "start", "id": task} == {k: v for k, v in nexts["items"][2].items() if k in ("kind", "id")}
    assert team("instance-1", "next").startswith("Next:\n  answer: msg_001")
    notes = team.json("instance-2", "task", "show", "task_001")["notes"]
    assert [n["text"] for n in notes] == ["the design is in docs/design.md"]


def test_news_has_a_cursor_per_clone_and_instance_and_peek_leaves_it(team: Team) -> None:
    first = team("instance-1", "news")
    assert first.startswith("Your first look at the news")
    assert team("instance-1", "news").startswith("Nothing new for you since")
    proposal = team(
        "instance-1",
        "decision",
        "propose",
        "Queue",
        "--option",
        "Kafka",
        "--option",
        "NATS",
        "--input-from",
        "instance-2",
    ).splitlines()[0]
    team("instance-2", "decision", "input", proposal, "--option", "NATS", "--comment", "simpler to run")
    team("instance-2", "register", "instance-8", "--role", "docs")
    peeked = team("instance-1", "news", "--peek")
    assert f"  {proposal}  instance-2 chose NATS: simpler to run; all in" in peeked
    assert "instance-8  docs" in peeked
    assert team("instance-1", "news") == peeked, "--peek left the cursor"
    assert team("instance-1", "news").startswith("Nothing new")
    assert team("instance-2", "news").startswith("Your first look"), "each instance has its own cursor"


def test_defer_is_kept_in_this_clone_and_refuses_what_is_not_owed(team: Team, coord: Coord) -> None:
    done = team("instance-1", "defer", "msg_001", "--reason", "after the benchmark")
    assert done.startswith("msg_001 deferred until ")
    assert (team.clones["instance-1"] / ".git" / "coord" / "deferred" / "instance-1.json").exists()
    refused = team.run("instance-1", "defer", "msg_404", "--reason", "x")
    assert refused.code == 1
    assert "coord next --all" in refused.err
    items = team.json("instance-1", "next", "--all")["items"]
    assert [i["id"] for i in items][-1] == "msg_001"


# coord wait ---------------------------------------------------------------------------------


def test_wait_is_woken_by_a_push_from_another_clone(team: Team) -> None:
    asked = team(
        "instance-2",
        "msg",
        "send",
        "--to",
        "instance-1",
        "--subject",
        "Ping",
        "--body",
        "there?",
        "--requires-response",
    )
    command = [
        sys.executable,
        "-m",
        "gitcoord",
        "-C",
        str(team.clones["instance-2"]),
        "wait",
        "--reply",
        asked,
        "--timeout",
        "90",
        "--interval",
        "0.2",
    ]
    waiting = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        assert waiting.poll() is None, "nothing to wake it yet"
        team("instance-1", "msg", "reply", asked, "--body", "here, and listening")
        out, err = waiting.communicate(timeout=90)
    finally:
        waiting.kill()
    assert waiting.returncode == 0, err
    assert f"Answered: {asked}" in out
    assert "here, and listening" in out
    assert git(team.remote, "log", "-1", "--format=%s", STORE).endswith(f"answers {asked}"), (
        "the wait committed nothing"
    )


def test_wait_times_out_with_exit_4(team: Team) -> None:
    done = coord_process(team.clones["instance-1"], "wait", "--offer", "--timeout", "1", "--interval", "0.2", "--json")
    assert done.returncode == 4, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["data"]["event"] is False
    assert envelope["error"]["kind"] == "timed_out", envelope


# The hooks, as Claude Code runs them ---------------------------------------------------------


def test_session_start_checks_in_once_per_session_and_briefs_on_stdout(team: Team) -> None:
    clone = team.clones["instance-1"]
    event = {"session_id": "5f1c-claude", "hook_event_name": "SessionStart", "source": "startup", "cwd": str(clone)}
    first = hook(clone, "session-start", event)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("gitcoord: you act as instance-1")
    assert "Checked in as instance-1 (architecture-backend), session 5f1c-claude" in first.stdout
    assert "The startup checklist" in first.stdout
    head = git(team.remote, "rev-parse", STORE)
    again = hook(clone, "session-start", {**event, "source": "compact"})
    assert "Still checked in as instance-1" in again.stdout
    assert git(team.remote, "rev-parse", STORE) == head, "a heartbeat within the session commits nothing"
    git(clone, "config", "coord.heartbeatMinutes", "0")
    assert "Checked in as" in hook(clone, "session-start", event).stdout, "a heartbeat that is due commits"


def test_session_start_without_an_identity_says_how_to_get_one_and_exits_0(team: Team, tmp_path: Path) -> None:
    clone = team.clone("nobody")
    git(clone, "config", "--unset", "coord.instance")
    done = hook(clone, "session-start", {"session_id": "s", "source": "startup"})
    assert done.returncode == 0
    assert "coord install --as INSTANCE" in done.stdout
    assert "COORD_INSTANCE does not last" in done.stdout
    broken = hook(tmp_path, "session-start", {})  # not even a repository
    assert broken.returncode == 0
    assert "gitcoord could not brief you" in broken.stdout


def test_prompt_submit_and_post_tool_use_bring_news_as_additional_context(team: Team) -> None:
    clone = team.clones["instance-1"]
    hook(clone, "session-start", {"session_id": "s1", "source": "startup"})
    assert hook(clone, "prompt-submit", {"session_id": "s1", "prompt": "go on"}).stdout == ""
    team("instance-2", "task", "add", "Offer for one")
    offered = team.json("instance-2", "task", "list")[-1]["task_id"]
    team("instance-2", "task", "assign", offered, "instance-1")
    said = hook(clone, "prompt-submit", {"session_id": "s1", "hook_event_name": "UserPromptSubmit", "prompt": "go"})
    assert said.returncode == 0, said.stderr
    context = json.loads(said.stdout)["hookSpecificOutput"]
    assert context["hookEventName"] == "UserPromptSubmit"
    assert "Offered to you:" in context["additionalContext"]
    assert offered in context["additionalContext"]
    team("instance-2", "msg", "send", "--to", "instance-1", "--subject", "FYI", "--body", "deployed")
    git(clone, "config", "coord.hookPollSeconds", "3600")
    assert hook(clone, "post-tool-use", {"tool_name": "Bash"}).stdout == "", "looked just now: not again so soon"
    git(clone, "config", "coord.hookPollSeconds", "0")
    after = json.loads(hook(clone, "post-tool-use", {"tool_name": "Bash", "tool_input": {}}).stdout)
    assert after["hookSpecificOutput"]["hookEventName"] == "PostToolUse"
    assert "FYI" in after["hookSpecificOutput"]["additionalContext"]
    assert "stays until you ack it" in after["hookSpecificOutput"]["additionalContext"]


def test_the_stop_hook_holds_a_turn_while_something_is_owed_and_never_twice(team: Team) -> None:
    clone = team.clones["instance-1"]
    held = hook(clone, "stop", {"session_id": "s", "hook_event_name": "Stop", "stop_hook_active": False})
    assert held.returncode == 0
    decision = json.loads(held.stdout)
    assert decision["decision"] == "block"
    assert "answer: msg_001" in decision["reason"]
    assert "coord defer ID --reason" in decision["reason"]
    assert hook(clone, "stop", {"stop_hook_active": True}).stdout == "", "already held once: it may stop"
    team("instance-1", "msg", "reply", "msg_001", "--body", "REST")
    team("instance-1", "defer", "dec_002", "--reason", "needs the load test first")
    assert hook(clone, "stop", {"stop_hook_active": False}).stdout == "", "nothing owed that is not deferred"
    assert hook(team.clones["instance-2"], "stop", {}).stdout == "", "instance-2 owes nothing"


def test_init_agents_writes_the_loop_and_hooks_that_run_as_claude_code_runs_them(team: Team, coord: Coord) -> None:
    clone = team.clones["instance-2"]
    settings_path = clone / ".claude" / "settings.json"
    settings_path.parent.mkdir()
    mine = {"type": "command", "command": "make lint"}
    settings_path.write_text(
        json.dumps(
            {
                "hooks": {
                    "PostToolUse": [{"matcher": "Edit", "hooks": [mine]}],
                    "SessionStart": [
                        {"matcher": "startup", "hooks": [{"type": "command", "command": "coord checkin"}]}
                    ],
                }
            }
        )
    )
    git(clone, "add", ".claude")
    git(clone, "commit", "-q", "--no-verify", "-m", "agent settings")
    assert coord(clone, "init", "--agents").code == 0
    settings = json.loads(settings_path.read_text())
    assert settings["hooks"]["PostToolUse"][0] == {"matcher": "Edit", "hooks": [mine]}, "the user's hook stays"
    assert [g.get("matcher") for g in settings["hooks"]["SessionStart"]] == ["startup|resume|clear|compact|fork"]
    for event, (name, _, _, _) in agents.HOOKS.items():
        ours = settings["hooks"][event][-1]["hooks"][0]
        assert f'coord -C "${{CLAUDE_PROJECT_DIR:-.}}" hook {name}' in ours["command"]
        assert ours["timeout"] > 0
    guide = (clone / "CLAUDE.md").read_text()
    for words in (
        "coord install --as INSTANCE",
        "Never `export COORD_INSTANCE`",
        "coord next",
        "coord msg ack MSG",
        "--note",
        "coord escalate",
        "coord checkout",
        "branch of your own",
        "coord defer",
    ):
        assert words in guide, words
    before = files_in(clone)
    assert "already initialised" in coord(clone, "init", "--agents").out
    assert files_in(clone) == before
    command = settings["hooks"]["SessionStart"][-1]["hooks"][0]["command"]
    elsewhere = team.tmp  # Claude Code runs hooks from wherever the session is; the project dir says where
    env = {**os.environ, "CLAUDE_PROJECT_DIR": str(clone)}
    ran = subprocess.run(
        ["bash", "-c", command],
        cwd=elsewhere,
        input='{"session_id": "x"}',
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Checked in as instance-2" in ran.stdout
    bare_path = {**env, "PATH": "/nonexistent"}
    missing = subprocess.run(
        ["/bin/bash", "-c", command], input="{}", env=bare_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert missing.returncode == 0
    assert "coord is not on PATH" in missing.stdout


def test_wait_returns_at_once_for_what_already_holds_and_refuses_what_does_not_exist(team: Team) -> None:
    team("instance-2", "task", "complete", "task_001")
    team("instance-2", "task", "assign", "task_002", "instance-1")
    offered = team("instance-1", "wait", "--offer", "--timeout", "5")
    assert offered.startswith("Offered to you:\n  task_002")
    team("instance-1", "task", "accept", "task_002")
    ready = team("instance-1", "wait", "--ready", "--timeout", "5")
    assert ready.startswith("Your tasks that can start now (coord task start TASK):\n  task_002")
    # An unassigned task that fits, as `task ready --mine` lists it, is one to take.
    fits = team("instance-2", "task", "add", "Anyone's work").splitlines()[0]
    taken = team("instance-2", "wait", "--ready", "--timeout", "5")
    assert "Ready for you to take (coord task claim TASK):" in taken, taken
    assert fits in taken, taken
    team("instance-1", "decision", "input", "dec_002", "--option", "REST API", "--comment", "simple")
    team("instance-2", "decision", "input", "dec_002", "--option", "REST API")
    git(team.clones["instance-1"], "config", "coord.instance", "human")
    team("instance-1", "decision", "decide", "dec_002", "--option", "REST API", "--rationale", "both agree", "--force")
    decided = team("instance-2", "wait", "--input", "dec_002", "--timeout", "5")
    assert decided.startswith("dec_002 moved:")
    assert "dec_002  decided  Agent Communication Protocol  -> REST API" in decided
    missing = team.run("instance-2", "wait", "--reply", "msg_404", "--timeout", "5")
    assert (missing.code, "there is no message 'msg_404' to wait for" in missing.err) == (1, True)


def test_wait_without_a_remote_watches_this_clone(seed_repo: Path, coord: Coord) -> None:
    done = coord(seed_repo, "--as", "instance-4", "wait", "--timeout", "0.5", "--interval", "0.1")
    assert (done.code, done.out) == (4, "Nothing happened within 0.5 s.\n")


def test_next_says_when_nothing_waits_and_lists_everything_on_request(team: Team) -> None:
    assert team("instance-2", "--as", "instance-6", "next") == (
        "Nothing waits for you. `coord wait` blocks until something arrives (it exits 4 when it times out)."
    )
    listed = team("instance-1", "next", "--all")
    assert listed.startswith("2 thing(s) for instance-1, most pressing first:\n  answer: msg_001")
    assert "  input: dec_002" in listed
    assert team("instance-1", "next").endswith("(1 more after it: coord next --all)")


def test_next_with_nothing_for_me_tells_of_ready_work_that_needs_other_expertise(team: Team) -> None:
    def notes() -> list[str]:
        envelope = json.loads(team("instance-2", "--as", "instance-6", "next", "--json"))
        assert envelope["data"]["next"] is None, envelope
        return list(envelope["notes"])

    assert notes() == []
    team("instance-2", "--as", "human", "task", "add", "Tune the cluster", "--expertise", "quantum")
    assert notes() == ["1 ready task(s) need expertise you have not declared: `coord task ready` lists them"]
    human = json.loads(team("instance-2", "--as", "human", "next", "--json"))
    assert human["notes"] == [], "the human assigns the work, and is offered none"


def test_the_human_is_briefed_without_a_check_in_and_a_due_heartbeat_is_committed(team: Team, coord: Coord) -> None:
    human = team("instance-2", "--as", "human", "checkin")
    assert human.startswith("human, the human coordinator, needs no check-in")
    clone = team.clones["instance-1"]
    hook(clone, "session-start", {"session_id": "s9", "source": "startup"})
    head = git(team.remote, "rev-parse", STORE)
    assert coord(clone, "hook", "prompt-submit", stdin='{"session_id": "s9"}').code == 0
    assert git(team.remote, "rev-parse", STORE) == head, "the heartbeat is not due"
    git(clone, "config", "coord.heartbeatMinutes", "0")
    assert coord(clone, "hook", "prompt-submit", stdin='{"session_id": "s9"}').code == 0
    assert team.remote_subject() == "coord(instance): instance-1 checks in", "due: committed and shared"
    git(clone, "config", "coord.heartbeatMinutes", "often")
    assert coord(clone, "hook", "prompt-submit", stdin="not json").code == 0, "a bad setting or input is no failure"


def test_hooks_without_an_identity_or_a_store_stay_out_of_the_way(team: Team, coord: Coord, tmp_path: Path) -> None:
    clone = team.clone("anonymous")
    git(clone, "config", "--unset", "coord.instance")
    said = json.loads(coord(clone, "hook", "prompt-submit", stdin="{}").out)
    assert "coord install --as INSTANCE" in said["hookSpecificOutput"]["additionalContext"]
    for name in ("post-tool-use", "stop"):
        assert coord(clone, "hook", name, stdin="{}").out == "", name
    plain = tmp_path / "plain"
    git(tmp_path, "init", "-q", str(plain))
    git(plain, "config", "coord.instance", "instance-1")
    assert coord(plain, "hook", "prompt-submit", stdin="{}").out == "", "no coordination here yet: nothing to say"
    nowhere = tmp_path / "not-a-repository"
    nowhere.mkdir()
    failed = json.loads(coord(nowhere, "hook", "prompt-submit", stdin="{}").out)
    assert "gitcoord could not brief you" in failed["hookSpecificOutput"]["additionalContext"]
    assert coord(nowhere, "hook", "stop", stdin="{}").out == "", "a stop is never held by a failure"


def test_checkin_in_a_clone_without_a_remote_says_plainly_who_is_not_registered(seed_repo: Path, coord: Coord) -> None:
    done = coord(seed_repo, "--as", "instance-9", "checkin")
    assert done.code == 1
    assert "instance-9 is not registered; register it with `coord register instance-9" in done.err
