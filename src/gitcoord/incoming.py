"""What a sync receives is judged before anything is built on it.

Every commit the remote has and this clone does not is replayed against the rules (as the
server's gate and CI replay them): parse, schema, invariants, the rulebook, signatures. A
remote tip that breaks any of them is refused, naming the first bad commit and its author;
the clone keeps working on its last good state and shares nothing on top of the bad one.
What was judged good is remembered (a ref under refs/coord/), so a busy remote costs only
the commits that are new since.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from gitcoord import clock
from gitcoord import git
from gitcoord import model
from gitcoord import sshkeys
from gitcoord import trust
from gitcoord.errors import Busy
from gitcoord.errors import FatalError
from gitcoord.findings import Finding

if TYPE_CHECKING:  # workspace reads through this module: `adopt`
    from gitcoord import replay
    from gitcoord.workspace import Workspace


def verify(ws: Workspace, remote: git.Sha | None, known: git.Sha | None) -> None:
    """Refuse (FatalError) a remote tip that breaks the rules, saying what and how to repair it.

    `known`: where `verified_ref` pointed, as the caller read it (with the other refs it needed)."""
    verdict = judge_since(ws, remote, known)
    if verdict is not None and remote is not None:
        raise FatalError(refusal(ws, verdict, remote))


def judge(ws: Workspace, remote: git.Sha | None) -> replay.Verdict | None:
    """The verdict on the remote tip `remote` when it breaks the rules; None when it is good.

    On first contact (nothing judged good yet) that is the remote's whole history, from its root,
    once: what `git clone` put in a checkout was never judged either. After, only what is new."""
    if remote is None:
        return None
    return judge_since(ws, remote, git.rev_parse(ws.root, verified_ref(ws)))


def _deep_enough(ws: Workspace, revisions: list[str]) -> None:
    """In a clone joined on the tip (shallow), the history that judging `revisions` needs: each
    merge among them is judged against what the driver makes of its parents from their base, and
    two lines that forked before this clone joined have their base below what it fetched. Without
    it the merge would look like one of unrelated histories. Deepened as far as that takes."""
    if not git.is_shallow(ws.repo):
        return
    for parents in git.merges(ws.root, revisions):
        depth = 64
        while not git.merge_bases(ws.root, *parents) and git.is_shallow(ws.repo):
            git.deepen(ws.root, ws.remote, ws.ref, ws.tracking, by=depth)
            depth *= 4


def judge_since(ws: Workspace, remote: git.Sha | None, known: git.Sha | None) -> replay.Verdict | None:
    """`judge`, with `known` where `verified_ref` pointed, as the caller read it with its other refs."""
    if remote is None:
        return None
    known = anchored(ws, known, remote)
    told = ws.config.get(trust.TRUST)
    # First contact, told the human's key: the history below the newest commit it signed as the
    # human is vouched for by that signature; only what came since is judged.
    since = known or (trust.checkpoint(ws.root, remote, told) if told else None)
    if since == remote:
        if known != remote:
            _remember(ws, verified_ref(ws), remote, known, "coord: signed by the human key told")
        return None
    # Not `--not local`: what this clone holds may never have been judged (a checkout `git clone`
    # made); what it made itself and shared is remembered as judged when it was shared (`shared`).
    from gitcoord import replay  # here: a sync that received nothing judges nothing

    revisions = [remote, "--not", *([since] if since else [])]
    _deep_enough(ws, revisions)
    verdict = replay.check_range(ws.root, revisions, now=clock.now())
    # Every root judged, not only on first contact: a store made from nothing later (planted on the
    # code branch beside the shared one, say) must start from the trusted key as much as the first.
    verdict = verdict._replace(findings=_untrusted(ws, verdict, remote) + verdict.findings)
    # Remembered: the tip, or the last good commit before the first bad one, whose history was
    # all judged good; the next look judges only what came after it.
    good = last_good(ws, verdict, remote) if verdict.findings else remote
    # Never back, nor aside: what was judged good is also what this clone saw the remote hold, which a
    # remote rewound or rewritten no longer contains. A sync says so (`sync`), whatever fetched since
    # (a read's refresh, a `git fetch`) moved the remote-tracking ref.
    if good is not None and good != known and (known is None or git.is_ancestor(ws.root, known, good)):
        _remember(ws, verified_ref(ws), good, known, "coord: judged good")
    return verdict if verdict.findings else None


JUDGED = "coord.judged"  # the trust this clone's judged refs rest on, then each lighter one seen since, `;` between


def anchored(ws: Workspace, known: git.Sha | None, tip: git.Sha) -> git.Sha | None:
    """`known`, the last commit judged good, unless it was judged under lighter trust than this
    clone's now; then None, and the branch is judged again from its root. A key told out of band
    (`coord.trust`), or this clone acting as the store's human coordinator with its own key, judges
    the roots and the first human key (`_untrusted`), which a clone told nothing, or acting as an
    instance, takes as they come: a clone that became the human's after its first look (`coord init
    --as human` on a store that was there, `git config coord.instance`, `--as`) would otherwise keep
    believing a store someone else made. A lighter trust than the recorded one needs nothing judged again."""
    basis = _basis(ws)
    recorded = ws.config.get(JUDGED, "").split(";")
    if not basis or basis in recorded:
        return known
    if not _weighs(ws, basis, [c for c in (tip, known) if c is not None]):
        _record(ws, ";".join([*recorded, basis]))  # looked at once, not at every read
        return known
    git.delete_refs(ws.root, "refs/coord/verified/")  # before the record: a look killed between judges again
    _record(ws, basis)
    return None


def _record(ws: Workspace, value: str) -> None:
    ws.config[JUDGED] = value  # a second look in this process (a sync retrying) reads it
    with contextlib.suppress(git.GitError):  # another command writing the config now: the next look records it
        git.set_config(ws.root, JUDGED, value)


def _basis(ws: Workspace) -> str:
    """The trust a look here judges with, from the config the workspace read (no git call more)."""
    told = ws.config.get(trust.TRUST)
    if told:
        return f"told {told}"
    key = ws.config.get("user.signingkey")
    me = _judging_as(ws)
    return f"{me} {key}" if me and key and ws.config.get("gpg.format") == "ssh" else ""


def _weighs(ws: Workspace, basis: str, commits: list[git.Sha]) -> bool:
    """Whether `basis` judges more than the clone's lighter looks: a key told, or the identity the
    store names its human coordinator (at the tip, or at the last commit judged good)."""
    if basis.startswith("told "):
        return True
    registries = trust.registries_at(ws.root, commits)
    me = _judging_as(ws)
    return any(r is not None and model.settings_of(r).human_coordinator == me for r in registries.values())


def rewound(ws: Workspace, known: git.Sha | None, remote: git.Sha | None) -> bool:
    """Whether the remote's tip lost `known`, what this clone saw it hold: someone force-pushed or deleted it."""
    if known is None or known == remote:
        return False
    return remote is None or not git.is_ancestor(ws.root, known, remote)


def rewound_to(ws: Workspace, remote: git.Sha | None, judged: git.Sha | None) -> git.Sha | None:
    """The rewound remote `remote`, judged, taken as what this clone saw it hold (`sync --accept-rewind`)."""
    if remote is not None and remote != judged:
        # Not `_remember`: a record left behind the rewind would report it again at every sync.
        try:
            git.update_ref(ws.root, verified_ref(ws), remote, judged, "coord: the rewind accepted")
        except git.RefLocked as e:
            raise Busy(
                f"{e.lock} stays locked, so this clone cannot record that it took the rewind of {ws.branch} "
                f"(its branch is at {remote[:12]} already): remove it if no git command is running here, then "
                "`coord sync --accept-rewind` again",
                details={"lock": str(e.lock)},
            ) from None
    return remote


def shared(ws: Workspace, tip: git.Sha) -> None:
    """Remember `tip`, which this clone pushed and the remote took, as judged: it is the remote's
    tip this sync judged, with this clone's own commits on it. Judged again at the next look, its
    claims would count as new there, and a claim backdated on a side line merged in meanwhile
    would win the driver's race against the one this clone shared first."""
    ref = verified_ref(ws)
    _remember(ws, ref, tip, git.rev_parse(ws.root, ref), "coord: shared from this clone")


def _untrusted(ws: Workspace, verdict: replay.Verdict, tip: git.Sha) -> list[Finding]:
    """What of the judged range does not start from the key this clone was told (`trust.untrusted`),
    or, in the human coordinator's own clone, told none: who the human is, changed by another key.
    That clone is the human's by the name the store gave the human before the change, not after it."""
    told = ws.config.get(trust.TRUST)
    if told:
        return trust.untrusted(ws.root, told, verdict, tip)
    me = _judging_as(ws)
    if me is None or not (verdict.roots or any(me in p.was for p in verdict.published)):
        return []
    mine = _own_key(ws)
    if mine is None:
        return []
    return trust.foreign_roots(ws.root, mine, verdict, me, tip) + trust.untrusted(
        ws.root, mine, verdict, tip, told=False, human=me
    )


def _shown(key: str) -> str:
    found = trust.parsed(key)
    return sshkeys.fingerprint(found) if found else "a key that does not parse"


def _judging_as(ws: Workspace) -> str | None:
    """Who this clone is, as it judges what it receives: the instance it was set up as (or the
    session's, COORD_INSTANCE), not one a single command names with --as; a command acting as the
    human from an instance's clone (refused before it commits) must not judge the shared history
    as the human's own clone would, by a key that is not the human's."""
    return os.environ.get("COORD_INSTANCE") or ws.config.get("coord.instance") or None


def _own_key(ws: Workspace) -> str | None:
    from gitcoord import signing

    key = signing.current(ws.root)
    return sshkeys.parse(key.public) if key is not None else None


def refused_ref(ws: Workspace) -> git.Ref:
    """The local tip the remote last refused (its gate), until a sync shares this clone's line: so
    that a read does not promise that `coord sync` will share what the remote has refused."""
    return git.Ref(f"refs/coord/refused/{ws.remote}/{ws.branch}")


def forget_refused(ws: Workspace) -> None:
    """The record of `refused_ref`, once a sync shared this clone's line. One that cannot go (a stale
    packed-refs.lock; `coord doctor` names it) only keeps a read cautious until a later sync."""
    with contextlib.suppress(git.GitError):
        git.delete_refs(ws.root, refused_ref(ws))


REDONE = "refs/coord/redone/"  # a step made again, and shared, in place of the commit named


def redone(ws: Workspace, mine: git.Sha, again: git.Sha) -> None:
    """Remember that the step `mine` is shared as `again` (made again on the remote's newer tip), before
    the push: where this clone's branch does not move from it after (a kill, a lock), it then takes the
    remote's line, not a merge that would make the step twice. A push that lost leaves a record of a
    commit the remote never held, which `superseded` finds in no line, and the next try writes over it."""
    ref = git.Ref(REDONE + mine)
    _remember(ws, ref, again, git.rev_parse(ws.root, ref), "coord: shared as made again")


def forget_redone(ws: Workspace) -> None:
    """The records of `redone`, once the branch took the shared line: none of its commits is
    unshared. One that cannot go (a lock a killed command left) names a step the branch has
    left, which `superseded` and `redone_under` never ask for."""
    with contextlib.suppress(git.GitError):
        git.delete_refs(ws.root, REDONE)


def redone_under(ws: Workspace, local: git.Sha, tip: git.Sha) -> dict[git.Sha, git.Sha]:
    """This clone's unshared commits (of `local`'s line, not `tip`'s) that `tip`'s line holds as
    made again (see `redone`), each with its other making: a step committed on one of them
    before the branch took the shared line must leave it out, or a merge would make it twice."""
    found = {}
    for mine, again in git.refs_under(ws.root, REDONE).items():
        sha = git.Sha(mine)
        if not git.is_ancestor(ws.root, sha, local) or git.is_ancestor(ws.root, sha, tip):
            # A step this line no longer holds unshared: no sync asks for it again, so the record goes
            # here (`forget_redone` lets go of them only where the branch moved as the sync shared).
            with contextlib.suppress(git.GitError):
                git.delete_refs(ws.root, REDONE + mine)
        elif git.is_ancestor(ws.root, again, tip):
            found[sha] = again
    return found


def superseded(ws: Workspace, local: git.Sha | None, tip: git.Sha | None) -> bool:
    """Whether the local branch is a step that `tip`'s line holds as made again (see `redone`)."""
    if local is None or tip is None:
        return False
    again = git.rev_parse(ws.root, REDONE + local)
    return again is not None and (again == tip or git.is_ancestor(ws.root, again, tip))


def _remember(ws: Workspace, ref: git.Ref, new: git.Sha, old: git.Sha | None, reason: str) -> None:
    """Move one of coord's own records of what it judged (compare-and-swap). A record that cannot
    move (its lock left by a killed command; `coord doctor` names it) only means the next look
    judges again from the older one: slower, never wrong, and no reason to fail what was done."""
    with contextlib.suppress(git.RefLocked):
        git.update_ref(ws.root, ref, new, old, reason)


def verified_ref(ws: Workspace) -> git.Ref:
    """Where this clone remembers the last commit of the shared branch it judged good."""
    return git.Ref(f"refs/coord/verified/{ws.remote}/{ws.branch}")


def last_good(ws: Workspace, verdict: replay.Verdict, remote: git.Sha) -> git.Sha | None:
    """The newest commit of the remote's first-parent line that has no bad commit in its history
    (all of which was judged good): not a parent of some bad commit, which could be a root of its own."""
    bad = {f.commit for f in verdict.findings}
    tainted = set(bad)
    for commit in bad:
        tainted |= {c.sha for c in git.changes(ws.root, ["--ancestry-path", f"{commit}..{remote}"])}
    line = reversed(git.changes(ws.root, [remote, "--first-parent", f"-n{len(tainted) + 1}"]))
    return next((c.sha for c in line if c.sha not in tainted), None)


def believed(ws: Workspace, local: git.Sha | None, verdict: replay.Verdict | None) -> git.Sha | None:
    """What to read, given the verdict on the remote: `local`, unless it holds a commit that breaks
    the rules (a checkout `git clone` made) or there is none yet; then the last good commit."""
    if verdict is None:
        return local
    bad = next(c for c in verdict.subjects if c in {f.commit for f in verdict.findings})
    if local is not None and not git.is_ancestor(ws.root, git.Sha(bad), local):
        return local
    return git.rev_parse(ws.root, verified_ref(ws))  # the last good commit, as `judge` remembered it


def adopt(ws: Workspace, remote: git.Sha, verdict: replay.Verdict | None) -> git.Sha:
    """The local branch, made from the remote's on first contact, as judged (`judge(ws, remote)`):
    where the history breaks the rules, at the last commit before the first bad one (a newcomer
    does not believe what every other clone refuses); with no such commit, nothing is made."""
    start = remote if verdict is None else git.rev_parse(ws.root, verified_ref(ws))
    if start is None:
        assert verdict is not None
        raise FatalError(refusal(ws, verdict, remote))
    if not git.update_ref(ws.root, ws.ref, start, None, "coord: track the shared branch"):
        return git.rev_parse(ws.root, ws.ref) or start  # made meanwhile, by another coord command
    return start


def summary(ws: Workspace, verdict: replay.Verdict) -> str:
    """One line for a reader: the shared branch has a bad commit, and where to learn more."""
    first = verdict.findings[0].commit
    told = told_key_hint(ws, [f for f in verdict.findings if f.commit == first])
    return (
        f"{ws.remote}/{ws.branch} has a commit that breaks the rules ({first[:12]}), "
        "so this clone does not take it (`coord sync` says what is wrong)" + (f". {told}" if told else "")
    )


def told_key_hint(ws: Workspace, bad: list[Finding]) -> str | None:
    """Where the trust this clone was told is all a commit fails, the fault may be the key told."""
    told = ws.config.get(trust.TRUST)
    if not told or not all(f.rule == "trust" for f in bad):
        return None
    return (
        f"This clone judges by the human key it was told ({_shown(told)}, `git config {trust.TRUST}`): if that "
        "is not the human coordinator's key now, tell it theirs (`coord install --trust KEY|@FILE`) before "
        "anyone repairs the branch."
    )


def refusal(ws: Workspace, verdict: replay.Verdict, remote: git.Sha) -> str:
    from gitcoord import validation

    first = verdict.findings[0].commit
    bad = [f for f in verdict.findings if f.commit == first]
    shown = "\n".join("  " + validation.format_finding(f._replace(commit="")) for f in bad[:10])
    told = told_key_hint(ws, bad)
    if told:
        shown += f"\n{told}"
    return (
        f"{ws.remote}/{ws.branch} is at {remote[:12]}, and a commit on it breaks the rules, so this clone does not "
        f"take it: {first[:12]} {verdict.subjects.get(first, '')!r} by {git.author(ws.root, git.Sha(first))}:\n"
        f"{shown}\n"
        "This clone keeps its last good state; its commits stay here until the shared branch is repaired. "
        "The human coordinator repairs it: with a server gate such a push is refused; without one, they "
        f"push the last good commit back (`git push --force-with-lease {ws.remote} GOOD:refs/heads/{ws.branch}`, "
        "GOOD being the commit before the bad one) and tell the others."
    )
