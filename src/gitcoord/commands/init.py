"""`coord init`: start coordinating in a repository, safely and more than once."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from gitcoord import clone
from gitcoord import fileio
from gitcoord import git
from gitcoord import hooks
from gitcoord import model
from gitcoord import refresh
from gitcoord import signing
from gitcoord import snapshot
from gitcoord import sshkeys
from gitcoord import store
from gitcoord import storebranch
from gitcoord import validation
from gitcoord import workflows
from gitcoord import workspace
from gitcoord.commands import agents as agent_files
from gitcoord.commands import install
from gitcoord.commands.key import read_key
from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError
from gitcoord.events import Event
from gitcoord.output import Output

PRE_COMMIT_CONFIG = storebranch.HOOKS_CONFIG


def init(
    *,
    cwd: Path,
    example: bool,
    agents: bool,
    github: bool,
    install_spec: str | None,
    human_key: str | None = None,
    branch: str | None = None,
    as_instance: str | None,
    out: Output,
) -> int:
    repo = git.discover(cwd)
    root = repo.root
    name = branch or git.config(root, "coord.branch").get("coord.branch") or DEFAULT_BRANCH
    # The store on the branch checked out here is the older layout, kept as it was.
    same_branch = name == git.head_branch(root) or (root / model.COORD_DIR / model.REGISTRY).exists()
    if same_branch:
        name = git.head_branch(root) or name
    stored = _stored(repo, name, example=example, same_branch=same_branch)
    creating = not stored
    if creating and not same_branch:
        _not_shared_yet(root, name)
    if human_key is not None and not creating:
        raise FatalError(
            "--human-key gives the human coordinator's key to a new store, and this one exists: "
            "the human coordinator sets it with `coord key set HUMAN KEY` (or `coord key publish` in their clone)"
        )
    # Who this clone is, and its signing key, before the first commit: that commit is signed too.
    key = install.sign_as(root, as_instance)[0] if as_instance else None
    human = _human_key(human_key, key if as_instance == model.DEFAULT_HUMAN else None)
    # Work out every file first, and write only when nothing can refuse any more.
    missing = creating or (same_branch and len(stored) < len(model.FILES))  # the older layout fills gaps
    documents = _documents(example=example, human=human, own_branch=None if same_branch else name) if missing else {}
    plan, config_note = _plan(root, agents=agents)
    github_plan, github_said, warning = (
        _github(root, name, same_branch=same_branch, install_spec=install_spec) if github else (None, [], "")
    )
    if github_plan is not None:
        plan.update(_changed(root, github_plan.code_branch))
    summary = "start coordinating in coordination/" + (" (seed example)" if example else "")
    message = Event("init", as_instance, None, summary).message()
    store_commit = None
    if same_branch:
        plan = {**{store.repo_path(f): d for f, d in documents.items() if f not in stored}, **plan}
    elif documents:
        extra = {p: t.encode("utf-8") for p, t in github_plan.store_branch.items()} if github_plan else {}
        store_commit = storebranch.create(
            root, git.Ref(f"refs/heads/{name}"), {**_branch_files(documents), **extra}, message
        )
    for path, content in plan.items():
        fileio.write_atomic(root / path, content)
    changed = list(plan)
    if changed:
        git.add(root, changed)
        git.commit(root, message if same_branch else _setup_message(name), changed)
    clone.set_up(repo, branch=name)
    on_store = github_plan.store_branch if github_plan is not None and store_commit is None else {}
    workflows_commit = (
        storebranch.add_files(
            root,
            name,
            {p: t.encode("utf-8") for p, t in on_store.items()},
            Event(
                "init", as_instance or _human(root, name), None, "the GitHub workflows that run for this branch"
            ).message(),
        )
        if on_store
        else None
    )
    done = bool(changed) or store_commit is not None or workflows_commit is not None
    data = {
        "initialised": done,
        "changed": changed,
        "branch": name,
        "layout": "code branch" if same_branch else "own branch",
        "commit": store_commit or git.rev_parse(root, "HEAD"),
    }
    lines = _said(data, store_commit=store_commit, code=git.head_branch(root))
    if workflows_commit is not None:
        data["store_branch_changed"] = sorted(on_store)
        lines.append(f"added on {name} at {workflows_commit[:12]}: {', '.join(sorted(on_store))}")
    refused = None
    if key is not None:
        lines.append(f"this clone acts as {as_instance} and signs its commits with {key.path or key.origin}")
        if not creating:  # the store was read before this clone was who it is now: judged again as it
            look = install.first_look(workspace.open_workspace(root, as_instance=as_instance))
            lines, refused = lines + look.said, look.refused
    if creating:
        data["require_signatures"] = bool(human)
        if human:
            lines.append(f"signatures are required; the human coordinator's key is {sshkeys.fingerprint(human)}")
        else:
            out.note(UNSIGNED_NOTE)
    if config_note:
        out.note(config_note)
    lines += github_said
    if warning:
        out.note(f"a runner may not be able to install that: {warning}")
    out.emit(data, lines, problem=refused)
    return ExitCode.FAILED if refused else ExitCode.OK


DEFAULT_BRANCH = "coord"  # a store's own branch, for stores `coord init` creates


def _said(data: dict[str, Any], *, store_commit: str | None, code: str | None) -> list[str]:
    branch = data["branch"]
    if not data["initialised"]:
        return [f"already initialised: the store on {branch} is valid and the setup is complete; nothing to do"]
    lines = []
    if store_commit:
        lines.append(
            f"the store starts on a branch of its own, {branch}, at {store_commit[:12]}: "
            "coord reads and writes it there, and never checks it out"
        )
    if data["changed"]:
        lines.append(f"created or updated: {', '.join(data['changed'])}, committed on {code or 'HEAD'}")
    return lines


def _setup_message(branch: str) -> str:
    return Event("init", None, None, f"set up gitcoord; the store lives on branch {branch}").message()


def _human(root: Path, branch: str) -> str:
    """The human coordinator of the store on `branch`: the files beside a store on its own branch are theirs."""
    tip = storebranch.tip_of(root, branch)
    [data] = git.read_blobs(root, [f"{tip}:{store.repo_path(model.REGISTRY)}"]) if tip else [None]
    registry = json.loads(data) if data else {}
    return model.settings_of(registry).human_coordinator


def _branch_files(documents: dict[str, bytes]) -> dict[str, bytes]:
    """What a store's own branch holds: the store, and what lets a worktree of it check its commits."""
    return {**{store.repo_path(f): d for f, d in documents.items()}, **storebranch.beside_store()}


def _documents(*, example: bool, human: str | None, own_branch: str | None) -> dict[str, bytes]:
    documents = _example() if example else {f: store.dump(f, d) for f, d in model.empty_documents().items()}
    settings: dict[str, object] = {"require_signatures": True, "human_key": human} if human else {}
    if own_branch:
        settings["store_branch"] = own_branch  # what lies beside the store there is the human's alone
    if settings:
        registry = json.loads(documents[model.REGISTRY])
        registry["settings"] = {**registry.get("settings", {}), **settings}
        documents[model.REGISTRY] = store.dump(model.REGISTRY, registry)
    return documents


UNSIGNED_NOTE = f"""\
signatures are not required in this store yet, because the human coordinator
({model.DEFAULT_HUMAN}) has no key in it, so no human action could be verified. To require them, in
the human coordinator's clone:
  coord install --as {model.DEFAULT_HUMAN}    # a signing key for this clone
  coord key publish              # the human key goes into the registry
  coord key require              # from now on every coordination commit is signed
(`coord init --as {model.DEFAULT_HUMAN}`, or `coord init --human-key KEY|@FILE`, starts a store that way.)"""


def _human_key(given: str | None, mine: signing.Key | None) -> str | None:
    """The human coordinator's key for a new store: --human-key, or this clone's when it acts as the human."""
    if given is None:
        return mine.public if mine else None
    public = read_key(given)
    if mine is not None and mine.public != public:
        raise FatalError(
            f"--human-key is not the key this clone signs with ({mine.fingerprint}), yet this clone acts as "
            f"{model.DEFAULT_HUMAN}: its commits would be refused; leave out --human-key to use this clone's key"
        )
    return public


def _not_shared_yet(root: Path, branch: str) -> None:
    """Refuse to make a store from nothing where the remote already shares the store's branch (a
    clone made with `git clone --single-branch` has not fetched it): it would be a second root,
    whose history cannot merge with the team's."""
    remote = git.config(root, "coord.remote").get("coord.remote") or "origin"
    if git.remote_url(root, remote) is None:
        return
    try:
        there = git.ls_remote(root, remote, git.Ref(f"refs/heads/{branch}"), timeout=refresh.TIMEOUT)
    except git.FetchFailed:
        return  # out of reach: a store started here is shared when it is reachable, or refused then
    if there is not None:
        raise FatalError(
            f"{remote} already shares the store's branch {branch!r} (at {there[:12]}): this clone joins it with "
            "`coord install` (add `--as INSTANCE` to act as one), which fetches it; `coord init` would start a "
            "second store from nothing, which cannot merge with it. Nothing was changed"
        )


def _stored(repo: git.Repo, branch: str, *, example: bool, same_branch: bool) -> list[str]:
    """The store files already there (on the branch, or in this checkout), once it is clear init may go on."""
    if same_branch:
        coord_dir = repo.root / model.COORD_DIR
        present = [f for f in model.FILES if (coord_dir / f).exists()]
        check = snapshot.Snapshot(snapshot.directory_reader(coord_dir))
    else:
        tip = storebranch.tip_of(repo.root, branch)
        if tip is None:
            return []
        ws = workspace.open_workspace(repo.root)._replace(branch=branch)
        check = workspace.snapshot(ws, commit=tip)
        present = [f for f in model.FILES if check.raw(f) is not None]
    if present and example:
        raise FatalError(f"the store on {branch} already holds {', '.join(present)}; --example only fills an empty one")
    findings = validation.check(check, present) if present else []
    if findings:
        raise validation.InvalidStore(
            findings,
            f"the store on {branch} exists but is not valid; fix it (nothing was changed), then run `coord init` again",
        )
    return present


def _plan(root: Path, *, agents: bool) -> tuple[dict[str, bytes], str]:
    """The code branch's files gitcoord adds or updates (path -> content); and a note for the user, or ""."""
    plan = {}
    attributes = fileio.read_text(root / ".gitattributes")
    if fileio.with_lines(attributes, clone.ATTRIBUTES) != attributes:
        plan[".gitattributes"] = fileio.with_lines(attributes, clone.ATTRIBUTES).encode("utf-8")
    config, config_note = _pre_commit_config(fileio.read_text(root / PRE_COMMIT_CONFIG))
    if config is not None:
        plan[PRE_COMMIT_CONFIG] = config.encode("utf-8")
    if agents:
        plan.update(agent_files.plan(root))
    return plan, config_note


def _changed(root: Path, texts: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode("utf-8") for path, text in texts.items() if fileio.read_text(root / path) != text}


def _github(
    root: Path, branch: str, *, same_branch: bool, install_spec: str | None
) -> tuple[workflows.Plan, list[str], str]:
    """The workflows for the store on `branch`, what to tell the user about them, and a warning or ""."""
    store_tree = None if same_branch else storebranch.tip_of(root, branch)
    if same_branch:
        present = fileio.read_text(root / workflows.INSTALL_FILE)
    elif store_tree is not None:
        present = (git.read_blobs(root, [f"{store_tree}:{workflows.INSTALL_FILE}"])[0] or b"").decode("utf-8")
    else:
        present = ""
    # An install file already there is the user's choice, kept until --install names another.
    if install_spec is not None:
        spec: workflows.Spec | None = workflows.given(install_spec)
    elif present:
        spec = None
    else:
        spec = workflows.running(root, same_branch=same_branch)
    notes = []
    if spec is not None:
        notes.append(
            f"the workflows install {spec.requirement} ({spec.source}), named in {workflows.INSTALL_FILE} on {branch}"
        )
    plan = workflows.plan(root, branch, same_branch=same_branch, spec=spec)
    warning = spec.warning if spec else ""
    if not same_branch:
        notes.append(
            f"pushes to {branch} run only the workflows on {branch} (validation, decision review): "
            "the code CI, on the code branch, finds no workflow of its own there and does not run; "
            "GitHub runs health and the decision merge from the default branch only, so commit those there"
        )
        return plan, notes, warning
    edits, ci_notes = _code_ci(root)
    return plan._replace(code_branch={**plan.code_branch, **edits}), notes + ci_notes, warning


def _code_ci(root: Path) -> tuple[dict[str, str], list[str]]:
    """The code workflows, told to skip pushes that change only coordination files."""
    edits, notes = {}, []
    directory = root / workflows.WORKFLOW_DIR
    ours = set(workflows.WORKFLOWS)
    found = sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]) if directory.is_dir() else []
    for path in (p for p in found if p.name not in ours):
        text = path.read_text("utf-8")
        edited = workflows.skip_coordination_pushes(text)
        relative = f"{workflows.WORKFLOW_DIR}/{path.name}"
        if edited is not None:
            edits[relative] = edited
            notes.append(f"{relative}: its push trigger now skips pushes that change only {workflows.IGNORED}")
        elif "push" in text and workflows.IGNORED not in text:
            notes.append(
                f'{relative}: if it runs on every push, add `paths-ignore: ["{workflows.IGNORED}"]` '
                "to its push trigger by hand (its form is not one coord edits)"
            )
    return edits, notes


def _example() -> dict[str, bytes]:
    return {f: files("gitcoord.examples").joinpath(f).read_bytes() for f in model.FILES}


def _pre_commit_config(text: str) -> tuple[str | None, str]:
    """The config with gitcoord's hooks added (None: no change), and a note for the user or ""."""
    if not text:
        return "repos:\n" + hooks.local_block(), ""
    if "id: coord-validate" in text:
        return None, ""
    top_level = [line.split(":", 1)[0] for line in text.splitlines() if line[:1].isalpha() and ":" in line]
    if top_level[-1:] != ["repos"]:
        return None, f"{PRE_COMMIT_CONFIG}: add gitcoord's hooks under `repos:` by hand:\n{hooks.local_block()}"
    return text.rstrip("\n") + "\n" + hooks.local_block(), ""
