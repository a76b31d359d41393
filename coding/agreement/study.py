"""All coefficients for one transcript, and pooled over the transcripts of a study.

A transcript's figures depend on that transcript alone: the same function on the same data
gives them on the transcript's own page, in the study's per-transcript table and in a recorded
round, whichever other transcripts are compared beside it.

Pooling follows each coefficient's own logic:

- kappa / percent agreement: per code, the 2×2 table of all transcripts' characters pooled (the
  headline), NVivo's average of the per-transcript values weighted by transcript size beside it;
  across codes, weighted by the characters coded at each code (``kappa.kappa_over_codes``, for one
  transcript and for many);
- nominal alpha on utterances: the units of all transcripts pooled (coincidence matrices add up).
  Per code, every compared transcript's turns are units. Overall, a transcript's units are its
  turns × the codes either coder applied *in that transcript*: a code used only elsewhere in the
  study adds nothing to it (otherwise each newly used code would add "absent, absent" pairs and
  move every other transcript's figure), and the study's overall value pools exactly those units;
- α_U: the transcripts' continua concatenated into one continuum (a code nobody used in a
  transcript has no expected disagreement there and drops out of its overall value by itself).
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._intervals import Layer, SpanLike, UtteranceLike, as_utterance, span_arrays, utterance_arrays
from .alpha import AlphaSums, UtteranceAlphaReport, alpha_sums, report
from .kappa import (
    KappaOverCodes,
    KappaResult,
    KappaSummary,
    combine_kappa,
    kappa_over_codes,
    nvivo_kappa,
)
from .unitizing import (
    UnitizingReport,
    alpha_u_from_layers,
    concatenate,
    prepare_layers,
)


@dataclass(frozen=True)
class TranscriptInput:
    """One transcript's data, as plain values (e.g. from ``values_list`` querysets)."""

    key: Hashable  # e.g. the transcript id
    length: int  # code points in the text
    layers: Sequence[Sequence[SpanLike] | np.ndarray]  # one per coder: (code, start, end) rows
    utterances: Sequence[UtteranceLike] = ()  # (start, end, role) rows
    missing: Sequence[Collection[int]] | None = None  # per coder: utterance indexes with no value


@dataclass(frozen=True)
class TranscriptAgreement:
    key: Hashable
    counted_length: int  # characters counted (all, or those in the selected roles' turns)
    kappa: dict[int, KappaResult] | None  # two coders only
    utterance_alpha: UtteranceAlphaReport | None  # None without utterances
    unitizing: UnitizingReport
    _prepared: tuple[list[Layer], int] = field(repr=False, compare=False, default=([], 0))
    _alpha_sums: AlphaSums | None = field(repr=False, compare=False, default=None)

    @property
    def kappa_overall(self) -> KappaOverCodes | None:
        """This transcript's kappa across codes, by the very function that gives a study's from
        its pooled tables (over one transcript the pooled tables are this transcript's): a
        transcript has one kappa wherever it is shown."""
        return kappa_over_codes(self.kappa.values()) if self.kappa is not None else None


@dataclass(frozen=True)
class StudyAgreement:
    codes: tuple[int, ...]
    transcripts: tuple[TranscriptAgreement, ...]
    kappa: KappaSummary | None
    utterance_alpha: UtteranceAlphaReport | None
    unitizing: UnitizingReport


def counted_spans(
    utterances: Iterable[UtteranceLike], roles: Collection[str]
) -> list[tuple[int, int]]:
    """The (start, end) of the utterances whose role is in ``roles``: the characters that count."""
    return [(u.start, u.end) for u in map(as_utterance, utterances) if u.role in roles]


def _transcript(
    t: TranscriptInput, code_ids: np.ndarray, roles: Collection[str] | None
) -> TranscriptAgreement:
    arrays = [span_arrays(layer, t.length) for layer in t.layers]
    rows = [np.stack(a, axis=1) for a in arrays]
    us, ue, role_list = utterance_arrays(t.utterances)
    counted = None
    if roles is not None:
        keep = [r in roles for r in role_list]
        counted = list(zip(us[keep].tolist(), ue[keep].tolist(), strict=True))
    codes = code_ids.tolist()
    # The codes this transcript's own overall alpha is over: those either coder applied here.
    used_here = np.isin(code_ids, np.concatenate([a[0] for a in arrays])) if arrays else None
    kappa = None
    if len(rows) == 2:
        kappa = nvivo_kappa(rows[0], rows[1], t.length, codes=codes, counted=counted)
    sums = alpha_report = None
    if len(us):
        sums = alpha_sums(
            arrays,
            us,
            ue,
            role_list,
            code_ids,
            only_roles=roles,
            missing=t.missing,
            overall_codes=used_here,
        )
        alpha_report = report(code_ids, sums)
    prepared, big_l = prepare_layers(rows, t.length, code_ids, counted)
    return TranscriptAgreement(
        key=t.key,
        counted_length=big_l,
        kappa=kappa,
        utterance_alpha=alpha_report,
        unitizing=alpha_u_from_layers(prepared, big_l, code_ids),
        _prepared=(prepared, big_l),
        _alpha_sums=sums,
    )


def _code_ids(transcripts: Sequence[TranscriptInput], codes: Iterable[int] | None) -> np.ndarray:
    if codes is not None:
        return np.unique(np.fromiter(codes, dtype=np.int64))
    used = [span_arrays(layer, t.length)[0] for t in transcripts for layer in t.layers]
    return np.unique(np.concatenate(used)) if used else np.zeros(0, dtype=np.int64)


def transcript_agreement(
    t: TranscriptInput,
    *,
    codes: Iterable[int] | None = None,
    roles: Collection[str] | None = None,
) -> TranscriptAgreement:
    """Kappa (two coders), utterance alpha (if utterances are given) and α_U for one transcript.

    ``codes``: the codes to report (default: every code used). ``roles``: count only the text of
    utterances with these roles ("speaker-aware agreement"); default: the whole text and every
    utterance.
    """
    return _transcript(_as_arrays(t), _code_ids([t], codes), roles)


def _as_arrays(t: TranscriptInput) -> TranscriptInput:
    """The same transcript with its layers as (n, 3) arrays, converted once."""
    layers = tuple(np.stack(span_arrays(layer, t.length), axis=1) for layer in t.layers)
    return TranscriptInput(t.key, t.length, layers, t.utterances, t.missing)


def study_agreement(
    transcripts: Iterable[TranscriptInput],
    *,
    codes: Iterable[int] | None = None,
    roles: Collection[str] | None = None,
) -> StudyAgreement:
    """Every transcript's coefficients and the study-wide ones, per code and overall.

    ``codes`` and ``roles`` as for :func:`transcript_agreement`; the default code list is every
    code used anywhere in the study, so all transcripts report the same codes.
    """
    ts = [_as_arrays(t) for t in transcripts]
    code_ids = _code_ids(ts, codes)
    per = [_transcript(t, code_ids, roles) for t in ts]
    kappas = [p.kappa for p in per if p.kappa is not None]
    kappa = combine_kappa(kappas) if kappas and len(kappas) == len(per) else None
    sums = [p._alpha_sums for p in per if p._alpha_sums is not None]
    alpha = report(code_ids, sum(sums[1:], sums[0])) if sums else None
    if per:
        pooled, big_l = concatenate([p._prepared for p in per])
        unitizing = alpha_u_from_layers(pooled, big_l, code_ids)
    else:
        unitizing = UnitizingReport(0, 0, {}, 0.0, 0.0, None)
    return StudyAgreement(
        codes=tuple(int(c) for c in code_ids),
        transcripts=tuple(per),
        kappa=kappa,
        utterance_alpha=alpha,
        unitizing=unitizing,
    )
