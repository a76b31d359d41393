"""Krippendorff's unitizing alpha (α_U) on a continuum of code points, computed with NumPy.

Sources:

- Krippendorff, K. (1995). On the reliability of unitizing continuous data. Sociological
  Methodology 25, 47–76. (First definition; its worked example, p. 57, is reproduced in tests.)
- Krippendorff, K. (2004). Content Analysis: An Introduction to Its Methodology, 2nd ed., Sage,
  the section on the reliability of unitizing (α_U): the definition implemented here; its worked
  example (p. 254, values as transcribed in DKPro Statistics' Krippendorff2004Test) is
  reproduced in tests.
- Krippendorff, K., Mathet, Y., Bouvry, S., Widlöcher, A. (2016). On the reliability of
  unitizing textual continua: Further developments. Quality & Quantity 50, 2347–2364. It revises
  the 2004 definition for *more than two* coders and for mutually exclusive multi-valued
  partitions (the uα, |uα, cuα, (k)uα family). We do not implement that family: our codings may
  overlap across codes, which its partitions exclude, and for two coders the 2004 per-code
  definition is the one with a published worked example we could reproduce. With m > 2 coders the
  2004 formulas below are applied as published (sum over all pairs of coders); the 2016 paper
  reports that they do not behave as expected there.

Definition (2004), for one code c ("value") with m coders on a continuum of length L. Each coder's
units of c, together with the gaps between them (uncoded stretches, their own segments), cover
the continuum. For a unit g of coder i and a segment h of coder j:

    δ²(g, h) = (b_g − b_h)² + (e_g − e_h)²   both are units of c and they overlap
             = l_g²                          g is a unit, h a gap that contains g
             = l_h²                          h is a unit, g a gap that contains h
             = 0                             otherwise

    cDo = Σ_{i≠j} Σ_g Σ_h δ²(g, h) / (m (m − 1) L²)

    cDe = (2 / L) · Σ_u [ (N_c − 1)(2 l_u³ − 3 l_u² + l_u) / 3
                          + l_u² Σ_{γ ≥ l_u} (γ − l_u + 1) ]
          / ( m L (m L − 1) − Σ_u l_u (l_u − 1) )

where u runs over the units of c of all coders and γ over the gaps of c of all coders.

with N_c the number of units of c over all coders, b/e/l a segment's begin, end and length.
cα_U = 1 − cDo / cDe. Across codes (the 2004 overall coefficient): α_U = 1 − Σ_c cDo / Σ_c cDe.
The per-code case is binary (the code vs. not the code); codes are computed independently, so a
coder may apply several codes to the same text.

Our choices:

- Overlapping codings of one code by one coder are merged into one unit (the definition needs
  each coder's units of a value to be disjoint). Codings that only touch (one ends where the next
  starts) stay two units: Krippendorff's 1995 example (Jill, p. 57) has such abutting units.
- Undefined values are None: cDe = 0 happens when nobody used the code (or every coder coded the
  whole continuum identically); then cα_U is None and the code is left out of the overall sums.
- Masked (uncounted) text is cut out of the continuum: units are cut at the mask's edges, the
  uncounted parts dropped, and the counted stretches concatenated. A unit that spanned masked
  text becomes two units (the mask edge is a boundary).
- Several transcripts are pooled by concatenating their continua (each transcript's length in
  order), as Krippendorff treats one long continuum; gaps at the seam join into one gap.
- Adding uncoded text that nobody coded (a longer continuum, the same units) never raises the
  observed disagreement: cDo scales by (L / L')². cDe changes as well, so α_U has no fixed
  direction (on random data it goes up about as often as down, for positive and negative values
  alike); a perfect agreement stays exactly 1. The property tests pin these facts.

Everything is array arithmetic over unit boundaries: overlapping pairs are found with
``searchsorted`` on sorted, disjoint units; gap lookups use sorted gap lengths and prefix sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ._intervals import (
    CountedMap,
    Layer,
    SpanLike,
    code_index,
    merge_overlapping,
    normalise_counted,
    overlap_pairs,
    span_arrays,
)


@dataclass(frozen=True, slots=True)
class UnitizingCodeResult:
    code: int
    length: int  # L: code points in the continuum (counted ones only, under a mask)
    coders: int  # m
    units: tuple[int, ...]  # per coder: units of the code after merging overlaps
    coded: tuple[int, ...]  # per coder: code points inside those units
    observed_sum: int  # Σ over ordered coder pairs of δ²
    observed_disagreement: float | None  # cDo
    expected_numerator: float  # the bracketed sum over units
    expected_denominator: float  # m L (m L − 1) − Σ l (l − 1)
    expected_disagreement: float | None  # cDe
    alpha: float | None


@dataclass(frozen=True, slots=True)
class UnitizingReport:
    length: int
    coders: int
    per_code: dict[int, UnitizingCodeResult]
    observed_disagreement: float  # Σ_c cDo over codes with cDe > 0
    expected_disagreement: float  # Σ_c cDe over the same codes
    alpha: float | None


def prepare_layers(
    layers: Sequence[Iterable[SpanLike]],
    length: int,
    code_ids: np.ndarray,
    counted: Iterable[tuple[int, int]] | None = None,
) -> tuple[list[Layer], int]:
    """Codings → per coder merged units in continuum coordinates, and the continuum length."""
    cmap = CountedMap(*normalise_counted(counted, length))
    out = []
    for spans in layers:
        codes, s, e = span_arrays(spans, length)
        k, known = code_index(code_ids, codes)
        merged = merge_overlapping(Layer(k[known], s[known], e[known]), length + 1)
        if counted is not None:
            merged = cmap.compress(merged)
        out.append(merged)
    return out, cmap.total


def concatenate(parts: Sequence[tuple[Sequence[Layer], int]]) -> tuple[list[Layer], int]:
    """Pool transcripts: lay their continua end to end (same coders, same code index)."""
    if not parts:
        return [], 0
    m = len(parts[0][0])
    offsets = np.cumsum([0] + [length for _, length in parts])
    out = []
    for i in range(m):
        k = np.concatenate([p[0][i].k for p in parts])
        s = np.concatenate([p[0][i].s + off for p, off in zip(parts, offsets, strict=False)])
        e = np.concatenate([p[0][i].e + off for p, off in zip(parts, offsets, strict=False)])
        order = np.lexsort((s, k))
        out.append(Layer(k[order], s[order], e[order]))
    return out, int(offsets[-1])


def _gaps(layer: Layer, length: int, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code index, length) of every gap of one coder, for the active codes."""
    k, s, e = layer.k, layer.s, layer.e
    if len(k):
        same = np.concatenate(([False], k[1:] == k[:-1]))
        prev_end = np.where(same, np.concatenate(([0], e[:-1])), 0)
        before = s - prev_end
        last = np.concatenate((k[1:] != k[:-1], [True]))
        after = length - e[last]
        gk = np.concatenate((k, k[last]))
        gl = np.concatenate((before, after))
    else:
        gk = gl = np.zeros(0, dtype=np.int64)
    used = np.zeros(len(active), dtype=bool)
    used[k] = True
    empty = np.flatnonzero(active & ~used)
    gk = np.concatenate((gk, empty))
    gl = np.concatenate((gl, np.full(len(empty), length, dtype=np.int64)))
    keep = gl > 0
    return gk[keep], gl[keep]


def alpha_u_from_layers(
    layers: Sequence[Layer], length: int, code_ids: np.ndarray
) -> UnitizingReport:
    """α_U per code and overall from prepared layers (see :func:`prepare_layers`)."""
    m, n_codes, big_l = len(layers), len(code_ids), length
    if m < 2:
        raise ValueError("unitizing alpha needs at least two coders")
    block = big_l + 1
    units = np.stack([np.bincount(lay.k, minlength=n_codes) for lay in layers])
    coded = np.stack(
        [np.bincount(lay.k, weights=lay.e - lay.s, minlength=n_codes) for lay in layers]
    ).astype(np.int64)
    n_c = units.sum(axis=0)
    active = n_c > 0

    # Observed: Σ over unordered coder pairs, doubled for ordered pairs.
    observed = np.zeros(n_codes, dtype=np.int64)
    for i in range(m):
        for j in range(i + 1, m):
            a, b = layers[i], layers[j]
            pa, pb = overlap_pairs(a, b, block)
            d2 = (a.s[pa] - b.s[pb]) ** 2 + (a.e[pa] - b.e[pb]) ** 2
            observed += np.bincount(a.k[pa], weights=d2, minlength=n_codes).astype(np.int64)
            for lay, hits in ((a, pa), (b, pb)):
                alone = np.bincount(hits, minlength=len(lay)) == 0
                ln = (lay.e - lay.s)[alone]
                observed += np.bincount(lay.k[alone], weights=ln * ln, minlength=n_codes).astype(
                    np.int64
                )
    observed *= 2

    # Expected: every unit of every coder against every coder's gaps of the same code.
    gk, gl = [], []
    for lay in layers:
        k, g = _gaps(lay, big_l, active)
        gk.append(k)
        gl.append(g)
    gk, gl = np.concatenate(gk), np.concatenate(gl)
    gkey = gk * block + gl
    order = np.argsort(gkey, kind="stable")
    gkey, gl = gkey[order], gl[order].astype(np.float64)
    gsum = np.concatenate(([0.0], np.cumsum(gl)))
    block_end = np.searchsorted(gkey, (np.arange(n_codes) + 1) * block, side="left")

    uk = np.concatenate([lay.k for lay in layers])
    ul = np.concatenate([lay.e - lay.s for lay in layers]).astype(np.float64)
    pos = np.searchsorted(gkey, uk * block + ul.astype(np.int64), side="left")
    end = block_end[uk]
    g_count = end - pos
    g_total = gsum[end] - gsum[pos]
    within = (n_c[uk] - 1) * (2 * ul**3 - 3 * ul**2 + ul) / 3.0
    against_gaps = ul**2 * (g_total - (ul - 1) * g_count)
    numerator = np.bincount(uk, weights=within + against_gaps, minlength=n_codes)
    ml = float(m * big_l)
    denominator = ml * (ml - 1) - np.bincount(uk, weights=ul * (ul - 1), minlength=n_codes)

    per_code: dict[int, UnitizingCodeResult] = {}
    do_total = de_total = 0.0
    units_t, coded_t = units.T.tolist(), coded.T.tolist()
    obs, num, den = observed.tolist(), numerator.tolist(), denominator.tolist()
    scale = m * (m - 1) * big_l * big_l
    for idx, code in enumerate(code_ids.tolist()):
        do = de = alpha = None
        if big_l > 0:
            do = obs[idx] / scale
            if den[idx] > 0:
                de = 2.0 / big_l * num[idx] / den[idx]
        if do is not None and de is not None and de > 0:
            alpha = 1.0 - do / de
            do_total += do
            de_total += de
        per_code[code] = UnitizingCodeResult(
            code=code,
            length=big_l,
            coders=m,
            units=tuple(units_t[idx]),
            coded=tuple(coded_t[idx]),
            observed_sum=obs[idx],
            observed_disagreement=do,
            expected_numerator=num[idx],
            expected_denominator=den[idx],
            expected_disagreement=de,
            alpha=alpha,
        )
    overall = 1.0 - do_total / de_total if de_total > 0 else None
    return UnitizingReport(big_l, m, per_code, do_total, de_total, overall)


def unitizing_alpha(
    layers: Sequence[Iterable[SpanLike]],
    length: int,
    *,
    codes: Iterable[int] | None = None,
    counted: Iterable[tuple[int, int]] | None = None,
) -> UnitizingReport:
    """Krippendorff's α_U per code and overall for m ≥ 2 coders' codings of one text.

    ``length``: code points in the text (the continuum). ``codes``: codes to report (default:
    every code used). ``counted``: stretches whose code points count (default: all).
    """
    layers = [list(layer) for layer in layers]
    if codes is None:
        used = [span_arrays(layer, length)[0] for layer in layers]
        code_ids = np.unique(np.concatenate(used)) if used else np.zeros(0, dtype=np.int64)
    else:
        code_ids = np.unique(np.fromiter(codes, dtype=np.int64))
    prepared, big_l = prepare_layers(layers, length, code_ids, counted)
    return alpha_u_from_layers(prepared, big_l, code_ids)
