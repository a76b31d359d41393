"""Meaning saturation after Hennink, Kaiser & Marconi (2017), "Code saturation versus meaning
saturation: how many interviews are enough?", Qualitative Health Research 27(4): 591–608.

They distinguish *code saturation* (no new codes: the first-appearance curve) from *meaning
saturation*: a code's dimensions and nuances stop developing, which they traced through how
each code's description changed interview by interview. We read that from the codebook's
versions: per code, the interview after which its definition stopped changing is the last
interview in which a version of it was written (creation included: a code never redefined is
stable after the interview it was created in).

A version written outside any interview (a team meeting, a merge) carries ``None``: it cannot
be placed on the interview axis, so it does not move the point, but the result counts such
versions written *after* the last placed one, so a page can say "changed again later".
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeaningStability:
    stable_after: int | None  # the last interview during which the definition changed
    changed_in: tuple[int, ...]  # every interview during which it changed, in version order
    unplaced_after: int  # versions without an interview after the last placed one

    @property
    def changes(self) -> int:
        return len(self.changed_in)


def meaning_stability(
    versions: Mapping[Hashable, Sequence[int | None]],
) -> dict[Hashable, MeaningStability]:
    """Per code, from its definition versions in the order they were written (each tagged with
    the interview position during which it was written, or ``None``)."""
    out: dict[Hashable, MeaningStability] = {}
    for code, tags in versions.items():
        placed = [i for i, tag in enumerate(tags) if tag is not None]
        last = placed[-1] if placed else -1
        out[code] = MeaningStability(
            stable_after=max((t for t in tags if t is not None), default=None),
            changed_in=tuple(t for t in tags if t is not None),
            unplaced_after=sum(1 for t in tags[last + 1 :] if t is None),
        )
    return out


def codebook_meaning_stable_after(stability: Mapping[Hashable, MeaningStability]) -> int | None:
    """The interview after which no code's definition changed any more (``None`` if no
    change could be placed on an interview)."""
    placed = [s.stable_after for s in stability.values() if s.stable_after is not None]
    return max(placed, default=None)
