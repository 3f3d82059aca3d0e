"""Real git repositories for tests: hermetic, fast to build, never the user's own config."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

from gitcoord.git import clean_env


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=clean_env(env))
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip()


def hermetic_git_env(home: Path) -> dict[str, str]:
    """Variables that make git ignore the machine it runs on: identity, config, templates, dates."""
    home.mkdir(parents=True, exist_ok=True)
    templates = home / "git-templates"
    templates.mkdir(exist_ok=True)
    config = home / "gitconfig"
    config.write_text(
        "[user]\n\tname = Test Author\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        f"[init]\n\ttemplateDir = {templates.as_posix()}\n"
        "[commit]\n\tgpgSign = false\n[tag]\n\tgpgSign = false\n"
        '[protocol "file"]\n\tallow = always\n'
        "[advice]\n\tdetachedHead = false\n",
        "utf-8",
    )
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "test@example.com",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "file",
    }


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def commit_all(path: Path, message: str = "commit") -> str:
    git(path, "add", "-A")
    git(path, "commit", "-q", "--no-verify", "-m", message)
    return git(path, "rev-parse", "HEAD")


def bare_remote(path: Path) -> Path:
    git(path.parent, "init", "-q", "--bare", "-b", "main", str(path))
    return path


def files_in(path: Path) -> dict[str, bytes]:
    """Every file under `path` (not .git), to prove that a refused command changed nothing."""
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(path).parts
    }


def env_without_coord() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("COORD_")}


def _utc(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def commit_msg_002_by_hand(clone: Path, text: str, *, verify: bool = True) -> None:
    """instance-2 writes a second message as msg_002 by hand and commits it: two clones doing
    this with different texts make one id with two texts, a conflict for a person."""
    path = clone / "coordination" / "communication-log.json"
    log = json.loads(path.read_text())
    log["messages"].append(
        {
            **log["messages"][0],
            "message_id": "msg_002",
            # The time of the commit it builds on: the same in both clones, and not before it.
            "timestamp": _utc(int(git(clone, "log", "-1", "--format=%ct"))),
            "requires_response": False,
            "status": "sent",
            "type": "notification",
            "message": text,
            "from": "instance-2",
            "to": "instance-4",
        }
    )
    path.write_text(json.dumps(log, indent=2))
    args = ["-c", "coord.instance=instance-2", "commit", "-qam", "msg_002 by hand"]
    git(clone, *args, *([] if verify else ["--no-verify"]))
