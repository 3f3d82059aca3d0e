"""The layered layout of the dependency graph."""

from __future__ import annotations

import random
import time

from gitcoord.board import layout
from gitcoord.board.layout import NODE_HEIGHT
from gitcoord.board.layout import NODE_WIDTH


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return abs(a[0] - b[0]) < NODE_WIDTH and abs(a[1] - b[1]) < NODE_HEIGHT


def inside_a_node(point: tuple[int, int], placed: layout.Layout) -> bool:
    x, y = point
    return any(px < x < px + NODE_WIDTH and py < y < py + NODE_HEIGHT for px, py in placed.positions.values())


def test_every_edge_points_right_and_no_nodes_overlap() -> None:
    nodes = ["a", "b", "c", "d", "e"]
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"), ("a", "d"), ("e", "d")]
    placed = layout.layered(nodes, edges)
    pos = placed.positions
    assert all(pos[a][0] < pos[b][0] for a, b in edges)
    assert [pos[n][0] for n in nodes] == [8, 274, 540, 806, 540]  # e sits just before d, its only dependent
    assert not any(overlaps(pos[a], pos[b]) for a in nodes for b in nodes if a < b)
    assert placed.width >= max(x for x, _ in pos.values()) + NODE_WIDTH
    assert placed.height >= max(y for _, y in pos.values()) + NODE_HEIGHT


def test_an_edge_that_skips_columns_runs_around_what_is_in_between() -> None:
    placed = layout.layered(["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")])
    route = placed.routes[("a", "c")]
    assert len(route) == 4  # out of a, across b's column in a slot of its own, into c
    assert route[0] == (placed.positions["a"][0] + NODE_WIDTH, placed.positions["a"][1] + NODE_HEIGHT // 2)
    assert route[-1] == (placed.positions["c"][0], placed.positions["c"][1] + NODE_HEIGHT // 2)
    assert not any(inside_a_node(p, placed) for p in route)
    assert placed.routes[("a", "b")] == [route[0], (placed.positions["b"][0], route[0][1])]


def test_crossings_are_undone_where_the_order_allows() -> None:
    # Given in an order that crosses: x1 feeds y2 and x2 feeds y1.
    placed = layout.layered(["x1", "x2", "y1", "y2"], [("x1", "y2"), ("x2", "y1")])
    pos = placed.positions
    assert (pos["x1"][1] < pos["x2"][1]) == (pos["y2"][1] < pos["y1"][1])


def test_a_cycle_is_still_drawn() -> None:
    placed = layout.layered(["a", "b", "c"], [("a", "b"), ("b", "a"), ("b", "c")])
    assert set(placed.positions) == {"a", "b", "c"}
    assert set(placed.routes) == {("a", "b"), ("b", "a"), ("b", "c")}


def test_unknown_ends_self_loops_and_repeats_are_ignored() -> None:
    placed = layout.layered(["a", "b"], [("a", "b"), ("a", "b"), ("a", "a"), ("a", "zzz")])
    assert list(placed.routes) == [("a", "b")]
    assert layout.layered([], []) == layout.Layout({}, {}, 2 * layout.PAD, 2 * layout.PAD)


def test_a_thousand_tasks_take_well_under_a_second() -> None:
    rng = random.Random(7)
    nodes = [f"t{n}" for n in range(1000)]
    edges = [(nodes[rng.randrange(n)], nodes[n]) for n in range(1, 1000) for _ in range(2)]
    start = time.perf_counter()
    placed = layout.layered(nodes, edges)
    assert time.perf_counter() - start < 1.5
    assert all(placed.positions[a][0] < placed.positions[b][0] for a, b in edges)
    assert placed == layout.layered(nodes, edges), "the same graph, the same picture"
