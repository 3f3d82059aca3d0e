"""What one clone remembers for each instance it acts as, outside the shared store: in .git/coord/.

- the news cursor: the commit whose state `coord news` last showed (`news/INSTANCE.json`);
- deferrals: items the instance said it cannot handle now, and why (`deferred/INSTANCE.json`),
  which the Stop hook honours;
- when the hooks last fetched, so that a hook after every tool call fetches at most so often.

None of it is coordination: it is this clone's reading position, never shared, never committed.
A file that cannot be read counts as absent.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from gitcoord import fileio
from gitcoord import timestamps

DIR = "coord"


def _path(common_dir: Path, kind: str, instance: str) -> Path:
    # Instance names are letters, digits, '.', '_' and '-', never starting with '.' or '-'.
    return common_dir / DIR / kind / f"{instance}.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    fileio.write_atomic(path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def cursor(common_dir: Path, instance: str) -> str | None:
    """The commit `coord news` last showed this instance in this clone, if any."""
    commit = _read(_path(common_dir, "news", instance)).get("commit")
    return commit if isinstance(commit, str) else None


def set_cursor(common_dir: Path, instance: str, commit: str, *, now: dt.datetime) -> None:
    _write(_path(common_dir, "news", instance), {"commit": commit, "at": timestamps.format(now)})


def deferred(common_dir: Path, instance: str, *, now: dt.datetime) -> dict[str, dict[str, str]]:
    """Item id -> {reason, at, until}: the deferrals still in force."""
    found = _read(_path(common_dir, "deferred", instance))
    return {rid: entry for rid, entry in found.items() if isinstance(entry, dict) and _before(now, entry.get("until"))}


def _before(now: dt.datetime, until: Any) -> bool:
    try:
        return isinstance(until, str) and now < timestamps.parse(until)
    except ValueError:
        return False


def defer(common_dir: Path, instance: str, item: str, *, reason: str, now: dt.datetime, hours: float) -> str:
    """Record that `instance` puts `item` off for `hours`, and why; when the deferral ends."""
    entries = deferred(common_dir, instance, now=now)
    until = timestamps.format(now + dt.timedelta(hours=hours))
    entries[item] = {"reason": reason, "at": timestamps.format(now), "until": until}
    _write(_path(common_dir, "deferred", instance), entries)
    return until


def last_fetch(common_dir: Path, instance: str) -> str | None:
    at = _read(_path(common_dir, "hooks", instance)).get("fetched")
    return at if isinstance(at, str) else None


def set_last_fetch(common_dir: Path, instance: str, *, now: dt.datetime) -> None:
    path = _path(common_dir, "hooks", instance)
    _write(path, {**_read(path), "fetched": timestamps.format(now)})
