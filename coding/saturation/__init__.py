"""Saturation: the pure computing core (issue #13). No Django, no other app.

Input: the interviews in interview order, each as the set of items (theme or code ids, or
tagged pairs) present in it — e.g. in its consensus layer. Output: plain dataclasses with the
numbers a page, a decision snapshot or a command can show.

- :func:`first_appearances` — new items per interview and the cumulative curve, split by a
  caller-given kind (``curve.py``);
- :func:`guest_saturation` — Guest, Namey & Chen (2020): base size, run length, thresholds,
  sliding or stepping runs, exact fractions (``guest.py``);
- :func:`francis_stop`, :func:`nothing_new_in_last` — Francis et al. (2010)'s initial sample +
  stopping criterion, and "no new high-level themes in the last k interviews" (``stopping.py``);
- :func:`meaning_stability` — Hennink, Kaiser & Marconi (2017): per code, the interview after
  which its definition stopped changing (``meaning.py``).
"""

from .curve import InterviewNew, first_appearances, new_counts
from .guest import (
    DEFAULT_THRESHOLDS,
    SLIDING,
    STEPPING,
    GuestReport,
    GuestResult,
    Run,
    RunMode,
    as_percent,
    guest_saturation,
    percent_text,
)
from .meaning import MeaningStability, codebook_meaning_stable_after, meaning_stability
from .stopping import francis_stop, nothing_new_in_last

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SLIDING",
    "STEPPING",
    "GuestReport",
    "GuestResult",
    "InterviewNew",
    "MeaningStability",
    "Run",
    "RunMode",
    "as_percent",
    "codebook_meaning_stable_after",
    "first_appearances",
    "francis_stop",
    "guest_saturation",
    "meaning_stability",
    "new_counts",
    "nothing_new_in_last",
    "percent_text",
]
