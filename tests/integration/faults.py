"""Fault-test bookkeeping: every fault test adds a row; the session prints the table."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class FaultRow:
    test: str
    guarantee: str
    sent: int
    answered: int
    dead_lettered: int
    lost: int
    duplicated: int
    seconds: float

    @classmethod
    def from_counts(
        cls,
        test: str,
        guarantee: str,
        sent_ids: set[str],
        counts: Counter[str],
        dead: int,
        seconds: float,
    ) -> FaultRow:
        return cls(
            test,
            guarantee,
            len(sent_ids),
            len(sent_ids & counts.keys()),
            dead,
            len(sent_ids - counts.keys()),
            sum(c - 1 for c in counts.values() if c > 1),
            seconds,
        )


ROWS: list[FaultRow] = []


def table() -> str:
    head = "| fault | guarantee | sent | answered | dead-lettered | lost | duplicated | seconds |"
    lines = [head, "|---|---|---|---|---|---|---|---|"]
    for r in ROWS:
        lines.append(
            f"| {r.test} | {r.guarantee} | {r.sent} | {r.answered} | {r.dead_lettered} | "
            f"{r.lost} | {r.duplicated} | {r.seconds:.1f} |"
        )
    return "\n".join(lines)
