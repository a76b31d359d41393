"""Agreement coefficients against their published worked examples, and their edge cases.

Pure tests: no database. Every expected number below is either printed in the cited source or
computed by hand in the comment beside it.
"""

import krippendorff
import numpy as np
import pytest

from coding.agreement import (
    Span,
    TranscriptInput,
    Utterance,
    combine_kappa,
    nominal_alpha,
    nvivo_kappa,
    study_agreement,
    transcript_agreement,
    unitizing_alpha,
    utterance_alpha,
)

# --- Krippendorff (1995), "On the reliability of unitizing continuous data", Sociological
# Methodology 25: 47-76, the four pairs of observers of p. 57 on a continuum of 24. The units
# (begin, length) are those transcribed in DKPro Statistics' Krippendorff1995Test (dkpro/
# dkpro-statistics, dkpro-statistics-agreement/src/test/java/org/dkpro/statistics/agreement/
# unitizing/Krippendorff1995Test.java), which also carries the paper's values used below.
K1995 = {
    "A": ([(2, 8), (14, 6)], [(4, 4), (15, 2)]),  # Bertha, Bill
    "B": ([(0, 18)], [(0, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 3), (9, 1)]),  # John, Jill
    "C": ([(2, 6), (10, 2), (14, 4), (20, 2)], [(0, 2), (4, 4), (10, 4), (16, 2), (20, 2)]),
    "D": (
        [(0, 2), (2, 8), (10, 4), (14, 6), (20, 4)],  # Heather
        [(0, 4), (4, 4), (8, 7), (15, 2), (17, 7)],  # Hill
    ),
}


def k1995(name, stretch=1):
    first, second = K1995[name]
    return (
        [Span(1, b * stretch, (b + n) * stretch) for b, n in first],
        [Span(1, b * stretch, (b + n) * stretch) for b, n in second],
    )


# --- Krippendorff (2004), Content Analysis, 2nd ed., Sage, p. 254: continuum 150..450 (L = 300),
# categories c and k, observers i and j (as transcribed in DKPro's Krippendorff2004Test).
def k2004():
    o = 150
    i = [Span(1, 225 - o, 295 - o), Span(1, 370 - o, 400 - o)]
    j = [Span(1, 220 - o, 300 - o), Span(1, 355 - o, 375 - o), Span(1, 400 - o, 420 - o)]
    i += [Span(2, 180 - o, 240 - o), Span(2, 300 - o, 350 - o)]  # k
    j += [Span(2, 180 - o, 240 - o), Span(2, 300 - o, 350 - o)]
    return i, j


class TestNVivoKappa:
    def test_nvivo_percent_agreement_example(self):
        # NVivo help, "How is the percentage agreement calculated?": 1000 characters, 50 coded
        # by both, 150 by only one, 800 by neither: (800 + 50) / 1000 = 85 %.
        r = nvivo_kappa([Span(7, 0, 150)], [Span(7, 100, 200)], 1000)[7]
        assert (r.units, r.both, r.a_only + r.b_only, r.neither) == (1000, 50, 150, 800)
        assert r.percent_agreement == pytest.approx(85.0)
        # NVivo published no kappa for it. By hand with NVivo's formula: A coded 150, B 100;
        # ΣEF = (150·100 + 850·900) / 1000 = 780; K = (850 − 780) / (1000 − 780) = 0.318.
        assert r.expected_agreement_units == pytest.approx(780.0)
        assert r.kappa == pytest.approx(70 / 220)
        assert round(r.kappa, 3) == 0.318

    def test_neither_coded_is_complete_agreement(self):
        # NVivo: complete agreement gives K = 1 (FAQ "All my Kappa coefficients are 0 or 1").
        r = nvivo_kappa([Span(1, 0, 5)], [Span(1, 0, 5)], 100, codes=[1, 2])[2]
        assert (r.a_coded, r.b_coded, r.percent_agreement, r.kappa) == (0, 0, 100.0, 1.0)

    def test_only_one_coder_coded_is_zero(self):
        r = nvivo_kappa([Span(1, 10, 30)], [], 100)[1]
        assert r.kappa == 0.0
        assert r.percent_agreement == pytest.approx(80.0)

    @pytest.mark.parametrize(("name", "expected"), [("A", 0.385), ("B", 0.385), ("C", 0.314)])
    def test_krippendorff_1995_digitized_kappa(self, name, expected):
        # Krippendorff (1995) p. 57 compares Cohen's kappa on the data cut into 24 equal units:
        # .385, .385 and .314 for pairs A, B and C (values as in DKPro's Krippendorff1995Test).
        # Character-level NVivo kappa on a 24-character text is exactly that computation.
        a, b = k1995(name)
        assert round(nvivo_kappa(a, b, 24)[1].kappa, 3) == expected

    def test_krippendorff_1995_pair_d_everything_coded(self):
        # Pair D coded all 24 units: Cohen's kappa is 0/0 (DKPro raises); NVivo reports 1.
        a, b = k1995("D")
        assert nvivo_kappa(a, b, 24)[1].kappa == 1.0

    def test_overlapping_codings_of_one_code_count_once(self):
        r = nvivo_kappa([Span(1, 0, 10), Span(1, 5, 15)], [Span(1, 0, 15)], 20)[1]
        assert (r.a_coded, r.both, r.kappa) == (15, 15, 1.0)

    def test_mask_counts_only_participant_turns(self):
        # Text of 100: interviewer [0, 40), participant [40, 100). Interviewer text disagrees.
        a = [Span(1, 0, 20), Span(1, 50, 70)]
        b = [Span(1, 50, 70)]
        whole = nvivo_kappa(a, b, 100)[1]
        masked = nvivo_kappa(a, b, 100, counted=[(40, 100)])[1]
        assert whole.kappa < 1
        assert (masked.units, masked.a_coded, masked.kappa) == (60, 20, 1.0)

    def test_no_counted_characters(self):
        r = nvivo_kappa([Span(1, 0, 5)], [], 10, counted=[])[1]
        assert (r.units, r.kappa, r.percent_agreement) == (0, None, None)

    def test_rejects_spans_outside_the_text(self):
        with pytest.raises(ValueError):
            nvivo_kappa([Span(1, 5, 12)], [], 10)
        with pytest.raises(ValueError):
            nvivo_kappa([(1, 5, 5)], [], 10)

    def test_combine_weights_sources_by_size(self):
        # NVivo: average per-source values weighted by source size.
        s1 = nvivo_kappa([Span(1, 0, 150)], [Span(1, 100, 200)], 1000)  # K = 0.318
        s2 = nvivo_kappa([Span(1, 0, 10)], [Span(1, 0, 10)], 3000)  # K = 1
        s = combine_kappa([s1, s2])
        assert s.per_code[1].nvivo_kappa == pytest.approx((1000 * 70 / 220 + 3000 * 1.0) / 4000)
        assert s.per_code[1].nvivo_percent_agreement == pytest.approx(
            (1000 * 85 + 3000 * 100) / 4000
        )
        pooled = s.per_code[1].pooled
        assert (pooled.units, pooled.a_coded, pooled.b_coded, pooled.both) == (4000, 160, 110, 60)

    def test_combine_headline_is_the_pooled_table_s_kappa(self):
        s1 = nvivo_kappa([Span(1, 0, 150)], [Span(1, 100, 200)], 1000)
        s2 = nvivo_kappa([Span(1, 0, 10)], [Span(1, 0, 10)], 3000)
        code = combine_kappa([s1, s2]).per_code[1]
        n, a, b, ab = 4000, 160, 110, 60
        po = (ab + n - a - b + ab) / n
        pe = (a * b + (n - a) * (n - b)) / n**2
        assert code.kappa == pytest.approx((po - pe) / (1 - pe))
        assert code.nvivo_percent_agreement == pytest.approx(100 * code.pooled.po)

    def test_a_code_one_coder_applied_and_the_other_never_is_not_reliable(self):
        # One coder codes 64 characters in one source; four sources where neither coder used
        # the code make NVivo's mean .9, the pooled table 0.
        alone = nvivo_kappa([Span(1, 0, 64)], [], 1000, codes=[1])
        nobody = [nvivo_kappa([], [], 2000, codes=[1]) for _ in range(4)]
        code = combine_kappa([alone, *nobody]).per_code[1]
        assert code.nvivo_kappa == pytest.approx(8000 / 9000)
        assert code.no_agreement and code.kappa == 0.0
        # Both coded, never the same character: below 0.
        apart = combine_kappa([nvivo_kappa([Span(1, 0, 50)], [Span(1, 50, 90)], 1000)])
        assert apart.per_code[1].no_agreement and apart.per_code[1].kappa < 0
        # Nobody used it at all: no headline, and no weight in the means across codes.
        unused = combine_kappa(nobody).per_code[1]
        assert (unused.used, unused.kappa, unused.nvivo_kappa) == (False, None, 1.0)
        assert combine_kappa(nobody).kappa is None

    def test_combine_overall_unweighted_and_weighted(self):
        s1 = nvivo_kappa([Span(1, 0, 150)], [Span(1, 100, 200)], 1000, codes=[1, 2])
        s = combine_kappa([s1])
        k1 = 70 / 220
        assert s.nvivo_kappa_unweighted == pytest.approx((k1 + 1.0) / 2)  # code 2: nobody, K = 1
        # Weighted by characters either coder coded: code 2 has none, so only code 1 counts.
        assert s.code_weights == {1: 200, 2: 0}
        assert s.nvivo_kappa_weighted == pytest.approx(k1)


class TestNominalAlpha:
    def test_binary_two_observers(self):
        # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section A (binary
        # data, two observers, no missing data): alpha = 0.095.
        data = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]
        r = nominal_alpha(data)
        assert round(r.alpha, 3) == 0.095
        assert r.pairable_values == 20
        assert r.coincidences == ((10.0, 4.0), (4.0, 2.0))

    def test_nominal_two_observers(self):
        # Krippendorff (2011), section B (nominal data, two observers, no missing data): 0.692.
        data = [list("aabbdcccedda"), list("babbbccceddd")]
        assert round(nominal_alpha(data).alpha, 3) == 0.692

    def test_nominal_four_observers_missing_values(self):
        # Krippendorff (2011), section C (nominal data, any number of observers, missing
        # values): 4 observers × 12 units, alpha = 0.743.
        n = None
        data = [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
            [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
        ]
        r = nominal_alpha(data)
        assert round(r.alpha, 3) == 0.743
        assert r.units == 11  # unit 12 has one value: not pairable
        assert r.pairable_values == 40

    def test_krippendorff_1995_digitized_alpha(self):
        # Krippendorff (1995) p. 57, pair A cut into 24 units: alpha = .329 (DKPro's test).
        a, b = k1995("A")
        rows = [
            [int(any(s.start <= x < s.end for s in layer)) for x in range(24)] for layer in (a, b)
        ]
        assert round(nominal_alpha(rows).alpha, 3) == 0.329

    def test_matches_the_krippendorff_package(self):
        rng = np.random.default_rng(3)
        for _ in range(50):
            data = rng.integers(0, 4, size=(3, 30)).astype(float)
            data[rng.random(data.shape) < 0.2] = np.nan
            ours = nominal_alpha(data).alpha
            theirs = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            assert ours == pytest.approx(theirs)

    def test_no_variation_is_undefined(self):
        r = nominal_alpha([[1, 1, 1], [1, 1, 1]])
        assert r.alpha is None
        assert r.observed_disagreement == 0


class TestUtteranceAlpha:
    UTTS = [
        Utterance(0, 10, "interviewer"),
        Utterance(10, 30, "participant"),
        Utterance(30, 40, "interviewer"),
        Utterance(40, 60, "participant"),
    ]

    def test_presence_per_utterance(self):
        a = [Span(1, 5, 12), Span(2, 45, 50)]  # code 1 touches utterances 0 and 1
        b = [Span(1, 15, 20), Span(2, 0, 3)]
        rep = utterance_alpha([a, b], self.UTTS, 60)
        assert rep.per_code[1].present == (2, 1)
        assert rep.per_code[2].present == (1, 1)
        # Code 1 values: A = 1 1 0 0, B = 0 1 0 0 → same as the package.
        expected = krippendorff.alpha(
            reliability_data=[[1, 1, 0, 0], [0, 1, 0, 0]], level_of_measurement="nominal"
        )
        assert rep.per_code[1].alpha == pytest.approx(expected)

    def test_roles_filter_units(self):
        a = [Span(1, 5, 12)]
        b = [Span(1, 15, 20)]
        rep = utterance_alpha([a, b], self.UTTS, 60, roles={"participant"})
        assert rep.per_code[1].units == 2
        assert rep.per_code[1].present == (1, 1)

    def test_missing_values(self):
        a = [Span(1, 5, 12)]
        b = [Span(1, 15, 20)]
        rep = utterance_alpha([a, b], self.UTTS, 60, missing=[[], [0]])
        expected = krippendorff.alpha(
            reliability_data=[[1, 1, 0, 0], [np.nan, 1, 0, 0]], level_of_measurement="nominal"
        )
        assert rep.per_code[1].alpha == pytest.approx(expected)
        assert rep.per_code[1].missing == (0, 1)

    def test_overall_pools_code_units(self):
        a = [Span(1, 5, 12), Span(2, 45, 50)]
        b = [Span(1, 15, 20), Span(2, 41, 44)]
        rep = utterance_alpha([a, b], self.UTTS, 60)
        rows = [[1, 1, 0, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 1]]
        expected = krippendorff.alpha(reliability_data=rows, level_of_measurement="nominal")
        assert rep.overall.alpha == pytest.approx(expected)

    def test_overlapping_utterances_are_rejected(self):
        with pytest.raises(ValueError):
            utterance_alpha([[], []], [Utterance(0, 10), Utterance(5, 20)], 20)


class TestUnitizingAlpha:
    def test_krippendorff_2004_worked_example(self):
        # Krippendorff (2004) p. 254: c: Do = .0144, De = .0532, alpha = .7286; k: Do = 0,
        # De = .0490, alpha = 1; overall alpha = .8591 (values as in DKPro's
        # Krippendorff2004Test). The book's .8591 comes from rounded intermediates
        # (1 − .0144 / (.0532 + .0490)); unrounded it is .85867, the same to 3 decimals.
        r = unitizing_alpha(list(k2004()), 300)
        c, k = r.per_code[1], r.per_code[2]
        assert round(c.observed_disagreement, 4) == 0.0144
        assert round(c.expected_disagreement, 4) == 0.0532
        assert round(c.alpha, 4) == 0.7286
        assert c.observed_sum == 2 * (50 + 850 + 400)  # δ² = 5²+5², 15²+25², and 20² unmatched
        assert k.observed_disagreement == 0
        assert round(k.expected_disagreement, 4) == 0.0490
        assert k.alpha == 1.0
        assert round(r.alpha, 3) == 0.859
        assert (c.units, c.coded) == ((2, 3), (100, 120))

    @pytest.mark.parametrize(
        ("name", "observed"), [("A", 0.03125), ("B", 2.26736), ("C", 0.02777), ("D", 0.38715)]
    )
    def test_krippendorff_1995_observed_disagreement(self, name, observed):
        # Krippendorff (1995) p. 57, observed disagreements (DKPro's Krippendorff1995Test).
        r = unitizing_alpha(list(k1995(name)), 24).per_code[1]
        assert r.observed_disagreement == pytest.approx(observed, abs=1e-5)

    @pytest.mark.parametrize(
        ("name", "published", "tolerance"),
        [("A", 0.553, 0.0005), ("D", 0.066, 0.0005), ("B", -0.926, 0.003), ("C", 0.679, 0.015)],
    )
    def test_krippendorff_1995_alphas_continuous_limit(self, name, published, tolerance):
        # The 1995 paper treats the continuum as continuous; the 2004 formulas count code points,
        # so we stretch the example 1000-fold to approach the continuous case. A (.553) and
        # D (.066) agree to 3 decimals. B and C do not: the paper's expected disagreements for
        # them differ from the 2004 formula (we get -.928 and .693); DKPro's authors note "a
        # small error in the computation of D_E in the original reference" and test with ±.02.
        r = unitizing_alpha(list(k1995(name, stretch=1000)), 24_000).per_code[1]
        assert r.alpha == pytest.approx(published, abs=tolerance)

    def test_dkpro_reference_example(self):
        # No published source: DKPro Statistics' own UnitizingAgreementTest (an independent
        # implementation): r0 -11111111-, r1 --1-1-1---: Do .9100, De .5351, alpha -.7003.
        r = unitizing_alpha([[Span(1, 1, 9)], [Span(1, 2, 3), Span(1, 4, 5), Span(1, 6, 7)]], 10)
        c = r.per_code[1]
        assert c.observed_disagreement == pytest.approx(0.9100, abs=1e-4)
        assert c.expected_disagreement == pytest.approx(0.5351, abs=1e-4)  # 867 / 324 · 2 / 10
        assert c.alpha == pytest.approx(-0.7003, abs=1e-4)

    def test_overlapping_codings_merge_but_touching_ones_do_not(self):
        merged = unitizing_alpha([[Span(1, 0, 10), Span(1, 5, 20)], [Span(1, 0, 20)]], 40)
        assert merged.per_code[1].units == (1, 1)
        assert merged.per_code[1].alpha == 1.0
        touching = unitizing_alpha([[Span(1, 0, 10), Span(1, 10, 20)], [Span(1, 0, 20)]], 40)
        assert touching.per_code[1].units == (2, 1)
        assert touching.per_code[1].alpha < 1.0

    def test_unused_code_is_undefined_and_left_out(self):
        r = unitizing_alpha([[Span(1, 0, 5)], [Span(1, 0, 5)]], 20, codes=[1, 2])
        assert r.per_code[2].alpha is None
        assert r.alpha == 1.0

    def test_mask_cuts_units_at_its_edges(self):
        # Interviewer [10, 20) is cut out; both coded across it, A stopped at the turn.
        a = [Span(1, 0, 15), Span(1, 20, 30)]
        b = [Span(1, 0, 30)]
        masked = unitizing_alpha([a, b], 40, counted=[(0, 10), (20, 40)])
        assert masked.length == 30
        assert masked.per_code[1].alpha == 1.0
        assert masked.per_code[1].units == (2, 2)

    def test_three_coders(self):
        a = [Span(1, 0, 10)]
        r = unitizing_alpha([a, a, a], 50)
        assert r.per_code[1].alpha == 1.0
        r = unitizing_alpha([a, a, [Span(1, 30, 40)]], 50)
        assert r.per_code[1].alpha < 1.0

    def test_needs_two_coders(self):
        with pytest.raises(ValueError):
            unitizing_alpha([[Span(1, 0, 5)]], 10)


class TestStudy:
    def make(self, key, shift=0):
        utts = [(0, 50, "interviewer"), (50, 100, "participant")]
        a = [(1, 10 + shift, 20 + shift), (1, 60, 80), (2, 55, 70)]
        b = [(1, 60, 82), (2, 55, 70)]
        return TranscriptInput(key, 100, (a, b), utts)

    def test_transcript_has_every_coefficient(self):
        r = transcript_agreement(self.make("t1"))
        assert set(r.kappa) == {1, 2}
        assert r.kappa[2].kappa == 1.0
        assert r.utterance_alpha.per_code[1].present == (2, 1)
        assert r.unitizing.per_code[2].alpha == 1.0
        assert r.counted_length == 100

    def test_speaker_aware(self):
        r = transcript_agreement(self.make("t1"), roles={"participant"})
        assert r.counted_length == 50
        assert r.kappa[1].units == 50
        assert r.kappa[1].a_coded == 20
        assert r.utterance_alpha.per_code[1].units == 1

    def test_pooling(self):
        ts = [self.make("t1"), self.make("t2", shift=5)]
        s = study_agreement(ts)
        assert [t.key for t in s.transcripts] == ["t1", "t2"]
        assert s.codes == (1, 2)
        # kappa: NVivo's size-weighted mean of the two transcripts (equal sizes here)
        k = [t.kappa[1].kappa for t in s.transcripts]
        assert s.kappa.per_code[1].nvivo_kappa == pytest.approx(sum(k) / 2)
        # alpha: units pooled = the same as alpha over the concatenated reliability data
        rows = [[1, 1, 1, 1], [0, 1, 0, 1]]
        expected = krippendorff.alpha(reliability_data=rows, level_of_measurement="nominal")
        assert s.utterance_alpha.per_code[1].alpha == pytest.approx(expected)
        # α_U: the two continua laid end to end
        a = [(1, 10, 20), (1, 60, 80), (2, 55, 70), (1, 115, 125), (1, 160, 180), (2, 155, 170)]
        b = [(1, 60, 82), (2, 55, 70), (1, 160, 182), (2, 155, 170)]
        direct = unitizing_alpha([a, b], 200)
        assert s.unitizing.length == 200
        assert s.unitizing.alpha == pytest.approx(direct.alpha)
        assert s.unitizing.per_code[1].alpha == pytest.approx(direct.per_code[1].alpha)

    def test_a_transcript_s_figures_do_not_depend_on_the_others(self):
        # t2 uses a code t1 never saw: t1's figures in the study are still its own.
        t1 = self.make("t1")
        t2 = TranscriptInput("t2", 100, ([(3, 0, 40)], [(3, 5, 40), (1, 60, 80)]), t1.utterances)
        for roles in (None, {"participant"}):
            alone = transcript_agreement(t1, roles=roles)
            inside = study_agreement([t1, t2], roles=roles).transcripts[0]
            assert inside.utterance_alpha.overall.alpha == alone.utterance_alpha.overall.alpha
            assert inside.unitizing.alpha == alone.unitizing.alpha
            assert inside.kappa_overall == alone.kappa_overall

    def test_pooling_speaker_aware_matches_masked_concatenation(self):
        ts = [self.make("t1"), self.make("t2", shift=5)]
        s = study_agreement(ts, roles={"participant"})
        assert s.unitizing.length == 100
        a = [(1, 10, 30), (2, 5, 20), (1, 60, 80), (2, 55, 70)]
        b = [(1, 10, 32), (2, 5, 20), (1, 60, 82), (2, 55, 70)]
        direct = unitizing_alpha([a, b], 100)
        assert s.unitizing.alpha == pytest.approx(direct.alpha)

    def test_empty_study(self):
        s = study_agreement([])
        assert s.unitizing.alpha is None
        assert s.kappa is None
