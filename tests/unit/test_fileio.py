from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitcoord import fileio


def test_write_atomic_replaces_whole_files(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "f.json"
    fileio.write_atomic(target, b"one")
    fileio.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["f.json"]


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    target.write_bytes(b"old")

    def full(*args: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OSError, match="No space left"):
        fileio.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_ensure_lines(tmp_path: Path) -> None:
    path = tmp_path / "attributes"
    assert fileio.ensure_lines(path, ("a", "b"))
    path.write_text("x\na")
    assert fileio.ensure_lines(path, ("a", "b"))
    assert path.read_text() == "x\na\nb\n"
    assert not fileio.ensure_lines(path, ("a", "b"))
