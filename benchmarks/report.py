"""The benchmark's report: one row per measure, its ratio to a baseline timed in the same run."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Row(NamedTuple):
    name: str
    store: str
    ours: float  # seconds, or events per second for throughput rows
    baseline: float
    baseline_name: str
    target: str  # e.g. "<= 1.3"
    passed: bool
    memory: str  # peak memory against the files on disk
    note: str = ""
    unit: str = "s"  # "s": seconds; "/s": events per second; "B": bytes

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def fmt_bytes(n: float) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 1024:.1f} KB" if n >= 10 * 1024 else f"{n:.0f} B"


def fmt_rate(n: float) -> str:
    return f"{n:.1f}/s"


def fmt(value: float, unit: str) -> str:
    formats: dict[str, Callable[[float], str]] = {"s": fmt_time, "B": fmt_bytes}
    return formats.get(unit, fmt_rate)(value)


def table(rows: list[Row]) -> str:
    lines = [
        "| measure | store | gitcoord | baseline | ratio | target | peak memory | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ours, base = fmt(r.ours, r.unit), fmt(r.baseline, r.unit)
        target = r.target + ("" if r.passed else " (missed)")
        cells = [r.name, r.store, ours, f"{base}: {r.baseline_name}", f"{r.ratio:.2f}x", target, r.memory, r.note]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
