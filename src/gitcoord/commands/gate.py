"""`coord hook pre-receive`: the server's gate, which no client can skip.

git runs it in the repository pushed to, with the pushed objects readable but not yet in
place (its quarantine), and one `old new ref` line per ref being updated. It refuses, for a
branch that holds coordination/ at its old tip: deleting it, or a push that is not a
fast-forward (history rewritten or rolled back). A replace ref, outright. And for a push to
any ref at all (a branch whose tip holds no store, a tag, refs/whatever, each could carry a
forged commit for a later branch to point at): a pushed commit that deletes a coordination
file, breaks a rule or is not signed as `coord check --range` requires, or changes the store
dated more than a few minutes ahead of the server's clock. Any refusal refuses the whole
push (git's own atomicity for pre-receive), and the reasons reach the pusher as `remote:` lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

from gitcoord import git
from gitcoord import model
from gitcoord import range_loader
from gitcoord import replay
from gitcoord import store
from gitcoord import trust
from gitcoord import workspace
from gitcoord.commands import check
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.output import safe

FUTURE_SLACK = 600  # seconds a commit may be dated ahead of the server's clock (clocks drift a little)
HEADS = "refs/heads/"
REPLACE = "refs/replace/"  # `git replace`: for one's own clone, never for a shared repository


class Update(NamedTuple):
    old: str | None  # None: the branch is new
    new: str | None  # None: the branch is being deleted
    ref: str


class Refusal(NamedTuple):
    ref: str
    commit: str  # "" when it is about the branch itself
    subject: str
    rule: str
    message: str


def updates(text: str) -> list[Update]:
    found = []
    for line in text.splitlines():
        if line.strip():
            old, new, ref = line.split(maxsplit=2)
            found.append(Update(None if set(old) == {"0"} else old, None if set(new) == {"0"} else new, ref))
    return found


def review(root: Path, pushed: Iterable[Update], *, now: float) -> tuple[list[Refusal], list[str]]:
    """What to refuse, and what to tell the pusher about a push it takes."""
    pushed = list(pushed)
    line = store_line(root, pushed)
    refusals = _review(root, pushed, line, now=now)
    if refusals:
        return refusals, []
    try:
        remember(root, line)
    except git.GitError as e:  # a push that keeps the rules is not refused for the gate's own bookkeeping
        note = f"gitcoord: warning: the gate could not record its store line ({LINE} = {line.ref})"
        return [], [f"{note}: {e.stderr.strip()}"]
    return [], []


LINE = "coord.line"  # the store's branch, as this gate took it: only the store's moving away changes it
LEFT = "coord.left"  # the branches the store moved away from, space-separated: none holds it again
UNJUDGED = "coord.unjudged"  # commits refs held before the gate, which break the rules: no branch takes them


def remember(root: Path, line: StoreLine) -> None:
    """Record the line where it holds the store, and the branches it left to get there: a line the
    store is moving to, not pushed yet, is found again from the one it left."""
    if line.ref is None or line.registry is None:
        return
    config = git.config(root, LINE, LEFT)
    left = _left(config)
    if not line.left <= left:
        git.set_config(root, LEFT, " ".join(sorted(left | line.left)))
    if config.get(LINE) != line.ref:
        git.set_config(root, LINE, line.ref)


def _left(config: dict[str, str]) -> set[str]:
    return set(config.get(LEFT, "").split())


def _review(root: Path, pushed: list[Update], store: StoreLine, *, now: float) -> list[Refusal]:
    line, registry, claiming, kept, via, _ = store
    if line is None and len(claiming) > 1:  # the line decides what counts as shared: never guess
        message = (
            f"{' and '.join(b[len(HEADS) :] for b in claiming)} would each hold a store that names itself the store's "
            "branch (settings.store_branch): a store has one line"
        )
        return [Refusal(u.ref, "", "", "store-line", message) for u in pushed if u.ref in claiming]
    # What the store line held before this push was shared there; a commit another ref holds was not.
    refusals = _unmoved(root, pushed, line, registry, via) if line is not None and via is not None else []
    tip = git.rev_parse(root, line) if line else None  # git moves no ref before this hook says yes
    if tip is None and via is not None:  # the store is on its way to the line: judged as it was when it left
        tip = git.rev_parse(root, f"{via}^")
        registry = registry or (trust.registries_at(root, [tip])[tip] if tip else None)
    branches = set(git.branch_tips(root)) | {u.ref[len(HEADS) :] for u in pushed if u.ref.startswith(HEADS)}
    config = git.config(root, LEFT, UNJUDGED)  # one git process for the gate's own records
    left = (_left(config) | store.left) - {line}
    unjudged = [git.Sha(c) for c in config.get(UNJUDGED, "").split()]
    for u in pushed:
        if u.ref.startswith(REPLACE):
            message = "a replace ref would have git show every reader, this gate too, another commit in its place"
            refusals.append(Refusal(u.ref, "", "", "replace", message))
            continue
        shadowed = _shadows(u.ref, branches) if u.new is not None else None
        if shadowed is not None:
            message = (
                f"{u.ref} would shadow the branch {shadowed}: git reads the name `{shadowed}` as it "
                "(`git log`, `git show`, `git fetch origin` of that name), not as the branch; name it otherwise"
            )
            refusals.append(Refusal(u.ref, "", "", "shadow", message))
            continue
        if u.ref in left:
            refusals += _abandoned(root, u)
        elif u.ref.startswith(HEADS) and u.old is not None:
            if u.ref == kept or _holds_store(root, [u.old]):
                refusals += _kept(root, u)
            elif u.new is not None:
                refusals += _revived(root, u)
        if u.new is not None:
            refusals += _commits(root, u, now, joins=registry if u.ref != line else None, line=tip)
            refusals += _unjudged(root, u, unjudged, line=tip)
    return refusals


_BESIDE_BRANCHES = ("refs/", "heads/", "tags/", "remotes/")  # what git's short names are read against


def _shadows(ref: str, branches: set[str]) -> str | None:
    """The branch a ref outside refs/heads/ would hide from a name: git tries refs/NAME and
    refs/tags/NAME before refs/heads/NAME and refs/remotes/NAME. So a tag `coord` hides the
    branch, a tag `origin/coord` a clone's copy of it (what `git reset --keep origin/coord`
    reads), and a tag `refs/heads/coord` stands in for the branch wherever it is not there (a
    newcomer's clone, before its first look)."""
    if ref.startswith(HEADS):
        return None
    tag = ref.startswith("refs/tags/")
    name = ref.removeprefix("refs/tags/") if tag else ref.removeprefix("refs/")
    # A tag `origin/coord` (a remote's name, then the branch's): every clone fetches tags.
    remote_copy = tag and name.partition("/")[2] in branches
    return name if name in branches or remote_copy or name.startswith(_BESIDE_BRANCHES) else None


class StoreLine(NamedTuple):
    ref: str | None  # the branch the store lives on, where one is
    registry: Doc | None  # its registry, as the push leaves it
    claiming: list[str]  # the branches whose store names the branch itself as the store's
    kept: str | None = None  # the line before this push, which no push deletes or rewinds
    via: git.Sha | None = None  # the `coord migrate` commit this push moves the line with, if it does
    left: frozenset[str] = frozenset()  # the branches this push moves the line away from


def store_line(root: Path, pushed: list[Update]) -> StoreLine:
    """The branch the store lives on and its registry, as this push leaves them. The line is the
    one the refs held before the push (as this gate recorded it, else as they say): a push changes
    it only by taking the store away from it with a `coord migrate`, to the branch its MOVED.md
    names. A push chooses the line only where there is none yet: the first store. A commit pushed
    anywhere else answers to the line's registry's keys too: a key rotated out there must not sign
    on a branch made from an old commit, where its parent state still holds it."""
    before = {HEADS + name: sha for name, sha in git.branch_tips(root).items()}
    after = dict(before)
    after.update({u.ref: git.Sha(u.new) for u in pushed if u.ref.startswith(HEADS) and u.new is not None})
    for u in pushed:
        if u.new is None:
            after.pop(u.ref, None)
    loader = range_loader.Loader(root)
    shas = sorted({*before.values(), *after.values()})
    at = loader.at(shas)
    # A branch with no store files reads as an empty store: it holds none.
    states = {sha: loader.state(at[sha]) for sha in shas}
    registry_at = {sha: state.get(model.REGISTRY) if state.exists else None for sha, state in states.items()}
    held_before = {ref: registry_at[sha] for ref, sha in before.items()}
    held = {ref: registry_at[sha] for ref, sha in after.items()}
    named = _naming_themselves(held)
    kept = git.config(root, LINE).get(LINE) or _chosen(root, held_before)
    if kept is None:
        line = _chosen(root, held)
        return StoreLine(line, held.get(line) if line else None, named)
    line, via, left = kept, None, set()
    while line in after and held[line] is None and line not in left:  # moved, perhaps on again, by this push
        found = workspace.moved_by(root, after[line])
        if found is None:
            break
        left.add(line)
        via, line = found[0], HEADS + found[1]
    return StoreLine(line, held.get(line), [r for r in named if r != line], kept, via, frozenset(left))


def _naming_themselves(held: dict[str, Doc | None]) -> list[str]:
    return [ref for ref, r in held.items() if r is not None and model.settings_of(r).store_branch == ref[len(HEADS) :]]


def _chosen(root: Path, held: dict[str, Doc | None]) -> str | None:
    """The line as the branches say: the default branch where it holds the store (unless its
    settings name another branch that holds it), else the one branch whose store names the branch
    itself as the store's. A branch beside the line that names itself so is a branch like any
    other: who could push one would otherwise choose which line counts as shared."""
    named = _naming_themselves(held)
    default = HEADS + (git.head_branch(root) or "")  # a bare repository's HEAD names its default branch
    there = held.get(default)
    if there is not None:
        moved = model.settings_of(there).store_branch
        return HEADS + moved if moved and HEADS + moved in named else default
    if named:
        return named[0] if len(named) == 1 else None
    if default in held:  # the default branch is here and holds no store: a copy elsewhere is no line
        return None
    holding = [ref for ref, r in held.items() if r is not None]  # HEAD names a branch not here
    return holding[0] if len(holding) == 1 else None


def _unmoved(root: Path, pushed: list[Update], line: str, registry: Doc | None, via: git.Sha) -> list[Refusal]:
    """Where a push moves the store, the branch it moves to continues that store, named so, or is
    not there yet: a branch made beforehand from an older commit must not become the line."""
    tip = next((u.new for u in pushed if u.ref == line), None) or git.rev_parse(root, line)
    if tip is None:
        return []
    parent = git.rev_parse(root, f"{via}^")
    branch = line[len(HEADS) :]
    named = registry is not None and model.settings_of(registry).store_branch == branch
    if named and parent is not None and git.is_ancestor(root, parent, git.Sha(tip)):
        return []
    message = (
        f"the store moves to {branch} (the MOVED.md of {via[:12]}), and {branch} does not continue the store that "
        f"commit took away, naming itself its branch: push the branch `coord migrate` made there"
    )
    return [Refusal(line, "", "", "store-line", message)]


def _holds_store(root: Path, tips: list[str]) -> bool:
    shas = [git.Sha(t) for t in tips]
    return any(blob is not None for blobs in workspace.blobs_at(root, shas).values() for blob in blobs.values())


def _kept(root: Path, u: Update) -> list[Refusal]:
    """A branch that holds the store is never deleted or moved to a tip that drops its history."""
    assert u.old is not None
    branch = u.ref[len(HEADS) :]
    if u.new is None:
        message = f"deleting {branch} is refused: it holds {model.COORD_DIR}/, and its history is the event log"
        return [Refusal(u.ref, "", "", "deletion", message)]
    if not git.is_ancestor(root, git.Sha(u.old), git.Sha(u.new)):
        message = (
            f"{branch} would move from {u.old[:12]} to {u.new[:12]}, which does not contain it: a rewrite or "
            "rollback of the coordination history is refused"
        )
        return [Refusal(u.ref, "", "", "history", message)]
    return []


def _abandoned(root: Path, u: Update) -> list[Refusal]:
    """A branch the store moved away from keeps what it holds: its history says where the store
    went, and made again holding the store it would split the team (a newcomer would find it)."""
    branch = u.ref[len(HEADS) :]
    if u.new is None:
        message = f"deleting {branch} is refused: the store moved away from it, and its history says where"
        return [Refusal(u.ref, "", "", "deletion", message)]
    if _holds_store(root, [u.new]):
        message = f"{branch} would hold the store again at {u.new[:12]}: the store moved away from it, and lives on"
        return [Refusal(u.ref, "", "", "recreated", message)]
    return []


def _revived(root: Path, u: Update) -> list[Refusal]:
    """A branch the store moved away from is not moved back to a commit that holds it: the store
    would live on in two places, the abandoned one read by every clone that looks there first."""
    assert u.old is not None
    assert u.new is not None
    if git.is_ancestor(root, git.Sha(u.old), git.Sha(u.new)) or not _holds_store(root, [u.new]):
        return []
    # The commit that took the store away, not the MOVED.md at the tip, which a later commit can drop.
    moved = workspace.moved_by(root, git.Sha(u.old))
    if moved is None:
        return []
    branch = u.ref[len(HEADS) :]
    message = (
        f"{branch} would move from {u.old[:12]}, after the store moved away to {moved[1]} ({moved[0][:12]}), "
        f"back to {u.new[:12]}, which holds it: the store lives on where it moved"
    )
    return [Refusal(u.ref, "", "", "recreated", message)]


def _commits(root: Path, u: Update, now: float, *, joins: Doc | None, line: git.Sha | None) -> list[Refusal]:
    """Every commit the push brings, whatever the ref (a tag, a branch with no store at its tip,
    refs/anything): each is judged against its parents. A commit a branch or a tag here already
    holds was judged when that ref took it, through this gate (git moves no ref while the hook
    runs). Not so for other refs: a forge writes refs/pull/*, refs/merge-requests/*, refs/keep-around/*
    from a fork's push, and a mirror fetches, with no hook at all."""
    assert u.new is not None
    revisions = [u.new, "--not", "--branches", "--tags"]
    verdict = check.check_range(root, revisions, joins=joins, line=line)
    told = git.config(root, trust.TRUST).get(trust.TRUST)
    untrusted = trust.untrusted(root, told, verdict, git.Sha(u.new)) if told else []
    refusals = [_refusal(u.ref, f, verdict.subjects) for f in [*untrusted, *verdict.findings]]
    held = _stores_held(root) if verdict.roots else []
    for sha in sorted(verdict.roots) if held else []:
        message = (
            f"the commit makes a new store from nothing, a root of trust of its own, and this repository holds one "
            f"already (on {', '.join(held)}): every clone that came to trust it would answer to whoever made it"
        )
        refusals.append(Refusal(u.ref, sha, verdict.subjects.get(sha, ""), "root", message))
    # On a branch that holds the store every commit counts, an empty one too: the next commit's
    # times are judged against its parent's date.
    on_store = u.ref.startswith(HEADS) and _holds_store(root, [u.new])
    for sha, stamp in git.committer_times(root, revisions).items():
        if (on_store or sha in verdict.touched) and stamp > now + FUTURE_SLACK:
            ahead = (stamp - now) / 60
            message = f"the commit is dated {ahead:.0f} minutes ahead of this server's clock"
            refusals.append(Refusal(u.ref, sha, verdict.subjects.get(sha, ""), "time", message))
    return refusals


def untold(root: Path, key: str) -> list[Refusal]:
    """What a gate told `key` from now on would refuse of what the refs here hold beside the store
    line: the gate takes a commit that a branch or a tag holds as judged, and these were judged
    before it was told (a first human key published on a tag, then the store line moved onto it).
    The line's own history stands as its tip says (`install` compares the key it names)."""
    verdict, tip = _beside_the_line(root)
    if tip is not None:
        found = trust.untrusted(root, key, verdict, tip)
    else:  # no store line yet: nothing here was vouched for by the key, a store made from nothing least
        found = trust.untrusted(root, key, verdict._replace(roots=frozenset()), git.Sha(""))
        root_said = "the commit makes a store from nothing where no branch holds the store yet"
        found += [Finding(model.REGISTRY, (), "trust", root_said, commit=c) for c in sorted(verdict.roots)]
    return [_refusal("", f, verdict.subjects) for f in found]


def _unjudged(root: Path, u: Update, unjudged: list[git.Sha], *, line: git.Sha | None) -> list[Refusal]:
    """A push that would take a commit a ref held before the gate was installed, which breaks the
    rules (`install --server` listed it): what a ref holds is taken as judged, and that one never was."""
    assert u.new is not None
    message = "a ref held it before the gate was installed, and it breaks the rules (`coord check --range` says how)"
    found = []
    for sha in unjudged:
        taken = git.is_ancestor(root, sha, git.Sha(u.new)) and not (line and git.is_ancestor(root, sha, line))
        if taken:
            [made] = git.changes(root, [sha, "-n1"])
            found.append(Refusal(u.ref, sha, made.subject, "unjudged", message))
    return found


def unjudged(root: Path) -> list[Refusal]:
    """What the refs here hold beside the store line that breaks the rules: the gate takes a commit
    a branch or a tag holds as judged, and what was pushed before the gate was installed never was
    (a tag at a forged commit above the line, for a branch to be moved onto later). The line's own
    history is where the gate starts, as every clone's first look judges it."""
    verdict, _ = _beside_the_line(root)
    found = [_refusal("", f, verdict.subjects) for f in verdict.findings]
    commits = " ".join(sorted({r.commit for r in found if r.commit}))
    if commits != git.config(root, UNJUDGED).get(UNJUDGED, ""):
        git.set_config(root, UNJUDGED, commits)  # the gate refuses a push that takes one of them
    return found


def _beside_the_line(root: Path) -> tuple[replay.Verdict, git.Sha | None]:
    line = store_line(root, []).ref
    tip = git.rev_parse(root, line) if line else None
    return check.check_range(root, ["--all", "--not", tip] if tip else ["--all"], line=tip), tip


def _stores_held(root: Path) -> list[str]:
    """The branches here whose tips hold a store."""
    tips = git.branch_tips(root)
    held = workspace.blobs_at(root, list(tips.values()))
    return sorted(name for name, tip in tips.items() if any(b is not None for b in held[tip].values()))


def _refusal(ref: str, f: Finding, subjects: dict[str, str]) -> Refusal:
    if f.about_the_commit:
        message = f.message
    else:
        where = f"{store.repo_path(f.file)}" + (f":{f.line}:{f.column}" if f.line else "")
        message = f"{where}:{' ' + f.where + ':' if f.path else ''} {f.message}"
    return Refusal(ref, f.commit, subjects.get(f.commit, ""), f.rule, message)


_TODO = {
    "signature": "sign it with the key the registry holds for its acting instance: in that instance's clone, "
    "`coord install --as NAME` sets signing up and `coord key show` compares the keys; then redo the commit there",
    "trailer": "name one acting instance: exactly one Coord-Instance trailer in the commit's last paragraph",
    "deletion": "keep the branch",
    "history": "fetch and merge the remote's branch (`coord sync` merges coordination commits), then push "
    "without --force",
    "time": "set the committer's clock right, then make the commit again",
    "replace": "push without refs/replace/ (`git replace` is for one's own clone)",
    "unjudged": "leave that commit out (the server's administrator deletes the ref that holds it)",
    "shadow": "name it otherwise: after refs/tags/ or refs/, not a branch's name (nor a tag REMOTE/BRANCH), nor one "
    "starting with refs/, heads/, tags/ or remotes/",
    "root": "coordinate in the store this repository holds (`coord install` finds it); a second team starts "
    "its own repository",
    "store-line": "keep one branch whose store names itself the store's (settings.store_branch): push the other "
    "under another name, or, where such a branch is here already, the server's administrator deletes it",
    "recreated": "leave the store where `coord migrate` moved it (the code branch's coordination/MOVED.md "
    "names it); `coord install` in a clone finds it",
    "trust": "the store, and its first human key, start from the human coordinator's key this server was told "
    "(`coord install --server --trust KEY`): the human publishes it (`coord key publish`, in a clone set up with "
    "`coord install --as HUMAN`)",
}
_DEFAULT_TODO = (
    "make the change as a protocol step, with the coord command for it, as the instance entitled to it "
    "(`coord check --range` shows the same findings before a push)"
)


def lines(refusals: list[Refusal]) -> list[str]:
    out = [f"gitcoord: push refused ({len(refusals)} problem(s)); no branch was updated"]
    for r in refusals:
        where = f"commit {r.commit[:12]} {safe(r.subject)!r}" if r.commit else r.ref
        out += [f"  {where} [{r.rule}] on {r.ref}:", f"    {safe(r.message)}"]
        out.append(f"    what to do: {_TODO.get(r.rule, _DEFAULT_TODO)}")
    if any(r.commit for r in refusals):
        out.append(
            "Take the named commits off your branch (e.g. `git rebase -i` onto the remote's branch, or reset to it "
            "and run the coord commands again), then push again."
        )
    return out


def pre_receive(*, cwd: Path, text: str, now: float) -> tuple[int, list[str]]:
    """The exit code and what to tell the pusher."""
    try:
        refusals, notes = review(cwd, updates(text), now=now)
    except FatalError as e:
        return 1, [f"gitcoord: the push cannot be checked, so it is refused: {e}"]
    return (1, lines(refusals)) if refusals else (0, notes)
