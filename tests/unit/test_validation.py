"""validation.reading: a store's problems are reported only where they explain a reader's failure."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitcoord import model
from gitcoord import validation
from gitcoord.snapshot import Snapshot
from gitcoord.snapshot import directory_reader

SEED = Path(__file__).parents[1] / "fixtures" / "seed"


@pytest.fixture
def broken_registry(tmp_path: Path) -> Snapshot:
    """The seed's store, with an instance-registry.json that parses but breaks its schema."""
    shutil.copytree(SEED, tmp_path, dirs_exist_ok=True)
    registry = tmp_path / model.REGISTRY
    doc = json.loads(registry.read_text())
    doc["instances"] = list(doc["instances"])
    registry.write_text(json.dumps(doc))
    return Snapshot(directory_reader(tmp_path), strict=False)


def test_a_reader_that_trips_over_a_broken_file_is_told_what_is_wrong_with_it(broken_registry: Snapshot) -> None:
    with pytest.raises(validation.InvalidStore) as caught, validation.reading(broken_registry):
        broken_registry[model.REGISTRY]["instances"].get("instance-1")
    assert {f.file for f in caught.value.findings} == {model.REGISTRY}
    assert "The store is not valid" in str(caught.value)
    assert isinstance(caught.value.__cause__, AttributeError), "the reader's own error stays chained"


def test_a_bug_in_a_reader_surfaces_as_a_bug_when_what_it_read_is_valid(broken_registry: Snapshot) -> None:
    with pytest.raises(KeyError, match="no_such_field"), validation.reading(broken_registry):
        broken_registry[model.TASKS]["no_such_field"]


def test_an_error_of_another_kind_passes_through(broken_registry: Snapshot) -> None:
    with pytest.raises(ZeroDivisionError), validation.reading(broken_registry):
        raise ZeroDivisionError("a bug")


def test_a_snapshot_answers_iterates_and_counts_the_same_files(broken_registry: Snapshot) -> None:
    assert list(broken_registry) == list(model.ALL_FILES)
    assert len(broken_registry) == len(model.ALL_FILES)
    assert all(f in broken_registry for f in broken_registry)
    assert broken_registry[model.ARCHIVE_FILES[0]] == model.empty_documents()[model.base(model.ARCHIVE_FILES[0])]
