"""First appearances: which items each interview adds, and the cumulative curve.

An *item* is whatever the study counts as information — a theme id, a first-level code id, or
a tagged pair such as ``("theme", 12)`` when themes and codes are counted together. An item is
*new* in an interview when no earlier interview (in the given order) contains it. The caller
orders the interviews (interview date, then the lead's order) and may split the new items by a
*kind* (deductive/inductive, theme/code, …) with a function from item to kind.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Item = TypeVar("Item", bound=Hashable)
Kind = TypeVar("Kind", bound=Hashable)


@dataclass(frozen=True, slots=True)
class InterviewNew(Generic[Item, Kind]):
    """One interview's point on the curve (``position`` counts from 1, in the given order)."""

    position: int
    new: frozenset[Item]  # items first seen in this interview
    cumulative: int  # distinct items seen in interviews 1..position
    new_by_kind: Mapping[Kind, frozenset[Item]]  # ``new`` split by kind (empty kinds omitted)
    cumulative_by_kind: Mapping[Kind, int]  # every kind seen so far, with its running count

    @property
    def new_count(self) -> int:
        return len(self.new)


def first_appearances(
    interviews: Sequence[Iterable[Item]],
    kind: Callable[[Item], Kind] | None = None,
) -> list[InterviewNew[Item, Kind]]:
    """Per interview, in order: the items not present in any earlier interview, and the
    cumulative number of distinct items so far (overall and per kind).

    Without ``kind`` every item has the kind ``None``. The final ``cumulative`` equals the size
    of the union of all interviews whatever the order; the shape of the curve depends on it.
    """
    seen: set[Item] = set()
    running: dict[Kind, int] = {}
    curve: list[InterviewNew[Item, Kind]] = []
    for position, items in enumerate(interviews, start=1):
        new = frozenset(items) - seen
        seen |= new
        by_kind: dict[Kind, set[Item]] = {}
        for item in new:
            by_kind.setdefault(kind(item) if kind else None, set()).add(item)  # type: ignore[arg-type]
        for k, members in by_kind.items():
            running[k] = running.get(k, 0) + len(members)
        curve.append(
            InterviewNew(
                position=position,
                new=new,
                cumulative=len(seen),
                new_by_kind={k: frozenset(v) for k, v in by_kind.items()},
                cumulative_by_kind=dict(running),
            )
        )
    return curve


def new_counts(interviews: Sequence[Iterable[Hashable]]) -> list[int]:
    """How many items each interview adds: the input of the saturation measures."""
    return [point.new_count for point in first_appearances(interviews)]
