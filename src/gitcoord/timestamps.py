"""Timestamps as the files hold them: RFC 3339 text, compared as instants.

One definition serves everything: `PATTERN` is the schema's pattern for a timestamp
(common.json, character for character; a test holds them together), and `is_valid`, which
the validator runs as the `date-time` format, accepts exactly what `parse` reads. So a
timestamp that validates can never fail a command later.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

_UTC = dt.timezone.utc

# Seconds stop at 59: a leap second (60) is not an instant Python's datetime can hold.
PATTERN = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
# In the schema's regex dialect (ECMA 262) `$` is the end of the text; in Python's it also
# matches before a final newline. fullmatch without the anchors reads it the standard way.
_FORM = re.compile(PATTERN[1:-1])
_FRACTION = re.compile(r"\.([0-9]+)")


def is_valid(text: object) -> bool:
    """Whether `text` is a timestamp `parse` reads: the pattern, naming an instant of the years 0001 to 9999."""
    return type(text) is str and _FORM.fullmatch(text) is not None and day_exists(text)


def day_exists(text: str) -> bool:
    """For text of the pattern's form: whether it names a day that exists, at an instant of the
    years 0001 to 9999 in UTC ("0001-01-01T00:00:00+01:00" is a day, but before any instant
    Python's datetime holds, so it could be neither compared in UTC nor printed).

    The second half of `is_valid`. The project's schemas pair `date-time` with PATTERN, so
    the validator checks the form (in Rust) and needs only this from Python.
    """
    year = text[:4]
    if text[8:10] <= "28" and "0001" < year < "9999":  # every month has these days: the common case is cheap
        return True
    try:
        dt.date(int(year), int(text[5:7]), int(text[8:10]))
        if year in ("0001", "9999"):
            _read(text).astimezone(_UTC)
    except (ValueError, OverflowError):
        return False
    return True


def parse(text: str) -> dt.datetime:
    """The instant `text` names; ValueError for anything `is_valid` refuses, and only for that."""
    if not is_valid(text):
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp like 2024-01-15T10:30:00Z")
    return _read(text)


def _read(text: str) -> dt.datetime:
    # Python 3.10's fromisoformat reads neither "Z" nor fractions of other than 3 or 6 digits.
    text = _FRACTION.sub(lambda m: "." + m[1][:6].ljust(6, "0"), text.replace("Z", "+00:00"))
    return dt.datetime.fromisoformat(text)


def moment(text: str) -> dt.datetime:
    """A moment a person gives (--now, --before, COORD_NOW), in UTC, as commands print it."""
    return parse(text).astimezone(_UTC)


def before(stamp: str | None, moment: dt.datetime) -> bool:
    """Whether `stamp` is set and earlier than `moment`."""
    return stamp is not None and parse(stamp) < moment


def older(stamp: str, moment: dt.datetime, age: dt.timedelta) -> bool:
    """Whether `stamp` is more than `age` before `moment`.

    Written as a difference of instants, which always exists, where `parse(stamp) + age`
    or `moment - age` could fall outside the years datetime holds (0001 to 9999).
    """
    return moment - parse(stamp) > age


def format(value: dt.datetime) -> str:  # noqa: A001 (the module is used as `timestamps.format`)
    return value.astimezone(_UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def later(a: str | None, b: str | None) -> str | None:
    """The later of two timestamps (None is earliest); equal instants keep the larger text."""
    if a is None or b is None:
        return a if b is None else b
    pa, pb = parse(a), parse(b)
    return a if (pa, a) >= (pb, b) else b


_RELATIVE = re.compile(r"([+-])((?:[0-9]{1,6}[wdhm])+)")
_PART = re.compile(r"([0-9]+)([wdhm])")
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}
_WRITTEN = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2}))?(Z|[+-][0-9]{2}:[0-9]{2})?"
)
GIVEN_FORMS = "+2h, +3d, +90m, -1w, 2024-01-16T18:00 (local time), 2024-01-16 18:00+02:00 or 2024-01-16T18:00:00Z"


def given(text: str, *, now: dt.datetime, local: Callable[[dt.datetime], dt.datetime]) -> dt.datetime:
    """A moment written on a command line (--due, --deadline, --before, --now), in UTC.

    Relative to `now` (`+2h`, `+3d`, `+90m`, `-1w`, `+1d12h`), an RFC 3339 timestamp, or a
    date and time to the minute with a zone or without one; `local` gives a time without a
    zone the local zone (the edge decides which: the core never reads the machine's). A
    ValueError says what is wrong.
    """
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    try:
        if relative:
            seconds = sum(int(n) * _SECONDS[unit] for n, unit in _PART.findall(relative[2]))
            return now + dt.timedelta(seconds=seconds if relative[1] == "+" else -seconds)
        if is_valid(text):
            return moment(text)
        written = _WRITTEN.fullmatch(text)
        if written is None:
            raise ValueError(f"not a time: give {GIVEN_FORMS}")
        year, month, day, hour, minute, second = (int(g or 0) for g in written.groups()[:6])
        naive = dt.datetime(year, month, day, hour, minute, second)
        zone = written[7]
        aware = local(naive) if zone is None else parse(f"{naive.isoformat()}{zone}")
        return aware.astimezone(_UTC)
    except OverflowError:
        raise ValueError("falls outside the years 0001 to 9999") from None
