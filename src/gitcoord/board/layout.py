"""A layered drawing of a dependency graph: each task one column right of its latest dependency.

The classic Sugiyama scheme, cut down to what a task graph needs: longest-path layering;
an edge that spans several columns gets a waypoint in each column between, which takes a
thin slot there, so that it runs around the tasks in its way instead of through them; a
few barycentre sweeps order each column so that edges cross less. A thousand tasks take
well under a second; the page only draws the coordinates.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

NODE_WIDTH = 210
NODE_HEIGHT = 46
GAP_X = 56
GAP_Y = 12
WAYPOINT_HEIGHT = 12  # the slot a passing edge takes in a column
PAD = 8
SWEEPS = 4

Point = tuple[int, int]


class Layout(NamedTuple):
    positions: dict[str, Point]  # node -> top-left corner
    routes: dict[tuple[str, str], list[Point]]  # edge -> the points its line passes, left to right
    width: int
    height: int


def layered(nodes: Sequence[str], edges: Sequence[tuple[str, str]]) -> Layout:
    """Place `nodes` (in their order of preference) so that every edge (before, after) points right."""
    known = set(nodes)
    kept = [(a, b) for a, b in dict.fromkeys(edges) if a in known and b in known and a != b]
    preds: dict[str, list[str]] = {n: [] for n in nodes}
    succs: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in kept:
        preds[b].append(a)
        succs[a].append(b)
    depth = _depths(nodes, preds, succs)
    chains = _waypoints(kept, depth, preds, succs)
    columns: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for n in depth:  # nodes in the caller's order, then waypoints; the sweeps move them only for a reason
        columns[depth[n]].append(n)
    _order(columns, preds, succs)
    corner = _corners(columns, known)
    routes = {
        (a, b): [_right(corner[a]), *(p for w in chains[(a, b)] for p in _through(corner[w])), _left(corner[b])]
        for a, b in kept
    }
    rows = max((corner[c[-1]][1] + _height(c[-1], known) for c in columns if c), default=PAD)
    width = 2 * PAD + len(columns) * NODE_WIDTH + max(len(columns) - 1, 0) * GAP_X
    return Layout({n: corner[n] for n in nodes}, routes, width, rows + PAD)


def _depths(nodes: Sequence[str], preds: dict[str, list[str]], succs: dict[str, list[str]]) -> dict[str, int]:
    """Kahn's order; a node's column is one more than its deepest predecessor's."""
    waiting = {n: len(preds[n]) for n in nodes}
    depth: dict[str, int] = {}
    ready = [n for n in nodes if waiting[n] == 0]
    while ready:
        n = ready.pop()
        depth[n] = max((depth[p] + 1 for p in preds[n]), default=0)
        for s in succs[n]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    # The store refuses cycles, but the page must still draw a store that has one: the nodes
    # caught in it go after everything else rather than vanish.
    last = max(depth.values(), default=-1) + 1
    depth = {n: depth.get(n, last) for n in nodes}
    # A task that waits for nothing sits just before its first dependent, not far to the left
    # with a long edge across everything between.
    for n in nodes:
        if not preds[n] and succs[n]:
            depth[n] = max(min(depth[s] for s in succs[n]) - 1, 0)
    return depth


def _waypoints(
    edges: list[tuple[str, str]], depth: dict[str, int], preds: dict[str, list[str]], succs: dict[str, list[str]]
) -> dict[tuple[str, str], list[str]]:
    """Split each edge that skips columns into a chain through one waypoint per column skipped."""
    chains: dict[tuple[str, str], list[str]] = {}
    for a, b in edges:
        if depth[b] <= depth[a]:  # only inside a cycle; drawn as it is
            chains[(a, b)] = []
            continue
        chain = [f"\0{a}\0{b}\0{k}" for k in range(depth[a] + 1, depth[b])]
        for k, w in zip(range(depth[a] + 1, depth[b]), chain, strict=True):
            depth[w] = k
        path = [a, *chain, b]
        for x, y in itertools.pairwise(path):
            if (x, y) != (a, b):
                succs.setdefault(x, []).append(y)
                preds.setdefault(y, []).append(x)
        if chain:  # the direct link is replaced by the chain when ordering the columns
            succs[a].remove(b)
            preds[b].remove(a)
        chains[(a, b)] = chain
    return chains


def _order(columns: list[list[str]], preds: dict[str, list[str]], succs: dict[str, list[str]]) -> None:
    """Order each column by the mean position of its neighbours in the column before (then after)."""
    pos = {n: i for column in columns for i, n in enumerate(column)}
    for _ in range(SWEEPS):
        for i in range(1, len(columns)):
            columns[i] = _sorted(columns[i], preds, pos)
        for i in range(len(columns) - 2, -1, -1):
            columns[i] = _sorted(columns[i], succs, pos)


def _sorted(column: list[str], neighbours: dict[str, list[str]], pos: dict[str, int]) -> list[str]:
    def key(n: str) -> float:
        near = neighbours.get(n, ())
        return sum(pos[m] for m in near) / len(near) if near else float(pos[n])

    ordered = sorted(column, key=key)
    for i, n in enumerate(ordered):
        pos[n] = i
    return ordered


def _height(n: str, nodes: set[str]) -> int:
    return NODE_HEIGHT if n in nodes else WAYPOINT_HEIGHT


def _corners(columns: list[list[str]], nodes: set[str]) -> dict[str, Point]:
    corner: dict[str, Point] = {}
    for col, column in enumerate(columns):
        y = PAD
        for n in column:
            corner[n] = (PAD + col * (NODE_WIDTH + GAP_X), y)
            y += _height(n, nodes) + GAP_Y
    return corner


def _right(corner: Point) -> Point:
    return (corner[0] + NODE_WIDTH, corner[1] + NODE_HEIGHT // 2)


def _left(corner: Point) -> Point:
    return (corner[0], corner[1] + NODE_HEIGHT // 2)


def _through(corner: Point) -> list[Point]:
    """A waypoint's line crosses its column straight, at the middle of its slot."""
    y = corner[1] + WAYPOINT_HEIGHT // 2
    return [(corner[0], y), (corner[0] + NODE_WIDTH, y)]
