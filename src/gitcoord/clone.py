"""Setting up one clone, and checking it: what git keeps out of git.

A merge driver and hooks live in each clone's .git/, which a clone does not copy; without
the driver git silently merges the JSON as text. `coord init` and `coord install` set a
clone up; `coord doctor`, the hooks and `coord sync` check it, all through this module.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from gitcoord import fileio
from gitcoord import git
from gitcoord import hooks
from gitcoord import model
from gitcoord import store
from gitcoord import workspace
from gitcoord.errors import FatalError
from gitcoord.workspace import OWN_BRANCH
from gitcoord.workspace import store_branch

DRIVER = "coord"  # the name .gitattributes gives the driver: `merge=coord`
DRIVER_NAME = "gitcoord: merge coordination records"
ATTRIBUTES = (f"coordination/*.json merge={DRIVER}", f"coordination/archive/**/*.json merge={DRIVER}")
MARK = "# gitcoord hook"
# The coordination checks run from hooks/checks, by this clone's gitcoord, rather than through
# pre-commit, which runs the hooks config of whatever is checked out (see `install_git_hooks`).
GIT_HOOKS = ("prepare-commit-msg", *hooks.HOOK_TYPES)
SERVER_HOOKS = ("pre-receive",)  # the gate, in the bare repository clones push to
# git's temporary copies of a merge's sides, which it writes at the checkout's top for a merge
# driver to read (checked with git 2.39): a merge killed before it removed them leaves them.
MERGE_FILES = ".merge_file_??????"


class Check(NamedTuple):
    name: str
    ok: bool
    detail: str


def driver_command() -> str:
    # The interpreter that installed gitcoord, by absolute path: git runs drivers with
    # whatever PATH the caller had (an IDE, a GUI client), which may not find `coord`.
    # Isolated (-I): `-m` would put the working directory first on sys.path, and a `click.py`
    # committed at the top of the repository would then run in every clone that merges.
    return f"{shlex.quote(sys.executable)} -I -m gitcoord merge-driver %O %A %B %P"


def set_up(repo: git.Repo, *, branch: str | None = None, with_hooks: bool = True) -> list[str]:
    """Register the driver, the attributes, the branch and (unless `with_hooks` is false) the hooks;
    return what changed."""
    if branch is None:
        _look_again(repo.root)  # a move the remote took since this clone last fetched
    return [
        *_register_driver(repo.root),
        *_fetch_store_branch(repo.root, branch),
        *checked_transfers(repo.root),
        *_choose_branch(repo.root, branch),
        *_attributes(repo),
        *_excluded(repo),
        *(install_git_hooks(repo) if with_hooks else []),
    ]


def _register_driver(root: Path) -> list[str]:
    current = git.config(root, f"merge.{DRIVER}.")
    wanted = {f"merge.{DRIVER}.name": DRIVER_NAME, f"merge.{DRIVER}.driver": driver_command()}
    changed = [key for key, value in wanted.items() if current.get(key) != value]
    for key in changed:
        git.set_config(root, key, wanted[key])
    return changed


# The commits of the store's branch a clone fetches when it joins: the tip alone.
JOIN_DEPTH = 1


def _fetch_store_branch(root: Path, branch: str | None) -> list[str]:
    """A clone made without the store's own branch (`git clone --single-branch`, the cheap way
    to join) fetches that branch's last commit, not its history: a year of events is hundreds
    of thousands of commits, which a clone would have to receive and index, where the
    commands need only the tip. A step builds on the tip, a sync merges from a base at or
    after it, and what arrives later is judged from there (a merge of two lines that forked
    before the join fetches the history down to their base, `incoming._deep_enough`); the gate
    and CI, which hold the whole history, judge the rest. `git fetch --unshallow` fetches the
    history when wanted."""
    remote = git.config(root, "coord.remote").get("coord.remote") or "origin"
    name = branch or _kept(root, remote) or OWN_BRANCH
    tracking = git.Ref(f"refs/remotes/{remote}/{name}")
    if (
        git.remote_url(root, remote) is None
        or git.rev_parse(root, f"refs/heads/{name}")
        or git.rev_parse(root, tracking)
    ):
        return []
    try:
        git.fetch_tip(root, remote, git.Ref(f"refs/heads/{name}"), tracking, depth=JOIN_DEPTH)
    except git.RemoteRefMissing:
        return []  # the store lives on the code branch, or nowhere yet
    except git.FetchFailed as e:
        raise FatalError(
            f"cannot fetch the coordination branch {name!r} from {remote}: {e.reason}\n"
            "Run `coord install` again when the remote can be reached."
        ) from None
    return [f"{tracking} (the tip of {remote}'s {name}, without its history)"]


def checked_transfers(root: Path) -> list[str]:
    """Have git check every object it receives (`git fsck`'s rules): a tree that lists a file twice,
    or holds an entry named like a path, reads one way to one command and another way to the next."""
    if git.config_bool(root, "transfer.fsckObjects"):
        return []
    git.set_config(root, "transfer.fsckObjects", "true")
    return ["transfer.fsckObjects"]


def _kept(root: Path, remote: str) -> str | None:
    """The store's branch this clone was set up with, unless it holds no store: a clone set up
    before the store was made or shared (`coord install` before `coord init`, or before the
    human's first push) looks for it again rather than keep a branch that never had one."""
    current = git.config(root, "coord.branch").get("coord.branch")
    if current is None or workspace.holds_store(root, remote, current):
        return current
    # A clone set up before `coord migrate` follows the store to its own branch.
    moved = workspace.follow(root, remote, current)
    return moved if moved != current else None


def _look_again(root: Path) -> None:
    """Fetch the branch this clone was set up with (bounded), before `_kept` asks whether it still
    holds the store; what cannot be fetched is looked at as it was."""
    config = git.config(root, "coord.")
    branch, remote = config.get("coord.branch"), config.get("coord.remote") or "origin"
    if branch is None or git.remote_url(root, remote) is None:
        return
    ref = git.Ref(f"refs/heads/{branch}")
    with contextlib.suppress(git.RemoteRefMissing, git.TimedOut, git.FetchFailed, git.RefLocked):
        git.fetch_within(root, remote, ref, git.Ref(f"refs/remotes/{remote}/{branch}"), timeout=FETCH_TIMEOUT)


FETCH_TIMEOUT = 3.0  # seconds: a set-up that cannot reach the remote goes on with what it has


def _choose_branch(root: Path, branch: str | None) -> list[str]:
    current = git.config(root, "coord.branch").get("coord.branch")
    remote = git.config(root, "coord.remote").get("coord.remote") or "origin"
    wanted = branch or _kept(root, remote) or store_branch(root, remote)
    if not branch and not workspace.holds_store(root, remote, wanted):
        return []  # no store anywhere yet: nothing to keep (`coord init` makes one on a branch of its own)
    if current == wanted:
        return []
    git.set_config(root, "coord.branch", wanted)
    return ["coord.branch"]


def _attributes(repo: git.Repo) -> list[str]:
    # Also in .git/info/attributes: branches without the committed .gitattributes, and
    # `git merge-tree`, still merge the files with the driver.
    info = repo.common_dir / "info" / "attributes"
    return [str(info)] if fileio.ensure_lines(info, ATTRIBUTES) else []


def _excluded(repo: git.Repo) -> list[str]:
    # So that a `git add -A` after a killed merge never commits copies of the store to the code.
    info = repo.common_dir / "info" / "exclude"
    return [str(info)] if fileio.ensure_lines(info, ("/" + MERGE_FILES,)) else []


def hooks_installed(repo: git.Repo) -> bool:
    """Whether git runs gitcoord's checks here: its hooks, or (after `pre-commit install` put
    pre-commit's hook in front) the same kept as NAME.legacy, which pre-commit runs first."""
    directory = repo.common_dir / "hooks"
    return all(_ours(directory / t) or _ours(directory / f"{t}.legacy") for t in hooks.HOOK_TYPES)


PRE_COMMIT_MARK = "File generated by pre-commit"  # the second line of every hook `pre-commit install` writes
TREE_HOOKS_WARNING = (
    "runs pre-commit, and so the .pre-commit-config.yaml of whatever is checked out: code that anyone who "
    "pushes to the branch wrote, run as whoever commits here. Where this clone signs as the human "
    "coordinator, remove it (gitcoord's own hooks check the coordination files without it)"
)


def tree_hooks(repo: git.Repo) -> list[str]:
    """The hooks here that run pre-commit, which runs the hooks config of whatever is checked out:
    code that anyone who pushes to the branch wrote, run as whoever commits in this clone."""
    directory = repo.common_dir / "hooks"
    found = (directory / n for t in hooks.HOOK_TYPES for n in (t, f"{t}.legacy"))
    return [p.name for p in found if p.exists() and PRE_COMMIT_MARK in p.read_text("utf-8", "replace")]


def _ours(path: Path) -> bool:
    return path.exists() and MARK in path.read_text("utf-8", "replace")


def hook_templates() -> Path:
    """The scripts of the repository's hooks/ folder: in the wheel, or beside src/ in a checkout."""
    from importlib.resources import files  # here, not at the top: importing it costs a sync ~4 ms

    packaged = Path(str(files("gitcoord"))) / "hooks"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "hooks"


def install_git_hooks(repo: git.Repo) -> list[str]:
    """Install hooks/ into .git/hooks, keeping a hook that was there as <name>.legacy, which ours runs.

    Fixed scripts that run this clone's gitcoord: not pre-commit's hook, which would run the
    `.pre-commit-config.yaml` of the checkout, a file any instance that pushes code can rewrite
    (an entry that copies `git config user.signingkey` would then run in the human's clone)."""
    return write_hooks(repo.common_dir / "hooks", GIT_HOOKS)


def write_hooks(directory: Path, names: tuple[str, ...]) -> list[str]:
    """Install hooks/ `names` into `directory`; what changed."""
    directory.mkdir(exist_ok=True)
    return [said for name in names if (said := _install_git_hook(directory, name))]


def _install_git_hook(directory: Path, name: str) -> str | None:
    """Install hook `name`; what changed (None: nothing).

    pre-commit's own hook found in its place (an older `coord install` put it there) is moved
    aside, not kept to run first: it runs the checkout's hooks config. One put in front of ours
    since (`pre-commit install` keeps ours as .legacy and runs it) is someone's choice, and stays."""
    template = hook_templates() / (name if name not in hooks.HOOK_TYPES else "checks")
    script = template.read_text("utf-8").replace("@PYTHON@", sys.executable).replace("@HOOK@", name)
    target = directory / name
    if not _ours(target) and _ours(directory / f"{name}.legacy"):
        target = directory / f"{name}.legacy"
    current = target.read_text("utf-8", "replace") if target.exists() else None
    if current == script:
        return None
    said = f"git hook {name}"
    if current is not None and MARK not in current:
        aside = f"{name}.pre-commit" if PRE_COMMIT_MARK in current else f"{name}.legacy"
        target.rename(directory / aside)
        if aside.endswith(".pre-commit"):
            said += (
                f" (pre-commit's hook, which ran the .pre-commit-config.yaml of whatever is checked out, "
                f"moved aside to {aside}; `pre-commit install` puts it back in front)"
            )
    fileio.write_atomic(target, script.encode("utf-8"))
    target.chmod(0o755)
    return said


def driver_checks(repo: git.Repo, config: Mapping[str, str] | None = None) -> Iterator[Check]:
    """Whether git merges the coordination files with the driver in this clone (`config`: its
    merge.coord.* settings, when they were read already)."""
    yield _driver_registered(repo.root, config)
    yield _driver_attribute(repo.root)


def _driver_registered(root: Path, config: Mapping[str, str] | None) -> Check:
    settings = git.config(root, f"merge.{DRIVER}.") if config is None else config
    command = settings.get(f"merge.{DRIVER}.driver")
    if command is None:
        return Check(
            "merge driver", False, "not registered in this clone, so git merges the JSON as text: run `coord install`"
        )
    program = shlex.split(command)[0]
    if program.startswith("/") and not Path(program).exists():
        return Check("merge driver", False, f"registered, but {program} no longer exists: run `coord install` again")
    return Check("merge driver", True, command)


def _driver_attribute(root: Path) -> Check:
    probe = store.repo_path(model.TASKS)
    attr = git.check_attr(root, "merge", probe)
    if attr != DRIVER:
        return Check(
            "attributes", False, f"{probe} has merge={attr}: add `{ATTRIBUTES[0]}` to .gitattributes (`coord init`)"
        )
    attributes = root / ".gitattributes"
    committed = attributes.exists() and ATTRIBUTES[0] in attributes.read_text("utf-8").splitlines()
    return Check(
        "attributes",
        True,
        ATTRIBUTES[0] + ("" if committed else " (from .git/info/attributes only; `coord init` commits it)"),
    )


def require_driver(repo: git.Repo, config: Mapping[str, str] | None = None) -> None:
    """Refuse to merge where git would merge the JSON as text."""
    problems = [c.detail for c in driver_checks(repo, config) if not c.ok]
    if problems:
        raise FatalError("cannot merge safely: " + "; ".join(problems))
