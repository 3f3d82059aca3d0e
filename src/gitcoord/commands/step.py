"""Running one protocol step from the command line: identity, clock, commit, and the report."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from typing import TypedDict

from gitcoord import clock
from gitcoord import commit
from gitcoord import git
from gitcoord import ids
from gitcoord import lock
from gitcoord import maintenance
from gitcoord import refresh
from gitcoord import sync as sync_engine
from gitcoord import workspace
from gitcoord.commands import sync as sync_command
from gitcoord.errors import FatalError
from gitcoord.errors import NotShared
from gitcoord.escape import safe
from gitcoord.output import Output
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Refused
from gitcoord.records import State

Build = Callable[[State, Context], Change]


class Options(TypedDict):
    """What every protocol step command takes besides its own arguments."""

    cwd: Path
    as_instance: str | None
    out: Output
    no_commit: bool
    sync: bool | None


def run(
    build: Build,
    *,
    cwd: Path,
    as_instance: str | None,
    out: Output,
    creates: str | None = None,
    no_commit: bool = False,
    sync: bool | None = None,
    notes: Sequence[str] = (),
) -> int:
    """Apply `build` as one commit (then sync it) and report it.

    `creates` names the id key of a new record; `notes` are the command's own, beside the step's.
    """
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    fresh, stuck = _caught_up(ws, out) if not no_commit and wants_sync(ws, sync) else (None, None)
    try:
        applied = commit_now(build, ws, no_commit=no_commit)
    except Refused as e:  # on a view that may be behind the shared state's: say so, or what kept it there
        if stuck is not None:
            stuck.args = (f"{stuck}\nOn this clone's older view the step is refused: {e}",)
            raise stuck from None
        if fresh is not None and (lag := _lag(fresh)):
            e.args = (f"{e}\n{lag}",)
        raise
    try:
        applied, synced = share(ws, build, applied, sync)
    except NotShared:  # committed all the same: the reader gets the step (its new id too), then why
        report(ws, applied, None, out, creates=creates, notes=notes)
        raise
    report(ws, applied, synced, out, creates=creates, notes=notes)
    maintenance.after_commit(ws.repo, ws.config)
    return 0


def report(
    ws: workspace.Workspace,
    applied: commit.Applied,
    synced: sync_engine.Synced | None,
    out: Output,
    *,
    creates: str | None = None,
    notes: Sequence[str] = (),
) -> None:
    """A step's result: its data (see `data`), its summary line, its notes, and what the sync brought.

    A step that creates a record prints just the new id on stdout (for `$(coord task add ...)`)
    and the summary on stderr.
    """
    change = applied.change
    if creates and change.record is not None:
        out.emit(data(applied, synced, creates=creates), change.record[creates])
        out.tell(_summary(ws, applied))
    else:
        out.emit(data(applied, synced), [_summary(ws, applied)])
    _aftermath(ws, applied, synced, out, notes)


def tell(ws: workspace.Workspace, applied: commit.Applied, synced: sync_engine.Synced | None, out: Output) -> None:
    """A step made on the way by another command (`msg show --ack`): its lines, on stderr."""
    out.tell(_summary(ws, applied))
    _aftermath(ws, applied, synced, out, ())


def lines_of(ws: workspace.Workspace, applied: commit.Applied, synced: sync_engine.Synced | None) -> list[str]:
    """A step's summary line and what its sync did, for a command that reports the step beside
    an answer of its own (`coord checkin`, whose answer is the briefing)."""
    return [_summary(ws, applied), *(sync_command.lines(ws, synced) if synced else ())]


def _summary(ws: workspace.Workspace, applied: commit.Applied) -> str:
    return f"{safe(applied.change.event.summary)} ({_where(applied.commit, ws.branch, applied.change)})"


def _aftermath(
    ws: workspace.Workspace,
    applied: commit.Applied,
    synced: sync_engine.Synced | None,
    out: Output,
    notes: Sequence[str],
) -> None:
    for note in (*applied.change.notes, *notes, *(sync_command.losses(synced) if synced else ())):
        out.note(note)
    if synced:
        for line in sync_command.lines(ws, synced, with_losses=False):
            out.tell(line)


def wants_sync(ws: workspace.Workspace, wanted: bool | None) -> bool:
    """--sync or --no-sync, else what this clone says (`git config coord.sync`), else: share it
    whenever this clone has a remote, so that no step stays behind unseen."""
    if wanted is not None:
        return wanted
    said = ws.config.get("coord.sync")
    if said is not None:
        return said.strip().lower() in ("true", "yes", "on", "1")
    return refresh.has_remote(ws)


def catch_up(ws: workspace.Workspace, out: Output) -> refresh.Freshness:
    """Before a step that will be shared: read what the others did first (bounded), so that the
    step builds on it. Where the shared branch is checked out, git's own fast-forward moves the
    checkout too, and refuses over local edits; the step then builds on this clone's view."""
    return _caught_up(ws, out)[0]


def _caught_up(ws: workspace.Workspace, out: Output) -> tuple[refresh.Freshness, FatalError | None]:
    """`catch_up`, and what kept the local branch from moving up to the remote's (a lock, local edits)."""
    fresh = refresh.refresh(ws, timeout=refresh.timeout(ws))
    stuck = None
    if fresh.local is not None and fresh.commit is not None and fresh.local != fresh.commit == fresh.tracking:
        try:
            with lock.hold(ws.repo.common_dir):
                commit.advance(ws, fresh.local, fresh.commit)
        except FatalError as e:
            stuck = e
            fresh = fresh._replace(problem=f"cannot bring {ws.branch} up to {ws.remote}'s here: {e}")
    for note in refresh.describe(fresh):
        out.note(note)
    return fresh, stuck


def _lag(fresh: refresh.Freshness) -> str | None:
    """Why the view a step was judged on may be behind the shared state, if it may."""
    if fresh.problem is not None:
        return f"(Judged on this clone's view, which may be behind {fresh.remote}'s: {fresh.problem}.)"
    if fresh.missing:
        return (
            f"(Judged on this clone's view, which lacks {fresh.missing} commit(s) of {fresh.remote}'s: `coord sync`.)"
        )
    return None


def share(
    ws: workspace.Workspace, build: Build, applied: commit.Applied, wanted: bool | None
) -> tuple[commit.Applied, sync_engine.Synced | None]:
    """Sync the step just committed, if wanted: what was shared (the step made again on the
    remote's new tip, should its push have lost the race), and the sync."""
    if applied.commit is None:
        return applied, None
    again = Again(build, ws, applied.commit)
    synced = publish(ws, wanted, redo=again)
    if synced is None:
        return applied, None
    if again.made is not None and synced.after == again.made.commit:
        applied = again.made
    left_out = [d for d in synced.dropped if d.commit == applied.commit]
    if left_out:  # the sync shared the clone's other commits, without this one
        raise sync_engine.Undone(
            f"the step was left out when it was shared: {left_out[0].why}\nNothing of it was shared; "
            f"its commit is kept as {left_out[0].kept}."
        )
    return applied, synced


class Again:
    """The step made again on another commit, for its sync (`sync.Redo`): with a new clock and
    new ids, as if run at that moment on that state; `made` is the last made."""

    def __init__(self, build: Build, ws: workspace.Workspace, mine: git.Sha) -> None:
        self.build, self.ws, self.mine = build, ws, mine
        self.made: commit.Made | None = None

    def __call__(self, base: git.Sha) -> git.Sha:
        now = clock.now()
        ctx = Context(self.ws.identity, now, ids.maker(now))
        self.made = commit.make_on(self.ws, base, lambda state: self.build(state, ctx), when=now)
        return self.made.commit


def publish(
    ws: workspace.Workspace, wanted: bool | None, *, redo: sync_engine.Redo | None = None
) -> sync_engine.Synced | None:
    """Sync a step just committed, if wanted; `redo` makes it again should its push lose the race."""
    if not wants_sync(ws, wanted):
        return None
    try:
        return sync_engine.sync(ws, redo=redo)
    except sync_engine.Undone:
        raise  # taken back: nothing committed, nothing to share
    except sync_engine.Declined as e:
        raise NotShared(f"the step is committed here, but the remote refuses it: {e}") from e
    except FatalError as e:
        then = "" if "coord sync" in str(e) else "\n`coord sync` shares it."
        raise NotShared(f"the step is committed here, but not shared yet: {e}{then}") from None


def commit_now(build: Build, ws: workspace.Workspace, *, no_commit: bool = False) -> commit.Applied:
    """Commit the step `build` makes, as this clone's instance, at this moment, with fresh ids."""
    now = clock.now()
    ctx = Context(ws.identity, now, ids.maker(now))
    return commit.commit_step(ws, lambda state: build(state, ctx), when=now, no_commit=no_commit)


def data(applied: commit.Applied, synced: sync_engine.Synced | None, *, creates: str | None = None) -> dict[str, Any]:
    """What every step gives as its JSON `data` (schemas/output.json, `step`).

    A step that creates a record also gives its id under the seed's key (`task_id`, ...),
    so `data.task_id` is the new task's id.
    """
    change = applied.change
    given: dict[str, Any] = {
        "event": change.event.name,
        "instance": change.event.actor,
        "subject": change.event.subject,
        "commit": applied.commit,
        "staged": applied.commit is None,
        "shared": synced is not None,
        "record": change.record,
    }
    if creates and change.record is not None:
        given[creates] = change.record[creates]
    if applied.commit is None:
        given["message"] = change.event.message()  # for the person who commits what was staged
    if synced is not None:
        given["sync"] = sync_command.as_data(synced)
    return given


def _where(sha: str | None, branch: str, change: Change) -> str:
    if sha is None:
        return f"staged, not committed; commit it with:\n  git commit -F- <<'EOF'\n{change.event.message()}EOF"
    return f"{branch} {sha[:12]}"
