"""The pure saturation core (issue #13): first appearances, Guest, Namey & Chen (2020), the
stopping criteria of Francis et al. (2010) and of the seed paper, and meaning saturation after
Hennink, Kaiser & Marconi (2017).

Published numbers used here: Guest, Namey & Chen (2020), PLOS ONE 15(5): e0232076, the worked
(hypothetical) example of the method — a base of 4 interviews holding 37 unique themes; the
first run of 2 (interviews 5–6) adds 7 new themes, 7/37 = 19 % (quoted in issue #13 and in
secondary summaries of the paper). We could not read the paper's full text, its figures'
tables or its supplementary material here, so no further worked values are asserted; its
bootstrap medians (e.g. 11 + 2 at 0 %) depend on the authors' data and cannot be recomputed.
Everything after interview 6 in ``GUEST`` is our own continuation, not the paper's.
"""

from fractions import Fraction
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coding.saturation import (
    STEPPING,
    codebook_meaning_stable_after,
    first_appearances,
    francis_stop,
    guest_saturation,
    meaning_stability,
    new_counts,
    nothing_new_in_last,
)


def interviews_adding(*new: int, base_overlap: int = 3) -> list[set[int]]:
    """Interviews that add exactly ``new[i]`` unseen themes each, and also mention up to
    ``base_overlap`` themes already seen (as real interviews do), so only first appearances
    may count."""
    ids = count()
    seen: list[int] = []
    out = []
    for n in new:
        fresh = [next(ids) for _ in range(n)]
        out.append(set(fresh) | set(seen[:base_overlap]))
        seen += fresh
    return out


# Guest et al.'s worked example: base I1–I4 = 20 + 10 + 5 + 2 = 37 themes; I5–I6 add 4 + 3 = 7.
# After it, our own continuation: I7 and I8 add 1 each (run 7–8: 2/37 = 5.41 %), I9 adds 1,
# I10 and I11 add nothing.
GUEST = interviews_adding(20, 10, 5, 2, 4, 3, 1, 1, 1, 0, 0)


def test_guest_worked_example_base_4_is_37_themes_and_run_5_6_adds_7_that_is_19_percent():
    report = guest_saturation(GUEST, base=4, run_length=2)
    assert report.denominator == 37
    first = report.runs[0]
    assert first.interviews == (5, 6)
    assert first.new_count == 7
    assert first.fraction == Fraction(7, 37)
    assert round(first.percent) == 19


def test_sliding_runs_advance_one_interview_and_report_x_plus_r():
    report = guest_saturation(GUEST, base=4, run_length=2)
    assert [r.interviews for r in report.runs] == [
        (5, 6),
        (6, 7),
        (7, 8),
        (8, 9),
        (9, 10),
        (10, 11),
    ]
    assert [r.new_count for r in report.runs] == [7, 4, 2, 2, 1, 0]
    five, zero = report.results  # the defaults: ≤ 5 % and 0 %
    assert five.run.interviews == (9, 10)  # 1/37 = 2.7 %
    assert five.label == "saturation at n = 8 + 2 (base 4, run 2, ≤ 5 %)"
    assert zero.run.interviews == (10, 11)
    assert zero.label == "saturation at n = 9 + 2 (base 4, run 2, ≤ 0 %)"


def test_two_of_37_is_5_41_percent_and_does_not_pass_5_percent_though_it_rounds_to_5():
    report = guest_saturation(GUEST, base=4, run_length=2, thresholds=[5, "5.5"])
    run_7_8 = next(r for r in report.runs if r.interviews == (7, 8))
    assert run_7_8.fraction == Fraction(2, 37)
    assert round(run_7_8.percent) == 5 and f"{run_7_8.percent:.2f}" == "5.41"
    assert not run_7_8.passes(Fraction(5))
    assert report.result(5).run.interviews == (9, 10)
    assert report.result("5.5").run is run_7_8
    assert report.result("5.5").label == "saturation at n = 6 + 2 (base 4, run 2, ≤ 5.5 %)"


def test_stepping_runs_advance_by_the_run_length_and_skip_a_trailing_partial_run():
    report = guest_saturation(GUEST, base=4, run_length=2, mode=STEPPING)
    assert [r.interviews for r in report.runs] == [(5, 6), (7, 8), (9, 10)]  # 11 alone: no run
    assert report.result(5).at == 8
    assert not report.result(0).reached  # sliding found 9 + 2; stepping never looks at 10–11
    assert report.result(0).label == "not reached (base 4, run 2, ≤ 0 %)"


def test_sliding_finds_saturation_earlier_than_stepping_when_a_quiet_run_straddles_a_step():
    interviews = interviews_adding(5, 5, 5, 5, 3, 0, 0, 0)  # base 20: ≤ 5 % allows 1 new theme
    sliding = guest_saturation(interviews, thresholds=[5])
    stepping = guest_saturation(interviews, thresholds=[5], mode=STEPPING)
    assert sliding.results[0].label == "saturation at n = 5 + 2 (base 4, run 2, ≤ 5 %)"
    assert stepping.results[0].label == "saturation at n = 6 + 2 (base 4, run 2, ≤ 5 %)"


def test_not_reached_while_every_run_brings_new_themes_and_reasons_when_no_run_exists():
    report = guest_saturation(interviews_adding(6, 5, 4, 3, 2, 2, 2, 2), base=4, run_length=2)
    assert report.runs and not any(r.reached for r in report.results)
    assert report.results[0].label == "not reached (base 4, run 2, ≤ 5 %)"
    assert report.reason == ""

    short = guest_saturation(interviews_adding(3, 2, 1, 1, 0), base=4, run_length=2)
    assert (
        short.runs == () and short.reason == "5 interview(s): a base of 4 and one run of 2 need 6"
    )
    assert not short.results[0].reached

    empty_base = guest_saturation([set(), set(), {1}, {2}], base=2, run_length=1)
    assert empty_base.runs == () and "contain nothing" in empty_base.reason


def test_base_and_run_length_and_threshold_are_parameters():
    report = guest_saturation(GUEST, base=6, run_length=3, thresholds=[10])
    assert report.denominator == 44
    assert [r.interviews for r in report.runs] == [(7, 8, 9), (8, 9, 10), (9, 10, 11)]
    assert report.result(10).label == "saturation at n = 6 + 3 (base 6, run 3, ≤ 10 %)"  # 3/44
    assert guest_saturation(GUEST, thresholds=[2.5]).result("2.5").label.endswith("≤ 2.5 %)")
    with pytest.raises(KeyError):
        report.result(5)  # only 10 % was asked for
    with pytest.raises(ValueError):
        guest_saturation(GUEST, thresholds=[101])
    with pytest.raises(ValueError):
        guest_saturation(GUEST, mode="hopping")  # type: ignore[arg-type]


def test_first_appearances_split_by_a_caller_given_kind():
    inductive = {"a": False, "b": True, "c": True, "d": False}
    curve = first_appearances([{"a", "b"}, {"a", "c"}, {"b", "c"}, {"d", "a"}], inductive.get)
    assert [p.new for p in curve] == [{"a", "b"}, {"c"}, set(), {"d"}]
    assert [p.cumulative for p in curve] == [2, 3, 3, 4]
    assert curve[0].new_by_kind == {False: {"a"}, True: {"b"}}
    assert curve[2].new_by_kind == {}
    assert [p.cumulative_by_kind for p in curve] == [
        {False: 1, True: 1},
        {False: 1, True: 2},
        {False: 1, True: 2},
        {False: 2, True: 2},
    ]


def test_themes_and_codes_counted_together_as_tagged_items():
    interviews = [{("theme", 1), ("code", 1)}, {("theme", 1), ("code", 2)}]
    curve = first_appearances(interviews, kind=lambda item: item[0])
    assert curve[1].new_by_kind == {"code": {("code", 2)}}
    assert curve[1].cumulative_by_kind == {"theme": 1, "code": 2}


def test_reordering_changes_the_curve_but_not_the_total():
    forward = [{1, 2, 3}, {1, 4}, {2, 5}]
    backward = forward[::-1]
    assert [p.cumulative for p in first_appearances(forward)] == [3, 4, 5]
    assert [p.cumulative for p in first_appearances(backward)] == [2, 4, 5]


# Francis et al. (2010): initial sample n, then k consecutive interviews with nothing new.
QUIET = interviews_adding(5, 3, 2, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0)


def test_francis_counts_only_quiet_interviews_after_the_initial_sample_and_restarts_on_new():
    assert new_counts(QUIET) == [5, 3, 2, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    # I5–I7 are quiet but inside the initial 10; I11–I12 quiet, I13 new, I14–I16 quiet.
    assert francis_stop(QUIET, initial=10, consecutive=3) == 16
    assert francis_stop(QUIET, initial=4, consecutive=3) == 7
    assert francis_stop(QUIET[:15], initial=10, consecutive=3) is None


def test_the_papers_criterion_no_new_theme_in_the_last_k_interviews_at_each_interview():
    assert nothing_new_in_last(QUIET, last=3) == [
        None, None, False, False, False, False, True, False,
        False, False, False, False, False, False, False, True,
    ]  # fmt: skip
    assert nothing_new_in_last(QUIET, last=1)[4] is True


def test_meaning_saturation_is_the_last_interview_a_definition_changed_in():
    stability = meaning_stability(
        {"trust": [3, 5, None, 9], "funding": [2], "licence": [4, None], "governance": [None]}
    )
    assert stability["trust"].stable_after == 9
    assert stability["trust"].changed_in == (3, 5, 9)
    assert stability["trust"].unplaced_after == 0
    assert stability["funding"].stable_after == 2  # created in I2, never redefined
    assert stability["licence"].stable_after == 4 and stability["licence"].unplaced_after == 1
    assert stability["governance"].stable_after is None
    assert codebook_meaning_stable_after(stability) == 9


# Properties ---------------------------------------------------------------------------------

interview_sets = st.lists(st.frozensets(st.integers(0, 30), max_size=8), min_size=1, max_size=14)


@settings(max_examples=200, deadline=None)
@given(interview_sets, st.data())
def test_an_interview_with_nothing_new_never_lowers_the_cumulative_counts(interviews, data):
    at = data.draw(st.integers(0, len(interviews)))
    seen_before = sorted(set().union(*interviews[:at]))
    quiet = data.draw(st.frozensets(st.sampled_from(seen_before))) if seen_before else frozenset()
    before = [p.cumulative for p in first_appearances(interviews)]
    after = [p.cumulative for p in first_appearances([*interviews[:at], quiet, *interviews[at:]])]
    assert after[at] == (before[at - 1] if at else 0)
    others = after[:at] + after[at + 1 :]
    assert all(a >= b for a, b in zip(others, before, strict=True))


@settings(max_examples=200, deadline=None)
@given(interview_sets, st.randoms(use_true_random=False))
def test_reordering_keeps_the_total_the_size_of_the_union(interviews, random):
    shuffled = list(interviews)
    random.shuffle(shuffled)
    union = set().union(*interviews)
    parity = lambda item: item % 2  # noqa: E731
    for order in (interviews, shuffled):
        curve = first_appearances(order, parity)
        assert curve[-1].cumulative == len(union) == sum(p.new_count for p in curve)
        assert curve[-1].cumulative_by_kind == {
            k: n for k in (0, 1) if (n := sum(1 for i in union if i % 2 == k))
        }


@settings(max_examples=200, deadline=None)
@given(interview_sets, st.integers(1, 4), st.integers(1, 3), st.integers(0, 30))
def test_runs_match_brute_force_and_sliding_is_never_later_than_stepping(
    interviews, base, run_length, threshold
):
    sliding = guest_saturation(interviews, base=base, run_length=run_length, thresholds=[threshold])
    stepping = guest_saturation(
        interviews, base=base, run_length=run_length, thresholds=[threshold], mode=STEPPING
    )
    for run in sliding.runs:
        earlier = set().union(*interviews[: run.first - 1])
        in_run = set().union(*interviews[run.first - 1 : run.last])
        assert run.new == in_run - earlier
        assert run.denominator == len(set().union(*interviews[:base]))
        assert run.passes(Fraction(threshold)) == (
            100 * run.new_count <= threshold * run.denominator
        )
    assert set(stepping.runs) <= set(sliding.runs)
    s, t = sliding.results[0], stepping.results[0]
    if t.reached:
        assert s.reached and s.at <= t.at
