"""Attacks on the history itself: archive tricks, the store wiped and restored, and refs rewound,
deleted or used to smuggle a forged commit past the coordination branch.

In the example store dec_001, decided in 2024, is the one record that may lawfully move to the
archive (its day's shard, archive/2024/01/15/). instance-3 forges by hand past every client hook;
the gate refuses each push by its rule and moves no ref, and `coord check --range` finds it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from testing.forgery import NOW
from testing.forgery import Forger
from testing.forgery import accepted
from testing.forgery import found
from testing.forgery import new_task
from testing.forgery import record
from testing.forgery import refused
from testing.forgery import stamp
from testing.repos import git
from testing.signed import HUMAN
from testing.signed import Team

from gitcoord import model

TQ, ML, DC, REG = model.TASKS, model.MESSAGES, model.DECISIONS, model.REGISTRY
ME = "instance-3"
SHARD = "archive/2024/01/15/decisions.json"
EMPTY: dict[str, dict[str, list[Any]]] = {
    DC: {"decisions": [], "pending_decisions": []},
    TQ: {"active_tasks": [], "pending_tasks": [], "completed_tasks": []},
}
Trick = Callable[[Forger], Any]


def archive(attacker: Forger, rid: str, shard: str, into: str | None = None, **changed: Any) -> None:
    """Take `rid` out of its live file and write it, changed by `changed`, as the only record of `shard`
    (in the list `into`, by default the one its status calls for)."""
    file = next(f for f in (TQ, ML, DC) if rid.startswith(model.COLLECTIONS[f].prefix))
    live = attacker.read(file)
    taken = record(live, rid)
    for value in live.values():
        if isinstance(value, list) and taken in value:
            value.remove(taken)
    attacker.write(file, live)
    shaped: dict[str, list[Any]] = {key: [] for key in EMPTY[model.base(shard)]}
    moved = {**taken, **changed}
    shaped[into or model.COLLECTIONS[model.base(shard)].placement(moved)].append(moved)
    attacker.write(shard, shaped)


def _shard_edit(change: Callable[[dict[str, Any]], Any]) -> Trick:
    return lambda a: a.edit(SHARD, change)


# Archive tricks on live records: (id, trick, rule)
ARCHIVING = [
    ("an-open-task", lambda a: archive(a, "task_001", "archive/2024/01/20/task-queue.json"), "archive"),
    ("an-open-decision", lambda a: archive(a, "dec_002", "archive/2024/01/20/decisions.json"), "archive"),
    ("a-shard-dated-before-it-closed", lambda a: archive(a, "dec_001", "archive/2024/01/14/decisions.json"), "archive"),
    ("changed-on-its-way", lambda a: archive(a, "dec_001", SHARD, decision="changed"), "immutable"),
    (
        "a-decision-as-a-task",
        lambda a: archive(a, "dec_001", "archive/2024/01/15/task-queue.json", "completed_tasks"),
        "deleted",
    ),
    (
        "a-record-never-live",
        lambda a: a.write(
            SHARD, {"decisions": [{**record(a.read(DC), "dec_001"), "decision_id": "dec_999"}], "pending_decisions": []}
        ),
        "immutable",
    ),
    (
        "into-two-shards-one-altered",
        lambda a: (
            archive(a, "dec_001", "archive/decisions.json"),
            a.write(
                SHARD,
                {
                    "decisions": [{**a.read("archive/decisions.json")["decisions"][0], "decided_by": ["instance-3"]}],
                    "pending_decisions": [],
                },
            ),
        ),
        "duplicate-id",
    ),
    (
        "a-task-closed-in-year-one",
        lambda a: (
            a.edit(
                TQ,
                lambda d: d["completed_tasks"].append(
                    new_task("task_y1", "instance-3", status="cancelled", created="0001-01-01T00:30:00+01:00")
                ),
            ),
            archive(a, "task_y1", "archive/2024/01/01/task-queue.json"),
        ),
        "schema",
    ),
]


@pytest.mark.parametrize(("trick", "rule"), [c[1:] for c in ARCHIVING], ids=[c[0] for c in ARCHIVING])
def test_an_archive_trick_on_a_live_record_is_refused(attacker: Forger, trick: Trick, rule: str) -> None:
    trick(attacker)
    attacker.commit("archive by hand")
    refused(attacker, rule)
    found(attacker, rule)


def test_archiving_acting_as_nobody_is_refused(attacker: Forger) -> None:
    archive(attacker, "dec_001", SHARD)
    attacker.commit("archive dec_001", actor="")
    refused(attacker, "signature")
    found(attacker, "signature")


def _archived(attacker: Forger) -> Forger:
    """dec_001 archived the lawful way, into its day's shard, by the hand that then attacks it."""
    archive(attacker, "dec_001", SHARD)
    attacker.commit("archive dec_001 into its day's shard")
    accepted(attacker)
    return attacker.fresh()


# Tricks on a record already in the archive: (id, trick, rule)
ARCHIVED = [
    (
        "moved-to-another-shard",
        lambda a: (a.write("archive/2024/01/16/decisions.json", a.read(SHARD)), a.path(SHARD).unlink()),
        "deleted",
    ),
    ("shard-deleted", lambda a: a.path(SHARD).unlink(), "deleted"),
    ("shard-emptied", lambda a: a.write(SHARD, EMPTY[DC]), "deleted"),
    ("record-changed", _shard_edit(lambda d: d["decisions"][0].update(rationale="rewritten")), "immutable"),
    (
        "altered-duplicate-before-it",
        _shard_edit(lambda d: d["decisions"].insert(0, {**d["decisions"][0], "decision": "FORGED"})),
        "duplicate-id",
    ),
    ("copied-to-the-unsharded-archive", lambda a: a.write("archive/decisions.json", a.read(SHARD)), "immutable"),
    (
        "restored-to-the-live-file",
        lambda a: a.edit(DC, lambda d: d["decisions"].append(a.read(SHARD)["decisions"][0])),
        "authorization",
    ),
    (
        "its-id-used-again",
        lambda a: a.edit(
            DC,
            lambda d: d["decisions"].append(
                {
                    **a.read(SHARD)["decisions"][0],
                    "decision": "a new dec_001",
                    "decided_by": ["instance-3"],
                    "date": stamp(NOW),
                }
            ),
        ),
        "duplicate-id",
    ),
]


@pytest.mark.parametrize(("trick", "rule"), [c[1:] for c in ARCHIVED], ids=[c[0] for c in ARCHIVED])
def test_a_trick_on_an_archived_record_is_refused(example_team: Team, trick: Trick, rule: str) -> None:
    attacker = Forger(example_team, ME).fresh()
    trick(_archived(attacker))
    attacker.commit("the archive, by hand")
    refused(attacker, rule)
    found(attacker, rule)


def test_an_archived_record_restored_by_its_own_decider_is_refused(example_team: Team) -> None:
    """Even who could have recorded dec_001 may not bring it back: an archived id is never used again."""
    attacker = Forger(example_team, ME).fresh()
    _archived(attacker).edit(DC, lambda d: d["decisions"].append(attacker.read(SHARD)["decisions"][0]))
    attacker.commit("dec_001 back in the live file", actor="instance-2", key=example_team.key_of("instance-2"))
    refused(attacker, "duplicate-id")
    found(attacker, "duplicate-id")


@pytest.mark.parametrize("shard", ["archive/decisions.json", SHARD], ids=["another-shard", "the-same-shard"])
def test_a_record_two_lines_archived_is_merged_only_from_one_shard(example_team: Team, shard: str) -> None:
    """instance-1 shares dec_001 archived into `shard`; instance-3 had archived it into its day's
    shard on a line of its own. Merged, two shards would hold it; into the same one, the merge is
    the driver's and lawful."""
    attacker = Forger(example_team, ME).fresh()
    other = Forger(example_team, "instance-1").fresh()
    archive(other, "dec_001", shard)
    other.commit("instance-1 archives dec_001")
    accepted(other)
    archive(attacker, "dec_001", SHARD)
    attacker.commit("instance-3 archives dec_001")
    git(attacker.clone, "fetch", "-q", "origin")
    git(attacker.clone, "merge", "-q", "--no-edit", "--no-verify", "origin/main")
    if shard == SHARD:
        accepted(attacker)
        return
    said = refused(attacker, "history")
    assert "dec_001 would be archived twice, in archive/2024/01/15/decisions.json and in archive/decisions.json" in said
    found(attacker, "history")
    # Made some other way (before the history check refused it), coord validate finds it.
    assert example_team.run(ME, "validate").code == 1
    assert "dec_001 is archived in archive/2024/01/15/decisions.json too" in example_team.run(ME, "validate").out


# The store wiped, restored or replaced ------------------------------------------------------------------


def _wipe(attacker: Forger) -> None:
    git(attacker.clone, "rm", "-q", "-r", "coordination")


def _gitlink(attacker: Forger) -> None:
    """coordination/ replaced by a submodule entry (a gitlink) pointing at HEAD."""
    head = git(attacker.clone, "rev-parse", "HEAD")
    entries = [e for e in git(attacker.clone, "ls-tree", "HEAD").splitlines() if not e.endswith("\tcoordination")]
    tree = git(attacker.clone, "mktree", stdin="\n".join([*entries, f"160000 commit {head}\tcoordination"]) + "\n")
    git(
        attacker.clone,
        "reset",
        "-q",
        attacker.commit_tree(tree, [head], "the store is a submodule now\n\nCoord-Instance: instance-3\n"),
    )


WIPES: list[tuple[str, Trick]] = [
    ("wiped", _wipe),
    ("one-file-deleted", lambda a: a.path(TQ).unlink()),
    ("moved-elsewhere", lambda a: git(a.clone, "mv", "coordination", "coordination-old")),
    ("a-symlink", lambda a: (_wipe(a), os.symlink("elsewhere", a.clone / "coordination"))),
    ("a-file-a-directory", lambda a: (a.path(TQ).unlink(), a.path(TQ).mkdir(), (a.path(TQ) / "x").write_text("{}"))),
]


@pytest.mark.parametrize("wipe", [c[1] for c in WIPES], ids=[c[0] for c in WIPES])
def test_a_store_wiped_or_replaced_is_refused(attacker: Forger, wipe: Trick) -> None:
    wipe(attacker)
    attacker.commit("the store, gone")
    refused(attacker, "deleted")
    found(attacker, "deleted")


def test_a_store_replaced_by_a_gitlink_is_refused(attacker: Forger) -> None:
    _gitlink(attacker)
    refused(attacker, "deleted")
    found(attacker, "deleted")


def test_a_wipe_then_a_forged_restore_in_one_push_is_refused(attacker: Forger) -> None:
    saved = {file: attacker.read(file) for file in model.FILES}
    _wipe(attacker)
    attacker.commit("wipe")
    saved[REG]["settings"] = {"require_signatures": False}
    saved[REG]["instances"]["instance-3"]["role"] = "boss"
    for file, doc in saved.items():
        attacker.write(file, doc)
    attacker.commit("restore, with signatures off", actor=HUMAN, key=None)
    refused(attacker, "deleted")
    found(attacker, "deleted")


# Refs: the coordination history is never rewound or deleted, and no ref carries a forged commit ---------


def _forged(attacker: Forger) -> str:
    """instance-3 completes task_001, held by instance-2, and turns signatures off, unsigned, as the human."""
    attacker.edit(TQ, lambda d: d["completed_tasks"].append(d["active_tasks"].pop(0) | {"status": "completed"}))
    attacker.edit(REG, lambda d: d["settings"].update(require_signatures=False))
    return attacker.commit("the human turns signatures off", actor=HUMAN, key=None)


def test_a_rollback_of_the_coordination_branch_is_refused(attacker: Forger) -> None:
    refused(attacker, "history", "--force", "HEAD~1:main")
    found(attacker, "rewritten", "origin/main..HEAD~1")


def test_deleting_the_stores_branch_is_refused(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    refused(attacker, "deletion", ":main")


def test_a_branch_beside_the_line_with_a_copy_of_the_store_is_codes_own(example_team: Team) -> None:
    """A code branch forked from a store on main holds a copy of it: rebased, force-pushed and
    deleted as any code branch, for the event log is the line's history, which stays."""
    attacker = Forger(example_team, ME).fresh()
    git(example_team.remote, "branch", "side", "main")
    line = example_team.remote_tip("main")
    assert attacker.push("--force", "HEAD~1:side").returncode == 0
    assert attacker.push(":side").returncode == 0
    assert example_team.remote_tip("main") == line


@pytest.mark.parametrize("ref", ["refs/heads/forged", "refs/tags/innocent", "refs/coord/main", "refs/notes/commits"])
def test_a_forged_commit_is_refused_under_any_ref(attacker: Forger, ref: str) -> None:
    _forged(attacker)
    refused(attacker, "signature", f"HEAD:{ref}")
    found(attacker, "signature")


def test_a_forged_commit_under_a_tip_without_a_store_is_refused(attacker: Forger) -> None:
    """The forged commit hidden below a tip that holds no coordination/, on a branch of its own."""
    _forged(attacker)
    _wipe(attacker)
    attacker.commit("no store at the tip", actor="")
    refused(attacker, "signature", "HEAD:refs/heads/scratch")
    found(attacker, "signature")


def test_the_honest_twin_a_new_branch_and_a_fast_forward(example_team: Team) -> None:
    attacker = Forger(example_team, ME).fresh()
    attacker.edit(REG, lambda d: d["instances"]["instance-3"].update(expertise_areas=["on a branch"]))
    attacker.commit("instance-3 lists its expertise")
    accepted(attacker, "HEAD:refs/heads/feature")
    accepted(attacker, "HEAD:main")


def test_an_empty_archive_shard_is_refused(attacker: Forger) -> None:
    """Shards that hold nothing would only slow every later step, and are never removed."""
    attacker.write("archive/2024/01/16/task-queue.json", EMPTY[TQ])
    attacker.commit("an empty shard")
    said = refused(attacker, "archive")
    assert "holds no record: a shard is made by archiving into it" in said
