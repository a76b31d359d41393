"""Thematic saturation after Guest, Namey & Chen (2020), "A simple method to assess and report
thematic saturation in qualitative research", PLOS ONE 15(5): e0232076,
doi:10.1371/journal.pone.0232076.

The method has three parameters:

- **base size** *b*: the first *b* interviews; the number of distinct items (themes) in them is
  the denominator;
- **run length** *r*: *r* consecutive interviews after the base; the items first appearing in
  the run (new with respect to *every* earlier interview) are the numerator;
- **new-information threshold** *t*: the run passes when new / base ≤ *t*. The paper reports
  ≤ 5 % and 0 % (no new information); both are our defaults.

Saturation is reported as "*X* + *r*": the first passing run starts after interview *X*, and
the *r* interviews of the run confirm it. The paper's worked (hypothetical) example — base 4 →
37 themes, first run of 2, interviews 5–6, adds 7 new themes: 7/37 = 19 % — is in the tests.
Its bootstrap results (e.g. a median of 11 + 2 interviews at 0 % with runs of 2, as secondary
summaries report them) come from the authors' datasets and cannot be recomputed here.

What we could check from here: the abstract (base size, run length, new-information threshold;
validated by bootstrapping three interview datasets) and the worked example, through the issue
and secondary summaries. The paper's full text was not reachable.

**Denominator.** It stays the base's count for every run: the issue quotes the paper as "their
unique themes are the denominator", the worked example divides by the base's 37, and a growing
denominator would make the same number of new themes look smaller as the study grows. We could
not read the paper's full text here to confirm this beyond the worked example.

**Sliding or stepping.** ``"sliding"`` advances the run by one interview (runs 5–6, 6–7, 7–8,
…); ``"stepping"`` advances it by *r* (5–6, 7–8, 9–10, …). Sliding is the default: it examines
every window of *r* consecutive interviews after the base, so the reported point does not depend
on where a chunk boundary happens to fall, and stepping's runs are a subset of sliding's (sliding
never reports saturation later). We could not read the paper's method section in full from
here, so we cannot quote its own wording on this choice; a third-party implementation of the
method (an R package citing the paper's DOI) also slides by one interview. Stepping is offered for
teams who read the paper as disjoint chunks. Only full runs are evaluated: a trailing partial
run would pass with fewer interviews of evidence than the parameters promise.

Comparisons are exact (``fractions.Fraction``): 2/37 = 5.41 % does not pass ≤ 5 %, however the
percentage is rounded for display.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from .curve import first_appearances

RunMode = Literal["sliding", "stepping"]
SLIDING: RunMode = "sliding"
STEPPING: RunMode = "stepping"
DEFAULT_THRESHOLDS: tuple[int, ...] = (5, 0)  # per cent


@dataclass(frozen=True, slots=True)
class Run:
    """One run: interviews ``first``..``last`` (positions from 1) against the base."""

    first: int
    last: int
    new: frozenset[Hashable]  # items first appearing in the run
    denominator: int  # distinct items in the base

    @property
    def interviews(self) -> tuple[int, ...]:
        return tuple(range(self.first, self.last + 1))

    @property
    def new_count(self) -> int:
        return len(self.new)

    @property
    def fraction(self) -> Fraction:
        """New / base, exact: the number every comparison uses."""
        return Fraction(self.new_count, self.denominator)

    @property
    def percent(self) -> float:
        """For display only (compare with :attr:`fraction`)."""
        return float(self.fraction * 100)

    def passes(self, threshold_percent: Fraction) -> bool:
        return self.fraction * 100 <= threshold_percent


@dataclass(frozen=True, slots=True)
class GuestResult:
    """The verdict for one threshold."""

    threshold: Fraction  # per cent
    base: int
    run_length: int
    run: Run | None  # the first passing run, if any

    @property
    def reached(self) -> bool:
        return self.run is not None

    @property
    def at(self) -> int | None:
        """*X* in "X + r": the last interview before the first passing run."""
        return None if self.run is None else self.run.first - 1

    @property
    def label(self) -> str:
        params = f"base {self.base}, run {self.run_length}, ≤ {percent_text(self.threshold)} %"
        if self.run is None:
            return f"not reached ({params})"
        return f"saturation at n = {self.at} + {self.run_length} ({params})"


@dataclass(frozen=True, slots=True)
class GuestReport:
    base: int
    run_length: int
    mode: RunMode
    denominator: int  # distinct items in the base
    runs: tuple[Run, ...]  # every full run, in order
    results: tuple[GuestResult, ...]  # one per threshold, in the order given
    reason: str  # why no run could be evaluated ("" when runs exist)

    def result(self, threshold_percent: int | str | Fraction | Decimal) -> GuestResult:
        wanted = as_percent(threshold_percent)
        for result in self.results:
            if result.threshold == wanted:
                return result
        raise KeyError(f"no result for ≤ {threshold_percent} %: it was not among the thresholds")


def as_percent(value: int | str | float | Fraction | Decimal) -> Fraction:
    """A threshold in per cent as an exact fraction ("5", 5, 2.5 → 5/1, 5/1, 5/2).

    Floats go through their shortest decimal text, so 2.5 and 0.1 mean what they read as."""
    exact = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    if not 0 <= exact <= 100:
        raise ValueError(f"a threshold is a percentage from 0 to 100, not {value}")
    return exact


def percent_text(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f").rstrip("0")


def guest_saturation(
    interviews: Sequence[Iterable[Hashable]],
    *,
    base: int = 4,
    run_length: int = 2,
    thresholds: Iterable[int | str | float | Fraction | Decimal] = DEFAULT_THRESHOLDS,
    mode: RunMode = SLIDING,
) -> GuestReport:
    """Every run of ``run_length`` interviews after the first ``base`` ones, and for each
    threshold the first run whose new items are ≤ threshold % of the base's distinct items."""
    if base < 1 or run_length < 1:
        raise ValueError("base size and run length are at least 1 interview")
    if mode not in (SLIDING, STEPPING):
        raise ValueError(f"run mode is 'sliding' or 'stepping', not {mode!r}")
    limits = tuple(as_percent(t) for t in thresholds)
    curve = first_appearances(interviews)
    denominator = curve[base - 1].cumulative if len(curve) >= base else 0
    runs: list[Run] = []
    reason = ""
    if len(curve) < base + run_length:
        reason = (
            f"{len(curve)} interview(s): a base of {base} and one run of {run_length} "
            f"need {base + run_length}"
        )
    elif denominator == 0:
        reason = f"the first {base} interview(s) contain nothing to compare against"
    else:
        step = 1 if mode == SLIDING else run_length
        for first in range(base + 1, len(curve) - run_length + 2, step):
            window = curve[first - 1 : first - 1 + run_length]
            new = frozenset().union(*(point.new for point in window))
            runs.append(Run(first, first + run_length - 1, new, denominator))
    results = tuple(
        GuestResult(limit, base, run_length, next((r for r in runs if r.passes(limit)), None))
        for limit in limits
    )
    return GuestReport(base, run_length, mode, denominator, tuple(runs), results, reason)
