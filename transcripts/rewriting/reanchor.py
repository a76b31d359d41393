"""Moving spans onto a corrected text: pure functions, no database.

When a transcript's text is corrected (a typo, a missed redaction), every span that points into
it — codings and speaker turns — must keep covering the same words. A character diff says which
characters of the old text survive where in the new one; each span is moved with them. Letters
a rewritten phrase shares with the old one only by chance are not taken as surviving (see
``_without_chance_matches``): a rewrite is one replacement, not a scatter of kept letters.

Offsets count Unicode code points, 0-based, end exclusive (see ``transcripts.models``), which is
what Python string indexing counts: an emoji or a CJK character is one position.

How a coding moves (``reanchor``):

- A change entirely before or after the span shifts it; the span's words are untouched.
- Text inserted exactly at the span's start or end stays outside it: the coder chose those
  words, not what is later typed next to them.
- A change touching characters inside the span (an insertion strictly inside, a deletion or
  replacement overlapping it) keeps the span over the words that survive and the words that
  replace them, and marks it ``changed`` (a coder should re-check it).
- A span whose characters are all deleted, with nothing (or only blank space) replacing them,
  is ``lost``. Nothing here drops it: the caller refuses such a correction.
- A changed span loses blank space left at its edges (deleting "brown " from a coding of
  "quick brown" leaves "quick", not "quick ").

Speaker turns move the same way (``remap_turns``) with two differences: text inserted at a
turn's edge joins the turn (a correction typed at the start or end of a turn belongs to it), and
where two turns would claim the same new text the earlier one keeps it, so turns never overlap.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

Span = tuple[int, int]
Edit = tuple[int, int, str]  # replace old[start:end] by the string


@dataclass(frozen=True)
class Change:
    """One stretch that differs: ``old[old_start:old_end]`` became ``new[new_start:new_end]``.

    An insertion has ``old_start == old_end``, a deletion ``new_start == new_end``.
    """

    old_start: int
    old_end: int
    new_start: int
    new_end: int

    @property
    def is_insertion(self) -> bool:
        return self.old_start == self.old_end


@dataclass(frozen=True)
class Anchored:
    """Where a span lies in the new text, and what happened to its characters."""

    start: int
    end: int
    changed: bool = False  # some of its characters were changed, removed or added
    lost: bool = False  # nothing of it is left: the caller must refuse the correction


# --- the character diff --------------------------------------------------------------------


def diff(old: str, new: str) -> list[Change]:
    """The changes that turn ``old`` into ``new``, in text order.

    The common prefix and suffix are cut off first: SequenceMatcher compares every character
    with every other, so a one-letter fix in a 60,000-character transcript would otherwise take
    minutes. ``autojunk=False`` because in long texts its heuristic treats frequent characters
    (the space, "e") as junk and then aligns words badly.
    """
    if old == new:
        return []
    prefix = 0
    shortest = min(len(old), len(new))
    while prefix < shortest and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shortest - prefix and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    a, b = old[prefix : len(old) - suffix], new[prefix : len(new) - suffix]
    if not a or not b:  # a pure insertion or deletion: nothing to align
        return [Change(prefix, prefix + len(a), prefix, prefix + len(b))]
    opcodes = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return _merged(
        Change(prefix + i1, prefix + i2, prefix + j1, prefix + j2)
        for equal, i1, i2, j1, j2 in _without_chance_matches(opcodes)
        if not equal
    )


def _without_chance_matches(opcodes) -> list[tuple[bool, int, int, int, int]]:
    """The diff's stretches, with letters that match only by chance counted as changed.

    When a sentence is rewritten, SequenceMatcher still pairs up the odd letter the old and
    new words share ("Nothing." and "Compute, first." share an "o", a "t"…); a coding would
    then cling to those letters. As in diff-match-patch's semantic cleanup, an unchanged
    stretch no longer than the changes on both sides of it is taken as part of the change.
    """
    stretches = [(tag == "equal", i1, i2, j1, j2) for tag, i1, i2, j1, j2 in opcodes]
    while True:
        runs = []  # neighbouring changed stretches joined: runs alternate equal and changed
        for stretch in stretches:
            if runs and not runs[-1][0] and not stretch[0]:
                stretch = (False, runs[-1][1], stretch[2], runs[-1][3], stretch[4])
                runs.pop()
            runs.append(stretch)
        chance = {
            k
            for k in range(1, len(runs) - 1)
            if runs[k][0] and _size(runs[k]) <= min(_size(runs[k - 1]), _size(runs[k + 1]))
        }
        if not chance:
            return runs
        stretches = [(False, *run[1:]) if k in chance else run for k, run in enumerate(runs)]


def _size(stretch) -> int:
    """How many characters a stretch covers on the longer of its two sides."""
    _, i1, i2, j1, j2 = stretch
    return max(i2 - i1, j2 - j1)


def apply_edits(
    text: str, edits: Sequence[Edit], *, atomic: bool = False
) -> tuple[str, list[Change]]:
    """Apply ``edits`` (in text order, not overlapping) to ``text``: the new text and its changes.

    Each edit's stretch is diffed on its own, against its replacement: that is exact (identical
    characters next to an edit cannot be mistaken for the edited ones) and fast however many
    edits a find-and-replace makes across a long text. ``atomic`` skips the diff and takes each
    edit as one replacement — for pseudonymisation, where a name is replaced as a whole even if
    its label happens to share letters with it.
    """
    pieces, changes, position, shift = [], [], 0, 0
    for start, end, replacement in edits:
        if not position <= start <= end <= len(text):
            raise ValueError(f"Edit {start}:{end} overlaps another or leaves the text.")
        pieces += [text[position:start], replacement]
        position = end
        if atomic:
            if text[start:end] != replacement:
                changes.append(Change(start, end, start + shift, start + shift + len(replacement)))
        else:
            for c in diff(text[start:end], replacement):
                changes.append(
                    Change(
                        start + c.old_start,
                        start + c.old_end,
                        start + shift + c.new_start,
                        start + shift + c.new_end,
                    )
                )
        shift += len(replacement) - (end - start)
    pieces.append(text[position:])
    return "".join(pieces), _merged(changes)


def _merged(changes) -> list[Change]:
    """Changes with no unchanged character between them become one (a replacement)."""
    merged: list[Change] = []
    for change in changes:
        if merged and merged[-1].old_end == change.old_start:
            last = merged.pop()
            change = Change(last.old_start, change.old_end, last.new_start, change.new_end)
        merged.append(change)
    return merged


# --- moving spans --------------------------------------------------------------------------


class _Mapper:
    """Old offsets → new offsets through a list of changes (sorted, with gaps between them)."""

    def __init__(self, changes: Sequence[Change]):
        self.changes = list(changes)
        self.old_starts = [c.old_start for c in self.changes]
        self.old_ends = [c.old_end for c in self.changes]

    def start(self, offset: int, *, grow: bool) -> int:
        """Where a span starting at ``offset`` starts now."""
        index = bisect_right(self.old_starts, offset) - 1
        if index < 0:
            return offset
        c = self.changes[index]
        if offset < c.old_end:  # its first characters were deleted or replaced
            return c.new_start
        if c.is_insertion and c.old_start == offset:  # text inserted right at the start
            return c.new_start if grow else c.new_end
        return offset - c.old_end + c.new_end

    def end(self, offset: int, *, grow: bool) -> int:
        """Where a span ending at ``offset`` ends now."""
        if grow:
            index = bisect_left(self.old_starts, offset)
            if index < len(self.changes):
                c = self.changes[index]
                if c.is_insertion and c.old_start == offset:  # text inserted right at the end
                    return c.new_end
        index = bisect_left(self.old_starts, offset) - 1  # changes starting before the end
        if index < 0:
            return offset
        c = self.changes[index]
        if offset <= c.old_end:  # its last characters were deleted or replaced
            return c.new_end
        return offset - c.old_end + c.new_end

    def touches(self, start: int, end: int) -> bool:
        """Whether a change falls inside ``start:end`` (insertions at its edges do not)."""
        index = bisect_right(self.old_ends, start)
        return index < len(self.changes) and self.changes[index].old_start < end


def _check_spans(old: str, spans: Sequence[Span]) -> None:
    for start, end in spans:
        if not 0 <= start < end <= len(old):
            raise ValueError(f"Span {start}:{end} is not a span of a {len(old)}-character text.")


def reanchor(
    old: str, new: str, spans: Sequence[Span], *, changes: Sequence[Change] | None = None
) -> list[Anchored]:
    """Where each coding span of ``old`` lies in ``new``, in the order given.

    ``changes`` (from ``apply_edits``) saves the diff when the edits are known.
    """
    _check_spans(old, spans)
    mapper = _Mapper(diff(old, new) if changes is None else changes)
    anchored = []
    for start, end in spans:
        new_start, new_end = mapper.start(start, grow=False), mapper.end(end, grow=False)
        changed = mapper.touches(start, end)
        if changed:
            new_start, new_end = _trimmed(new, new_start, new_end)
        lost = new_end <= new_start
        anchored.append(Anchored(new_start, max(new_start, new_end), changed, lost))
    return anchored


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """``start:end`` without blank space at its edges (empty if it holds nothing else).

    Spans are chosen without surrounding blanks; a deletion can leave one at an edge
    ("quick brown" loses "brown " and would end in a space).
    """
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def remap_turns(
    old: str, new: str, spans: Sequence[Span], *, changes: Sequence[Change] | None = None
) -> list[Anchored]:
    """Where each speaker turn of ``old`` lies in ``new``, in the order given.

    A turn left empty (or blank) is ``lost``; the caller reports it.
    """
    _check_spans(old, spans)
    mapper = _Mapper(diff(old, new) if changes is None else changes)
    moved = [(mapper.start(s, grow=True), mapper.end(e, grow=True)) for s, e in spans]
    # A replacement across the gap between two turns would be claimed by both: the earlier
    # turn keeps it, the later one starts after it.
    anchored: list[Anchored | None] = [None] * len(spans)
    previous_end = 0
    for i in sorted(range(len(spans)), key=lambda i: spans[i]):
        old_start, old_end = spans[i]
        new_start, new_end = max(moved[i][0], previous_end), moved[i][1]
        changed = new[new_start:new_end] != old[old_start:old_end]
        if changed:
            new_start, new_end = _trimmed(new, new_start, new_end)
        lost = new_end <= new_start
        anchored[i] = Anchored(new_start, max(new_start, new_end), changed, lost)
        previous_end = max(previous_end, new_end)
    return anchored
