"""The decision log: deciders, inputs, options and escalations name what exists, each once."""

from __future__ import annotations

from collections.abc import Iterator

from gitcoord import model
from gitcoord import records
from gitcoord.findings import Finding
from gitcoord.invariants import placement
from gitcoord.invariants import references
from gitcoord.records import State
from gitcoord.records import iter_records


def check(state: State, known: references.Known, only: set[int] | None) -> Iterator[Finding]:
    doc = records.decision_log(state)
    f, coll = model.DECISIONS, model.DECISION_RECORDS
    yield from placement.check(f, coll, doc, only)
    for rid, path, d in iter_records(doc, coll):
        if only is not None and id(d) not in only:
            continue
        yield from references.instances(f, (*path, "decided_by"), d.get("decided_by", ()), known, "decided by")
        yield from references.instances(
            f, (*path, "affects_instances"), d.get("affects_instances", ()), known, "affected instance", broadcast=True
        )
        yield from references.instances(
            f, (*path, "input_needed_from"), d.get("input_needed_from", ()), known, "input needed from"
        )
        yield from references.instance(f, (*path, "proposed_by"), d.get("proposed_by"), known, "proposer")
        for i, t in enumerate(d.get("related_tasks", ())):
            yield from references.ref(f, (*path, "related_tasks", i), t, known.tasks, model.TASKS)
        yield from references.ref(f, (*path, "superseded_by"), d.get("superseded_by"), known.decisions, f)
        options = [o["option"] for o in d.get("options", ())]
        if len(set(options)) != len(options):
            yield Finding(f, (*path, "options"), "duplicate-id", f"{rid} lists an option twice")
        givers: set[str] = set()
        for i, given in enumerate(d.get("inputs", ())):
            ipath = (*path, "inputs", i)
            yield from references.instance(f, (*ipath, "from"), given["from"], known, "input from")
            if given["from"] in givers:
                yield Finding(f, ipath, "duplicate-id", f"{given['from']} gave input on {rid} twice; keep the latest")
            givers.add(given["from"])
            if given["option"] not in options:
                yield Finding(
                    f,
                    (*ipath, "option"),
                    "reference",
                    f"{given['option']!r} is not an option of {rid}: {', '.join(options)}",
                )
        escalation = d.get("escalation")
        if model.decision_status(d) == "escalated" and escalation is None:
            yield Finding(f, path, "status", f"{rid} is escalated but records no escalation")
        if escalation is not None:
            epath = (*path, "escalation")
            subject = escalation["subject"]
            yield from references.ref(
                f, (*epath, "subject"), subject, known.by_prefix(subject), "the coordination files"
            )
            yield from references.instance(f, (*epath, "raised_by"), escalation["raised_by"], known, "raised by")
            for i, p in enumerate(escalation["positions"]):
                yield from references.instance(
                    f, (*epath, "positions", i, "instance"), p["instance"], known, "position of"
                )
