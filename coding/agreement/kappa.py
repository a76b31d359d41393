"""Percent agreement and Cohen's kappa at character level, as NVivo's Coding Comparison query.

Definitions (NVivo help, "Run a Coding Comparison query", NVivo 10/11 for Windows:
help-nv10.qsrinternational.com/desktop/procedures/run_a_coding_comparison_query.htm and
help-nv11.qsrinternational.com/desktop/procedures/run_a_coding_comparison_query.htm; NVivo 12:
help-nv.qsrinternational.com/12/win/v12.1.90-d3ea61/Content/queries/coding-comparison-query.htm):

- NVivo computes both numbers "individually for each combination of node and source"; for a
  document the units are its characters (the "source size").
- Percentage agreement = (characters coded by both + characters coded by neither) / all
  characters. NVivo's own example: 1000 characters, 50 coded by both, 150 by only one, 800 by
  neither: (800 + 50) / 1000 = 85 %.
- Kappa: expected frequency of chance agreement ΣEF = (units coded by A × units coded by B +
  units not coded by A × units not coded by B) / total units; K = (agreement units − ΣEF) /
  (total units − ΣEF). That is Cohen's (Po − Pe) / (1 − Pe) with Pe = ΣEF / total units.
- "If the users are in complete agreement then the Kappa coefficient (K) = 1"; NVivo's FAQ "All
  my Kappa coefficients are 0 or 1" explains that a node neither user coded in a source gets 1
  (100 % agreement) and a node only one user coded gets 0. The formula gives 0 for the second
  case by itself; the first is 0/0 (Pe = 1), and we return 1 as NVivo does. Pe = 1 only when both
  coders coded nothing or both coded everything, so Po = 1 too.
- Across sources NVivo's FAQ ("How can I calculate an average Kappa coefficient or percentage
  agreement across multiple sources or nodes?") averages the per-source values weighted by
  source size; across nodes it says the average can be unweighted or weighted. We compute that
  mean (``nvivo_kappa``), but it is not our headline: every source where neither coder used the
  code enters it as K = 1, so a code one coder applied 64 times and the other never can average
  to .9. The headline per code is Cohen's kappa of the *pooled* 2×2 table (every source's
  characters as one table, :attr:`CodeKappaSummary.kappa`): when the coders share no coded
  character it is ≤ 0 (Po − Pe = −2·a·b / n²), and a code nobody used has no headline at all.
  Across codes we average the headline values weighted by the characters either coder coded at
  the code (our choice of weight: a code nobody uses much counts little); NVivo's mean is
  averaged the same way beside it. Percent agreement needs no such choice: NVivo's size-weighted
  mean of per-source percentages is exactly the pooled table's Po.

We only had the stored copies' opening sections of those pages; the FAQ answers quoted above come
from the issue brief and NVivo's behaviour as described there, not from text we could read.

A mask ("counted" stretches, e.g. participant turns only) restricts the units to the counted
characters: the source size is then the number of counted characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._intervals import (
    CountedMap,
    Layer,
    SpanLike,
    code_index,
    merge_overlapping,
    normalise_counted,
    span_arrays,
)


@dataclass(frozen=True, slots=True)
class KappaResult:
    """One code in one source (transcript): the 2×2 table of characters and what follows."""

    code: int
    units: int  # characters counted (the source size, under the mask)
    a_coded: int
    b_coded: int
    both: int
    a_only: int
    b_only: int
    neither: int
    agreement_units: int  # both + neither
    expected_agreement_units: float | None = None  # NVivo's ΣEF
    percent_agreement: float | None = None  # 0..100
    po: float | None = None
    pe: float | None = None
    kappa: float | None = None  # None only when there are no units

    @classmethod
    def from_counts(
        cls, code: int, units: int, a_coded: int, b_coded: int, both: int
    ) -> KappaResult:
        n, a, b, ab = int(units), int(a_coded), int(b_coded), int(both)
        a_only, b_only = a - ab, b - ab
        neither = n - a - b + ab
        agree = ab + neither
        if n == 0:
            return cls(code, 0, a, b, ab, a_only, b_only, neither, agree, None, None)
        # Integer arithmetic: E = N * ΣEF, so K = (N·agree − E) / (N² − E) exactly.
        e = a * b + (n - a) * (n - b)
        kappa = 1.0 if e == n * n else (n * agree - e) / (n * n - e)
        return cls(
            code,
            n,
            a,
            b,
            ab,
            a_only,
            b_only,
            neither,
            agree,
            e / n,
            100.0 * agree / n,
            agree / n,
            e / (n * n),
            kappa,
        )


def nvivo_kappa(
    a: Iterable[SpanLike],
    b: Iterable[SpanLike],
    length: int,
    *,
    codes: Iterable[int] | None = None,
    counted: Iterable[tuple[int, int]] | None = None,
) -> dict[int, KappaResult]:
    """Per-code percent agreement and kappa of coders A and B on one source of ``length`` chars.

    ``codes``: the codes to report (default: every code either coder used); a code neither coder
    used gets kappa 1 and 100 % agreement, as in NVivo. ``counted``: stretches ``(start, end)``
    whose characters count (default: the whole text). Overlapping codings of one code by one
    coder count each character once.
    """
    a_codes, a_s, a_e = span_arrays(a, length)
    b_codes, b_s, b_e = span_arrays(b, length)
    if codes is None:
        code_ids = np.union1d(a_codes, b_codes)
    else:
        code_ids = np.unique(np.fromiter(codes, dtype=np.int64))
    cmap = CountedMap(*normalise_counted(counted, length))
    block = length + 1

    def layer(cs: np.ndarray, s: np.ndarray, e: np.ndarray) -> Layer:
        k, known = code_index(code_ids, cs)
        return Layer(k[known], s[known], e[known])

    la, lb = layer(a_codes, a_s, a_e), layer(b_codes, b_s, b_e)
    n_codes = len(code_ids)

    def coded(lay: Layer) -> np.ndarray:
        merged = merge_overlapping(lay, block)
        w = cmap.measure(merged.s, merged.e)
        return np.bincount(merged.k, weights=w, minlength=n_codes).astype(np.int64)

    a_cov, b_cov = coded(la), coded(lb)
    union = coded(
        Layer(
            np.concatenate((la.k, lb.k)),
            np.concatenate((la.s, lb.s)),
            np.concatenate((la.e, lb.e)),
        )
    )
    both = a_cov + b_cov - union
    a_l, b_l, ab_l = a_cov.tolist(), b_cov.tolist(), both.tolist()
    return {
        c: KappaResult.from_counts(c, cmap.total, a_l[i], b_l[i], ab_l[i])
        for i, c in enumerate(code_ids.tolist())
    }


@dataclass(frozen=True, slots=True)
class CodeKappaSummary:
    """One code across several sources: the pooled table (the headline) and NVivo's mean."""

    code: int
    sources: int
    units: int  # sum of the source sizes
    pooled: KappaResult  # all sources' characters as one 2×2 table
    nvivo_kappa: float | None  # per-source kappas averaged, weighted by source size (NVivo)
    nvivo_percent_agreement: float | None  # idem for percent agreement (= pooled Po × 100)

    @property
    def used(self) -> bool:
        """Did either coder apply the code anywhere?"""
        return self.pooled.a_coded + self.pooled.b_coded > 0

    @property
    def no_agreement(self) -> bool:
        """Someone applied the code, but the coders share no coded character."""
        return self.used and self.pooled.both == 0

    @property
    def kappa(self) -> float | None:
        """The headline: kappa of the pooled table; None when nobody used the code (NVivo's
        "neither coded it, K = 1" would make an unused code look perfectly reliable)."""
        return self.pooled.kappa if self.used else None

    @property
    def weight(self) -> int:
        """Characters either coder coded at the code: its weight in the means across codes."""
        return self.pooled.a_coded + self.pooled.b_coded - self.pooled.both


@dataclass(frozen=True, slots=True)
class KappaOverCodes:
    """The figures across codes of per-code 2×2 tables, weighted by coded characters."""

    kappa: float | None  # weighted by the characters either coder coded at the code
    kappa_unweighted: float | None  # each code someone used counting once
    agreement: float | None  # Po (a proportion, 0–1), weighted as ``kappa``


def kappa_over_codes(tables: Iterable[KappaResult]) -> KappaOverCodes:
    """Across codes, from one 2×2 table per code: one transcript's tables or a study's pooled
    ones — the same function for both, so a transcript's kappa is one number wherever it is
    shown. Codes nobody used weigh nothing and are left out."""
    kappas, weights, agreements = [], [], []
    for t in tables:
        weight = t.a_coded + t.b_coded - t.both
        if weight > 0 and t.kappa is not None:
            kappas.append(t.kappa)
            weights.append(weight)
            agreements.append(t.po)
    if not weights:
        return KappaOverCodes(None, None, None)
    total = sum(weights)
    return KappaOverCodes(
        kappa=sum(k * w for k, w in zip(kappas, weights, strict=True)) / total,
        kappa_unweighted=sum(kappas) / len(kappas),
        agreement=sum(p * w for p, w in zip(agreements, weights, strict=True)) / total,
    )


@dataclass(frozen=True, slots=True)
class KappaSummary:
    per_code: dict[int, CodeKappaSummary]
    kappa: float | None  # headline: pooled kappas, weighted by characters coded at the code
    kappa_unweighted: float | None  # pooled kappas, each used code counting once
    agreement: float | None  # pooled Po (0–1), weighted as ``kappa``
    nvivo_kappa_weighted: float | None  # NVivo's per-code means, weighted as ``kappa``
    nvivo_kappa_unweighted: float | None  # NVivo's per-code means, every code once (unused: 1)
    code_weights: dict[int, int]  # the weights used for the weighted values


def _weighted_mean(values: Sequence[float | None], weights: Sequence[float]) -> float | None:
    pairs = [(v, w) for v, w in zip(values, weights, strict=True) if v is not None and w > 0]
    total = sum(w for _, w in pairs)
    if not pairs or total == 0:
        return None
    return sum(v * w for v, w in pairs) / total


def combine_kappa(per_source: Iterable[Mapping[int, KappaResult]]) -> KappaSummary:
    """Combine per-source results (one mapping code → result per source): the pooled table per
    code as the headline, NVivo's size-weighted mean beside it."""
    by_code: dict[int, list[KappaResult]] = {}
    for source in per_source:
        for code, res in source.items():
            by_code.setdefault(code, []).append(res)
    per_code: dict[int, CodeKappaSummary] = {}
    for code in sorted(by_code):
        rows = by_code[code]
        if len(rows) == 1:  # one source: its own table and values (the common case per row)
            only = rows[0]
            per_code[code] = CodeKappaSummary(
                code, 1, only.units, only, only.kappa, only.percent_agreement
            )
            continue
        sizes = [r.units for r in rows]
        pooled = KappaResult.from_counts(
            code,
            sum(sizes),
            sum(r.a_coded for r in rows),
            sum(r.b_coded for r in rows),
            sum(r.both for r in rows),
        )
        per_code[code] = CodeKappaSummary(
            code=code,
            sources=len(rows),
            units=sum(sizes),
            pooled=pooled,
            nvivo_kappa=_weighted_mean([r.kappa for r in rows], sizes),
            nvivo_percent_agreement=_weighted_mean([r.percent_agreement for r in rows], sizes),
        )
    codes = list(per_code)
    weights = {c: per_code[c].weight for c in codes}
    headline = kappa_over_codes(per_code[c].pooled for c in codes)
    nvivo = [per_code[c].nvivo_kappa for c in codes]
    return KappaSummary(
        per_code=per_code,
        kappa=headline.kappa,
        kappa_unweighted=headline.kappa_unweighted,
        agreement=headline.agreement,
        nvivo_kappa_weighted=_weighted_mean(nvivo, [weights[c] for c in codes]),
        nvivo_kappa_unweighted=_weighted_mean(nvivo, [1] * len(codes)),
        code_weights=weights,
    )
