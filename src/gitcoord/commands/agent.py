"""The agent's loop: `coord next` (what to do now), `coord news` (what changed since I looked),
`coord defer` (not now, and why) and `coord wait` (block until something happens)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitcoord import agenda
from gitcoord import clock
from gitcoord import git
from gitcoord import localstate
from gitcoord import model
from gitcoord import records
from gitcoord import refresh
from gitcoord import render
from gitcoord import validation
from gitcoord import views
from gitcoord import waits
from gitcoord import whatsnew
from gitcoord import workspace
from gitcoord.commands.lookup import open_fresh
from gitcoord.commands.lookup import read_fresh
from gitcoord.errors import BadUsage
from gitcoord.errors import ExitCode
from gitcoord.errors import NotFound
from gitcoord.escape import safe
from gitcoord.output import Output
from gitcoord.records import State
from gitcoord.snapshot import Snapshot

NOTHING = "Nothing waits for you. `coord wait` blocks until something arrives (it exits 4 when it times out)."


def deferred_reasons(ws: workspace.Workspace, me: str) -> dict[str, str]:
    found = localstate.deferred(ws.repo.common_dir, me, now=clock.now())
    return {rid: entry.get("reason", "") for rid, entry in found.items()}


def next_step(*, cwd: Path, as_instance: str | None, out: Output, everything: bool) -> int:
    ws, state, fresh = open_fresh(cwd, as_instance, out)
    me = ws.require_identity()
    with validation.reading(state):
        items = agenda.agenda(state, me, deferred=deferred_reasons(ws, me))
        others = _fits_others(state, me) if agenda.first(items) is None else 0
    following = agenda.first(items)
    data = {"instance": me, "next": following, "items": items, "freshness": fresh.as_data()}
    if following is None:
        lines = [NOTHING]
        if others:
            out.note(f"{others} ready task(s) need expertise you have not declared: `coord task ready` lists them")
    elif everything:
        lines = [f"{len(items)} thing(s) for {safe(me)}, most pressing first:"]
        for item in items:
            lines += render.agenda_item(item)
    else:
        lines = ["Next:", *render.agenda_item(following)]
        if len(items) > 1:
            lines.append(f"({len(items) - 1} more after it: coord next --all)")
    out.emit(data, lines)
    return 0


def _fits_others(state: State, me: str) -> int:
    """How many unassigned tasks are ready that `me` is not offered, for want of their expertise."""
    if me == model.settings_of(records.registry(state)).human_coordinator:
        return 0  # the human assigns the work, and is offered none
    ready = views.ready(state)
    return sum(1 for t in ready if t["status"] == "pending_assignment" and not views.declined_by(t, me))


class Since:
    """The news for one instance since the commit its cursor names (in this clone)."""

    def __init__(self, ws: workspace.Workspace, me: str, commit: git.Sha | None) -> None:
        self.ws, self.me, self.commit = ws, me, commit
        seen = localstate.cursor(ws.repo.common_dir, me)
        self.seen = git.rev_parse(ws.root, seen) if seen else None  # None: never looked, or gone

    def news(self) -> dict[str, Any] | None:
        """What changed for me since I last looked; None at the first look."""
        if self.seen is None or self.commit is None:
            return None
        before = workspace.snapshot(self.ws, strict=False, commit=self.seen)
        after = workspace.snapshot(self.ws, strict=False, commit=self.commit)
        with validation.reading(after):
            return whatsnew.between(before, after, self.me)

    def advance(self) -> None:
        if self.commit is not None:
            localstate.set_cursor(self.ws.repo.common_dir, self.me, self.commit, now=clock.now())


def news(*, cwd: Path, as_instance: str | None, out: Output, peek: bool, full: bool) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    me = ws.require_identity()
    fresh = read_fresh(ws, out)
    since = Since(ws, me, fresh.commit)
    found = since.news()
    if not peek:
        since.advance()
    data = {
        "instance": me,
        "since": since.seen,
        "until": fresh.commit,
        "first_look": found is None,
        "news": found or {},
        "freshness": fresh.as_data(),
    }
    out.emit(data, news_lines(since, found, full=full))
    return 0


def news_lines(since: Since, found: dict[str, Any] | None, *, full: bool) -> list[str]:
    if found is None:
        return [
            "Your first look at the news in this clone: from now on `coord news` tells what changed since.",
            "What waits for you now: `coord next` (or `coord inbox`).",
        ]
    lines = list(render.news(found, full=full))
    if not lines:
        return [f"Nothing new for you since {str(since.seen)[:12]}."]
    return lines


def defer(*, cwd: Path, as_instance: str | None, out: Output, item: str, reason: str, hours: float) -> int:
    """Put off ITEM for HOURS, and say why: the Stop hook lets the agent stop; `next` lists it last."""
    ws, state, _ = open_fresh(cwd, as_instance, out)
    me = ws.require_identity()
    with validation.reading(state):
        ids = {i["id"] for i in agenda.agenda(state, me)}
    if item not in ids:
        raise NotFound(
            f"{item} is nothing that waits for {me} now; `coord next --all` lists what does", details={"record": item}
        )
    if hours <= 0:
        raise BadUsage("--hours must be more than 0")
    until = localstate.defer(ws.repo.common_dir, me, item, reason=reason, now=clock.now(), hours=hours)
    data = {"instance": me, "item": item, "reason": reason, "until": until}
    out.emit(data, f"{safe(item)} deferred until {until} (kept in this clone only): {safe(reason)}")
    return 0


# coord wait --------------------------------------------------------------------------------

BACKOFF = 1.5
LONGEST = 30.0  # seconds between two looks, at most


def wait(
    *,
    cwd: Path,
    as_instance: str | None,
    out: Output,
    wanted: waits.Wanted,
    timeout: float,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Block until what is wanted happens (exit 0) or `timeout` seconds pass (exit 4)."""
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    me = ws.require_identity()
    fresh = read_fresh(ws, out)
    start = _state(ws, fresh.commit)
    _known(start, wanted)
    began = time.monotonic()
    watch = _Watch(ws, fresh)
    delay, current = interval, start
    while True:
        with validation.reading(current):
            found = waits.happened(start, current, me, wanted)
        waited = round(time.monotonic() - began, 1)
        if found is not None:
            out.emit({"instance": me, "event": True, "waited": waited, "found": found}, _found_lines(found))
            return ExitCode.OK
        left = timeout - (time.monotonic() - began)
        if left <= 0:
            said = f"Nothing happened within {timeout:g} s."
            out.emit({"instance": me, "event": False, "waited": waited, "found": None}, [said], problem=said)
            return ExitCode.TIMED_OUT
        sleep(min(delay, left))
        moved = watch.moved()
        delay = interval if moved else min(delay * BACKOFF, max(interval, LONGEST))
        if moved:
            current = _state(ws, watch.fresh.commit)


def _state(ws: workspace.Workspace, commit: git.Sha | None) -> Snapshot:
    snap = workspace.snapshot(ws, strict=False, commit=commit)
    snap.prefetch(list(model.FILES))
    return snap


def _known(state: State, wanted: waits.Wanted) -> None:
    """Refuse to wait for an answer to a message, or an input on a decision, that does not exist."""
    for kind, rid in (("message", wanted.reply), ("decision", wanted.input_on)):
        if rid is not None and records.get(state, kind, rid) is None:
            raise NotFound(f"there is no {kind} {rid!r} to wait for", details={"record": rid})


class _Watch:
    """Whether the coordination branch moved: one `git ls-remote` per look (no fetch, no commit)
    until the remote's tip differs from what was fetched; then one fetch. Local moves count too."""

    def __init__(self, ws: workspace.Workspace, fresh: refresh.Freshness) -> None:
        self.ws, self.fresh = ws, fresh
        self.local = git.rev_parse(ws.root, ws.ref)

    def moved(self) -> bool:
        remote_moved = False
        if self.fresh.remote is not None:
            try:
                tip = git.ls_remote(self.ws.root, self.ws.remote, self.ws.ref, timeout=refresh.timeout(self.ws))
            except git.GitError:
                tip = self.fresh.tracking  # unreachable for now: look again later
            remote_moved = tip != self.fresh.tracking
        local = git.rev_parse(self.ws.root, self.ws.ref)
        if not remote_moved and local == self.local:
            return False
        before = self.fresh.commit
        self.fresh = refresh.refresh(self.ws, timeout=refresh.timeout(self.ws))
        self.local = git.rev_parse(self.ws.root, self.ws.ref)
        return self.fresh.commit != before


def _found_lines(found: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for m in found.get("replies", ()):
        lines += [f"Answered: {safe(m['in_reply_to'])}", render.message_line(m), *render.body_lines(m, full=True)]
    if "decision" in found:
        d = found["decision"]
        lines.append(f"{safe(d['decision_id'])} moved:")
        lines += [
            render.input_line({**i, "decision_id": d["decision_id"], "inputs_missing": d["inputs_missing"]})
            for i in d["new_inputs"]
        ]
        if d.get("decision"):
            lines.append(render.decision_line(d))
    if found.get("can_start"):
        lines += ["Your tasks that can start now (coord task start TASK):", *map(render.task_line, found["can_start"])]
    if found.get("ready_for_me"):
        lines += ["Ready for you to take (coord task claim TASK):", *map(render.task_line, found["ready_for_me"])]
    if found.get("offered_to_me"):
        lines += ["Offered to you:", *map(render.task_line, found["offered_to_me"])]
    if "news" in found:
        lines += render.news(found["news"], full=True)
    return lines
