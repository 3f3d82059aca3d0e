"""`coord sync`, and the report of what a sync brought."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gitcoord import sync as engine
from gitcoord import workspace
from gitcoord.errors import ExitCode
from gitcoord.escape import safe
from gitcoord.output import Output


def as_data(s: engine.Synced) -> dict[str, Any]:
    return {
        "commit": s.after,
        "fetched": s.fetched,
        "pushed": s.pushed,
        "merged": s.merged,
        "attempts": s.attempts,
        "news": s.news,
        "dropped": [d.as_data() for d in s.dropped],
    }


def losses(s: engine.Synced) -> list[str]:
    """The claims of mine that the merge gave to another instance, and why this clone's branch did not
    follow what was shared: a step reports them as notes, in its JSON too, so that an agent does not
    go on with a task it does not hold, or wonder where its step went."""
    hint = "`coord task ready --mine` shows other work"
    lost = [
        f"your claim on {safe(t['task_id'])} lost to {safe(t['lost_to'])}'s; {hint}"
        for t in s.news.get("claims_lost", ())
    ]
    return [*([s.behind] if s.behind else []), *lost]


def lines(ws: workspace.Workspace, s: engine.Synced, *, with_losses: bool = True) -> Iterator[str]:
    how = "merged with" if s.merged else "in step with"
    yield f"synced {ws.branch} {how} {ws.remote} at {s.after[:12]}: {s.fetched} commit(s) in, {s.pushed} out"
    for d in s.dropped:
        yield (
            f"  left out {d.commit[:12]} ({safe(d.subject)}), void under {ws.remote}/{ws.branch} since it was made: "
            f"{safe(d.why)} (kept as {d.kept})"
        )
    for lost in losses(s) if with_losses else ():
        yield f"  {lost}"
    news = s.news
    if not news:
        return
    from gitcoord import render  # here: a sync that brought nothing tells nothing more

    for t in news.get("offered_to_me", ()):
        yield f"  offered to you: {safe(t['task_id'])} {safe(t['title'])} (accept or decline)"
    for m in news.get("messages_for_me", ()):
        yield "  new for you:" + render.message_line(m)[1:]
    for d in news.get("decisions_made", ()):
        yield "  decided:" + render.decision_line(d)[1:]


def sync(*, cwd: Path, as_instance: str | None, out: Output, accept_rewind: bool = False) -> int:
    ws = workspace.open_workspace(cwd, as_instance=as_instance)
    synced = engine.sync(ws, accept_rewind=accept_rewind)
    # A commit left out was a step this clone took that will never be shared: a script must see it.
    left = None
    if synced.dropped:
        left = f"{len(synced.dropped)} commit(s) of this clone left out, void under the shared line"
    if synced.behind and out.as_json:
        out.note(synced.behind)
    out.emit(as_data(synced), lines(ws, synced), problem=left)
    return ExitCode.FAILED if left else ExitCode.OK
