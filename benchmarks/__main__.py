"""`make bench`: how fast gitcoord is, as ratios to baselines measured in the same run.

    python -m benchmarks [--quick] [--sizes M,L] [--days N]
    python -m benchmarks year [--days N]     (the simulated year alone)

Absolute times drift from one machine (and one minute) to the next; a ratio to a baseline
timed alongside does not. Each row is the median of several runs after a warm-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import subprocess
import tempfile
import time
from collections import ChainMap
from pathlib import Path
from typing import Any

from testing import simulate

from benchmarks import generate
from benchmarks import history
from benchmarks import writer
from benchmarks.harness import PYTHON
from benchmarks.harness import ROOT
from benchmarks.harness import Measure
from benchmarks.harness import coord
from benchmarks.harness import env
from benchmarks.harness import git
from benchmarks.harness import measure
from benchmarks.report import Row
from benchmarks.report import fmt_time
from benchmarks.report import table
from gitcoord import ids
from gitcoord import model
from gitcoord import store
from gitcoord import views
from gitcoord.protocol import Context
from gitcoord.protocol import Refused


def _files_size(repo: Path) -> int:
    return sum((repo / store.repo_path(f)).stat().st_size for f in model.FILES)


def _memory(m: Measure, files: int) -> tuple[str, bool]:
    ratio = m.peak_bytes / files
    return f"{m.peak_bytes / 2**20:.0f} MB ({ratio:.1f}x files)", ratio <= 4


# Stores ----------------------------------------------------------------------------------


def prepare(size: str, where: Path) -> Path:
    """A repository coordinating with a generated store of `size`, committed, hooks installed."""
    repo = where / f"store-{size}"
    git(where, "init", "-q", "-b", "main", str(repo))
    subprocess.run(coord(repo, "init", "--branch", "main"), env=env(), check=True, capture_output=True)
    for file, doc in generate.generate(size).items():
        (repo / store.repo_path(file)).write_bytes(store.dump(file, doc))
    git(repo, "commit", "-q", "--no-verify", "-am", f"a generated {size} store")
    # The rows time the commands alone; the history measure runs them with the packer at work.
    git(repo, "config", "coord.maintenance", "false")
    return repo


FLOOR = "import click, json, sys\nfor name in sys.argv[1:]:\n    with open(name, 'rb') as f:\n        json.load(f)\n"


FLOOR_NAME = "python + click + json.load of the 4 files"


def floor(repo: Path, repeat: int) -> Measure:
    """A Python process that imports click and parses the four files: no gitcoord could be faster."""
    return measure([PYTHON, "-c", FLOOR, *(store.repo_path(f) for f in model.FILES)], repo, repeat=repeat)


# Measures --------------------------------------------------------------------------------


def read_path(repo: Path, size: str, repeat: int) -> list[Row]:
    base = floor(repo, repeat)
    files = _files_size(repo)
    someone = "instance-1" if size == "S" else "instance-001"
    commands = {
        "task ready": ["task", "ready", "--json"],
        "inbox": ["--as", someone, "inbox", "--json"],
        "status": ["status", "--json"],
    }
    rows = []
    for name, args in commands.items():
        m = measure(coord(repo, *args), repo, repeat=repeat)
        memory, _ = _memory(m, files)
        passed = m.median <= 1.3 * base.median
        rows.append(
            Row(f"read: coord {name} --json", size, m.median, base.median, FLOOR_NAME, "<= 1.3", passed, memory)
        )
    return rows


def validation(repo: Path, size: str, repeat: int) -> list[Row]:
    base = floor(repo, repeat)
    files = _files_size(repo)
    rows = []
    for name, command in (
        ("validate: coord validate", coord(repo, "validate")),
        ("validate: pre-commit hook", [PYTHON, "-m", "pre_commit", "run", "coord-validate", "--all-files"]),
    ):
        m = measure(command, repo, repeat=repeat)
        memory, _ = _memory(m, files)
        rows.append(
            Row(
                name,
                size,
                m.median,
                base.median,
                FLOOR_NAME,
                "<= 2",
                m.median <= 2 * base.median,
                memory,
            )
        )
    return rows


def write_path(repo: Path, size: str, repeat: int) -> list[Row]:
    state = {f: json.loads((repo / store.repo_path(f)).read_text()) for f in model.FILES}
    if not views.ready(state):  # the specification's example has no task ready to claim: add one
        subprocess.run(
            coord(repo, "--as", "instance-2", "task", "add", "Ready to claim"),
            env=env(),
            check=True,
            capture_output=True,
        )
        state = {f: json.loads((repo / store.repo_path(f)).read_text()) for f in model.FILES}
    task = next(t["task_id"] for t in views.ready(state) if t["status"] == "pending_assignment")
    who, other = list(state[model.REGISTRY]["instances"])[:2]
    steps = {
        "task claim": ["task", "claim", task],  # the task queue and the registry
        "msg send": ["msg", "send", "--to", other, "--subject", "a question", "--body", "what do you think?"],
    }
    rows = [_write(repo, size, repeat, name, coord(repo, "--as", who, *args)) for name, args in steps.items()]
    own, files = _own_branch(repo, state), _files_size(repo)
    for row, args in zip(list(rows), steps.values(), strict=True):
        rows.append(_write_own(own, repeat, coord(own, "--as", who, *args), row, files))
    shutil.rmtree(own)
    return rows


def _own_branch(repo: Path, state: dict[str, Any]) -> Path:
    """A copy of `repo` whose store is moved to a branch of its own (`coord migrate`), as `coord
    init` makes a store now: a step writes that branch and no checkout follows it."""
    own = repo.with_name(repo.name + "-own")
    shutil.rmtree(own, ignore_errors=True)
    shutil.copytree(repo, own, symlinks=True)
    human = model.settings_of(state[model.REGISTRY]).human_coordinator
    subprocess.run(coord(own, "--as", human, "migrate", "--branch", OWN), env=env(), check=True, capture_output=True)
    return own


OWN = "coord"


def _write_own(own: Path, repeat: int, step: list[str], beside: Row, files: int) -> Row:
    """The same step on the store's own branch, against the same `git commit -a` (`beside`'s)."""
    start = git(own, "rev-parse", f"refs/heads/{OWN}")

    def reset() -> None:
        git(own, "update-ref", f"refs/heads/{OWN}", start)

    ours = measure(step, own, repeat=repeat, before=reset)
    reset()
    memory, _ = _memory(ours, files)
    passed = ours.median <= 3 * beside.baseline
    row_name = f"{beside.name}, the store on its own branch"
    return Row(row_name, beside.store, ours.median, beside.baseline, _COMMIT_A, "<= 3", passed, memory)


def _write(repo: Path, size: str, repeat: int, name: str, step: list[str]) -> Row:
    """A step against `git commit -a` of the same change: the changed files edited in place, committed,
    their new versions written as objects (as the step writes them), not found already there."""
    start = git(repo, "rev-parse", "HEAD")

    def reset() -> None:
        git(repo, "reset", "-q", "--hard", start)

    reset()
    subprocess.run(step, env=env(), check=True, capture_output=True)
    paths = git(repo, "diff", "--name-only", start, "HEAD").split()
    changed = {
        p: subprocess.run(["git", "show", f"HEAD:{p}"], cwd=repo, capture_output=True, check=True).stdout for p in paths
    }
    blobs = [git(repo, "rev-parse", f"HEAD:{p}") for p in paths]
    ours = measure(step, repo, repeat=repeat, before=reset)

    def edit_by_hand() -> None:
        reset()
        for path, data in changed.items():
            (repo / path).write_bytes(data)
        for blob in blobs:  # written by the step's run above: git would find them and write nothing
            (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink(missing_ok=True)

    base = measure(["git", "commit", "-q", "--no-verify", "-am", name], repo, repeat=repeat, before=edit_by_hand)
    reset()
    memory, _ = _memory(ours, _files_size(repo))
    passed = ours.median <= 3 * base.median
    return Row(f"write: coord {name}", size, ours.median, base.median, _COMMIT_A, "<= 3", passed, memory)


_COMMIT_A = "git commit -a of the same change, its objects written"


def archive(repo: Path, size: str, repeat: int) -> tuple[list[Row], str]:
    """Scale beyond one file: move what closed in the first half of the history, then read again."""
    before_size = _files_size(repo)
    start = git(repo, "rev-parse", "HEAD")
    status_before = measure(coord(repo, "status", "--json"), repo, repeat=repeat)
    # The generated history runs from January to March 2024: archive what closed before February.
    command = coord(repo, "--as", "instance-001", "archive", "--before", "2024-02-01T00:00:00Z")

    def reset() -> None:
        git(repo, "reset", "-q", "--hard", start)

    took = measure(command, repo, repeat=1, before=reset)
    after_size = _files_size(repo)
    status_after = measure(coord(repo, "status", "--json"), repo, repeat=repeat)
    memory, _ = _memory(status_after, after_size)
    sizes = f"live files {before_size / 2**20:.1f} MB -> {after_size / 2**20:.1f} MB"
    note = f"{sizes}; coord archive took {fmt_time(took.median)}"
    row = Row(
        "read after archive: coord status --json",
        size,
        status_after.median,
        status_before.median,
        "the same before archiving",
        "< 1",
        status_after.median < status_before.median,
        memory,
        note,
    )
    git(repo, "reset", "-q", "--hard", start)
    return [row], note


def _edited(state: dict[str, Any], steps: int, rng: random.Random) -> dict[str, Any]:
    now = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    done = 0
    while done < steps:
        now += dt.timedelta(seconds=30)
        op = simulate.choose(state, rng)
        try:
            change = op.apply(state, Context(None, now, ids.maker(now, rng.getrandbits)))
        except Refused:
            continue
        state = dict(ChainMap(change.docs, state))
        done += 1
    return state


def merge(size: str, where: Path, repeat: int, edits: int) -> list[Row]:
    base = generate.generate(size)
    ours = _edited(base, edits, random.Random(1))
    theirs = _edited(base, edits, random.Random(2))
    folder = where / f"merge-{size}"
    folder.mkdir()
    # git calls a driver only for a file both sides changed.
    changed = [f for f in model.FILES if ours[f] is not base[f] and theirs[f] is not base[f]]
    return [_merge_file(file, folder, [base[file], ours[file], theirs[file]], size, repeat) for file in changed]


def _merge_file(file: str, folder: Path, docs: list[Any], size: str, repeat: int) -> Row:
    paths = [folder / f"{side}-{file}" for side in ("base", "ours", "theirs")]
    for path, doc in zip(paths, docs, strict=True):
        path.write_bytes(store.dump(file, doc))
    work = folder / f"work-{file}"

    def fresh() -> None:  # the driver writes its result over "ours": start each run from it
        shutil.copyfile(paths[1], work)

    driver = [PYTHON, "-m", "gitcoord", "merge-driver", str(paths[0]), str(work), str(paths[2]), f"coordination/{file}"]
    ours = measure(driver, folder, repeat=repeat, before=fresh)
    text = ["git", "merge-file", "-p", str(paths[1]), str(paths[0]), str(paths[2])]
    baseline = measure(text, folder, repeat=repeat, check=False)  # its exit code counts the conflicts
    fresh()
    subprocess.run(driver, env=env(), capture_output=True, check=False)
    ours_conflicts = len(json.loads(work.read_text()).get("merge_conflicts", []))
    text_conflicts = subprocess.run(text, capture_output=True, check=False).returncode
    on_disk = sum(p.stat().st_size for p in paths)
    memory = f"{ours.peak_bytes / 2**20:.0f} MB ({ours.peak_bytes / on_disk:.1f}x the 3 files)"
    note = f"conflicts: ours {ours_conflicts}, git merge-file {text_conflicts}"
    passed = ours.median <= 3 * baseline.median
    return Row(
        f"merge driver: {file}",
        size,
        ours.median,
        baseline.median,
        "git merge-file on the same 3 files",
        "<= 3",
        passed,
        memory,
        note,
    )


def sync(where: Path, clones: int, events: int, label: str) -> Row:
    def team(mode: str) -> tuple[float, Path]:
        top = where / f"sync-{mode}-{clones}"
        top.mkdir()
        remote = top / "remote.git"
        git(top, "init", "-q", "--bare", "-b", "main", str(remote))
        first = top / "seed"
        git(top, "init", "-q", "-b", "main", str(first))
        subprocess.run(
            coord(first, "init", "--example", "--branch", "main"), env=env(), check=True, capture_output=True
        )
        git(first, "remote", "add", "origin", str(remote))
        git(first, "push", "-q", "--no-verify", "origin", "main")
        names = [f"instance-{n % 6 + 1}" for n in range(clones)]
        paths = []
        for n in range(clones):
            clone = top / f"clone-{n}"
            git(top, "clone", "-q", str(remote), str(clone))
            subprocess.run(coord(clone, "install"), env=env(), check=True, capture_output=True)
            paths.append(clone)
        start = time.perf_counter()
        workers = [
            subprocess.Popen(
                [PYTHON, "-m", "benchmarks.writer", str(p), name, str(events), mode],
                cwd=ROOT,
                env=env({"PYTHONPATH": str(ROOT)}),
            )
            for p, name in zip(paths, names, strict=True)
        ]
        failed = [w for w in workers if w.wait() != 0]
        if failed:  # said on stderr by the writer; the row reports the events lost
            print(f"{len(failed)} {mode} writer(s) stopped early", flush=True)
        return time.perf_counter() - start, remote

    ours_time, remote = team("coord")
    landed = int(git(remote, "rev-list", "--count", "--grep=^Coord-Event: \\(instance\\|task\\|msg\\)", "main"))
    gave_up = sum(
        len(f.read_text().splitlines()) for f in (where / f"sync-coord-{clones}").glob(f"clone-*/.git/{writer.GAVE_UP}")
    )
    # A step that gave up may still land (committed, shared by the next step's sync); one that
    # succeeded and is not on the remote is lost.
    lost = max(0, clones * events - gave_up - landed)
    calm = _calm(remote, where / f"sync-coord-{clones}", landed)
    base_time, _ = team("git")
    ours_eps, base_eps = landed / ours_time, clones * events / base_time
    plain = _p95(where / f"sync-git-{clones}")
    note = f"{clones} clones x {events} events; gave up: {gave_up}; lost: {lost}; {calm} (plain git: {plain:.1f} s)"
    return Row(
        f"sync: events per second{label}",
        "S",
        ours_eps,
        base_eps,
        "plain git commit + push (pull when overtaken)",
        ">= 0.5",
        ours_eps >= 0.5 * base_eps and lost == 0,
        "-",
        note,
        "/s",
    )


def _calm(remote: Path, top: Path, steps: int) -> str:
    """How calm the contention stayed: merges per step, the longest run of merges one after
    another on the branch, and the 95th percentile of a step's latency (sync included)."""
    merges = int(git(remote, "rev-list", "--count", "--merges", "main"))
    run = longest = 0
    for line in git(remote, "rev-list", "--first-parent", "--parents", "main").splitlines():
        run = run + 1 if len(line.split()) > 2 else 0
        longest = max(longest, run)
    return f"{merges / max(steps, 1):.2f} merges per step, longest merge run {longest}, p95 step {_p95(top):.1f} s"


def _p95(top: Path) -> float:
    """The 95th percentile of the latency of the steps of the writers under `top`, sync included."""
    latencies = sorted(float(x) for f in top.glob(f"clone-*/.git/{writer.LATENCIES}") for x in f.read_text().split())
    return latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")


# Report ----------------------------------------------------------------------------------


def sizes_on_disk(repo: Path, size: str) -> str:
    parts = ", ".join(f"{f} {(repo / store.repo_path(f)).stat().st_size / 2**20:.1f} MB" for f in model.FILES)
    return f"- {size}: {parts}"


def _say(size: str, what: str) -> None:
    print(f"[{size}] {what}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "part", nargs="?", choices=("all", "year"), default="all", help="year: the history measure alone"
    )
    parser.add_argument("--quick", action="store_true", help="M only, fewer runs: a smoke test of the benchmarks")
    parser.add_argument("--sizes", default=None, help="comma-separated, e.g. M,L (default: S,M,L)")
    parser.add_argument(
        "--days", type=int, default=None, help="days of simulated history (default 365, --quick 14; 0: none)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "latest.md")
    args = parser.parse_args()
    sizes = [s for s in (args.sizes if args.sizes is not None else ("M" if args.quick else "S,M,L")).split(",") if s]
    if args.part == "year":
        sizes = []
    repeat = 3 if args.quick else 7
    work = Path(tempfile.mkdtemp(prefix="gitcoord-bench-"))
    rows: list[Row] = []
    notes: list[str] = []
    try:
        for size in sizes:
            _say(size, "generating the store")
            repo = prepare(size, work)
            notes.append(sizes_on_disk(repo, size))
            _say(size, "read path")
            rows += read_path(repo, size, repeat if size != "L" else max(3, repeat // 2))
            _say(size, "write path")
            rows += write_path(repo, size, repeat)
            if size != "S":
                _say(size, "validation")
                rows += validation(repo, size, max(3, repeat // 2))
                _say(size, "merge")
                rows += merge(size, work, max(3, repeat // 2), 200 if size == "L" else 50)
            if size == "L":
                _say(size, "archive")
                archived, note = archive(repo, size, 3)
                rows += archived
                notes.append(f"- L after `coord archive --before 2024-02-01`: {note}")
        if "S" in sizes:  # the sync rows run on S stores
            print("[S] sync", flush=True)
            rows.append(sync(work, 4 if args.quick else 8, 10 if args.quick else 50, ""))
        if "S" in sizes and not args.quick:
            print("[S] push contention", flush=True)
            rows.append(sync(work, 32, 5, " (32 clones)"))
        days = args.days if args.days is not None else (14 if args.quick else 365)
        if days:
            grown, more = history.run(work, days, repeat, lambda what: _say("Y", what))
            rows += grown
            notes += more
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = "\n".join([table(rows), "", "Files on disk:", *notes, ""])
    print()
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"(also written to {args.out})")


if __name__ == "__main__":
    main()
