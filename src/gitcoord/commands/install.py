"""`coord install`: what one clone needs beyond the committed files (git keeps it out of git).

A fresh clone runs it once; it is safe to run again. See `clone` for what it sets up. With
--as INSTANCE the clone also acts as INSTANCE and signs its commits; with --server, run in a
bare repository, it installs the gate instead.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import NamedTuple

from gitcoord import authenticity
from gitcoord import carry
from gitcoord import clone
from gitcoord import git
from gitcoord import incoming
from gitcoord import model
from gitcoord import signing
from gitcoord import sshkeys
from gitcoord import trust
from gitcoord import workspace
from gitcoord.errors import ExitCode
from gitcoord.errors import FatalError
from gitcoord.output import Output
from gitcoord.sshkeys import fingerprint

if TYPE_CHECKING:
    from gitcoord import replay


def install(
    *,
    cwd: Path,
    as_instance: str | None,
    server: bool,
    out: Output,
    hooks: bool = True,
    trust: str | None = None,
    branch: str | None = None,
) -> int:
    if server:
        return install_server(cwd=cwd, out=out, trust=trust)
    repo = git.discover(cwd)
    changed = _trust(repo.root, trust) if trust is not None else []
    was = carry.leaving(repo.common_dir, git.config(repo.root, "coord.branch").get("coord.branch"))
    changed += clone.set_up(repo, branch=branch, with_hooks=hooks)
    data: dict[str, Any] = {"changed": changed}
    key = None
    if as_instance:
        key, more = sign_as(repo.root, as_instance)
        changed += more
        data.update(instance=as_instance, signing_key=key.public, fingerprint=key.fingerprint, key_path=_path(key))
    lines = [f"set {c}" for c in changed]
    if hooks:
        lines += [f".git/hooks/{name} {clone.TREE_HOOKS_WARNING}" for name in clone.tree_hooks(repo)]
    ws = workspace.open_workspace(repo.root, as_instance=as_instance)
    look = first_look(ws)
    moved: list[str] = []
    if was is not None and was != ws.branch and not look.refused:
        carried = carry.over(ws, was)
        data["carried"] = {"from": was, "steps": carried.steps, "left": carried.left}
        moved = _carried(ws, was, carried)
    lines = [*(lines if lines or moved else ["already installed; nothing to do"]), *look.said, *moved]
    if not look.refused:  # carried, or nothing to carry: a refused look carries at the next install
        carry.carried(repo.common_dir)
    if key is not None:
        where = _path(key) or "a literal key"
        lines += [f"this clone acts as {as_instance} and signs its commits with {where} ({key.origin})", key.public]
        from gitcoord.commands.key import registered_hint

        hint = registered_hint(workspace.open_workspace(repo.root, as_instance=as_instance), key.public)
        if hint:
            lines.append(hint)
    out.emit(data, lines, problem=look.refused)
    return ExitCode.FAILED if look.refused else ExitCode.OK


def _carried(ws: workspace.Workspace, old: str, carried: carry.Carried) -> list[str]:
    """What became of the steps this clone had not shared on `old`, where the store was."""
    steps, left = carried
    if left is not None:
        return [f"this clone's steps not shared on {old} were not carried over to {ws.branch}: {left}"]
    return (
        [f"carried over to {ws.branch} {steps} step(s) not shared on {old}: `coord sync` shares them"] if steps else []
    )


def _trust(root: Path, given: str) -> list[str]:
    """Trust the store whose root names `given` as the human's key, and judge the shared branch
    from its root again: what was judged good before was judged under another anchor, or none,
    or from a shallow join's tip before `git fetch --unshallow` brought the history."""
    from gitcoord.commands.key import read_key

    key = read_key(given)
    git.delete_refs(root, "refs/coord/verified/")
    if git.config(root, trust.TRUST).get(trust.TRUST) == key:
        return []
    git.set_config(root, trust.TRUST, key)
    return [trust.TRUST]


def _told_server(root: Path, given: str) -> str:
    """The key a gate is told, refused where a branch's store already names another human key: the
    gate judges what is pushed from now on, and that key was published before it could tell."""
    from gitcoord.commands.key import read_key

    key = read_key(given)
    tips = git.branch_tips(root)
    registries = trust.registries_at(root, list(tips.values()))
    for name, sha in tips.items():
        held = trust.human_key(registries[sha])
        if held is not None and held != key:
            raise FatalError(
                f"the store on {name} names the human key {fingerprint(held)}, not the key given "
                f"({fingerprint(key)}): if that is the human's key now (rotated), give it; if not, someone published "
                "it first, and the human coordinator repairs the branch (its last commit before that publish) "
                "before the gate is told; nothing was changed"
            )
    from gitcoord.commands import gate

    refused = gate.untold(root, key)
    if refused:
        said = "; ".join(
            f"{r.commit[:12]} ({r.subject}), which {', '.join(git.refs_containing(root, git.Sha(r.commit), 'refs/'))} "
            f"holds: {r.message}"
            for r in refused
        )
        raise FatalError(
            f"a ref here holds what a gate told this key would refuse, which it took before it was told: {said}. "
            "Delete that ref (or the human coordinator repairs it) before the gate is told; nothing was changed"
        )
    return key


class Look(NamedTuple):
    said: list[str]
    refused: str | None = None  # why the set-up is not done: nothing of the shared branch is good as judged here


def first_look(ws: workspace.Workspace) -> Look:
    """The shared branch judged on first contact, from its root (a shallow join: its tip), here
    where setting up is expected to take a while rather than at the first read."""
    tracking = git.rev_parse(ws.root, ws.tracking)
    # Judged already, and under the trust this clone has now (a clone that just became the human's has more).
    if tracking is None or incoming.anchored(ws, git.rev_parse(ws.root, incoming.verified_ref(ws)), tracking):
        return Look([])
    verdict = incoming.judge(ws, tracking)
    if verdict is not None and ws.config.get(trust.TRUST) and _shallow(ws, tracking):
        verdict, tracking = _deepened(ws, verdict, tracking)
    if verdict is None:
        trusted = ws.config.get(trust.TRUST)
        signed = trust.checkpoint(ws.root, tracking, trusted) if trusted else None
        if trusted and signed is not None:
            return Look(
                [
                    f"judged {ws.remote}/{ws.branch} since {signed[:12]}, the newest commit that the human key this "
                    f"clone trusts ({fingerprint(trusted)}) signed as the human coordinator: that signature vouches "
                    "for the history below it, and every commit since keeps the rules"
                ]
            )
        anchor = f", and it starts from the human key this clone trusts ({fingerprint(trusted)})" if trusted else ""
        if _shallow(ws, tracking):
            return Look(
                [
                    f"judged the tip of {ws.remote}/{ws.branch}, which this shallow join fetched without its history "
                    f"(the server's gate and CI judge that): it keeps the rules{anchor}; to judge the history here, "
                    f"`git fetch --unshallow {ws.remote} {ws.ref}` then `coord install --trust KEY`"
                ]
            )
        return Look([f"judged {ws.remote}/{ws.branch} from its root: every commit keeps the rules{anchor}"])
    said = incoming.summary(ws, verdict)
    if git.rev_parse(ws.root, incoming.verified_ref(ws)) is not None:
        return Look([said])  # the clone works from the last good commit, as every other clone does
    return Look([said], refused=f"no commit of {ws.remote}/{ws.branch} keeps the rules as this clone judges it")


DEEPER = (100, 1_000, 10_000)  # commits a shallow join told the human key fetches, in turn, to find its signature


def _deepened(ws: workspace.Workspace, verdict: replay.Verdict, tip: git.Sha) -> tuple[replay.Verdict | None, git.Sha]:
    """A shallow join told the human key holds only the tip, which the key vouches for only through
    a commit it signed as the human coordinator at or above the commits this clone has. So it fetches
    more of the history, in steps, until such a commit is in it (the human signs its registrations,
    decisions and answers), it has all of it, or the store names another human key (more history
    would not change who made it)."""
    tracking = ws.tracking
    registry = trust.registries_at(ws.root, [tip])[tip]
    told = ws.config.get(trust.TRUST, "")
    if not all(f.rule == "trust" for f in verdict.findings) or trust.human_key(registry) != trust.parsed(told):
        return verdict, tip
    for depth in DEEPER:
        if not _shallow(ws, tip):
            break
        try:
            git.fetch_tip(ws.root, ws.remote, ws.ref, tracking, depth=depth)
        except git.FetchFailed:
            break
        tip = git.rev_parse(ws.root, tracking) or tip
        git.delete_refs(ws.root, "refs/coord/verified/")
        found = incoming.judge(ws, tip)
        if found is None or not all(f.rule == "trust" for f in found.findings):
            return found, tip
        verdict = found
    return verdict, tip


def _shallow(ws: workspace.Workspace, tip: git.Sha) -> bool:
    """Whether `tip`'s history here stops at a shallow boundary (`git fetch --depth`)."""
    try:
        boundary = (ws.repo.common_dir / "shallow").read_text().split()
    except FileNotFoundError:
        return False
    return any(git.is_ancestor(ws.root, git.Sha(commit), tip) for commit in boundary)


def _path(key: signing.Key) -> str | None:
    return str(key.path) if key.path else None


def sign_as(root: Path, instance: str) -> tuple[signing.Key, list[str]]:
    """This clone acts as `instance` (coord.instance) and signs its commits; the key, and what changed."""
    if not model.INSTANCE_ID.fullmatch(instance):
        raise FatalError(f"{instance!r} cannot name an instance: letters, digits, '.', '_' or '-', up to 64")
    changed = []
    if git.config(root, "coord.instance").get("coord.instance") != instance:
        git.set_config(root, "coord.instance", instance)
        changed.append("coord.instance")
    key, more = signing.ensure(root, instance, taken=_keys_of_others(root, instance))
    return key, changed + more


def _keys_of_others(root: Path, instance: str) -> set[str]:
    """The signing keys the store holds for everyone but `instance` (none where there is no store yet)."""
    try:
        registry = workspace.snapshot(workspace.open_workspace(root), strict=False)[model.REGISTRY]
    except FatalError:
        return set()
    found = set()
    for name, held in authenticity.keys_of(registry).items():
        for key in held if name != instance else ():
            with contextlib.suppress(sshkeys.NotAKey):
                found.add(sshkeys.parse(key))
    return found


def install_server(*, cwd: Path, out: Output, trust: str | None = None) -> int:
    """The gate in the repository clones push to: a pre-receive hook running `coord hook pre-receive`.
    With `trust`, the human's key: the gate takes no store, and no first human key, that does not start from it."""
    if not git.is_bare(cwd):
        raise FatalError(
            f"{cwd} is not a bare repository: `coord install --server` sets up the repository that clones push "
            "to (run it there, e.g. `coord -C /srv/git/project.git install --server`)"
        )
    signing.ssh_keygen(cwd)  # the gate verifies signatures: better to say now that it cannot
    directory = git.hooks_dir(cwd)
    hooks, settings = clone.write_hooks(directory, clone.SERVER_HOOKS), clone.checked_transfers(cwd)
    told = _trust(cwd, _told_server(cwd, trust)) if trust is not None else []
    from gitcoord import store_line
    from gitcoord.commands import gate

    # The line from now on, whatever branch comes beside it, and the branches the store left before.
    store_line.remember(cwd, store_line.left_behind(cwd, store_line.find(cwd, [])))
    changed = [*hooks, *settings, *told]
    lines = [f"installed {h} in {directory}" for h in hooks] + [f"set {c}" for c in [*settings, *told]]
    lines = lines or ["the gate is installed; nothing to do"]
    # The gate takes what a ref holds as judged: what came before it, it judges once, now.
    bad = gate.unjudged(cwd)
    for r in bad:
        holders = ", ".join(git.refs_containing(cwd, git.Sha(r.commit), "refs/")) if r.commit else r.ref
        lines.append(f"  {holders} holds {r.commit[:12]} ({r.subject}) [{r.rule}]: {r.message}")
    problem = None
    if bad:
        problem = "refs pushed before the gate hold commits that break the rules"
        lines.append(
            f"{problem}: a push could move a branch onto them unjudged. Delete each such ref here "
            f"(`git -C {cwd} update-ref -d REF`), or the human coordinator repairs it, then run this again"
        )
    out.emit({"changed": changed, "hooks": str(directory), "unjudged": [r.commit for r in bad]}, lines, problem=problem)
    return ExitCode.FAILED if bad else ExitCode.OK
