from __future__ import annotations

import json

import pytest
from tests.conftest import SEED

from gitcoord import canonical
from gitcoord import jsonio
from gitcoord import layout
from gitcoord import model
from gitcoord import store


def _error(data: bytes) -> jsonio.ParseError:
    with pytest.raises(jsonio.ParseError) as e:
        jsonio.parse(data)
    return e.value


def test_stray_comma_has_line_and_column() -> None:
    e = _error(b'{\n  "a": 1,,\n  "b": 2\n}')
    assert (e.line, e.column) == (2, 10)
    assert "invalid JSON" in e.message


def test_duplicate_key_is_found_where_it_is() -> None:
    text = b'{\n  "tasks": [\n    {"id": 1},\n    {"id": 2,\n     "id": 3}\n  ]\n}'
    e = _error(text)
    assert "duplicate key 'id' in $.tasks[1]" in e.message
    assert (e.line, e.column) == (5, 6)


def test_duplicate_key_at_the_top_level() -> None:
    e = _error(b'{"a": {"b": 1}, "c": 2, "a": 3}')
    assert "duplicate key 'a' in $" in e.message
    assert e.column == 25


def test_duplicates_are_allowed_when_reading_only() -> None:
    assert jsonio.parse(b'{"a": 1, "a": 2}', strict=False) == {"a": 2}


@pytest.mark.parametrize("marker", [b"<<<<<<< HEAD", b"=======", b">>>>>>> theirs", b"||||||| base"])
def test_conflict_markers_are_named(marker: bytes) -> None:
    e = _error(b'{\n  "a": 1,\n' + marker + b'\n  "b": 2\n}')
    assert e.line == 3
    assert "conflict marker" in e.message
    assert "coord install" in e.message


def test_empty_and_blank_files() -> None:
    assert "empty" in _error(b"").message
    assert "empty" in _error(b" \n\t\n").message


def test_bytes_that_are_not_utf8() -> None:
    e = _error(b'{"a":\n "caf\xe9"}')
    assert (e.line, e.column) == (2, 6)
    assert "0xe9" in e.message


def test_trailing_data() -> None:
    assert "Extra data" in _error(b"{}\n{}").message


def test_locate_follows_the_path() -> None:
    text = '{\n  "a": [\n    1,\n    {"b": {"c": true}}\n  ],\n  "d": "x"\n}'
    assert jsonio.line_col(text, jsonio.locate(text, ("a", 1, "b", "c"))) == (4, 17)
    assert jsonio.line_col(text, jsonio.locate(text, ("d",))) == (6, 8)
    # A path that goes past what exists stops at the deepest part that does.
    assert jsonio.line_col(text, jsonio.locate(text, ("a", 7))) == (2, 8)
    assert jsonio.line_col(text, jsonio.locate(text, ("d", "e"))) == (6, 8)


def test_format_path() -> None:
    assert jsonio.format_path(("pending_tasks", 0, "status")) == "$.pending_tasks[0].status"
    assert jsonio.format_path(()) == "$"


@pytest.mark.parametrize("file", model.FILES)
def test_canonical_form_is_stable(file: str) -> None:
    doc = jsonio.parse((SEED / file).read_bytes())
    once = store.dump(file, doc)
    assert json.loads(once) == doc
    assert store.dump(file, jsonio.parse(once)) == once
    assert once.endswith(b"}\n")


def test_canonical_form_orders_keys_by_schema_and_records_by_id() -> None:
    doc = {
        "completed_tasks": [],
        "pending_tasks": [
            {
                "dependencies": [],
                "task_id": "task_b",
                "title": "B",
                "assigned_to": None,
                "status": "pending_assignment",
                "priority": "low",
                "created": "2024-01-01T00:00:00Z",
            },
            {
                "title": "A",
                "task_id": "task_a",
                "dependencies": ["task_b"],
                "assigned_to": None,
                "status": "pending_assignment",
                "priority": "low",
                "created": "2024-01-01T00:00:00Z",
            },
        ],
        "active_tasks": [],
    }
    text = store.dump(model.TASKS, doc).decode()
    assert text.index('"active_tasks"') < text.index('"pending_tasks"') < text.index('"completed_tasks"')
    assert text.index('"task_a"') < text.index('"task_b"')
    assert '"dependencies": ["task_b"]' in text
    assert text.index('"task_id": "task_a"') < text.index('"title": "A"')


def test_canonical_form_keeps_text_readable_and_escapes_controls() -> None:
    text = canonical.dumps({"a": "café \u2192 \x1b[31m", "b": [], "c": {}, "d": [1.5, True, None]})
    assert '"café \u2192 \\u001b[31m"' in text
    assert '"b": []' in text
    assert '"c": {}' in text
    assert '"d": [1.5, true, null]' in text


def test_every_schema_property_has_a_place_in_the_canonical_order() -> None:
    shape = layout.shape(model.TASKS)
    task = shape.children["pending_tasks"].values
    assert task is not None
    assert list(task.order)[:3] == ["task_id", "title", "description"]


def test_unchanged_records_are_copied_from_the_file_they_came_from() -> None:
    doc = jsonio.parse((SEED / model.TASKS).read_bytes())
    text = store.dump(model.TASKS, doc)
    parsed = jsonio.parse(text)
    reuse = store.reusable(model.TASKS, text, parsed)
    assert set(reuse) == {id(t) for name in ("active_tasks", "pending_tasks") for t in parsed[name]}
    assert store.dump(model.TASKS, parsed, reuse) == text
    changed = dict(parsed)
    changed["pending_tasks"] = [{**parsed["pending_tasks"][0], "priority": "low"}, parsed["pending_tasks"][1]]
    assert store.dump(model.TASKS, changed, reuse) == store.dump(model.TASKS, changed), (
        "a changed record is written anew"
    )


def test_a_file_laid_out_otherwise_gives_nothing_to_reuse() -> None:
    doc = jsonio.parse((SEED / model.TASKS).read_bytes())
    compact = json.dumps(doc).encode()
    assert store.reusable(model.TASKS, compact, jsonio.parse(compact)) == {}
    text = store.dump(model.TASKS, doc).decode()
    swapped = text.replace('"task_id": "task_002"', '"task_id": "task_00X"', 1).encode()  # text and records disagree
    assert set(store.reusable(model.TASKS, swapped, doc)) == {id(doc["active_tasks"][0])}, (
        "a list whose text disagrees is written in full"
    )


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (b'{\n  "a": [1,\n    NaN]\n}', (3, 5), "NaN is not a JSON number; numbers must be finite"),
        (b'{"a": {"b": Infinity}}', (1, 13), "Infinity is not a JSON number"),
        (b'{"a": -Infinity}', (1, 7), "-Infinity is not a JSON number"),
        (b'{"a": 1e400}', (1, 7), "1e400 is too large a number to hold; numbers must be finite"),
        (b'{"a": [' + b"9" * 5000 + b"]}", (1, 8), "a number of 5000 characters is longer than the limit of 100"),
        (b"NaN", (1, 1), "NaN is not a JSON number"),
        (b'{"a": "\\ud800"}', (1, 7), "$.a: text holds a lone surrogate"),
        (b'{"x": 1, "\\udcff": 2}', (1, 20), "$['\\\\udcff']: text holds a lone surrogate"),
    ],
)
@pytest.mark.parametrize("strict", [True, False])
def test_values_no_command_could_use_are_refused_where_they_are(
    text: bytes, where: tuple[int, int], words: str, strict: bool
) -> None:
    with pytest.raises(jsonio.ParseError) as e:
        jsonio.parse(text, strict=strict)
    assert (e.value.line, e.value.column) == where
    assert words in e.value.message


@pytest.mark.parametrize("strict", [True, False])
def test_nesting_past_the_stack_is_an_error_not_a_crash(strict: bool) -> None:
    text = b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(jsonio.ParseError) as e:
        jsonio.parse(text, strict=strict)
    assert f"nested more than {jsonio.MAX_DEPTH} levels deep" in e.value.message
    assert (e.value.line, e.value.column) == (1, 6 + jsonio.MAX_DEPTH)


def test_escapes_that_make_characters_are_fine() -> None:
    assert jsonio.parse(b'{"a": "\\ud83d\\ude00", "b": "\\\\ud800", "c": 1.5, "d": -0, "e": 1e300}') == {
        "a": "\U0001f600",
        "b": "\\ud800",
        "c": 1.5,
        "d": 0,
        "e": 1e300,
    }


def test_a_file_past_the_size_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonio, "MAX_FILE_BYTES", 20 * 2**20)
    e = _error(b'{"a": "' + b"x" * 30 * 2**20 + b'"}')
    assert (e.line, e.column) == (1, 1)
    assert "the file is 30 MB, more than the limit of 20 MB; `coord archive`" in e.message
    monkeypatch.setattr(jsonio, "MAX_FILE_BYTES", 1000)
    assert "the file is 1,010 bytes, more than the limit of 1,000 bytes" in _error(b'["' + b"x" * 1006 + b'"]').message


def test_the_parse_leaves_the_cycle_collector_as_it_found_it() -> None:
    import gc

    jsonio.parse(b"{}")
    assert gc.isenabled()
    gc.disable()
    try:
        jsonio.parse(b"{}")
        with pytest.raises(jsonio.ParseError):
            jsonio.parse(b"{,}")
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({"a": [1, "x", None]}, {"a": [1, "x", None]}, True),
        ({"a": True}, {"a": 1}, False),
        ({"a": 1}, {"a": 1.0}, False),
        ([{"b": [True]}], [{"b": [1]}], False),
        ({"a": "1"}, {"a": 1}, False),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}, True),
        (None, {"a": 1}, False),
    ],
)
def test_same_tells_true_one_and_one_point_zero_apart(a: object, b: object, same: bool) -> None:
    assert jsonio.same(a, b) is same
    assert jsonio.same(b, a) is same


@pytest.mark.parametrize("rng_seed", range(4))
def test_a_file_written_by_copying_runs_of_records_is_the_file_written_in_full(rng_seed: int) -> None:
    import datetime as dt
    import random

    from testing import simulate

    from gitcoord import ids
    from gitcoord.protocol import Context
    from gitcoord.protocol import Refused

    rng = random.Random(rng_seed)
    now = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)
    texts = {f: store.dump(f, jsonio.parse((SEED / f).read_bytes())) for f in model.FILES}
    state = parsed = {f: jsonio.parse(t) for f, t in texts.items()}
    reuse = {f: store.reusable(f, t, parsed[f]) for f, t in texts.items()}  # by id(): `parsed` keeps them alive
    for _ in range(60):
        now += dt.timedelta(minutes=7)
        try:
            change = simulate.choose(state, rng).apply(state, Context(None, now, ids.maker(now, rng.getrandbits)))
        except Refused:
            continue
        for file, doc in change.docs.items():
            assert store.dump(file, doc, reuse[file]) == store.dump(file, doc), file
        state = {**state, **change.docs}
    assert parsed


@pytest.mark.parametrize("rng_seed", range(12))
@pytest.mark.parametrize("file", [model.MESSAGES, model.TASKS, model.DECISIONS])
def test_a_file_written_from_the_text_it_was_parsed_from_is_the_file_written_in_full(file: str, rng_seed: int) -> None:
    """Whatever a step does to the records of a file (adds after them, before them, changes,
    drops, moves one), the writer copying what it can gives the bytes of the writer that copies nothing."""
    import random

    rng = random.Random(rng_seed)
    text = store.dump(file, jsonio.parse((SEED / file).read_bytes()))
    doc = jsonio.parse(text)
    coll = model.COLLECTIONS[file]
    key = coll.id_key
    assert key is not None
    changed = dict(doc)
    for name in coll.lists:
        records = list(doc[name])
        if not records:
            continue
        for _ in range(rng.randrange(4)):
            what = rng.choice(["after", "after", "before", "change", "drop"])
            model_record = rng.choice(records)
            if what == "after":
                records.append({**model_record, key: records[-1][key] + f"z{rng.randrange(99)}"})
            elif what == "before":
                records.append({**model_record, key: records[0][key][:-1]})
            elif what == "change":
                i = rng.randrange(len(records))
                records[i] = {**records[i]}
            elif len(records) > 1:
                records.pop(rng.randrange(len(records)))
        changed[name] = records
    reuse = store.reusable(file, text, doc)
    assert store.dump(file, changed, reuse) == store.dump(file, changed)
    assert store.dump(file, doc, reuse) == text, "an unchanged file keeps every byte"
    assert set(reuse) >= {id(r) for name in coll.lists for r in doc[name]}, "every record of the canonical text"
