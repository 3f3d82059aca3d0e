"""The archive's wait, counted on the store's line: a record leaves the live files only once the
line has held it closed for the settings' `archive_after_days`, whatever time its close wrote.

A close's stamp is the closer's word, bounded by the state the commit changes: a side line grown
from an old commit can date a close back to that commit, and merged, the record would leave the
live files at once, before anyone saw it closed. The line's own commits are dated no earlier than
what they change and no later than the checker's clock, so the line's state as of a moment is a
witness that no commit can date back. Where the line is younger than the wait, or this clone
holds only its tip (a join on the tip: the gate and CI hold the rest), the record's stamps alone
decide, as the history check's own rule (`history.archive`) does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from gitcoord import git
from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord.findings import Finding
from gitcoord.range_loader import Blobs
from gitcoord.range_loader import Loader
from gitcoord.range_loader import instant


def late(loader: Loader, c: git.Change, at: Mapping[str, Blobs], on_line: str) -> list[Finding]:
    """What `c` moves into the archive that the line (its parent `on_line`, and that parent's
    first parents) had not held closed for the wait as of `c`'s own date, less the wait."""
    before, after = at[on_line], at[c.sha]
    changed = [(f, b) for f, b in after.items() - before.items() if model.is_shard(f)]  # in C: a year has 1,000s
    arrived = {
        rid: shard
        for shard, blob in changed
        for rid in loader.shard_ids(shard, blob).keys() - _ids(loader, shard, before.get(shard))
    }
    when = instant(c.committed)
    if not arrived or when is None:
        return []
    days = model.settings_of(loader.state(before).get(model.REGISTRY) or {}).archive_after_days
    # Only a commit that changed the store's own files is judged, and so dated no earlier than the state
    # it changes: an empty one, or one of a note beside the store in coordination/, may say any time
    # before its parent, and would stand in for the line's state of a past it never had.
    moment = int((when - dt.timedelta(days=days)).timestamp())
    then = git.first_parent_before(loader.root, git.Sha(on_line), moment, model.STORE_PATHSPECS)
    if then is None:
        return []  # the line is younger than the wait, or its history is not here
    witness = loader.state(loader.at([then])[then])
    found = []
    for rid, shard in sorted(arrived.items()):
        coll = model.COLLECTIONS[model.base(shard)]
        record = records.by_id(witness[coll.file], coll).get(rid)
        if record is None or model.status_of(coll.kind, record) not in rulebook.ARCHIVABLE_STATUSES[coll.kind]:
            message = (
                f"{rid} was {'not there' if record is None else model.status_of(coll.kind, record)} on this line "
                f"{days:g} days before this commit ({then[:12]}): the archive's wait counts on the line, "
                "whatever time its close says"
            )
            found.append(Finding(shard, (), "archive", message))
    return found


def _ids(loader: Loader, shard: str, blob: str | None) -> set[str]:
    return set(loader.shard_ids(shard, blob)) if blob is not None else set()
