"""The rules one state of the store must keep, whatever its history.

References resolve, ids are unique, every record sits in the list its status calls for,
dependencies form a DAG, `response_queue` is in step with the messages, and no merge
conflict is left unresolved. The input is schema-valid documents; a file that failed its
schema is left out, and the checks that need it are skipped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord.findings import Finding
from gitcoord.jsonio import JsonPath
from gitcoord.model import Doc
from gitcoord.model import Record
from gitcoord.records import State
from gitcoord.records import iter_records

# The ids of records of a kind moved to coordination/archive/: still valid targets of a reference.
Archived = Callable[[str], frozenset[str]]


class _Ids:
    """The ids of one kind: the live ones, then (only on a miss) the archived ones."""

    def __init__(self, live: frozenset[str], archived: Callable[[], frozenset[str]]) -> None:
        self.live = live
        self._archived = archived

    def __contains__(self, rid: object) -> bool:
        return rid in self.live or rid in self._archived()

    def __or__(self, other: set[str]) -> frozenset[str]:
        return self.live | other


def human_coordinator(state: State) -> str:
    return model.settings_of(state.get(model.REGISTRY, {})).human_coordinator


class _Known:
    """The ids a reference may name; None where the file that defines them is not usable.

    Each set is built on first use, so checking one file reads only the files it refers to.
    """

    def __init__(self, state: State, archived: Archived | None) -> None:
        self._state = state
        self._archived = archived or (lambda kind: frozenset())
        self.human = human_coordinator(state)

    def _ids(self, file: str) -> _Ids | None:
        if file not in self._state:
            return None
        coll = model.COLLECTIONS[file]
        live = frozenset(records.by_id(self._state[file], coll))
        return _Ids(live, functools.cache(lambda: self._archived(coll.kind)))

    @functools.cached_property
    def instances(self) -> frozenset[str] | None:
        ids = self._ids(model.REGISTRY)
        return ids.live if ids is not None else None

    @functools.cached_property
    def tasks(self) -> _Ids | None:
        return self._ids(model.TASKS)

    @functools.cached_property
    def messages(self) -> _Ids | None:
        return self._ids(model.MESSAGES)

    @functools.cached_property
    def decisions(self) -> _Ids | None:
        return self._ids(model.DECISIONS)

    def by_prefix(self, rid: str) -> _Ids | None:
        prefix = rid.split("_", 1)[0]
        return {"task": self.tasks, "msg": self.messages, "dec": self.decisions}[prefix]

    def missing_instance(self, name: Any, *, broadcast: bool = False) -> bool:
        if self.instances is None or name is None or name == self.human:
            return False
        return name not in self.instances and not (broadcast and name == model.BROADCAST)


def check(
    state: State, *, files: Iterable[str] = model.FILES, archived: Archived | None = None, since: State | None = None
) -> list[Finding]:
    """What breaks the invariants in `files` (the rules of other files are not checked).

    `since`: the state a protocol step changed, which copies the records it keeps. Then
    only the records the step made are looked at, with the tasks that depend on them: a
    rule that holds of a record holds as long as the records it refers to stay. Unless the
    step took records away (an archive), which anything may have referred to: then all.
    """
    known = _Known(state, archived)
    findings: list[Finding] = []
    wanted = set(files)
    touched = records.touched(since, state) if since is not None else None
    for file, checker in _CHECKS.items():
        if file in wanted and file in state:
            findings.extend(checker(state[file], known, state, touched.get(file) if touched is not None else None))
            findings.extend(_conflicts(file, state[file]))
    for file in model.ARCHIVE_FILES:
        if file in wanted and file in state:
            findings.extend(_archive(file, state[file], state))
    return findings


def _archive(file: str, doc: Doc, state: State) -> Iterator[Finding]:
    """An archive file: its records unique and in place, and none of them live as well."""
    coll = model.COLLECTIONS[model.base(file)]
    yield from _ids(file, coll, doc)
    live = coll.file
    if live in state:
        alive = {rid for rid, _, _ in iter_records(state[live], coll)}
        for rid, path, _ in iter_records(doc, coll):
            if rid in alive:
                message = f"{rid} is both archived and live (in {live}); keep the live one and delete this copy"
                yield Finding(file, path, "duplicate-id", message)


def _conflicts(file: str, doc: Doc) -> Iterator[Finding]:
    for i, c in enumerate(doc.get("merge_conflicts", ())):
        yield Finding(
            file,
            ("merge_conflicts", i),
            "merge-conflict",
            f"unresolved merge conflict in {c['record']}.{c['field']} ({c['reason']}): "
            f"choose with `coord resolve {c['record']} {c['field']} --pick N`, or edit the record and "
            "delete this entry",
        )


def _ids(file: str, coll: model.Collection, doc: Doc, only: set[int] | None = None) -> Iterator[Finding]:
    seen: set[str] = set()
    key = coll.id_key
    if only is not None and key:
        every = [r[key] for name in coll.lists for r in doc[name]]
        if len(set(every)) != len(every):
            only = None  # a duplicate: found by looking at every record
    for list_name in coll.lists if key else ():
        for i, record in enumerate(doc[list_name]):
            if only is not None and id(record) not in only:
                continue
            rid = record[key]
            if rid in seen:
                yield Finding(
                    file, (list_name, i), "duplicate-id", f"{rid} appears more than once; every record needs its own id"
                )
            seen.add(rid)
            placed = coll.placement(record)
            if placed != list_name:
                status = model.status_of(coll.kind, record)
                message = f"{rid} has status {status!r}, so it belongs in {placed}, not {list_name}"
                yield Finding(file, (list_name, i), "placement", message)


def _instances(
    file: str, path: JsonPath, names: Iterable[Any], known: _Known, what: str, *, broadcast: bool = False
) -> Iterator[Finding]:
    for i, name in enumerate(names):
        yield from _instance(file, (*path, i), name, known, what, broadcast=broadcast)


def _instance(
    file: str, path: JsonPath, name: Any, known: _Known, what: str, *, broadcast: bool = False
) -> Iterator[Finding]:
    if known.missing_instance(name, broadcast=broadcast):
        yield Finding(file, path, "reference", f"{what} {name!r} is not an instance in {model.REGISTRY}")


def _ref(file: str, path: JsonPath, rid: Any, ids: Container[str] | None, where: str) -> Iterator[Finding]:
    if rid is not None and ids is not None and rid not in ids:
        yield Finding(file, path, "reference", f"{rid!r} is not a record in {where}")


def _registry(doc: Doc, known: _Known, state: State, only: set[int] | None) -> Iterator[Finding]:
    f = model.REGISTRY
    settings = model.settings_of(doc)
    # One key, one signer: a key held twice would let its holder sign as either name.
    holders: dict[str, str] = {}
    if settings.human_key:
        holders[_key_material(settings.human_key)] = settings.human_coordinator
    looks: dict[str, str] = {_look(settings.human_coordinator): settings.human_coordinator}
    for name, record in doc["instances"].items():
        path: JsonPath = ("instances", name)
        twin = looks.setdefault(_look(name), name)
        if twin != name:
            message = (
                f"{name!r} reads like {twin!r} (names differing only in case or in '.', '_', '-' are one name "
                "to a reader): choose a name no one can take for another's"
            )
            yield Finding(f, path, "duplicate-id", message)
        if name == model.BROADCAST:
            yield Finding(f, path, "reference", "'all' is reserved: it addresses a message to every instance")
        if name == settings.human_coordinator:
            message = (
                f"{name!r} is the human coordinator's name (settings.human_coordinator); an instance "
                "may not share it: rename the instance or choose another name for the human"
            )
            yield Finding(f, path, "reference", message)
        key = record.get("signing_key")
        if key:
            material = _key_material(key)
            if material in holders:
                message = f"{name}'s signing_key is also {holders[material]}'s; every signer needs a key of its own"
                yield Finding(f, (*path, "signing_key"), "duplicate-id", message)
            holders.setdefault(material, name)
        current = record["current_task"]
        if isinstance(current, str) and current.startswith("task_"):
            yield from _ref(f, (*path, "current_task"), current, known.tasks, model.TASKS)


def _look(name: str) -> str:
    """A name as a reader takes it in: case and the punctuation ids may hold do not tell two apart."""
    return "".join(c for c in name.casefold() if c not in "._-")


def _key_material(key: str) -> str:
    """The key of a public key line without its comment, so that one key is one string."""
    return " ".join(key.split()[:2])


def _tasks(doc: Doc, known: _Known, state: State, only: set[int] | None) -> Iterator[Finding]:
    f, coll = model.TASKS, model.TASK_RECORDS
    yield from _ids(f, coll, doc, only)
    tasks = {rid: (path, r) for rid, path, r in iter_records(doc, coll)}
    if only is not None:  # and the tasks that depend on one of them: it may no longer be done
        made = {r["task_id"] for _, r in tasks.values() if id(r) in only}
        only = only | {id(r) for _, r in tasks.values() if r["dependencies"] and not made.isdisjoint(r["dependencies"])}
    for rid, (path, task) in tasks.items():
        if only is not None and id(task) not in only:
            continue
        status, holder = task["status"], task["assigned_to"]
        if status == "pending_assignment" and holder is not None:
            yield Finding(
                f,
                (*path, "assigned_to"),
                "status",
                f"{rid} is pending_assignment but assigned to {holder!r}; make it offered, or clear assigned_to",
            )
        if status in ("offered", *rulebook.HELD, "completed") and holder is None:
            yield Finding(f, (*path, "assigned_to"), "status", f"{rid} is {status} but assigned to nobody")
        for field in ("assigned_to", "suggested_assignee", "created_by"):
            yield from _instance(f, (*path, field), task.get(field), known, field)
        for i, d in enumerate(task.get("declines", ())):
            yield from _instance(f, (*path, "declines", i, "instance"), d["instance"], known, "declined by")
        for i, c in enumerate(task.get("contested", ())):
            yield from _instance(f, (*path, "contested", i, "assigned_to"), c["assigned_to"], known, "contested by")
        for i, d in enumerate(task["dependencies"]):
            dpath = (*path, "dependencies", i)
            if d == rid:
                yield Finding(f, dpath, "cycle", f"{rid} depends on itself")
            elif d not in tasks and d not in known.tasks:  # type: ignore[operator] # this file is present, so tasks is known
                yield Finding(f, dpath, "reference", f"dependency {d!r} is not a task in {f}")
        if status in _STARTED:
            for d, dep_status in records.unfinished(task, lambda rid: tasks[rid][1] if rid in tasks else None):
                if d in tasks and d != rid:
                    dpath = (*path, "dependencies", task["dependencies"].index(d))
                    yield Finding(f, dpath, "dependency", f"{rid} is {status} but its dependency {d} is {dep_status}")
    roots = [rid for rid, (_, t) in tasks.items() if id(t) in only] if only is not None else None
    for cycle in cycles({rid: t["dependencies"] for rid, (_, t) in tasks.items()}, roots):
        yield Finding(f, (*tasks[cycle[0]][0], "dependencies"), "cycle", "dependency cycle: " + " -> ".join(cycle))


_STARTED = ("in_progress", "completed")


def cycles(dependencies: Mapping[str, Iterable[str]], roots: Iterable[str] | None = None) -> Iterator[list[str]]:
    """Each dependency cycle (as a path that returns to its start), by an iterative depth-first search
    (from `roots` only, when given: a new cycle runs through a task whose dependencies changed).

    Dependencies on tasks that are not in `dependencies` are ignored.
    """
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in dependencies if roots is None else roots:
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(dependencies[root]))]
        state[root] = 1
        while stack:
            node, deps = stack[-1]
            for dep in deps:
                if dep not in dependencies or dep == node:
                    continue
                if state.get(dep) == 1:
                    chain = [n for n, _ in stack]
                    yield [*chain[chain.index(dep) :], dep]
                elif dep not in state:
                    state[dep] = 1
                    stack.append((dep, iter(dependencies[dep])))
                    break
            else:
                state[node] = 2
                stack.pop()


def _messages(doc: Doc, known: _Known, state: State, only: set[int] | None) -> Iterator[Finding]:
    # The largest file by far: the common case (every reference resolves) is kept to set lookups.
    f = model.MESSAGES
    yield from _ids(f, model.MESSAGE_RECORDS, doc, only)
    people = (known.instances | {known.human, model.BROADCAST}) if known.instances is not None else None
    messages, tasks, decisions = known.messages, known.tasks, known.decisions
    owed: dict[str, Record] = {
        m["message_id"]: m for m in doc["messages"] if m["requires_response"] and m["status"] == "pending_response"
    }
    for i, m in enumerate(doc["messages"]):
        if only is not None and id(m) not in only:
            continue
        path: JsonPath = ("messages", i)
        rid = m["message_id"]
        if people is not None and (m["from"] not in people or m["from"] == model.BROADCAST or m["to"] not in people):
            yield from _instance(f, (*path, "from"), m["from"], known, "sender")
            yield from _instance(f, (*path, "to"), m["to"], known, "recipient", broadcast=True)
        reply = m.get("in_reply_to")
        if reply is not None and messages is not None and reply not in messages:
            yield from _ref(f, (*path, "in_reply_to"), reply, messages, f)
        context = m.get("context")
        if context:
            task, decision = context.get("related_task"), context.get("related_decision")
            if task is not None and tasks is not None and task not in tasks:
                yield from _ref(f, (*path, "context", "related_task"), task, tasks, model.TASKS)
            if decision is not None and decisions is not None and decision not in decisions:
                yield from _ref(f, (*path, "context", "related_decision"), decision, decisions, model.DECISIONS)
        status, asks = m["status"], m["requires_response"]
        if status not in (_REQUEST_STATUSES if asks else _INFO_STATUSES):
            expected = _REQUEST_STATUSES if asks else _INFO_STATUSES
            kind = "requires" if asks else "does not require"
            message = f"{rid} {kind} a response, so its status is one of {', '.join(expected)}, not {status!r}"
            yield Finding(f, (*path, "status"), "status", message)
        if m["type"] == "consultation_response" and reply is None:
            yield Finding(f, path, "status", f"{rid} is a consultation_response but names no in_reply_to")
    yield from _queue(doc, owed)


_REQUEST_STATUSES = ("pending_response", "responded", "closed")
_INFO_STATUSES = ("sent", "acknowledged")


def _queue(doc: Doc, owed: dict[str, Record]) -> Iterator[Finding]:
    """`response_queue` holds exactly one entry for each answer still owed."""
    f = model.MESSAGES
    fix = "; the queue follows from the messages, and the next `coord msg` step rebuilds it"
    listed: set[str] = set()
    for i, entry in enumerate(doc["response_queue"]):
        rid, path = entry["responding_to"], ("response_queue", i)
        if rid in listed:
            yield Finding(f, path, "response-queue", f"{rid} is queued more than once" + fix)
        listed.add(rid)
        message = owed.get(rid)
        if message is None:
            yield Finding(f, path, "response-queue", f"{rid} is queued but no answer to it is owed" + fix)
            continue
        if entry["from"] != message["to"]:
            yield Finding(
                f,
                (*path, "from"),
                "response-queue",
                f"the answer to {rid} is owed by {message['to']!r}, not {entry['from']!r}" + fix,
            )
        due = message.get("expected_response_time")
        if due is not None and entry.get("expected_response_time") != due:
            yield Finding(f, (*path, "expected_response_time"), "response-queue", f"{rid} is due {due}" + fix)
    for rid in sorted(owed.keys() - listed):
        yield Finding(f, ("response_queue",), "response-queue", f"{rid} awaits an answer but is not queued" + fix)


def _decisions(doc: Doc, known: _Known, state: State, only: set[int] | None) -> Iterator[Finding]:
    f, coll = model.DECISIONS, model.DECISION_RECORDS
    yield from _ids(f, coll, doc, only)
    for rid, path, d in iter_records(doc, coll):
        if only is not None and id(d) not in only:
            continue
        yield from _instances(f, (*path, "decided_by"), d.get("decided_by", ()), known, "decided by")
        yield from _instances(
            f, (*path, "affects_instances"), d.get("affects_instances", ()), known, "affected instance", broadcast=True
        )
        yield from _instances(
            f, (*path, "input_needed_from"), d.get("input_needed_from", ()), known, "input needed from"
        )
        yield from _instance(f, (*path, "proposed_by"), d.get("proposed_by"), known, "proposer")
        for i, t in enumerate(d.get("related_tasks", ())):
            yield from _ref(f, (*path, "related_tasks", i), t, known.tasks, model.TASKS)
        yield from _ref(f, (*path, "superseded_by"), d.get("superseded_by"), known.decisions, f)
        options = [o["option"] for o in d.get("options", ())]
        if len(set(options)) != len(options):
            yield Finding(f, (*path, "options"), "duplicate-id", f"{rid} lists an option twice")
        givers: set[str] = set()
        for i, given in enumerate(d.get("inputs", ())):
            ipath = (*path, "inputs", i)
            yield from _instance(f, (*ipath, "from"), given["from"], known, "input from")
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
            yield from _ref(f, (*epath, "subject"), subject, known.by_prefix(subject), "the coordination files")
            yield from _instance(f, (*epath, "raised_by"), escalation["raised_by"], known, "raised by")
            for i, p in enumerate(escalation["positions"]):
                yield from _instance(f, (*epath, "positions", i, "instance"), p["instance"], known, "position of")


_CHECKS = {
    model.REGISTRY: _registry,
    model.TASKS: _tasks,
    model.MESSAGES: _messages,
    model.DECISIONS: _decisions,
}
