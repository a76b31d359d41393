"""Interval arithmetic shared by the agreement coefficients.

Everything works on NumPy arrays of interval boundaries: a layer is three parallel int64 arrays
(code index, start, end), offsets are Unicode code points, end exclusive. No function here loops
over characters; the only Python loops are over the input rows when they are converted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Span:
    """One coding: ``code`` applied to code points ``[start, end)`` of a transcript's text."""

    code: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Utterance:
    """One speaker turn: code points ``[start, end)`` with the speaker's role."""

    start: int
    end: int
    role: str = "participant"


# A span may be given as a Span, or as any (code, start, end) triple, e.g. a row of
# Coding.objects.values_list("code_id", "start", "end").
SpanLike = Span | Sequence[int]
# An utterance may be an Utterance or a (start, end, role) triple, e.g. a row of
# Utterance.objects.values_list("start", "end", "role").
UtteranceLike = Utterance | Sequence


@dataclass(frozen=True, slots=True)
class Layer:
    """A coder's codings as arrays: ``k`` is an index into a sorted array of code ids."""

    k: np.ndarray
    s: np.ndarray
    e: np.ndarray

    def __len__(self) -> int:
        return len(self.k)


def as_span(row: SpanLike) -> Span:
    if isinstance(row, Span):
        return row
    code, start, end = row
    return Span(int(code), int(start), int(end))


def as_utterance(row: UtteranceLike) -> Utterance:
    if isinstance(row, Utterance):
        return row
    start, end, *rest = row
    return Utterance(int(start), int(end), str(rest[0]) if rest else "participant")


def span_arrays(
    spans: Iterable[SpanLike] | np.ndarray, length: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(codes, starts, ends) as int64 arrays; raises ValueError on spans outside ``[0, length)``.

    ``spans`` may also be an (n, 3) integer array of (code, start, end) rows.
    """
    if isinstance(spans, np.ndarray):
        arr = spans.astype(np.int64, copy=False).reshape(-1, 3)
    else:
        rows = spans if isinstance(spans, list) else list(spans)
        if any(isinstance(s, Span) for s in rows):
            rows = [(s.code, s.start, s.end) if isinstance(s, Span) else tuple(s) for s in rows]
        arr = np.array(rows, dtype=np.int64).reshape(-1, 3)
    codes, starts, ends = arr[:, 0], arr[:, 1], arr[:, 2]
    bad = (starts < 0) | (ends <= starts) | (ends > length)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"span {tuple(int(x) for x in arr[i])} is empty or outside the text [0, {length})"
        )
    return codes, starts, ends


def utterance_arrays(
    utterances: Iterable[UtteranceLike],
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(starts, ends, roles) of the utterances, in the order given."""
    rows = utterances if isinstance(utterances, list | tuple) else list(utterances)
    if rows and all(isinstance(u, tuple) and len(u) == 3 for u in rows):
        starts, ends, roles = zip(*rows, strict=True)
        return (
            np.array(starts, dtype=np.int64),
            np.array(ends, dtype=np.int64),
            [str(r) for r in roles],
        )
    utts = [as_utterance(u) for u in rows]
    starts = np.array([u.start for u in utts], dtype=np.int64)
    ends = np.array([u.end for u in utts], dtype=np.int64)
    return starts, ends, [u.role for u in utts]


def code_index(code_ids: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each code in the sorted ``code_ids``, and which rows have a known code."""
    if len(code_ids) == 0:
        return np.zeros(len(codes), dtype=np.int64), np.zeros(len(codes), dtype=bool)
    pos = np.searchsorted(code_ids, codes)
    pos_clipped = np.minimum(pos, len(code_ids) - 1)
    known = code_ids[pos_clipped] == codes
    return pos_clipped, known


def merge_overlapping(layer: Layer, block: int) -> Layer:
    """Merge, per code, intervals that share at least one code point; touching ones stay apart.

    ``block`` must exceed every end: code k is laid out on ``[k * block, k * block + block)`` so a
    single global running maximum merges within codes and never across them. The result is
    sorted by (code, start), and within a code its intervals are disjoint.
    """
    if len(layer) == 0:
        return layer
    gs = layer.k * block + layer.s
    ge = layer.k * block + layer.e
    order = np.lexsort((ge, gs))
    gs, ge = gs[order], ge[order]
    run_end = np.maximum.accumulate(ge)
    new = np.ones(len(gs), dtype=bool)
    new[1:] = gs[1:] >= run_end[:-1]
    first = np.flatnonzero(new)
    ms = gs[first]
    me = np.maximum.reduceat(ge, first)
    k = ms // block
    return Layer(k, ms - k * block, me - k * block)


def normalise_counted(
    counted: Iterable[tuple[int, int]] | None, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted, disjoint (starts, ends) of the counted stretches, clipped to ``[0, length)``."""
    if counted is None:
        return np.array([0], dtype=np.int64), np.array([length], dtype=np.int64)
    pairs = np.asarray([(int(a), int(b)) for a, b in counted], dtype=np.int64).reshape(-1, 2)
    s = np.clip(pairs[:, 0], 0, length)
    e = np.clip(pairs[:, 1], 0, length)
    keep = e > s
    merged = merge_overlapping(
        Layer(np.zeros(int(keep.sum()), dtype=np.int64), s[keep], e[keep]), length + 1
    )
    if len(merged) == 0:
        return merged.s, merged.e
    # Counted stretches that touch are one stretch: a mask has no inner boundaries.
    join = np.ones(len(merged.s), dtype=bool)
    join[1:] = merged.s[1:] > merged.e[:-1]
    first = np.flatnonzero(join)
    return merged.s[first], np.maximum.reduceat(merged.e, first)


class CountedMap:
    """The piecewise-linear map from text offsets to offsets in the counted text.

    ``position(x)`` is the number of counted code points before ``x``; the measure of a set of
    disjoint intervals inside the counted text is ``sum(position(end) - position(start))``.
    """

    def __init__(self, ms: np.ndarray, me: np.ndarray) -> None:
        self.ms, self.me = ms, me
        self.prefix = np.concatenate(([0], np.cumsum(me - ms)))
        self.total = int(self.prefix[-1])

    def position(self, x: np.ndarray) -> np.ndarray:
        i = np.searchsorted(self.ms, x, side="right") - 1
        ic = np.maximum(i, 0)
        inside = np.clip(x - self.ms[ic], 0, self.me[ic] - self.ms[ic]) if len(self.ms) else x * 0
        return np.where(i >= 0, self.prefix[ic] + inside, 0)

    def measure(self, s: np.ndarray, e: np.ndarray) -> np.ndarray:
        if len(self.ms) == 0:
            return np.zeros(len(s), dtype=np.int64)
        return self.position(e) - self.position(s)

    def split(self, layer: Layer) -> Layer:
        """Cut each interval at the edges of the counted stretches; drop the uncounted parts."""
        if len(layer) == 0 or len(self.ms) == 0:
            return Layer(layer.k[:0], layer.s[:0], layer.e[:0])
        lo = np.searchsorted(self.me, layer.s, side="right")
        hi = np.searchsorted(self.ms, layer.e, side="left")
        n = np.maximum(hi - lo, 0)
        rows = np.repeat(np.arange(len(layer)), n)
        piece = lo[rows] + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
        s = np.maximum(layer.s[rows], self.ms[piece])
        e = np.minimum(layer.e[rows], self.me[piece])
        return Layer(layer.k[rows], s, e)

    def compress(self, layer: Layer) -> Layer:
        """Split at the counted stretches, then map into counted-text coordinates."""
        pieces = self.split(layer)
        return Layer(pieces.k, self.position(pieces.s), self.position(pieces.e))


def overlap_pairs(a: Layer, b: Layer, block: int) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with a[i] and b[j] of the same code sharing a code point.

    Both layers must come from :func:`merge_overlapping` (sorted, disjoint within a code).
    """
    if len(a) == 0 or len(b) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    as_, ae = a.k * block + a.s, a.k * block + a.e
    bs, be = b.k * block + b.s, b.k * block + b.e
    lo = np.searchsorted(be, as_, side="right")
    hi = np.searchsorted(bs, ae, side="left")
    n = np.maximum(hi - lo, 0)
    i = np.repeat(np.arange(len(a)), n)
    j = lo[i] + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    return i, j
