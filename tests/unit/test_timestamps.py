"""One definition of a timestamp: the schema's pattern, the `date-time` format and the parser agree.

The oracle for dates is rfc3339-validator (through nothing of gitcoord's), with the
schema's pattern read as ECMA 262 reads it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc3339_validator import validate_rfc3339
from tests import oracle

from gitcoord import model
from gitcoord import schema
from gitcoord import schemas
from gitcoord import timestamps

EDGES = [
    "2024-01-15T10:30:00Z",
    "2024-01-15T10:30:60Z",  # a leap second
    "2016-12-31T23:59:60Z",
    "0000-01-15T10:30:00Z",  # year zero
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
    "2024-01-15T10:30:00Z\n",  # a trailing newline
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z",
    "2024-04-31T00:00:00Z",
    "2024-01-15t10:30:00z",
    "2024-01-15T10:30:00.123456789+05:30",
    "2024-01-15T10:30:00.1234567891Z",
    "2024-01-15T10:30:00+23:59",
    "2024-01-15T10:30:00-00:00",
    "2024-01-15T10:30:00",
    "2024-01-15 10:30:00Z",
    "",
]
NEAR_MISSES = st.from_regex(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,11})?(Z|z|[+-][0-9]{2}:[0-9]{2})?\n?",
    fullmatch=True,
)
STAMPS = st.sampled_from(EDGES) | NEAR_MISSES


def _reference(text: str) -> bool:
    """RFC 3339 by rfc3339-validator, and the schema's pattern by the standard's regex rules;
    stricter than both, an instant of the years 0001 to 9999 in UTC (what datetime can compare)."""
    return (
        validate_rfc3339(text)
        and oracle.ecma_pattern(timestamps.PATTERN).search(text) is not None
        and text not in OUT_OF_TIME
    )


# Days of the calendar whose instants in UTC fall before the year 1 or after 9999.
OUT_OF_TIME = frozenset({"0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"})


def test_the_schema_pattern_is_the_parsers() -> None:
    assert schemas.document("common.json")["$defs"]["timestamp"]["pattern"] == timestamps.PATTERN


def test_every_date_time_of_the_schemas_carries_the_parsers_pattern() -> None:
    """So the file validators, which run only the calendar half of the parser as the format, check it all."""
    found = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                found.append(node.get("pattern"))
            for sub in node.values():
                walk(sub)
        elif isinstance(node, list):
            for sub in node:
                walk(sub)

    for name in ("common.json", *model.FILES):
        walk(schemas.document(name))
    assert found == [timestamps.PATTERN]


def _agree(text: str) -> None:
    valid = timestamps.is_valid(text)
    assert valid == _reference(text)
    assert valid == schema.compile_schema({"$ref": "common.json#/$defs/timestamp"}).is_valid(text)
    halves = schema.compile_schema({"$ref": "common.json#/$defs/timestamp"}, date_time=timestamps.day_exists)
    assert valid == halves.is_valid(text), "as the file validators check it"
    if valid:
        moment = timestamps.parse(text)
        assert moment.tzinfo is not None
        # Whatever validates can be compared and aged without an error, even at the ends of time.
        assert timestamps.older(text, dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.timedelta(hours=8760)) in (
            True,
            False,
        )
        assert timestamps.later(text, "2024-01-15T10:30:00Z") in (text, "2024-01-15T10:30:00Z")
    else:
        with pytest.raises(ValueError, match="is not an RFC 3339 timestamp"):
            timestamps.parse(text)


@given(STAMPS)
def test_the_parser_reads_exactly_what_validates(text: str) -> None:
    _agree(text)


@pytest.mark.parametrize("text", EDGES)
def test_edges(text: str) -> None:
    _agree(text)


def test_is_valid_takes_anything() -> None:
    assert not timestamps.is_valid(None)
    assert not timestamps.is_valid(20240115)


def test_a_moment_a_person_gives_is_one_commands_can_print() -> None:
    assert timestamps.format(timestamps.moment("2024-01-15T10:30:00+01:00")) == "2024-01-15T09:30:00Z"
    assert timestamps.format(timestamps.moment("0001-01-01T00:00:00Z")) == "0001-01-01T00:00:00Z"
    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "yesterday"):
        with pytest.raises(ValueError, match=r"not an RFC 3339"):
            timestamps.moment(text)
