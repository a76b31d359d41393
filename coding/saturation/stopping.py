"""Stopping criteria counted in interviews with nothing new.

- Francis et al. (2010), "What is an adequate sample size? Operationalising data saturation for
  theory-based interview studies", Psychology & Health 25(10): 1229–1245: an *initial analysis
  sample* of n interviews, then a *stopping criterion* of k further consecutive interviews in
  which no new item appears (they proposed n = 10, k = 3). The interviews counted toward k all
  come after the initial sample; a new item restarts the count.
- The criterion of the seed paper (§4.2.3, "no additional high-level themes had emerged in recent
  interviews"): at each interview, whether the last k interviews added no new theme.

"New" is relative to every earlier interview in the given order (see :mod:`.curve`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence

from .curve import new_counts


def francis_stop(
    interviews: Sequence[Iterable[Hashable]], *, initial: int = 10, consecutive: int = 3
) -> int | None:
    """The interview (position from 1) at which data collection may stop: the last of the
    first ``consecutive`` interviews in a row after the first ``initial`` ones that add nothing
    new. ``None`` while the criterion is not met."""
    if initial < 0 or consecutive < 1:
        raise ValueError("the initial sample is ≥ 0 interviews and the criterion ≥ 1")
    quiet = 0
    for position, count in enumerate(new_counts(interviews), start=1):
        if position <= initial:
            continue
        quiet = quiet + 1 if count == 0 else 0
        if quiet == consecutive:
            return position
    return None


def nothing_new_in_last(
    interviews: Sequence[Iterable[Hashable]], *, last: int = 3
) -> list[bool | None]:
    """Per interview: did the last ``last`` interviews (this one included) add nothing new?
    ``None`` for the first ``last - 1`` interviews, which cannot be judged yet."""
    if last < 1:
        raise ValueError("look back over at least 1 interview")
    counts = new_counts(interviews)
    return [
        None if position < last else not any(counts[position - last : position])
        for position in range(1, len(counts) + 1)
    ]
