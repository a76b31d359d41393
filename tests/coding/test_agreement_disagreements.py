"""Disagreement detection between two layers of one transcript."""

import pytest

from coding.agreement import (
    BOUNDARY,
    DIFFERENT_CODE,
    MISSING_IN_A,
    MISSING_IN_B,
    SAME_UTTERANCE,
    Span,
    Utterance,
    find_disagreements,
)

UTTS = [Utterance(0, 50, "participant"), Utterance(50, 100, "interviewer"), Utterance(100, 200)]


def kinds(result):
    return [(d.kind, d.a, d.b, d.start, d.end) for d in result]


def test_identical_codings_agree():
    a = [Span(1, 0, 10), Span(2, 5, 40)]
    assert find_disagreements(a, list(a)) == []


def test_missing_on_either_side():
    a = [Span(1, 0, 10)]
    b = [Span(2, 60, 70)]
    assert kinds(find_disagreements(a, b)) == [
        (MISSING_IN_B, (0,), (), 0, 10),
        (MISSING_IN_A, (), (0,), 60, 70),
    ]


def test_different_code_on_an_overlapping_span():
    a = [Span(1, 0, 10)]
    b = [Span(2, 5, 15)]
    (d,) = find_disagreements(a, b)
    assert (d.kind, d.a, d.b, d.codes, d.start, d.end) == (
        DIFFERENT_CODE,
        (0,),
        (0,),
        (1, 2),
        0,
        15,
    )


def test_different_code_needs_the_other_coding_to_be_unpartnered():
    # B's code 2 coding is matched by A's code 2 coding: A's code 1 is simply missing in B.
    a = [Span(1, 0, 10), Span(2, 5, 15)]
    b = [Span(2, 5, 15)]
    assert kinds(find_disagreements(a, b)) == [(MISSING_IN_B, (0,), (), 0, 10)]


def test_boundary_beyond_tolerance():
    a = [Span(1, 0, 20)]
    b = [Span(1, 3, 20)]
    assert kinds(find_disagreements(a, b)) == [(BOUNDARY, (0,), (0,), 0, 20)]
    assert find_disagreements(a, b, tolerance=3) == []
    assert kinds(find_disagreements(a, b, tolerance=2)) == [(BOUNDARY, (0,), (0,), 0, 20)]


def test_same_utterance_tolerance():
    a = [Span(1, 2, 120)]
    b = [Span(1, 10, 190)]  # starts in utterance 0, ends in utterance 2: agree
    assert find_disagreements(a, b, utterances=UTTS, tolerance=SAME_UTTERANCE) == []
    c = [Span(1, 10, 90)]  # ends in utterance 1
    assert kinds(find_disagreements(a, c, utterances=UTTS, tolerance=SAME_UTTERANCE)) == [
        (BOUNDARY, (0,), (0,), 2, 120)
    ]


def test_one_long_against_two_short_is_one_boundary():
    a = [Span(1, 0, 100)]
    b = [Span(1, 0, 50), Span(1, 50, 100)]
    assert kinds(find_disagreements(a, b)) == [(BOUNDARY, (0,), (0, 1), 0, 100)]


def test_settled_codings_do_not_report_their_other_overlaps():
    a = [Span(1, 0, 10), Span(1, 8, 20)]
    b = [Span(1, 0, 10), Span(1, 8, 20)]
    assert find_disagreements(a, b) == []


def test_extra_nested_coding_is_a_boundary_with_its_partner():
    a = [Span(1, 0, 100)]
    b = [Span(1, 0, 100), Span(1, 40, 60)]
    assert kinds(find_disagreements(a, b)) == [(BOUNDARY, (0,), (1,), 0, 100)]


def test_sorted_by_start():
    a = [Span(3, 300, 310), Span(1, 0, 10), Span(2, 100, 110)]
    result = find_disagreements(a, [])
    assert [d.start for d in result] == [0, 100, 300]
    assert [d.a for d in result] == [(1,), (2,), (0,)]


def test_swapping_layers_swaps_sides():
    a = [Span(1, 0, 10), Span(2, 20, 40), Span(3, 50, 60)]
    b = [Span(4, 5, 15), Span(2, 22, 40), Span(5, 80, 90)]
    forward = find_disagreements(a, b)
    backward = find_disagreements(b, a)
    assert sorted(kinds(backward)) == sorted(kinds([d.swapped() for d in forward]))


def test_accepts_plain_tuples():
    assert kinds(find_disagreements([(1, 0, 10)], [])) == [(MISSING_IN_B, (0,), (), 0, 10)]


@pytest.mark.parametrize("tolerance", [None, 0, 5, SAME_UTTERANCE])
def test_identical_layers_with_any_tolerance(tolerance):
    a = [Span(1, 0, 10), Span(1, 5, 60), Span(2, 55, 150)]
    assert find_disagreements(a, a, utterances=UTTS, tolerance=tolerance) == []
