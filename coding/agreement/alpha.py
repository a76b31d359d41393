"""Krippendorff's alpha for nominal data, and its use on utterances as units.

Definition: Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability". Annenberg
School for Communication, University of Pennsylvania, departmental paper 43
(repository.upenn.edu/asc_papers/43); also Content Analysis (2nd ed., 2004), ch. 11.

For each unit u with m_u ≥ 2 values (units with fewer are not pairable and drop out), the
coincidence matrix gets o_ck += (number of c-k pairs of values in u) / (m_u − 1); n_c = Σ_k o_ck,
n = Σ_c n_c. Nominal: Do = (n − Σ_c o_cc) / n, De = (n² − Σ_c n_c²) / (n (n − 1)),
alpha = 1 − Do/De. Missing values simply reduce m_u.

alpha is undefined (None here) when De = 0, i.e. all pairable values are the same: with no
variation there is nothing to be reliable about (both Do and De are 0).

Cross-checked against the `krippendorff` package (PyPI, 0.9.0) in the tests.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ._intervals import SpanLike, UtteranceLike, code_index, span_arrays, utterance_arrays


@dataclass(frozen=True, slots=True)
class NominalAlphaResult:
    values: tuple  # the values, in the order of the coincidence matrix
    coincidences: tuple[tuple[float, ...], ...]  # o_ck
    units: int  # pairable units (m_u ≥ 2)
    pairable_values: float  # n
    observed_disagreement: float | None  # Do
    expected_disagreement: float | None  # De
    alpha: float | None


def alpha_from_coincidences(
    values: Sequence, o: np.ndarray | Sequence[Sequence[float]], units: int
) -> NominalAlphaResult:
    """Nominal alpha from a coincidence matrix ``o`` (values × values)."""
    rows = o.tolist() if isinstance(o, np.ndarray) else o
    if len(rows) == 2:  # the binary case, spelled out: it runs once per code and transcript
        (o00, o01), (o10, o11) = rows
        table = ((float(o00), float(o01)), (float(o10), float(o11)))
        n_c = [o00 + o01, o10 + o11]
        n = float(n_c[0] + n_c[1])
        if n <= 1:
            return NominalAlphaResult(tuple(values), table, units, n, None, None, None)
        do = (o01 + o10) / n
        de = (n * n - n_c[0] * n_c[0] - n_c[1] * n_c[1]) / (n * (n - 1))
        alpha = None if de <= 1e-12 * n else 1.0 - do / de
        return NominalAlphaResult(tuple(values), table, units, n, do, de, alpha)
    table = tuple(tuple(float(x) for x in row) for row in rows)
    n_c = [sum(row) for row in table]
    n = sum(n_c)
    if n <= 1:
        return NominalAlphaResult(tuple(values), table, units, n, None, None, None)
    do = (n - sum(table[i][i] for i in range(len(table)))) / n
    de = (n * n - sum(x * x for x in n_c)) / (n * (n - 1))
    alpha = None if de <= 1e-12 * n else 1.0 - do / de
    return NominalAlphaResult(tuple(values), table, units, n, do, de, alpha)


def nominal_alpha(data: Sequence[Sequence[object]] | np.ndarray) -> NominalAlphaResult:
    """Nominal alpha of reliability data: one row per coder, one column per unit.

    Missing values are ``None`` or NaN.
    """
    rows = [list(r) for r in data]
    if not rows:
        return alpha_from_coincidences((), np.zeros((0, 0)), 0)

    def missing(v: object) -> bool:
        return v is None or (isinstance(v, float) and np.isnan(v))

    values = sorted({v for r in rows for v in r if not missing(v)}, key=lambda v: (str(type(v)), v))
    index = {v: i for i, v in enumerate(values)}
    n_units = max(len(r) for r in rows)
    counts = np.zeros((n_units, len(values)))
    for r in rows:
        for u, v in enumerate(r):
            if not missing(v):
                counts[u, index[v]] += 1
    return coincidences_from_counts(values, counts)


def coincidences_from_counts(values: Sequence, counts: np.ndarray) -> NominalAlphaResult:
    """Alpha from per-unit value counts (units × values)."""
    m_u = counts.sum(axis=1)
    keep = m_u >= 2
    c, w = counts[keep], 1.0 / (m_u[keep] - 1)
    o = (c * w[:, None]).T @ c - np.diag((c * w[:, None]).sum(axis=0))
    return alpha_from_coincidences(values, o, int(keep.sum()))


# --- utterances as units ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UtteranceAlphaResult:
    """One code: was it applied (any overlap) in each utterance, per coder; alpha on that."""

    code: int
    units: int  # utterances considered (after the role filter)
    present: tuple[int, ...]  # per coder: utterances where the coder applied the code
    missing: tuple[int, ...]  # per coder: utterances with no value from the coder
    result: NominalAlphaResult  # values (0, 1) = (absent, present)

    @property
    def alpha(self) -> float | None:
        return self.result.alpha


@dataclass(frozen=True, slots=True)
class UtteranceAlphaReport:
    per_code: dict[int, UtteranceAlphaResult]
    overall: NominalAlphaResult  # every (utterance, code) pair of the overall codes, pooled


@dataclass(frozen=True, slots=True)
class AlphaSums:
    """What pools across transcripts by adding up: per-code coincidences and counts, and the
    overall coincidences over the codes that count for the overall value."""

    o: np.ndarray  # codes × 2 × 2 coincidence matrices
    units: np.ndarray  # codes: pairable units
    present: np.ndarray  # coders × codes
    missing: np.ndarray  # coders: utterances without a value
    utterances: int
    overall_o: np.ndarray  # 2 × 2: the coincidences of the overall codes, added up
    overall_units: int

    def __add__(self, other: AlphaSums) -> AlphaSums:
        return AlphaSums(
            self.o + other.o,
            self.units + other.units,
            self.present + other.present,
            self.missing + other.missing,
            self.utterances + other.utterances,
            self.overall_o + other.overall_o,
            self.overall_units + other.overall_units,
        )


def presence(
    layers: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    us: np.ndarray,
    ue: np.ndarray,
    code_ids: np.ndarray,
) -> np.ndarray:
    """Bool array (coders × codes × utterances): the coder's coding of the code overlaps it.

    ``layers`` are (codes, starts, ends) arrays; utterances must not overlap each other.
    """
    in_order = bool((us[1:] >= us[:-1]).all())
    order = np.arange(len(us)) if in_order else np.argsort(us, kind="stable")
    ss, se = us[order], ue[order]
    if len(ss) > 1 and (ss[1:] < se[:-1]).any():
        raise ValueError("utterances overlap")
    n_codes, n_utt = len(code_ids), len(us)
    out = np.zeros((len(layers), n_codes, n_utt), dtype=bool)
    for i, (codes, s, e) in enumerate(layers):
        k, known = code_index(code_ids, codes)
        k, s, e = k[known], s[known], e[known]
        lo = np.searchsorted(se, s, side="right")  # first utterance ending after the start
        hi = np.searchsorted(ss, e, side="left")  # first utterance starting at/after the end
        hit = hi > lo
        diff = np.bincount(k[hit] * (n_utt + 1) + lo[hit], minlength=n_codes * (n_utt + 1))
        diff = diff - np.bincount(k[hit] * (n_utt + 1) + hi[hit], minlength=n_codes * (n_utt + 1))
        cover = np.cumsum(diff.reshape(n_codes, n_utt + 1)[:, :-1], axis=1) > 0
        if in_order:
            out[i] = cover
        else:
            out[i][:, order] = cover
    return out


def alpha_sums(
    layers: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    us: np.ndarray,
    ue: np.ndarray,
    roles: Sequence[str],
    code_ids: np.ndarray,
    *,
    only_roles: Collection[str] | None = None,
    missing: Sequence[Collection[int]] | None = None,
    overall_codes: np.ndarray | None = None,
) -> AlphaSums:
    """``overall_codes``: a bool mask over ``code_ids``, the codes whose (utterance, code) pairs
    make the overall value (default: all)."""
    present = presence(layers, us, ue, code_ids)
    miss = np.zeros((len(layers), len(us)), dtype=bool)
    if missing is not None:
        for i, idx in enumerate(missing):
            miss[i, list(idx)] = True
    if only_roles is not None:
        keep = np.array([r in only_roles for r in roles], dtype=bool)
        present, miss = present[:, :, keep], miss[:, keep]
    if miss.any():
        present = present & ~miss[:, None, :]
    n1 = present.sum(axis=0, dtype=np.float64)  # codes × utterances: coders saying "present"
    mu = (~miss).sum(axis=0, dtype=np.float64)  # utterances: coders with a value
    n0 = mu - n1
    pair = mu >= 2
    w = np.where(pair, 1.0 / np.maximum(mu - 1, 1), 0.0)  # the same for every code
    o11 = (n1 * (n1 - 1)) @ w
    o00 = (n0 * (n0 - 1)) @ w
    o01 = (n0 * n1) @ w
    o = np.stack([np.stack([o00, o01], -1), np.stack([o01, o11], -1)], -2)
    n_codes = len(code_ids)
    units = np.full(n_codes, int(pair.sum()), dtype=np.int64)  # same units for every code
    chosen = np.ones(n_codes, dtype=bool) if overall_codes is None else overall_codes
    return AlphaSums(
        o=o,
        units=units,
        present=present.sum(axis=2, dtype=np.int64),
        missing=miss.sum(axis=1),
        utterances=present.shape[2],
        overall_o=o[chosen].sum(axis=0) if n_codes else np.zeros((2, 2)),
        overall_units=int(units[chosen].sum()),
    )


def report(code_ids: np.ndarray, sums: AlphaSums) -> UtteranceAlphaReport:
    """Per-code and overall results from (possibly pooled) sums."""
    present = sums.present.T.tolist()
    missing = tuple(int(x) for x in sums.missing)
    units = sums.units.tolist()
    o = sums.o.tolist()
    per_code = {
        c: UtteranceAlphaResult(
            code=c,
            units=sums.utterances,
            present=tuple(present[i]),
            missing=missing,
            result=alpha_from_coincidences((0, 1), o[i], units[i]),
        )
        for i, c in enumerate(code_ids.tolist())
    }
    overall = alpha_from_coincidences((0, 1), sums.overall_o, sums.overall_units)
    return UtteranceAlphaReport(per_code=per_code, overall=overall)


def utterance_alpha(
    layers: Sequence[Iterable[SpanLike] | np.ndarray],
    utterances: Sequence[UtteranceLike],
    length: int,
    *,
    codes: Iterable[int] | None = None,
    roles: Collection[str] | None = None,
    missing: Sequence[Collection[int]] | None = None,
) -> UtteranceAlphaReport:
    """Nominal alpha per code with utterances as units and present/absent as values.

    A coder's value for (utterance, code) is 1 when any of the coder's codings of the code
    shares a code point with the utterance, else 0. ``roles``: only utterances with these roles
    are units (default: all). ``missing``: per coder, indexes (into ``utterances``) of
    utterances the coder gave no value for (e.g. not reached). The overall value pools every
    (utterance, code) pair as a unit.
    """
    arrays = [span_arrays(layer, length) for layer in layers]
    if codes is None:
        used = [a[0] for a in arrays]
        code_ids = np.unique(np.concatenate(used)) if used else np.zeros(0, dtype=np.int64)
    else:
        code_ids = np.unique(np.fromiter(codes, dtype=np.int64))
    us, ue, role_list = utterance_arrays(utterances)
    sums = alpha_sums(arrays, us, ue, role_list, code_ids, only_roles=roles, missing=missing)
    return report(code_ids, sums)
