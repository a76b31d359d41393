"""Intercoder agreement: the pure numeric core (issue #5). No Django models here.

Inputs are plain values: codings as ``Span(code, start, end)`` or ``(code, start, end)`` rows
(Unicode code points, end exclusive), utterances as ``Utterance(start, end, role)`` or
``(start, end, role)`` rows. Every result carries the counts behind its numbers.

- :func:`nvivo_kappa`, :func:`combine_kappa`, :func:`kappa_over_codes` — percent agreement and
  Cohen's kappa on characters, as NVivo's Coding Comparison query, pooled across transcripts
  (``kappa.py``);
- :func:`nominal_alpha`, :func:`utterance_alpha` — Krippendorff's alpha, nominal, with
  utterances as units and code present/absent as values (``alpha.py``);
- :func:`unitizing_alpha` — Krippendorff's α_U per code and overall (``unitizing.py``);
- :func:`find_disagreements` — where two layers disagree (``disagreements.py``);
- :func:`transcript_agreement`, :func:`study_agreement` — everything for one transcript and
  pooled over a study (``study.py``).
"""

from ._intervals import Span, Utterance
from .alpha import (
    NominalAlphaResult,
    UtteranceAlphaReport,
    UtteranceAlphaResult,
    nominal_alpha,
    utterance_alpha,
)
from .disagreements import (
    BOUNDARY,
    DIFFERENT_CODE,
    MISSING_IN_A,
    MISSING_IN_B,
    SAME_UTTERANCE,
    Disagreement,
    find_disagreements,
)
from .kappa import (
    CodeKappaSummary,
    KappaOverCodes,
    KappaResult,
    KappaSummary,
    combine_kappa,
    kappa_over_codes,
    nvivo_kappa,
)
from .study import (
    StudyAgreement,
    TranscriptAgreement,
    TranscriptInput,
    counted_spans,
    study_agreement,
    transcript_agreement,
)
from .unitizing import UnitizingCodeResult, UnitizingReport, unitizing_alpha

__all__ = [
    "BOUNDARY",
    "DIFFERENT_CODE",
    "MISSING_IN_A",
    "MISSING_IN_B",
    "SAME_UTTERANCE",
    "CodeKappaSummary",
    "Disagreement",
    "KappaOverCodes",
    "KappaResult",
    "KappaSummary",
    "NominalAlphaResult",
    "Span",
    "StudyAgreement",
    "TranscriptAgreement",
    "TranscriptInput",
    "UnitizingCodeResult",
    "UnitizingReport",
    "Utterance",
    "UtteranceAlphaReport",
    "UtteranceAlphaResult",
    "combine_kappa",
    "counted_spans",
    "find_disagreements",
    "kappa_over_codes",
    "nominal_alpha",
    "nvivo_kappa",
    "study_agreement",
    "transcript_agreement",
    "unitizing_alpha",
    "utterance_alpha",
]
