"""`coord hook pre-receive`: the server's gate, which no client can skip.

git runs it in the repository pushed to, with the pushed objects readable but not yet in
place (its quarantine), and one `old new ref` line per ref being updated. It refuses, for the
store's line: deleting it, or a push that is not a fast-forward (history rewritten or rolled
back); a copy of the store on a branch a newcomer looks at (the default branch, the store's own
name); a replace ref, outright. And for a push to
any ref at all (a branch whose tip holds no store, a tag, refs/whatever, each could carry a
forged commit for a later branch to point at): a pushed commit that deletes a coordination
file, breaks a rule or is not signed as `coord check --range` requires, or changes the store
dated more than a few minutes ahead of the server's clock. Any refusal refuses the whole
push (git's own atomicity for pre-receive), and the reasons reach the pusher as `remote:` lines.
Which branch is the store's line, and what guards its branch, is `store_line`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from gitcoord import git
from gitcoord import model
from gitcoord import replay
from gitcoord import store
from gitcoord import store_line
from gitcoord import trust
from gitcoord import workspace
from gitcoord.commands import check
from gitcoord.errors import FatalError
from gitcoord.findings import Finding
from gitcoord.model import Doc
from gitcoord.output import safe
from gitcoord.pushed import HEADS
from gitcoord.pushed import Refusal
from gitcoord.pushed import Update
from gitcoord.pushed import updates

FUTURE_SLACK = 600  # seconds a commit may be dated ahead of the server's clock (clocks drift a little)

REPLACE = "refs/replace/"  # `git replace`: for one's own clone, never for a shared repository


def review(root: Path, pushed: Iterable[Update], *, now: float) -> tuple[list[Refusal], list[str]]:
    """What to refuse, and what to tell the pusher about a push it takes."""
    pushed = list(pushed)
    line = store_line.find(root, pushed)
    refusals = _review(root, pushed, line, now=now)
    if refusals:
        return refusals, []
    try:
        store_line.remember(root, line)
    except git.GitError as e:  # a push that keeps the rules is not refused for the gate's own bookkeeping
        note = f"gitcoord: warning: the gate could not record its store line ({store_line.LINE} = {line.ref})"
        return [], [f"{note}: {e.stderr.strip()}"]
    return [], []


UNJUDGED = "coord.unjudged"  # commits refs held before the gate, which break the rules: no branch takes them


def _review(root: Path, pushed: list[Update], store: store_line.StoreLine, *, now: float) -> list[Refusal]:
    line, registry, claiming, kept, via, _ = store
    if line is None and len(claiming) > 1:  # the line decides what counts as shared: never guess
        message = (
            f"{' and '.join(b[len(HEADS) :] for b in claiming)} would each hold a store that names itself the store's "
            "branch (settings.store_branch): a store has one line"
        )
        return [Refusal(u.ref, "", "", "store-line", message) for u in pushed if u.ref in claiming]
    # What the store line held before this push was shared there; a commit another ref holds was not.
    refusals = store_line.unmoved(root, pushed, line, registry, via) if line is not None and via is not None else []
    if line is not None and registry is not None:  # a second live store beside the line would split the team
        refusals += [store_line.beside(line, u) for u in pushed if u.ref in claiming and u.ref != line and u.new]
    tip = git.rev_parse(root, line) if line else None  # git moves no ref before this hook says yes
    if tip is None and via is not None:  # the store is on its way to the line: judged as it was when it left
        tip = git.rev_parse(root, f"{via}^")
        registry = registry or (trust.registries_at(root, [tip])[tip] if tip else None)
    # The store's own branch by name too, before it is made: a tag `coord` planted beforehand would
    # hide it from its first push on (and the branch would be refused beside it, `_shadowed`).
    pushed_branches = {u.ref[len(HEADS) :] for u in pushed if u.ref.startswith(HEADS)}
    branches = set(git.branch_tips(root)) | pushed_branches | {workspace.OWN_BRANCH}
    stores = {workspace.OWN_BRANCH, *([line[len(HEADS) :]] if line else [])}  # what clones fetch as REMOTE/NAME
    config = git.config(root, store_line.LEFT, UNJUDGED)  # one git process for the gate's own records
    left = (store_line.left_of(config) | store.left) - {line}
    unjudged = [git.Sha(c) for c in config.get(UNJUDGED, "").split()]
    looked_at = {HEADS + b for b in (git.head_branch(root), workspace.OWN_BRANCH) if b} - {line}
    for u in pushed:
        if u.ref.startswith(REPLACE):
            message = "a replace ref would have git show every reader, this gate too, another commit in its place"
            refusals.append(Refusal(u.ref, "", "", "replace", message))
            continue
        shadowed = _shadows(u.ref, branches, stores) if u.new is not None else None
        if shadowed is not None:
            read = u.ref.removeprefix("refs/tags/") if u.ref.startswith("refs/tags/") else u.ref.removeprefix("refs/")
            message = (
                f"{u.ref} would shadow the branch {shadowed}: git reads the name `{read}` as it "
                "(`git log`, `git show`, `git fetch origin` of that name), not as the branch; name it otherwise"
            )
            refusals.append(Refusal(u.ref, "", "", "shadow", message))
            continue
        if u.ref.startswith(HEADS) and u.old is None and u.new is not None:
            refusals += _shadowed(root, u.ref, stores)
        if u.ref in left:
            refusals += store_line.abandoned(root, u)
        elif u.ref.startswith(HEADS) and u.old is not None:
            if u.ref == kept or (kept is None and store_line.holds_store(root, [u.old])):
                refusals += store_line.kept(root, u)
            elif u.new is not None:
                refusals += store_line.revived(root, u)
        if line is not None and u.ref in looked_at and u.new is not None:
            refusals += store_line.copied(root, line, u)
        if u.new is not None:
            refusals += _commits(root, u, now, joins=registry if u.ref != line else None, line=tip)
            refusals += _unjudged(root, u, unjudged, line=tip)
    return refusals


_BESIDE_BRANCHES = ("refs/", "heads/", "tags/", "remotes/")  # what git's short names are read against


def _shadows(ref: str, branches: set[str], stores: set[str]) -> str | None:
    """The branch a ref outside refs/heads/ would hide from a name: git tries refs/NAME and
    refs/tags/NAME before refs/heads/NAME and refs/remotes/NAME. So a tag `coord` hides the
    branch, a tag `origin/coord` a clone's copy of it (what `git reset --keep origin/coord`
    reads), and a tag `refs/heads/coord` stands in for the branch wherever it is not there (a
    newcomer's clone, before its first look). A clone's copy only of the store's branches
    (`stores`): a tag `release/1.0` names a release, and hides no branch 1.0 of anyone's."""
    if ref.startswith(HEADS):
        return None
    tag = ref.startswith("refs/tags/")
    name = ref.removeprefix("refs/tags/") if tag else ref.removeprefix("refs/")
    # A tag `origin/coord` (a remote's name, then the branch's): every clone fetches tags.
    if tag and name.partition("/")[2] in stores:
        return name.partition("/")[2]
    return name if name in branches or name.startswith(_BESIDE_BRANCHES) else None


def _shadowed(root: Path, ref: str, stores: set[str]) -> list[Refusal]:
    """A new branch whose name a ref here shadows already (a tag `coord` pushed before the store's
    branch was made): the same refs `_shadows` refuses, found the other way round."""
    branch = ref[len(HEADS) :]
    hiding = [r for r in git.ref_names(root) if not r.startswith(HEADS) and _hides(r, branch, stores)]
    if not hiding:
        return []
    message = (
        f"{', '.join(hiding)} would shadow the new branch {branch}: git reads the name `{branch}` as it, not as "
        "the branch; the server's administrator deletes it first"
    )
    return [Refusal(ref, "", "", "shadow", message)]


def _hides(ref: str, branch: str, stores: set[str]) -> bool:
    """Whether `ref` (outside refs/heads/) hides `branch`, as `_shadows` reads it: from its name,
    its short name where git disambiguates it (`heads/NAME`), a clone's copy of it (a tag
    `REMOTE/NAME`), or its full name where the branch is not there yet (a tag `refs/heads/NAME`)."""
    return _shadows(ref, {branch}, stores & {branch}) in (branch, f"heads/{branch}", f"{HEADS}{branch}")


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
    on_store = u.ref.startswith(HEADS) and store_line.holds_store(root, [u.new])
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
    line = store_line.find(root, []).ref
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
    "parse": "take the commit that broke the file off your branch (`git reset --keep` to the remote's branch, "
    "after `git checkout -- coordination/` where the file is edited), then make the change again with coord; "
    "a commit on top cannot repair it",
    "schema": "take the commit off your branch (`git reset --keep` to the remote's branch), then make the "
    "change again with coord, which writes what the schema allows",
    "replace": "push without refs/replace/ (`git replace` is for one's own clone)",
    "unjudged": "leave that commit out (the server's administrator deletes the ref that holds it)",
    "shadow": "name it otherwise: after refs/tags/ or refs/, not a branch's name (nor a tag REMOTE/BRANCH), nor one "
    "starting with refs/, heads/, tags/ or remotes/",
    "root": "coordinate in the store this repository holds (`coord install` finds it); a second team starts "
    "its own repository",
    "store-line": "keep one branch whose store names itself the store's (settings.store_branch): push the other "
    "under another name, or, where such a branch is here already, the server's administrator deletes it",
    "copy": "take the commit that brought coordination/ off the branch (most often a merge of the store's branch: "
    "it is never merged into code); only `coord migrate` moves the store",
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
