"""The task queue: who holds a task as its status says, dependencies that resolve, are done
before a task starts, and form no cycle.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping

from gitcoord import model
from gitcoord import records
from gitcoord import rulebook
from gitcoord.findings import Finding
from gitcoord.invariants import placement
from gitcoord.invariants import references
from gitcoord.records import State
from gitcoord.records import iter_records


def check(state: State, known: references.Known, only: set[int] | None) -> Iterator[Finding]:
    doc = records.task_queue(state)
    f, coll = model.TASKS, model.TASK_RECORDS
    yield from placement.check(f, coll, doc, only)
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
            yield from references.instance(f, (*path, field), task.get(field), known, field)
        for i, d in enumerate(task.get("declines", ())):
            yield from references.instance(f, (*path, "declines", i, "instance"), d["instance"], known, "declined by")
        for i, c in enumerate(task.get("contested", ())):
            yield from references.instance(
                f, (*path, "contested", i, "assigned_to"), c["assigned_to"], known, "contested by"
            )
        for i, d in enumerate(task["dependencies"]):
            dpath = (*path, "dependencies", i)
            if d == rid:
                yield Finding(f, dpath, "cycle", f"{rid} depends on itself")
            elif d not in tasks and d not in known.tasks:  # type: ignore[operator] # this file is present, so tasks is known
                yield Finding(f, dpath, "reference", f"dependency {d!r} is not a task in {f}")
        if status in _STARTED:
            live = lambda rid: tasks[rid][1] if rid in tasks else None  # noqa: E731
            for d, dep_status in records.unfinished(task, live, known.archived):
                if d != rid and (d in tasks or known.archived("task", d) is not None):  # else: a reference finding
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
