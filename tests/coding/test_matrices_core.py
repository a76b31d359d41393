"""The pure co-occurrence core against a brute-force pairwise check, and the heat scale."""

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.matrices.cooccurrence import Tally, transcript_tally, turn_range
from coding.matrices.scale import bucket


@st.composite
def codings(draw, codes=4, length=60):
    items = []
    for _ in range(draw(st.integers(0, 25))):
        code = draw(st.integers(0, codes - 1))
        start = draw(st.integers(0, length - 1))
        end = draw(st.integers(start + 1, length))
        items.append((code, start, end))
    return items


def brute_force(items, unit_of):
    """Every pair checked directly; units as explicit sets (characters or turn numbers)."""
    units = {}
    for code, start, end in items:
        units.setdefault(code, set()).update(unit_of(start, end))
    pairs = {}
    for (a, s1, e1), (b, s2, e2) in combinations(items, 2):
        if a != b and unit_of(s1, e1) & unit_of(s2, e2):
            key = (min(a, b), max(a, b))
            pairs[key] = pairs.get(key, 0) + 1
    shared = {
        (a, b): len(units[a] & units[b])
        for a, b in combinations(sorted(units), 2)
        if units[a] & units[b]
    }
    return pairs, shared, {code: len(u) for code, u in units.items()}


def chars(start, end):
    return set(range(start, end))


@settings(max_examples=300, deadline=None)
@given(codings())
def test_overlap_tally_matches_brute_force(items):
    tally = transcript_tally(items)
    pairs, shared, extent = brute_force(items, chars)
    assert dict(tally.pairs) == pairs
    assert {k: v for k, v in tally.shared.items() if v} == shared
    assert dict(tally.extent) == extent
    assert sum(tally.codings.values()) == len(items)


@settings(max_examples=300, deadline=None)
@given(codings(), st.lists(st.integers(0, 59), max_size=6, unique=True))
def test_turn_tally_matches_brute_force(items, starts):
    starts = sorted(starts)

    def turns(start, end):
        return {t for t in range(max(len(starts), 1)) if _touches(starts, t, start, end)}

    tally = transcript_tally(items, turn_starts=starts)
    pairs, shared, extent = brute_force(items, turns)
    assert dict(tally.pairs) == pairs
    assert {k: v for k, v in tally.shared.items() if v} == shared
    assert dict(tally.extent) == extent


def _touches(starts, t, start, end):
    """Turn t covers [starts[t], starts[t+1]); text before the first turn belongs to it."""
    if not starts:
        return True
    low = 0 if t == 0 else starts[t]
    high = starts[t + 1] if t + 1 < len(starts) else 10**9
    return start < high and end > low


@settings(max_examples=200, deadline=None)
@given(codings(), codings())
def test_study_tally_is_the_sum_of_transcripts(first, second):
    total = Tally()
    total.add(transcript_tally(first))
    total.add(transcript_tally(second))
    pairs_a, _, _ = brute_force(first, chars)
    pairs_b, _, _ = brute_force(second, chars)
    for key in set(pairs_a) | set(pairs_b):
        assert total.count(*key) == pairs_a.get(key, 0) + pairs_b.get(key, 0)
    for a, b in combinations(range(4), 2):
        assert 0.0 <= total.jaccard(a, b) <= 1.0
        assert total.jaccard(a, b) == total.jaccard(b, a)


def test_jaccard_by_hand():
    # A covers 0-10, B covers 5-20: 5 characters shared of 20 coded with either.
    tally = transcript_tally([("A", 0, 10), ("B", 5, 20), ("A", 2, 4)])
    assert tally.count("A", "B") == 1  # only A[0:10] meets B
    assert tally.count("A", "A") == 2  # the diagonal: codings of A
    assert tally.jaccard("A", "B") == pytest.approx(5 / 20)
    assert tally.jaccard("A", "A") == 1.0
    assert tally.jaccard("A", "C") == 0.0


def test_touching_spans_do_not_overlap_but_share_a_turn():
    items = [("A", 0, 5), ("B", 5, 9)]
    assert transcript_tally(items).count("A", "B") == 0
    tally = transcript_tally(items, turn_starts=[0, 20])
    assert tally.count("A", "B") == 1
    assert tally.jaccard("A", "B") == 1.0


def test_turn_range():
    starts = [0, 10, 20]
    assert turn_range(starts, 0, 10) == (0, 1)
    assert turn_range(starts, 9, 11) == (0, 2)
    assert turn_range(starts, 25, 30) == (2, 3)
    assert turn_range([], 3, 4) == (0, 1)


def test_heat_buckets():
    assert bucket(0, 10) == 0
    assert bucket(1, 100) == 1
    assert bucket(50, 100) == 2
    assert bucket(100, 100) == 4
    assert bucket(3, 0) == 0
