"""A year of coordination, committed as the commands would have committed it, in minutes.

Six instances take a few hundred protocol steps each per day through the protocol's own
pure functions (the code every command runs), with the archive policy on: the first step
of each day archives what is due, as `coord archive` would. Each step is one commit, dated
when it happened, with the event's message and trailers and the canonical bytes
`store.dump` writes; so the objects are the ones the commands make. Only the writing is
faster: `git fast-import` packs them as they come (each version of a file a delta on the
one before), where the commands write loose objects for the maintenance policy to pack.
"""

from __future__ import annotations

import datetime as dt
import random
import subprocess
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple
from typing import Protocol

from gitcoord import canonical
from gitcoord import jsonio
from gitcoord import layout
from gitcoord import model
from gitcoord import rulebook
from gitcoord import store
from gitcoord import timestamps
from gitcoord.ids import maker
from gitcoord.model import Doc
from gitcoord.model import Record
from gitcoord.protocol import Change
from gitcoord.protocol import Context
from gitcoord.protocol import Refused
from gitcoord.protocol import archive
from gitcoord.protocol import decisions
from gitcoord.protocol import instances
from gitcoord.protocol import messages
from gitcoord.protocol import tasks
from gitcoord.shapes import Option
from gitcoord.views import missing_inputs

# Two thousand made-up words: text that compresses about as well as prose (a dozen words
# repeated would make every file, and every delta, unrealistically small).
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
WORDS = [a + b + c for a in _SYLLABLES[:20] for b in _SYLLABLES[20:40] for c in _SYLLABLES[40:45]]
AREAS = ["api-design", "databases", "react", "deployment", "security", "testing", "docs"]


class Plan(NamedTuple):
    days: int = 365
    per_instance_day: int = 200  # protocol steps each instance takes in a day
    start: dt.datetime = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    seed: int = 11


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


class Texts:
    """The canonical text of each file, kept record by record: a step re-renders only what it changed."""

    def __init__(self) -> None:
        self._reuse: dict[str, dict[int, str]] = {}
        self.rendered = 0  # characters of the records rendered anew: what the steps changed

    def dump(self, file: str, doc: Doc, came: Iterable[Record], gone: Iterable[Record]) -> bytes:
        reuse = self._reuse.setdefault(file, {})
        for r in gone:  # still alive here, so no new record can have taken its id()
            reuse.pop(id(r), None)
        self.rendered += self.learn(file, came)
        return store.dump(file, doc, reuse)

    def learn(self, file: str, records: Iterable[Record]) -> int:
        """Render `records` of `file` for later dumps to copy; how many characters that took."""
        coll = model.COLLECTIONS[model.base(file)]
        if not coll.id_key:
            return 0
        shape = layout.shape(model.base(file)).children
        reuse = self._reuse.setdefault(file, {})
        size = 0
        for r in records:
            reuse[id(r)] = text = canonical.record_text(r, shape[coll.placement(r)].values or canonical.EMPTY_SHAPE)
            size += len(text)
        return size


class World:
    """The store as the year goes on, indexed by what each instance could do next."""

    def __init__(self, state: dict[str, Doc], rng: random.Random) -> None:
        self.state = state
        self.rng = rng
        self.names = sorted(state[model.REGISTRY]["instances"])
        self.by_id: dict[str, dict[str, Record]] = {"task": {}, "message": {}, "decision": {}}
        self.sets: dict[tuple[str, str], set[str]] = {}
        self.recent: deque[str] = deque(maxlen=30)  # tasks new work may depend on
        self.texts = Texts()
        for file in (model.TASKS, model.MESSAGES, model.DECISIONS):
            self._index(file, [], _records(state[file], file))
            self.texts.learn(file, _records(state[file], file))

    # What is where -------------------------------------------------------------------------

    def _set(self, who: str, what: str) -> set[str]:
        return self.sets.setdefault((who, what), set())

    def _index(self, file: str, gone: list[Record], came: list[Record]) -> None:
        coll = model.COLLECTIONS[file]
        kind = coll.kind
        for sign, found in ((False, gone), (True, came)):
            for r in found:
                rid = r[coll.id_key]
                for key in _keys(kind, r):
                    (self._set(*key).add if sign else self._set(*key).discard)(rid)
                if sign:
                    self.by_id[kind][rid] = r
                elif self.by_id[kind].get(rid) is r:
                    del self.by_id[kind][rid]

    def apply(self, change: Change) -> dict[str, bytes]:
        """Take `change` into the state; the new bytes of each file it changed."""
        written = {}
        for file, doc in change.docs.items():
            old = self.state.get(file)
            coll = model.COLLECTIONS[model.base(file)]
            gone, came = _diff(old, doc, file)
            if not model.is_shard(file) and coll.id_key:
                self._index(file, gone, came)
            written[file] = self.texts.dump(file, doc, came, gone)
            self.state[file] = doc
        for file in [f for f in self.state if model.is_shard(f)]:
            del self.state[file]  # a day's shard is written once: the steps that follow never read it
        return written

    # Choosing a step -----------------------------------------------------------------------

    def choose(self, me: str) -> Callable[[Context], Change]:
        rng, s = self.rng, self._set
        others = [n for n in self.names if n != me]
        held = len(s(me, "assigned")) + len(s(me, "in_progress")) + len(s(me, "blocked"))
        options: list[tuple[float, Callable[[Context], Change]]] = [
            (6, lambda c: instances.checkin(self.state, c)),
            (4, self._add),
            (10, lambda c: self._send(c, rng.choice(others), ask=True)),
            (4, lambda c: self._send(c, rng.choice(others), ask=False)),
            (1.5, lambda c: self._propose(c, rng.sample(others, 2))),
        ]
        for weight, what, step in (
            (14, "owed", lambda c, m: messages.reply(self.state, c, m, _words(rng, 30))),
            (10, "to_close", lambda c, m: messages.ack(self.state, c, m)),
            (8, "to_ack", lambda c, m: messages.ack(self.state, c, m)),
            (12, "in_progress", lambda c, t: tasks.complete(self.state, c, t)),
            (12, "assigned", lambda c, t: tasks.start(self.state, c, t)),
            (2, "blocked", lambda c, t: tasks.start(self.state, c, t)),
            (1, "in_progress", lambda c, t: tasks.block(self.state, c, t, "waiting on a review")),
            (4, "needs_input", self._input),
            (4, "to_decide", self._decide),
        ):
            if s(me, what):
                rid = rng.choice(sorted(s(me, what)))
                options.append((weight, _on(step, rid)))
        if held < 3 and (ready := self._ready()):
            options.append((14, lambda c: tasks.claim(self.state, c, ready)))
        weights = [w for w, _ in options]
        return rng.choices([f for _, f in options], weights)[0]

    def _ready(self) -> str | None:
        pending = self._set("", "pending")
        for rid in self.rng.sample(sorted(pending), min(5, len(pending))):
            deps = self.by_id["task"][rid]["dependencies"]
            if all(self.by_id["task"].get(d, {}).get("status") == "completed" for d in deps):
                return rid
        return None

    def _add(self, c: Context) -> Change:
        rng = self.rng
        open_ = [t for t in self.recent if self.by_id["task"].get(t, {}).get("status") not in (None, "cancelled")]
        deps = rng.sample(open_, 1) if open_ and rng.random() < 0.3 else []
        change = tasks.add(
            self.state,
            c,
            f"{_words(rng, 3).capitalize()}",
            description=_words(rng, 20),
            priority=rng.choice(rulebook.PRIORITIES),
            depends=deps,
            expertise=rng.sample(AREAS, 2),
            deliverables=[f"src/{rng.choice(WORDS)}.py"],
        )
        assert change.record is not None
        self.recent.append(change.record["task_id"])
        return change

    def _send(self, c: Context, to: str, *, ask: bool) -> Change:
        rng = self.rng
        about = rng.choice(self.recent) if self.recent and rng.random() < 0.5 else None
        if about is not None and about not in self.by_id["task"]:
            about = None
        return messages.send(
            self.state, c, to=to, subject=_words(rng, 5), body=_words(rng, 35), requires_response=ask, task=about
        )

    def _propose(self, c: Context, who: list[str]) -> Change:
        rng = self.rng
        options: list[Option] = [
            {"option": f"option {k}", "pros": [_words(rng, 3)], "cons": [_words(rng, 3)]} for k in "ABC"
        ]
        deadline = timestamps.format(c.now + dt.timedelta(days=1))
        title = _words(self.rng, 4).capitalize()
        return decisions.propose(
            self.state, c, title, options=options, input_from=who, deadline=deadline, description=_words(self.rng, 15)
        )

    def _input(self, c: Context, rid: str) -> Change:
        option = self.rng.choice(self.by_id["decision"][rid]["options"])["option"]
        return decisions.give_input(self.state, c, rid, option, _words(self.rng, 8))

    def _decide(self, c: Context, rid: str) -> Change:
        decision = self.by_id["decision"][rid]
        late = decision.get("deadline") and timestamps.parse(decision["deadline"]) < c.now
        if missing_inputs(decision) and not late:
            raise Refused("still waiting for input")
        option = self.rng.choice(decision["options"])["option"]
        return decisions.decide(self.state, c, rid, option=option, rationale=_words(self.rng, 12), force=True)


def _keys(kind: str, r: Record) -> list[tuple[str, str]]:
    """The sets a record belongs in: (instance, what it may do with the record)."""
    status = model.status_of(kind, r)
    if kind == "task":
        if status == "pending_assignment":
            return [("", "pending")]
        return [(r["assigned_to"], status)] if status in ("assigned", "in_progress", "blocked") else []
    if kind == "message":
        if status == "pending_response":
            return [(r["to"], "owed")]
        if status == "responded":
            return [(r["from"], "to_close")]
        return [(r["to"], "to_ack")] if status == "sent" and r["to"] != model.BROADCAST else []
    if status != "pending":
        return []
    decider = [(r["proposed_by"], "to_decide")] if r.get("proposed_by") else []
    return [*decider, *((name, "needs_input") for name in missing_inputs(r))]


def _records(doc: Doc | None, file: str) -> list[Record]:
    coll = model.COLLECTIONS[model.base(file)]
    if doc is None:
        return []
    if not coll.id_key:
        return list(doc.get(coll.lists[0], {}).values())
    return [r for name in coll.lists for r in doc.get(name, ())]


def _diff(old: Doc | None, new: Doc, file: str) -> tuple[list[Record], list[Record]]:
    """The records of `old` that `new` no longer holds, and those it holds anew (by identity:
    a step copies the records it keeps, and the lists it does not touch)."""
    coll = model.COLLECTIONS[model.base(file)]
    if old is None or not coll.id_key:
        before, after = _records(old, file), _records(new, file)
    else:
        touched = [name for name in coll.lists if old.get(name) is not new.get(name)]
        before = [r for name in touched for r in old.get(name, ())]
        after = [r for name in touched for r in new.get(name, ())]
    kept, had = {id(r) for r in after}, {id(r) for r in before}
    return [r for r in before if id(r) not in kept], [r for r in after if id(r) not in had]


class Day(NamedTuple):
    day: int
    events: int  # commits made so far
    sizes: dict[str, int]  # bytes of each live file at the end of the day
    changed: int  # bytes of the records the day's steps wrote (their canonical text)


class Sink(Protocol):
    def commit(self, message: str, when: dt.datetime, files: dict[str, bytes]) -> None: ...

    def checkpoint(self) -> None: ...


def simulate(state: dict[str, Doc], plan: Plan, sink: Sink, on_day: Callable[[Day], None]) -> int:
    """Play `plan` on `state`, committing each step to `sink`; the number of commits."""
    rng = random.Random(plan.seed)
    world = World(state, rng)
    sizes = {f: len(store.dump(f, state[f])) for f in model.FILES}
    commits = 0
    rendered = world.texts.rendered
    per_day = plan.per_instance_day * len(world.names)
    for day in range(plan.days):
        start = plan.start + dt.timedelta(days=day)
        moments = sorted(rng.uniform(0, 86_400) for _ in range(per_day))
        for n, second in enumerate(moments):
            now = start + dt.timedelta(seconds=int(second))
            me = rng.choice(world.names)
            ctx = Context(me, now, maker(now, rng.getrandbits))
            steps: list[Callable[[Context], Change]] = [lambda c: world.choose(c.me())(c)]
            if n == 0 and any(archive.due(world.state, now).values()):
                steps.insert(0, lambda c: archive.archive(world.state, c))  # the day's first step archives
            for step in steps:
                try:
                    change = step(ctx)
                except Refused:
                    continue
                written = world.apply(change)
                sizes.update((f, len(b)) for f, b in written.items() if f in sizes)
                sink.commit(change.event.message(), now, written)
                commits += 1
        on_day(Day(day, commits, dict(sizes), world.texts.rendered - rendered))
        rendered = world.texts.rendered
        if day % 30 == 29:
            sink.checkpoint()
    sink.checkpoint()
    return commits


def seed_state(files: dict[str, bytes]) -> dict[str, Doc]:
    return {f: jsonio.parse(data) for f, data in files.items()}


def identity(env: dict[str, str], repo: Path) -> str:
    """The committer the clone's configuration names, as commit-tree would write it."""
    ident = subprocess.run(
        ["git", "var", "GIT_COMMITTER_IDENT"], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return ident.stdout.rsplit(" ", 2)[0]


def _on(step: Callable[[Context, str], Change], rid: str) -> Callable[[Context], Change]:
    """`step` bound to the record `rid` (a lambda in the loop would see the loop's last record)."""
    return lambda c: step(c, rid)
