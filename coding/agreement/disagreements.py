"""Where two coders' layers of one transcript disagree (pure; no coefficients).

Rules, per code:

- A's and B's codings of the code that overlap (share at least one code point) are *paired*.
- A pair *agrees* when its boundaries are within the tolerance: ``None`` (or 0) means exactly
  equal; an int N means both |start_A − start_B| ≤ N and |end_A − end_B| ≤ N; ``SAME_UTTERANCE``
  means both starts lie in the same utterance and both last code points (end − 1) lie in the same
  utterance (a boundary outside every utterance must then match exactly).
- A coding with at least one agreeing partner is *settled*. Unsettled codings that overlap a
  same-code coding of the other layer form ``boundary`` disagreements: one per connected group of
  such overlaps (so one long coding against two shorter ones is a single disagreement).
- A coding with no overlapping same-code coding in the other layer is ``missing_in_b`` (an A
  coding) or ``missing_in_a`` (a B coding), unless the other layer applied a different code to an
  overlapping span that itself has no same-code partner: then those codings, connected by such
  overlaps, form one ``different_code`` disagreement.

Each disagreement lists the indexes (into the input sequences) of the A-side and B-side codings
involved, the codes, and the span covered (smallest start, largest end). The list is sorted by
(start, end, kind, A indexes, B indexes), so the same input always gives the same output.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ._intervals import Span, SpanLike, UtteranceLike, as_span, as_utterance

SAME_UTTERANCE = "utterance"
Tolerance = int | Literal["utterance"] | None

MISSING_IN_A = "missing_in_a"
MISSING_IN_B = "missing_in_b"
DIFFERENT_CODE = "different_code"
BOUNDARY = "boundary"


@dataclass(frozen=True, slots=True)
class Disagreement:
    kind: str  # missing_in_a | missing_in_b | different_code | boundary
    a: tuple[int, ...]  # indexes into A's codings
    b: tuple[int, ...]  # indexes into B's codings
    codes: tuple[int, ...]  # the codes involved, sorted
    start: int
    end: int

    def swapped(self) -> Disagreement:
        """The same disagreement seen with the layers exchanged."""
        kind = {MISSING_IN_A: MISSING_IN_B, MISSING_IN_B: MISSING_IN_A}.get(self.kind, self.kind)
        return Disagreement(kind, self.b, self.a, self.codes, self.start, self.end)


class _Groups:
    """Union-find over keys ('a', i) / ('b', j)."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(self, x: tuple[str, int]) -> tuple[str, int]:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, x: tuple[str, int], y: tuple[str, int]) -> None:
        rx, ry = self.find(x), self.find(y)
        if rx != ry:
            self.parent[max(rx, ry)] = min(rx, ry)

    def components(self) -> list[list[tuple[str, int]]]:
        out: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return list(out.values())


def _overlaps(
    left: Sequence[tuple[int, Span]], right: Sequence[tuple[int, Span]]
) -> list[tuple[int, int]]:
    """Index pairs (i, j) whose spans share a code point; both inputs sorted by start."""
    pairs = []
    starts = [sp.start for _, sp in right]
    longest = max((sp.end - sp.start for _, sp in right), default=0)
    for i, a in left:
        lo = bisect_left(starts, a.start - longest + 1)
        for j, b in right[lo : bisect_right(starts, a.end - 1)]:
            if b.end > a.start:
                pairs.append((i, j))
    return pairs


def find_disagreements(
    a: Iterable[SpanLike],
    b: Iterable[SpanLike],
    *,
    utterances: Sequence[UtteranceLike] = (),
    tolerance: Tolerance = None,
) -> list[Disagreement]:
    """Disagreements between layer A's and layer B's codings (see the module docstring)."""
    sa = [as_span(x) for x in a]
    sb = [as_span(x) for x in b]
    utts = sorted((as_utterance(u) for u in utterances), key=lambda u: u.start)
    u_starts = [u.start for u in utts]

    def utterance_of(pos: int) -> int | None:
        i = bisect_right(u_starts, pos) - 1
        return i if i >= 0 and pos < utts[i].end else None

    def same_place(p: int, q: int) -> bool:
        if p == q:
            return True
        up, uq = utterance_of(p), utterance_of(q)
        return up is not None and up == uq

    def agree(x: Span, y: Span) -> bool:
        if tolerance == SAME_UTTERANCE:
            return same_place(x.start, y.start) and same_place(x.end - 1, y.end - 1)
        n = 0 if tolerance is None else int(tolerance)
        return abs(x.start - y.start) <= n and abs(x.end - y.end) <= n

    def by_code(spans: list[Span]) -> dict[int, list[tuple[int, Span]]]:
        out: dict[int, list[tuple[int, Span]]] = {}
        for i, sp in enumerate(spans):
            out.setdefault(sp.code, []).append((i, sp))
        for rows in out.values():
            rows.sort(key=lambda r: (r[1].start, r[1].end, r[0]))
        return out

    a_by, b_by = by_code(sa), by_code(sb)
    a_partnered, b_partnered = set(), set()
    a_settled, b_settled = set(), set()
    same_code_pairs: list[tuple[int, int]] = []
    for code in sorted(set(a_by) & set(b_by)):
        for i, j in _overlaps(a_by[code], b_by[code]):
            a_partnered.add(i)
            b_partnered.add(j)
            same_code_pairs.append((i, j))
            if agree(sa[i], sb[j]):
                a_settled.add(i)
                b_settled.add(j)

    result: list[Disagreement] = []

    def emit(kind: str, members: Iterable[tuple[str, int]]) -> None:
        ai = tuple(sorted(i for side, i in members if side == "a"))
        bi = tuple(sorted(i for side, i in members if side == "b"))
        spans = [sa[i] for i in ai] + [sb[j] for j in bi]
        result.append(
            Disagreement(
                kind,
                ai,
                bi,
                tuple(sorted({sp.code for sp in spans})),
                min(sp.start for sp in spans),
                max(sp.end for sp in spans),
            )
        )

    # Boundary: overlapping same-code pairs that do not agree, where a coding is unsettled.
    groups = _Groups()
    for i, j in same_code_pairs:
        if (i not in a_settled or j not in b_settled) and not agree(sa[i], sb[j]):
            groups.union(("a", i), ("b", j))
    for members in groups.components():
        emit(BOUNDARY, members)

    # Missing or different code: codings without any same-code overlap in the other layer.
    lonely_a = sorted(
        ((i, sa[i]) for i in range(len(sa)) if i not in a_partnered),
        key=lambda r: (r[1].start, r[1].end, r[0]),
    )
    lonely_b = sorted(
        ((j, sb[j]) for j in range(len(sb)) if j not in b_partnered),
        key=lambda r: (r[1].start, r[1].end, r[0]),
    )
    groups = _Groups()
    for i, _ in lonely_a:
        groups.find(("a", i))
    for j, _ in lonely_b:
        groups.find(("b", j))
    for i, j in _overlaps(lonely_a, lonely_b):
        if sa[i].code != sb[j].code:
            groups.union(("a", i), ("b", j))
    for members in groups.components():
        sides = {side for side, _ in members}
        if sides == {"a", "b"}:
            emit(DIFFERENT_CODE, members)
        else:
            for member in members:
                emit(MISSING_IN_B if member[0] == "a" else MISSING_IN_A, [member])

    result.sort(key=lambda d: (d.start, d.end, d.kind, d.a, d.b))
    return result
