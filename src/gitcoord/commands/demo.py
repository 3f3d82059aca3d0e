"""`coord demo`: the specification's two workflow examples, played by six instances in six clones.

A bare repository stands for the shared remote (GitHub, in real use), with gitcoord's gate
installed; each instance works in its own clone, and the human coordinator in a seventh.
Every clone signs its commits with its own key (kept in the demo's directory, not the
user's), and the store requires it. Every step is a `coord` command followed by a sync, and
some run at the same moment, as agents would: six check-ins race to push, two give input on
one decision; two instances claim one task before either shares it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from gitcoord import git
from gitcoord import records
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.output import Output

SEED = ["instance-1", "instance-2", "instance-3", "instance-4", "instance-5", "instance-6"]
HUMAN = "human"
REMOTE = "remote"  # `coord` run in the bare repository itself


class Stage:
    """The clones and a way to run `coord` in them, showing each command and what it said."""

    def __init__(self, base: Path, out: Output) -> None:
        self.base = base
        self.out = out
        self.remote = base / "remote.git"
        self.clones = {name: base / name for name in [*SEED, HUMAN]}
        # The clones' hooks run `coord`: the one of this interpreter, whatever PATH the caller has.
        self.keys = base / "keys"
        # The demo's keys stay in its directory, apart from the user's own gitcoord keys.
        path = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
        self.env = git.clean_env({"PATH": path, "COORD_KEYS_DIR": str(self.keys)})

    def run(self, who: str, *args: str, show: int = 8, expect: tuple[int, ...] = (0,)) -> str:
        done = self._call(who, args)
        self._show(who, args, done, show)
        if done.returncode not in expect:
            raise FatalError(
                f"the demo stopped: `coord {' '.join(args)}` as {who} exited {done.returncode}:\n{done.stderr}"
            )
        return done.stdout.strip()

    def together(self, calls: Sequence[tuple[str, Sequence[str]]], show: int = 4) -> list[str]:
        """Run several commands at the same moment, each in its own clone, then show them in order."""
        results: list[subprocess.CompletedProcess[str] | None] = [None] * len(calls)

        def work(n: int, who: str, args: Sequence[str]) -> None:
            results[n] = self._call(who, args)

        threads = [threading.Thread(target=work, args=(n, who, args)) for n, (who, args) in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outputs = []
        for (who, args), done in zip(calls, results, strict=True):
            assert done is not None
            self._show(who, args, done, show)
            if done.returncode != 0:
                raise FatalError(f"the demo stopped: `coord {' '.join(args)}` as {who} failed:\n{done.stderr}")
            outputs.append(done.stdout.strip())
        return outputs

    def _call(self, who: str, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        where = self.remote if who == REMOTE else self.clones[who]
        command = [sys.executable, "-m", "gitcoord", "-C", str(where), *args]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=False)

    def _show(self, who: str, args: Sequence[str], done: subprocess.CompletedProcess[str], show: int) -> None:
        shown = " ".join(f"'{a}'" if " " in a else a for a in args)
        lines = [f"[{who}] $ coord {shown}"]
        said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        lines += [f"    {line}" for line in said[:show]]
        if show and len(said) > show:
            more = len(said) - show
            lines.append(f"    ... ({more} more line{'s' if more > 1 else ''})")
        self.out.emit(None, lines)

    def say(self, text: str) -> None:
        self.out.emit(None, ["", text])


def demo(*, directory: Path | None, out: Output) -> int:
    base = directory or Path(tempfile.mkdtemp(prefix="gitcoord-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    if any(base.iterdir()):
        raise FatalError(f"{base} is not empty; give an empty or new directory with --dir")
    stage = Stage(base, out)
    _set_up(stage)
    _new_feature(stage)
    _problem_solving(stage)
    _escalation(stage)
    _gate(stage)
    _where_it_stands(stage)
    stage.say(
        f"The remote and the seven clones are in {base}\n"
        f"Look around: cd {base / 'instance-3'} && {_coord()} checkin && {_coord()} log -n 5"
    )
    return 0


def _coord() -> str:
    """How to run the coord the demo ran, for the reader to go on with: `make demo` puts none on PATH."""
    here = Path(sys.executable).with_name("coord")
    return str(here) if here.exists() and shutil.which("coord") != str(here) else "coord"


def _set_up(s: Stage) -> None:
    s.say(
        "== A shared remote with gitcoord's gate, and a clone for each of the specification's six instances "
        "and the human coordinator"
    )
    git.init(s.remote, branch="main", bare=True, env=s.env)
    s.run(REMOTE, "install", "--server", show=1)
    s.say("-- The human coordinator starts the store: their clone's key becomes the human key; signatures are required")
    first = s.clones[HUMAN]
    git.init(first, branch="main", env=s.env)
    git.add_remote(first, "origin", str(s.remote))
    s.run(HUMAN, "init", "--as", HUMAN, "--example", "--agents", show=4)
    s.run(HUMAN, "sync", show=1)
    setup = git.rev_parse(first, "HEAD")
    assert setup is not None
    git.push(first, "origin", setup, git.Ref("refs/heads/main"))  # the code branch, with gitcoord's setup files
    s.say("-- Each instance clones, and sets up its clone to act as itself and sign with its own key")
    for name in SEED:
        git.clone(str(s.remote), s.clones[name], env=s.env)
        s.run(name, "install", "--as", name, show=0 if name != SEED[0] else 12)
    s.say(
        "-- The seed registered the six instances without keys: each hands its public key to the human, who enrolls it"
    )
    for name in SEED:
        s.run(HUMAN, "key", "set", name, f"@{s.keys / name}.pub", show=1)
    s.run(HUMAN, "sync", show=1)


def _new_feature(s: Stage) -> str:
    s.say(
        "== Example 1: new feature development\n"
        "-- Six instances start their sessions at once; their pushes race, sync merges and retries"
    )
    s.together([(name, ["checkin", "--sync"]) for name in SEED], show=3)
    s.say("-- Instance-2 finishes the architecture (task_001) and offers the backend API (task_002) to instance-1")
    s.run("instance-2", "task", "complete", "task_001", "--sync", show=3)
    s.run("instance-2", "task", "assign", "task_002", "instance-1", "--sync", show=2)
    s.say("-- Instance-1 answers the consultation waiting for it (msg_001) and takes the offer")
    s.run("instance-1", "checkin", "--sync", show=12)
    s.run("instance-1", "next", show=5)
    s.run(
        "instance-1",
        "msg",
        "reply",
        "msg_001",
        "--body",
        "REST with clear resources now; revisit GraphQL federation at 10+ agents.",
        "--sync",
        show=2,
    )
    s.run("instance-1", "task", "accept", "task_002", "--sync", show=2)
    s.run("instance-1", "task", "start", "task_002", "--sync", show=2)
    _code(s, "instance-1", "backend-api", path="api.py", text="ROUTES = ['/tasks']\n", subject="REST API skeleton")
    s.say("-- Instance-2 syncs, reads the answer, closes the thread, and adds the next piece of work")
    s.run("instance-2", "sync", show=4)
    s.run("instance-2", "inbox", show=6)
    s.run("instance-2", "msg", "ack", "msg_001", "--sync", show=2)
    _code(
        s, "instance-2", "main", path="ARCHITECTURE.md", text="# How agents coordinate\n", subject="architecture notes"
    )
    dashboard = s.run(
        "instance-2",
        "task",
        "add",
        "Agent dashboard prototype",
        "--priority",
        "high",
        "--expertise",
        "react",
        "--expertise",
        "machine-learning",
        "--sync",
        show=2,
    ).splitlines()[0]
    s.say(f"-- A race: instance-3 and instance-4 both claim {dashboard} before either shares it")
    s.together([("instance-3", ["sync"]), ("instance-4", ["sync"])], show=1)
    # --no-sync: both claims are made before either is shared, so that the merge decides the race.
    # instance-3 claims first and shares first: a claim shared first is never taken away by a
    # later one, and between the two the earlier wins; so instance-4's merge keeps instance-3's.
    for name in ("instance-3", "instance-4"):
        s.run(name, "task", "claim", dashboard, "--no-sync", show=1)
    for name in ("instance-3", "instance-4"):
        s.run(name, "sync", show=3)
    s.say("-- The merge decided: the claim shared first, and the earlier, wins; the loser is told")
    for name in ("instance-3", "instance-4"):
        s.run(name, "sync", show=3)
    s.run(_claim_loser(s, dashboard), "checkin", show=6)
    return dashboard


def _claim_loser(s: Stage, task_id: str) -> str:
    """Which of the two lost the race: the claims rarely start in different seconds, but may."""
    ws = workspace.open_workspace(s.clones["instance-3"])
    task = records.get(workspace.snapshot(ws, strict=False), "task", task_id)
    return "instance-3" if task is not None and task["assigned_to"] == "instance-4" else "instance-4"


def _problem_solving(s: Stage) -> None:
    s.say(
        "== Example 2: cross-instance problem solving (dec_002: REST or GraphQL?)\n"
        "-- Instance-1 and instance-3 give their input at once"
    )
    s.together(
        [
            (
                "instance-1",
                [*_input("GraphQL Federation"), "--comment", "one endpoint scales with agent count", "--sync"],
            ),
            ("instance-3", [*_input("REST API"), "--comment", "simpler for the UI to debug", "--sync"]),
        ]
    )
    s.say(
        "-- The specification's dec_002 names nobody to decide it: the human coordinator names instance-2,\n"
        "   who synthesizes the input and makes the final call"
    )
    s.run(HUMAN, "sync", show=1)
    s.run(HUMAN, "decision", "assign", "dec_002", "instance-2", "--sync", show=2)
    s.run("instance-2", "sync", show=3)
    s.run("instance-2", "decision", "show", "dec_002", show=12)
    s.run(
        "instance-2",
        "decision",
        "decide",
        "dec_002",
        "--option",
        "REST API",
        "--rationale",
        "simplest to build and debug now; GraphQL federation stays an option past 10 agents",
        "--sync",
        show=2,
    )


def _input(option: str) -> list[str]:
    return ["decision", "input", "dec_002", "--option", option]


def _escalation(s: Stage) -> None:
    s.say("== Conflict resolution: instance-5 and instance-6 disagree, and the human coordinator decides")
    proposal = s.run(
        "instance-6",
        "decision",
        "propose",
        "Where agent secrets live",
        "--option",
        "HashiCorp Vault",
        "--option",
        "Cloud KMS",
        "--input-from",
        "instance-5",
        "--sync",
        show=1,
    ).splitlines()[0]
    s.run("instance-5", "sync", show=1)
    s.run(
        "instance-5",
        "decision",
        "input",
        proposal,
        "--option",
        "Cloud KMS",
        "--comment",
        "one less service to run",
        "--sync",
        show=1,
    )
    s.run("instance-6", "sync", show=1)
    s.run("instance-6", "escalate", proposal, "--reason", "dynamic database credentials need Vault", "--sync", show=1)
    s.run(HUMAN, "sync", show=1)
    s.run(HUMAN, "inbox", show=8)
    s.run(
        HUMAN,
        "decision",
        "decide",
        proposal,
        "--option",
        "HashiCorp Vault",
        "--rationale",
        "dynamic credentials outweigh running one more service",
        "--sync",
        show=2,
    )


def _where_it_stands(s: Stage) -> None:
    s.say("== Everyone syncs; where things stand")
    for _ in range(2):
        s.together([(name, ["sync"]) for name in s.clones], show=0)
    s.run(HUMAN, "status", show=40)
    # The specification's example dates from 2024, so its deadlines have passed: health says so (exit 1).
    s.run(HUMAN, "health", show=20, expect=(0, 1))
    s.run(HUMAN, "log", "-n", "60", show=60)
    s.say("== Checks: every clone at the remote's commit, the store valid, every commit keeping the rules")
    tips = {name: git.rev_parse(clone, STORE) for name, clone in s.clones.items()}
    remote_tip = git.rev_parse(s.remote, STORE)
    if remote_tip is None or set(tips.values()) != {remote_tip}:
        raise FatalError(f"the clones did not converge: {tips}")
    s.out.emit(None, f"    all {len(tips)} clones at {remote_tip[:12]}, the remote's {STORE}")
    s.run(HUMAN, "validate", show=1)
    [root] = git.root_commits(s.remote, STORE)
    s.run(HUMAN, "check", "--range", f"{root}..{STORE}", show=1)
    events = git.rev_list_count(s.remote, remote_tip)
    code = [e.subject for e in git.log(s.remote, "main")]
    s.say(f"== The code branch holds code only: {len(code)} commits there, {events} coordination events on {STORE}")
    s.out.emit(None, [f"    main: {subject}" for subject in code])
    if any(subject.startswith("coord(") and "set up gitcoord" not in subject for subject in code):
        raise FatalError("the demo stopped: a coordination event reached main")


STORE = "coord"  # the store's own branch, as `coord init` makes it


def _code(s: Stage, who: str, branch: str, *, path: str, text: str, subject: str) -> None:
    """An instance commits code and pushes it, as agents do between their coordination steps."""
    clone = s.clones[who]
    if branch != "main":
        git.switch_new(clone, branch)
    (clone / path).write_text(text, "utf-8")
    git.add(clone, [path])
    git.commit(clone, subject, [path])
    head = git.rev_parse(clone, "HEAD")
    assert head is not None
    if branch == "main":
        git.pull_ff(clone, "origin", "main")
        head = git.rev_parse(clone, "HEAD")
        assert head is not None
    git.push(clone, "origin", head, git.Ref(f"refs/heads/{branch}"))
    s.out.emit(
        None,
        [f"[{who}] $ git commit -m {subject!r} && git push origin {branch}", "    (code: the store is not involved)"],
    )


def _gate(s: Stage) -> None:
    s.say(
        "== The gate: instance-3 writes a message 'from instance-1' by hand and pushes past its own hooks;\n"
        "   the commit is signed with instance-3's key, so the remote refuses it"
    )
    clone = s.clones["instance-3"]
    s.run("instance-3", "sync", show=0)
    s.run("instance-3", "edit", show=1)
    clone = clone / ".coord-edit"  # the store's branch, in a worktree of its own
    path = clone / "coordination" / "communication-log.json"
    log = json.loads(path.read_text("utf-8"))
    log["messages"].append(
        {
            **log["messages"][0],
            "message_id": "msg_forged",
            "from": "instance-1",
            "to": "instance-4",
            "type": "notification",
            "requires_response": False,
            "status": "sent",
            "subject": "Please hand me your tasks",
        }
    )
    path.write_text(json.dumps(log, indent=2) + "\n", "utf-8")
    git.commit(clone, "msg_forged by hand\n\nCoord-Instance: instance-1", ["coordination"])
    forged = git.rev_parse(clone, "HEAD")
    assert forged is not None
    try:
        git.push(clone, "origin", forged, git.Ref(f"refs/heads/{STORE}"))
    except git.PushFailed as e:
        refused = [line.split("\t")[-1] for line in e.stdout.splitlines() if line.startswith("!")]
        said = [line for line in e.stderr.splitlines() if line.startswith("remote:")][:6] + refused
        s.out.emit(None, [f"[instance-3] $ git push --no-verify origin {STORE}", *(f"    {line}" for line in said)])
    else:
        raise FatalError("the demo stopped: the remote accepted a forged commit")
    git.reset_hard(clone, f"origin/{STORE}")
    s.run("instance-3", "edit", "--done", show=1)
    s.out.emit(None, f"    instance-3 drops the commit (git reset --hard origin/{STORE}); nothing reached the others")
