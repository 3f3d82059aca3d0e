"""`make bench`'s history measure: a simulated year on the shared branch, and what living with it costs.

The year goes into a bare repository standing for the shared remote (`year.py`,
`importer.py`), which the maintenance policy then packs. Beside it stands a repository
holding the same final store with no history (one commit of the same tree): every latency
and every clone is measured on both, so that the ratio is what the year of history costs.
"""

from __future__ import annotations

import datetime as dt
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from benchmarks import importer
from benchmarks import year
from benchmarks.harness import coord
from benchmarks.harness import env
from benchmarks.harness import git
from benchmarks.harness import measure
from benchmarks.report import Row
from benchmarks.report import fmt_bytes
from gitcoord import git as gitcoord_git
from gitcoord import lock
from gitcoord import maintenance
from gitcoord import model
from gitcoord import store

Say = Callable[[str], None]


class Built(NamedTuple):
    remote: Path  # the shared remote, after the year
    fresh: Path  # a remote holding the same store with no history
    commits: int
    days: list[year.Day]
    packed: int  # bytes of the remote's packs after the year, as the policy keeps them
    seed_packed: int  # the same before the year
    record_bytes: float  # the canonical text of the records a step changed, on average


def _run(command: list[str], cwd: Path, extra: dict[str, str] | None = None) -> None:
    subprocess.run(command, cwd=cwd, env=env(extra), check=True, capture_output=True)


def _pack_bytes(git_dir: Path) -> int:
    return sum(p.stat().st_size for p in (git_dir / "objects" / "pack").glob("*.pack"))


STORE = "coord"  # the store's own branch, as `coord init` makes it; the code is on main
STORE_REF = f"refs/heads/{STORE}"


def build(work: Path, plan: year.Plan, say: Say) -> Built:
    work.mkdir(parents=True, exist_ok=True)
    seed = work / "seed"
    git(work, "init", "-q", "-b", "main", str(seed))
    # The store is made before the simulated year begins: a commit may not be dated before the
    # state it changes, and every reader's first contact judges the history from this root.
    made = (plan.start - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    _run(coord(seed, "init", "--example"), seed, {"GIT_COMMITTER_DATE": made, "GIT_AUTHOR_DATE": made})
    remote = work / "remote.git"
    git(work, "init", "-q", "--bare", "-b", "main", str(remote))
    git(remote, "config", "uploadpack.allowFilter", "true")  # what a partial clone asks of the server
    git(seed, "push", "-q", "--no-verify", str(remote), "main", STORE)
    seed_packed = _pack_bytes(remote) + gitcoord_git.loose_objects(remote).size
    files = {f: _show(seed, f"{STORE}:{store.repo_path(f)}") for f in model.FILES}
    state = year.seed_state(files)
    sink = importer.Importer(remote, year.identity(env(), seed), env(), STORE_REF)
    days: list[year.Day] = []
    started = time.perf_counter()

    def on_day(day: year.Day) -> None:
        days.append(day)
        if day.day % 30 == 29 or day.day == plan.days - 1:
            say(f"day {day.day + 1}: {day.events} commits, {time.perf_counter() - started:.0f} s")

    commits = year.simulate(state, plan, sink, on_day)
    sink.close()
    say("packing the remote as the maintenance policy does")
    gitcoord_git.repack_loose(remote)
    gitcoord_git.write_commit_graph(remote)
    changed = sum(d.changed for d in days) / max(1, commits)
    return Built(remote, work / "fresh.git", commits, days, _pack_bytes(remote), seed_packed, changed)


def _show(repo: Path, what: str) -> bytes:
    return subprocess.run(["git", "show", what], cwd=repo, env=env(), capture_output=True, check=True).stdout


def twin(built: Built) -> None:
    """The remote as it is now, its store with no history: the same code branch, and the store's
    branch one commit of the same tree."""
    git(built.remote.parent, "init", "-q", "--bare", "-b", "main", str(built.fresh))
    git(built.fresh, "config", "uploadpack.allowFilter", "true")
    alone = git(built.remote, "commit-tree", f"{STORE}^{{tree}}", "-m", "the same store, without its history")
    git(built.remote, "push", "-q", str(built.fresh), "main", f"{alone}:{STORE_REF}")
    git(built.fresh, "repack", "-a", "-d", "-q")


def _agent(remote: Path, where: Path) -> Path:
    """A clone that coordinates (local: git links the packs instead of copying them)."""
    if not where.exists():
        git(where.parent, "clone", "-q", "--single-branch", str(remote), str(where))
        _run(coord(where, "install"), where)
        git(where, "update-ref", STORE_REF, f"refs/remotes/origin/{STORE}")
    git(where, "config", "coord.maintenance", "false")  # latencies of the commands alone
    git(where, "config", "coord.sync", "false")  # a step alone; the sync is timed on its own
    return where


def latencies(built: Built, work: Path, repeat: int) -> list[Row]:
    rows = []
    pairs = {which: _agent(r, work / f"agent-{which}") for which, r in (("year", built.remote), ("fresh", built.fresh))}
    reads = {
        "read: coord status --json": ["status", "--json"],
        "read: coord inbox --json": ["--as", "instance-1", "inbox", "--json"],
    }
    for name, args in reads.items():
        ours, base = (measure(coord(pairs[w], *args), pairs[w], repeat=repeat) for w in ("year", "fresh"))
        rows.append(_row(f"history: {name}", ours.median, base.median, "<= 1.2", fmt_bytes(ours.peak_bytes)))
    send = ["--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", "s", "--body", "b"]
    timed = []
    for which in ("year", "fresh"):
        agent = pairs[which]
        start = git(agent, "rev-parse", STORE_REF)
        timed.append(measure(coord(agent, *send), agent, repeat=repeat, before=_reset(agent, start)))
        _reset(agent, start)()
    rows.append(_row("history: write: coord msg send", timed[0].median, timed[1].median, "<= 1.2", "-"))
    agents = {w: (pairs[w], r, work / f"other-{w}") for w, r in (("year", built.remote), ("fresh", built.fresh))}
    for incoming, what in ((False, "one event out"), (True, "one event each way")):
        synced = {w: _sync(*agents[w], repeat, incoming=incoming) for w in ("year", "fresh")}
        rows.append(_row(f"history: coord sync, {what}", synced["year"], synced["fresh"], "<= 1.2", "-"))
        plain = _plain_sync(built.fresh, work / "plain", repeat, incoming=incoming)
        rows.append(
            Row(
                f"sync: coord sync, {what}, after the year",
                "Y",
                synced["year"],
                plain,
                f"git pull --rebase && git push, {what.replace('event', 'small commit')}",
                "<= 2",
                synced["year"] <= 2 * plain,
                "-",
            )
        )
    return rows


def _row(name: str, ours: float, base: float, target: str, memory: str, *, note: str = "") -> Row:
    passed = ours <= float(target.rsplit(maxsplit=1)[-1]) * base
    return Row(name, "Y", ours, base, "the same store with no history", target, passed, memory, note)


def _reset(agent: Path, commit: str) -> Callable[[], None]:
    def reset() -> None:
        git(agent, "update-ref", STORE_REF, commit)

    return reset


_VERIFIED = f"refs/coord/verified/origin/{STORE}"  # what a sync judged good, remembered


def _sync(agent: Path, remote: Path, other: Path, repeat: int, *, incoming: bool) -> float:
    """`coord sync` of one step of this clone's: fetch, and push. With `incoming`, the remote has
    one other step this clone lacks, which the sync also judges and merges in-process."""
    if not other.exists():  # joined as the README says: a full clone's first look judges the whole year
        git(other.parent, "clone", "-q", "--single-branch", str(remote), str(other))
        _run(coord(other, "install"), other)
    base = git(agent, "rev-parse", STORE_REF)
    _run(
        coord(agent, "--as", "instance-1", "msg", "send", "--to", "instance-2", "--subject", "s", "--body", "b"), agent
    )
    mine = git(agent, "rev-parse", STORE_REF)
    if incoming:
        _run(coord(other, "--as", "instance-3", "checkin", "--sync"), other)
    theirs = git(remote, "rev-parse", STORE_REF)

    def before() -> None:
        git(remote, "update-ref", STORE_REF, theirs)
        git(agent, "update-ref", STORE_REF, mine)
        git(agent, "update-ref", f"refs/remotes/origin/{STORE}", base)
        # What the clone's last sync judged good: a sync of one event judges only what is new
        # since (without it, every sync would be a first contact, judging the whole history).
        git(agent, "update-ref", _VERIFIED, base)

    took = measure(coord(agent, "--as", "instance-1", "sync"), agent, repeat=repeat, before=before).median
    git(remote, "update-ref", STORE_REF, base)
    git(agent, "update-ref", STORE_REF, base)
    git(agent, "update-ref", f"refs/remotes/origin/{STORE}", base)
    return took


def _plain_sync(remote: Path, where: Path, repeat: int, *, incoming: bool) -> float:
    """The floor of any git-based sharing: one small commit of a code file (and with `incoming`,
    one from someone else first) on a branch of the same remote, shared with `git pull --rebase
    && git push` (which rebases in the checkout)."""
    where.mkdir(parents=True, exist_ok=True)
    mine, other = where / "mine", where / "other"
    for clone in (mine, other):
        if not clone.exists():
            git(where, "clone", "-q", "--single-branch", str(remote), str(clone))
    start = git(mine, "rev-parse", "origin/main")
    git(mine, "reset", "-q", "--hard", start)
    git(mine, "push", "-q", "--no-verify", "-f", "origin", f"{start}:refs/heads/plain")
    git(other, "fetch", "-q", "origin", "plain")
    git(other, "reset", "-q", "--hard", "FETCH_HEAD")
    for clone, name in ((other, "theirs.txt"), (mine, "mine.txt")) if incoming else ((mine, "mine.txt"),):
        (clone / name).write_text("one small change\n")
        git(clone, "add", name)
        git(clone, "commit", "-q", "--no-verify", "-m", f"add {name}")
    if incoming:
        git(other, "push", "-q", "--no-verify", "origin", "HEAD:refs/heads/plain")
    theirs, ours = git(remote, "rev-parse", "plain"), git(mine, "rev-parse", "HEAD")
    command = ["sh", "-c", "git pull -q --rebase origin plain && git push -q --no-verify origin HEAD:plain"]

    def before() -> None:
        git(remote, "update-ref", "refs/heads/plain", theirs)
        git(mine, "reset", "-q", "--hard", ours)
        git(mine, "update-ref", "refs/remotes/origin/plain", start)

    took = measure(command, mine, repeat=repeat, before=before).median
    git(remote, "update-ref", "-d", "refs/heads/plain")
    return took


def clones(built: Built, work: Path, repeat: int) -> list[Row]:
    """A new agent's first clone, through git's pack protocol (file://), then `coord install`."""

    def join(remote: Path, options: list[str], runs: int, *install: str) -> tuple[float, int]:
        """The clone, then `coord install` with `install` (no install at all: None)."""
        where = work / "new-agent"

        def fresh() -> None:
            shutil.rmtree(where, ignore_errors=True)

        clone = " ".join(["git clone -q", *options, shlex.quote(remote.as_uri()), shlex.quote(str(where))])
        then = " ".join(map(shlex.quote, coord(where, *install))) + " >/dev/null" if install else "true"
        took = measure(["sh", "-c", f"{clone} && {then}"], work, repeat=runs, before=fresh)
        size = _pack_bytes(where / ".git") + gitcoord_git.loose_objects(where / ".git").size
        fresh()
        return took.median, size

    base, base_size = join(built.fresh, [], repeat, "install")
    rows = []
    for name, options, runs, target in (
        ("git clone --single-branch + coord install (the store's tip)", ["--single-branch"], repeat, "<= 5"),
        ("git clone + coord install (every branch, the whole history)", [], 1, "info"),
    ):
        if not options and built.commits > WHOLE:
            rows.append(_whole_history_projected(built, work, name, base))
            continue
        took, size = join(built.remote, options, runs, "install")
        note = f"{fmt_bytes(size)} of objects against {fmt_bytes(base_size)}"
        ratio = took / base
        rows.append(
            Row(
                f"history: {name}",
                "Y",
                took,
                base,
                "git clone + coord install of the same state with no history",
                target,
                target == "info" or ratio <= 5,
                "-",
                note,
            )
        )
    # Told the human key, the first look judges what came since the key last signed: what a
    # clone of the whole year costs is then git's clone, and coord adds little to it.
    remote, key = _signed_by_the_human(built, work)
    cloned, size = join(remote, [], repeat)
    took, _ = join(remote, [], repeat, "install", "--trust", f"@{key}.pub")
    rows.append(
        Row(
            "history: git clone + coord install --trust KEY (the whole history, told the human key)",
            "Y",
            took,
            cloned,
            "git clone of the same history alone",
            "<= 1.5",
            took / cloned <= 1.5,
            "-",
            f"{fmt_bytes(size)} of objects; judged from the human's last signed commit",
        )
    )
    return rows


def _signed_by_the_human(built: Built, work: Path) -> tuple[Path, Path]:
    """The year's remote with one commit more on the store's branch, signed by a key of the human
    coordinator's and changing nothing, as the human's next step would be: what a newcomer told
    that key (`--trust`) judges its first look from. A copy (hard links): the other rows read the year as it is."""
    remote, key = work / "told.git", work / "human-key"
    if not remote.exists():
        git(work, "clone", "-q", "--bare", "--local", str(built.remote), str(remote))
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, env=env())
        signing = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}"]
        message = "coord: the human goes on from here\n\nCoord-Instance: human\n"
        signed = git(remote, *signing, "commit-tree", "-S", f"{STORE_REF}^{{tree}}", "-p", STORE_REF, "-m", message)
        git(remote, "update-ref", STORE_REF, signed)
    return remote, key


WHOLE = 20_000  # commits: beyond, a full clone's first look (every commit judged) is projected, not run
SAMPLE = 2_000  # the commits judged to project it


def _whole_history_projected(built: Built, work: Path, name: str, base: float) -> Row:
    """A full clone's first look judges every commit from the root, which for a year of events
    takes hours: the clone is timed, and the judging of the last SAMPLE commits, scaled to all."""
    where = work / "whole-clone"
    shutil.rmtree(where, ignore_errors=True)
    started = time.perf_counter()
    git(work, "clone", "-q", built.remote.as_uri(), str(where))
    cloned = time.perf_counter() - started
    tip = f"refs/remotes/origin/{STORE}"
    start = git(where, "rev-list", "--first-parent", "-n1", "--skip", str(SAMPLE), tip)
    judged = int(git(where, "rev-list", "--count", f"{start}..{tip}"))
    check = measure(coord(where, "check", "--range", f"{start}..{tip}"), where, repeat=1).median
    took = cloned + check / judged * built.commits
    shutil.rmtree(where, ignore_errors=True)
    note = (
        f"projected: the clone ({cloned:.0f} s) and {check / judged * 1000:.1f} ms a commit judging the last "
        f"{judged:,} (`coord check --range`), times {built.commits:,} commits"
    )
    return Row(
        f"history: {name}",
        "Y",
        took,
        base,
        "git clone + coord install of the same state with no history",
        "info",
        True,
        "-",
        note,
    )


def joined_clone_coordinates(built: Built, work: Path) -> str:
    """Whether a clone that joined on the tip steps, syncs (a merge, its base the commit it joined
    on or a later one) and checks the range of commits since."""
    joiner, other = work / "joiner", work / "joiner-other"
    for clone in (joiner, other):
        git(work, "clone", "-q", "--single-branch", built.remote.as_uri(), str(clone))
        _run(coord(clone, "install"), clone)
    joined = git(joiner, "rev-parse", f"refs/remotes/origin/{STORE}")
    _run(coord(other, "--as", "instance-2", "checkin", "--sync"), other)
    _run(coord(joiner, "--as", "instance-1", "checkin", "--no-sync"), joiner)
    _run(coord(joiner, "--as", "instance-1", "sync"), joiner)
    _run(coord(joiner, "check", "--range", f"{joined}..{STORE}"), joiner)
    return "a clone that joined on the store's tip steps, syncs (merging) and checks the range since it joined: ok"


def growth(built: Built, work: Path, steps: int, say: Say) -> tuple[list[Row], list[str]]:
    """Bytes each event adds to the packed repository: over the year, and over real steps after it."""
    per_event = (built.packed - built.seed_packed) / built.commits
    rows = [
        Row(
            "history: bytes each event adds, packed",
            "Y",
            per_event,
            built.record_bytes,
            "the text of the records it changed",
            "<= 5",
            per_event <= 5 * built.record_bytes,
            "-",
            f"{built.commits:,} commits: {fmt_bytes(built.packed)} packed",
            "B",
        )
    ]
    agent = work / "agent-year"
    # Joined as the README says, on the store's tip: a full clone's first look judges every commit
    # of the year from the root (the row "every branch, the whole history" projects its cost).
    git(work, "clone", "-q", "--single-branch", str(built.remote), str(agent))
    _run(coord(agent, "install"), agent)
    git(agent, "config", "coord.sync", "false")  # the steps alone: shared once, at the end
    common = gitcoord_git.discover(agent).common_dir
    before = _pack_bytes(common)
    worst = 0
    kinds = (
        ["msg", "send", "--to", "instance-2", "--subject", "s", "--body", "a real step after the year"],
        ["checkin"],
        ["task", "add", "a real task after the year"],
    )
    say(f"{steps} real steps with the maintenance policy on")
    took = time.perf_counter()
    for n in range(steps):
        _run(coord(agent, "--as", "instance-1", *kinds[n % 3]), agent)
        worst = max(worst, gitcoord_git.loose_objects(common).objects)
    took = (time.perf_counter() - took) / steps
    while True:  # let a packer still at work finish, then pack what is left
        with lock.attempt(common, maintenance.LOCK) as held:
            if held:
                break
        time.sleep(0.5)
    maintenance.run(agent)
    real = (_pack_bytes(common) - before) / steps
    _run(coord(agent, "--as", "instance-1", "sync"), agent)  # the remote has them too, now
    rows.append(
        Row(
            "history: bytes each real step adds, packed by the policy",
            "Y",
            real,
            built.record_bytes,
            "the text of the records it changed",
            "<= 5",
            real <= 5 * built.record_bytes,
            "-",
            f"{steps} steps, {took * 1000:.0f} ms each; at most {worst} loose objects meanwhile",
            "B",
        )
    )
    notes = [_sizes(built)]
    return rows, notes


def _sizes(built: Built) -> str:
    marks = sorted({0, 6, 29, len(built.days) // 2, len(built.days) - 1} & set(range(len(built.days))))
    parts = []
    for n in marks:
        d = built.days[n]
        parts.append(f"day {n + 1}: {sum(d.sizes.values()) / 2**20:.2f} MB")
    return "- live files (the four, total): " + ", ".join(parts)


def run(work: Path, days: int, repeat: int, say: Say) -> tuple[list[Row], list[str]]:
    """The history measure: `days` of six instances' steps, then latencies, clones and growth."""
    plan = year.Plan(days=days)
    say(f"simulating {days} days: {plan.per_instance_day} steps a day for each of six instances")
    started = time.perf_counter()
    built = build(work / "history", plan, say)
    took = time.perf_counter() - started
    grown, notes = growth(built, work / "history", 150, say)
    twin(built)
    say("latencies after the history, and without it")
    rows = latencies(built, work / "history", repeat)
    say("clones")
    rows += clones(built, work / "history", repeat)
    rows += grown
    notes.append(f"- {joined_clone_coordinates(built, work / 'history')}")
    loose = gitcoord_git.loose_objects(built.remote)
    notes.append(
        f"- Y: {days} days, {built.commits:,} commits, imported in {took:.0f} s; the remote holds "
        f"{fmt_bytes(built.packed)} in packs and {loose.objects} loose objects"
    )
    return rows, notes
