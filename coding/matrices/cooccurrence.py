"""Code co-occurrence in one transcript, by a sweep over intervals sorted by start.

Two codings co-occur when their spans overlap (``overlap``: at least one character in common)
or when they touch a common speaker turn (``turn``: a coding is first mapped to the range of
turns it touches, ``turn_range``, then the same sweep runs over turn indices).

What is counted for two different codes A and B:

- ``pairs[A, B]``: pairs (a coding of A, a coding of B) that co-occur — the count a reader
  follows back to the quotes;
- ``shared[A, B]``: units coded with both (characters, or turns), and ``extent[A]`` the units
  coded with A at all, so that ``jaccard`` = shared / (extent A + extent B − shared) is the
  Jaccard index of two sets of units: 1 when A and B always cover the same text, 0 when never.

Keys of ``pairs`` and ``shared`` are ordered (smaller code first). Totals over a study are the
sums over its transcripts (``Tally.add``).
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

Interval = tuple[Hashable, int, int]  # (code, start, end), end exclusive


@dataclass
class Tally:
    codings: dict = field(default_factory=lambda: defaultdict(int))
    pairs: dict = field(default_factory=lambda: defaultdict(int))
    shared: dict = field(default_factory=lambda: defaultdict(int))
    extent: dict = field(default_factory=lambda: defaultdict(int))

    def add(self, other: "Tally") -> None:
        for mine, theirs in (
            (self.codings, other.codings),
            (self.pairs, other.pairs),
            (self.shared, other.shared),
            (self.extent, other.extent),
        ):
            for key, value in theirs.items():
                mine[key] += value

    def jaccard(self, a, b) -> float:
        if a == b:
            return 1.0 if self.extent.get(a) else 0.0
        key = (a, b) if a < b else (b, a)
        shared = self.shared.get(key, 0)
        union = self.extent.get(a, 0) + self.extent.get(b, 0) - shared
        return shared / union if union else 0.0

    def count(self, a, b) -> int:
        if a == b:
            return self.codings.get(a, 0)
        return self.pairs.get((a, b) if a < b else (b, a), 0)


def count_pairs(intervals: Iterable[Interval], pairs: dict) -> None:
    """Add to ``pairs`` every co-occurring pair of intervals of two different codes.

    Sorted by start, an interval overlaps exactly those earlier ones still open at its start;
    the open list only ever holds (code, end) of intervals that reach past the current start."""
    open_: list[tuple] = []
    for code, start, end in sorted(intervals, key=itemgetter(1, 2)):
        if open_:
            open_ = [item for item in open_ if item[1] > start]
            for other, _ in open_:
                if other != code:
                    pairs[(code, other) if code < other else (other, code)] += 1
        open_.append((code, end))


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Each code's intervals merged into disjoint ones (its coded units, counted once)."""
    out: list[Interval] = []
    run_code, run_start, run_end = None, 0, 0
    for code, start, end in sorted(intervals):
        if code == run_code and start <= run_end:
            if end > run_end:
                run_end = end
            continue
        if run_code is not None:
            out.append((run_code, run_start, run_end))
        run_code, run_start, run_end = code, start, end
    if run_code is not None:
        out.append((run_code, run_start, run_end))
    return out


def count_shared(intervals: Iterable[Interval], shared: dict, extent: dict) -> None:
    """Add each code's coded units to ``extent`` and units coded with two codes to ``shared``
    (a sweep over the merged intervals: those of one code never overlap each other)."""
    open_: list[tuple] = []
    for code, start, end in sorted(merged(intervals), key=itemgetter(1, 2)):
        extent[code] += end - start
        if open_:
            open_ = [item for item in open_ if item[1] > start]
            for other, other_end in open_:
                key = (code, other) if code < other else (other, code)
                shared[key] += (end if end < other_end else other_end) - start
        open_.append((code, end))


def turn_range(turn_starts: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """The turns a span [start, end) touches, as a range of turn indices [first, last + 1).

    ``turn_starts`` are the turns' start offsets, ascending; text before the first turn counts
    as the first turn, text between turns as the turn before it."""
    if not turn_starts:
        return 0, 1
    first = max(bisect_right(turn_starts, start) - 1, 0)
    last = max(bisect_right(turn_starts, end - 1) - 1, first)
    return first, last + 1


def transcript_tally(
    codings: Sequence[Interval],
    *,
    turn_starts: Sequence[int] | None = None,
    into: Tally | None = None,
) -> Tally:
    """Co-occurrence in one transcript: by overlap of characters, or (``turn_starts`` given)
    by shared turns; added to ``into`` (a study's running total) when given."""
    tally = into if into is not None else Tally()
    if turn_starts is not None:
        codings = [(code, *turn_range(turn_starts, start, end)) for code, start, end in codings]
    for code, _, _ in codings:
        tally.codings[code] += 1
    count_pairs(codings, tally.pairs)
    count_shared(codings, tally.shared, tally.extent)
    return tally
