"""Timestamps as the files hold them: RFC 3339 text, compared as instants."""

from __future__ import annotations

import datetime as dt
import re

_UTC = dt.timezone.utc


def is_calendar_date(text: str) -> bool:
    """Whether the date part of an RFC 3339 timestamp names a real day (the schema checks the form)."""
    if text[8:10] <= "28":  # every month has these days; the common case costs nothing
        return True
    try:
        dt.date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


_FRACTION = re.compile(r"\.([0-9]+)")


def parse(text: str) -> dt.datetime:
    # Python 3.10's fromisoformat reads neither "Z" nor fractions of other than 3 or 6 digits.
    text = _FRACTION.sub(lambda m: "." + m[1][:6].ljust(6, "0"), text.replace("Z", "+00:00"))
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=_UTC)


def before(stamp: str | None, moment: dt.datetime) -> bool:
    """Whether `stamp` is set and earlier than `moment`."""
    return stamp is not None and parse(stamp) < moment


def format(value: dt.datetime) -> str:  # noqa: A001 (the module is used as `timestamps.format`)
    return value.astimezone(_UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def later(a: str | None, b: str | None) -> str | None:
    """The later of two timestamps (None is earliest); equal instants keep the larger text."""
    if a is None or b is None:
        return a if b is None else b
    pa, pb = parse(a), parse(b)
    return a if (pa, a) >= (pb, b) else b
