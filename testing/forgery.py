"""An attacker in a gated team: hand-made commits past every client hook, and what the rules say of them.

`Forger` is one clone that edits the store's files by hand and commits as whoever it likes (any
Coord-Instance trailer, or none), signed with whatever key it holds (its own, a stolen one, one it
just made) or not at all, dated whenever it likes. `refused` pushes such a commit and requires the
gate to refuse it by name, with nothing moved on the remote; `found` requires `coord check --range`
to report the same rule before anything leaves the clone.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitcoord.git import clean_env
from testing.repos import git
from testing.signed import Edit
from testing.signed import Team

OWN = Path("own key")  # sign with the clone's own key


class Forger:
    def __init__(self, team: Team, who: str) -> None:
        self.team = team
        self.who = who
        self.clone = team.clones[who]

    def fresh(self) -> Forger:
        """The clone at the remote's tip, checkout and all, whatever it did before."""
        git(self.clone, "fetch", "-q", "origin")
        git(self.clone, "checkout", "-q", "-f", "main")
        git(self.clone, "reset", "-q", "--hard", "origin/main")
        git(self.clone, "clean", "-qfd")
        return self

    def path(self, file: str) -> Path:
        return self.clone / "coordination" / file

    def read(self, file: str) -> Any:
        return json.loads(self.path(file).read_text())

    def write(self, file: str, data: Any) -> None:
        path = self.path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")

    def edit(self, file: str, change: Edit) -> Forger:
        data = self.read(file)
        change(data)
        self.write(file, data)
        return self

    def commit(
        self,
        subject: str,
        *,
        actor: str | None = None,
        key: Path | None = OWN,
        date: str | None = None,
        message: str | None = None,
    ) -> str:
        """Everything in the work tree, committed with no hook: acting as `actor` (default: the clone's
        own instance; "" for no trailer), signed with `key` (None: unsigned), dated `date`; `message`
        replaces the whole message."""
        actor = self.who if actor is None else actor
        text = message if message is not None else subject + (f"\n\nCoord-Instance: {actor}\n" if actor else "\n")
        git(self.clone, "add", "-A")
        git(
            self.clone,
            *self._signing(key),
            "commit",
            "-q",
            "--no-verify",
            "--allow-empty",
            "-F",
            "-",
            **self._io(text, date),
        )
        return git(self.clone, "rev-parse", "HEAD")

    def commit_tree(self, tree: str, parents: list[str], message: str, *, key: Path | None = OWN) -> str:
        """A commit of any tree on any parents (a gitlink, an octopus), signed like `commit`."""
        sign = ["-S"] if key is not None else []
        parent_args = [a for p in parents for a in ("-p", p)]
        return git(self.clone, *self._signing(key), "commit-tree", *sign, tree, *parent_args, **self._io(message, None))

    def merge(self, *heads: str, strategy: tuple[str, ...] = ()) -> None:
        """Start a merge and stop before its commit, with no hook: the attacker writes the result."""
        git(
            self.clone,
            "-c",
            "core.hooksPath=/dev/null",
            "merge",
            "-q",
            "--no-ff",
            "--no-commit",
            *strategy,
            *heads,
            check=False,
        )

    def _signing(self, key: Path | None) -> list[str]:
        config = ["-c", "core.hooksPath=/dev/null"]
        if key is None:
            return [*config, "-c", "commit.gpgsign=false"]
        signing_key = self.team.key_of(self.who) if key == OWN else key
        return [*config, "-c", "gpg.format=ssh", "-c", f"user.signingkey={signing_key}", "-c", "commit.gpgsign=true"]

    def _io(self, text: str, date: str | None) -> dict[str, Any]:
        return {"stdin": text, "env": {"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else None}

    def push(self, *refspec: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "push", "--no-verify", "origin", *(refspec or ("HEAD:main",))],
            cwd=self.clone,
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(),
        )


def remote_refs(team: Team) -> str:
    return git(team.remote, "for-each-ref", "--format=%(refname) %(objectname)")


def refused(forger: Forger, rule: str, *refspec: str) -> str:
    """The push is refused by the gate, which names `rule`, and no ref on the remote moves."""
    before = remote_refs(forger.team)
    done = forger.push(*refspec)
    assert done.returncode != 0, done.stderr
    assert f"[{rule}]" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert remote_refs(forger.team) == before
    return done.stderr


def found(forger: Forger, rule: str, revisions: str = "origin/main..HEAD") -> dict[str, Any]:
    """`coord check --range` in the attacker's own clone reports `rule` (exit 1, never a crash)."""
    result = forger.team.run(forger.who, "check", "--range", revisions, "--json")
    assert result.code == 1, result
    assert result.out, result
    verdict: dict[str, Any] = json.loads(result.out)["data"]
    assert rule in verdict["first_bad_commit"], verdict
    return verdict


def accepted(forger: Forger, *refspec: str, revisions: str = "origin/main..HEAD") -> None:
    """The honest twin: `coord check --range` finds nothing, and the gate takes the push."""
    result = forger.team.run(forger.who, "check", "--range", revisions)
    assert result.code == 0, result
    done = forger.push(*refspec)
    assert done.returncode == 0, done.stderr


def new_key(where: Path, name: str) -> tuple[Path, str]:
    """A fresh SSH key no registry knows: its private file and its public line."""
    path = where / f"{name}-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path, " ".join(Path(f"{path}.pub").read_text().split()[:2])


def record(doc: dict[str, Any], rid: str) -> dict[str, Any]:
    """The task, message or decision `rid` in a document, wherever it is listed."""
    for value in doc.values():
        for entry in value if isinstance(value, list) else ():
            if isinstance(entry, dict) and rid in (
                entry.get("task_id"),
                entry.get("message_id"),
                entry.get("decision_id"),
            ):
                return entry
    raise KeyError(rid)


def move(doc: dict[str, Any], rid: str, to: str, **fields: Any) -> dict[str, Any]:
    """`rid` taken out of its list, changed by `fields`, and put at the end of list `to`."""
    entry = record(doc, rid)
    for value in doc.values():
        if isinstance(value, list) and entry in value:
            value.remove(entry)
    entry.update(fields)
    doc[to].append(entry)
    return entry


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Changes and records to forge with (the example store's names) --------------------------------------------

Change = Callable[[dict[str, Any]], Any]
NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)  # for tables of attacks, made at import


def current() -> str:
    """The time now, for an honest change: a time written may not lie before its parent's commit."""
    return stamp(dt.datetime.now(dt.timezone.utc))


def put(rid: str, **fields: Any) -> Change:
    """A change that sets `fields` of record `rid`."""
    return lambda d: record(d, rid).update(fields)


def append(rid: str, field: str, entry: dict[str, Any]) -> Change:
    """A change that appends `entry` to the list `field` of record `rid`."""
    return lambda d: record(d, rid).setdefault(field, []).append(entry)


def new_task(tid: str, by: str, **fields: Any) -> dict[str, Any]:
    return {
        "task_id": tid,
        "title": "t",
        "description": "d",
        "assigned_to": None,
        "status": "pending_assignment",
        "priority": "low",
        "created": current(),
        "created_by": by,
        "dependencies": [],
        **fields,
    }


def new_message(mid: str, by: str, **fields: Any) -> dict[str, Any]:
    return {
        "message_id": mid,
        "from": by,
        "to": "human",
        "type": "notification",
        "timestamp": current(),
        "subject": "s",
        "message": "m",
        "priority": "low",
        "requires_response": False,
        "status": "sent",
        **fields,
    }


def register(name: str, **fields: Any) -> Change:
    """A change that adds `name` to the registry as a new, pending instance (with `fields` on top)."""
    entry = {
        "role": "developer",
        "status": "pending",
        "current_task": None,
        "last_update": None,
        "expertise_areas": [],
        "available_for_consultation": False,
        "current_session_id": None,
        **fields,
    }
    return lambda d: d["instances"].__setitem__(name, dict(entry))


def claim(tid: str, by: str, at: str) -> Change:
    """A change in which `by` claims the waiting task `tid` at `at`."""
    return lambda d: move(d, tid, "active_tasks", status="assigned", assigned_to=by, assigned_at=at)
