"""The time, read once at the edge and handed to the pure core.

`COORD_NOW` fixes it (an RFC 3339 timestamp): for reproducible tests, demos and replays.
"""

from __future__ import annotations

import datetime as dt
import os

from gitcoord import timestamps
from gitcoord.errors import FatalError


def now() -> dt.datetime:
    fixed = os.environ.get("COORD_NOW")
    if fixed:
        try:
            return timestamps.moment(fixed)
        except ValueError:
            raise FatalError(f"COORD_NOW={fixed!r} is not a timestamp like 2024-01-15T10:30:00Z") from None
    return dt.datetime.now(dt.timezone.utc)
