"""Pseudonymisation as pure functions: find real names, rewrite the text, map the offsets.

No database here. ``find_replacements`` lists every replacement a study's rules make in a text
(the preview shows exactly this list), ``apply`` performs them and returns an ``OffsetMap`` from
old to new offsets, and ``remap_span`` moves a span (a speaker turn now, a coding later) onto the
new text. Offsets count Unicode code points, 0-based, end exclusive (see transcripts.models), so
an emoji outside the Basic Multilingual Plane is one position, as in Python strings.

How a rule matches:

- **Leftmost-longest, never overlapping.** Where rules overlap ("Anna" and "Anna Nowak"), the
  match that starts first wins, and of those the longest; a tie goes to the rule listed first.
- **Case.** A case-insensitive rule compares ``str.casefold()`` forms, so "STRASSE" finds
  "Straße" and "łukasz" finds "ŁUKASZ". A match must begin and end on whole characters of the
  text: "s" never matches half of the "ss" that "ß" folds to.
- **Whole words.** A match may not begin or end inside a word. A word character is a letter,
  mark, digit, connector (``_``) or zero-width (non-)joiner, in any script, so Polish "Łukasz"
  is not found inside "Łukaszowi" and Cyrillic names behave the same. A match that begins or
  ends with punctuation ("[P3]", "(Acme)") is bounded there by definition. Scripts written
  without spaces between words (Thai, Lao, Khmer, Myanmar, Tibetan, Chinese, Japanese kana and
  the like) have no word boundary a program can see without a dictionary, so next to their
  characters whole-word matching falls back to plain substring matching: "สมชาย" is found in
  "คุณสมชายบอกว่า", and "Anna" in "我和Anna说". Guessing word breaks by dictionary would miss
  names, which for pseudonymisation is the worse failure.
- **Replacements are never re-matched.** Text that reads exactly like one of the rules'
  replacement labels is protected: no match may overlap it, and the search is repeated on its
  own output until nothing more is found, so applying the same rules again changes nothing.
  For the same reason a rule whose name contains a label can never fire; ``conflicts`` says so
  before such a rule is saved.
"""

import hashlib
import hmac
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol


class RuleLike(Protocol):
    find: str
    replace_with: str
    whole_word: bool
    case_sensitive: bool


@dataclass(frozen=True)
class Rule:
    """A rule outside the database (tests, previews of a rule not yet saved)."""

    find: str
    replace_with: str
    whole_word: bool = True
    case_sensitive: bool = False
    id: int | None = None


@dataclass(frozen=True, order=True)
class Replacement:
    start: int
    end: int
    original: str
    replacement: str
    rule_id: int | None = None


# --- characters ----------------------------------------------------------------------------

# Blocks of scripts written without spaces between words (first, last code point).
_UNSPACED_BLOCKS = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x1950, 0x19FF),  # Tai Le, New Tai Lue, Khmer symbols
    (0x1A20, 0x1AAF),  # Tai Tham
    (0x1B00, 0x1B7F),  # Balinese
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x3000, 0x30FF),  # CJK symbols (々, 〆), Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31FF),  # Bopomofo extended, CJK strokes, Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA000, 0xA4CF),  # Yi
    (0xA980, 0xA9FF),  # Javanese, Myanmar extended-B
    (0xAA60, 0xAADF),  # Myanmar extended-A, Tai Viet
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width Katakana
    (0x1B000, 0x1B16F),  # Kana supplement and extensions
    (0x20000, 0x323AF),  # CJK extensions B to H
)
_UNSPACED_STARTS = [first for first, _ in _UNSPACED_BLOCKS]
_JOINERS = {"\u200c", "\u200d"}
_WHITESPACE = re.compile(r"\s+")


def is_unspaced(char: str) -> bool:
    """Whether ``char`` belongs to a script written without spaces between words."""
    code = ord(char)
    index = bisect_right(_UNSPACED_STARTS, code) - 1
    return index >= 0 and code <= _UNSPACED_BLOCKS[index][1]


def is_word_char(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LMN" or category == "Pc" or char in _JOINERS


def is_word_boundary(text: str, position: int) -> bool:
    """Whether a whole-word match may begin or end at ``position`` of ``text``."""
    if position <= 0 or position >= len(text):
        return True
    before, after = text[position - 1], text[position]
    if not (is_word_char(before) and is_word_char(after)):
        return True
    return is_unspaced(before) or is_unspaced(after)


# --- finding -------------------------------------------------------------------------------


class _Folded:
    """A text's casefolded form and how its positions line up with the original's."""

    def __init__(self, text: str):
        folded = text.casefold()
        self.text = folded
        if len(folded) == len(text):
            # Casefolding never shortens a character, so equal lengths mean one to one.
            self.original_at = None
            return
        # original_at[f] is the original position whose folded form starts at f (-1 if f is
        # inside a longer folding such as ß → ss); the last entry is the end of the text.
        original_at = []
        for position, char in enumerate(text):
            width = len(char.casefold())
            original_at.append(position)
            original_at.extend([-1] * (width - 1))
        original_at.append(len(text))
        self.original_at = original_at

    def to_original(self, start: int, end: int) -> tuple[int, int] | None:
        if self.original_at is None:
            return start, end
        first, last = self.original_at[start], self.original_at[end]
        if first < 0 or last < 0:
            return None
        return first, last


class _Matcher:
    def __init__(self, rule: RuleLike, order: int):
        find = unicodedata.normalize("NFC", rule.find)
        label = unicodedata.normalize("NFC", rule.replace_with)
        if not label:
            raise ValueError("A pseudonym rule needs a replacement.")
        self.case_sensitive = bool(rule.case_sensitive)
        self.whole_word = bool(rule.whole_word)
        self.needle = find if self.case_sensitive else find.casefold()
        self.label = label
        self.order = order
        self.rule_id = getattr(rule, "id", None)

    def spans(self, text: str, folded: _Folded | None) -> Iterable[tuple[int, int]]:
        if not self.needle:
            return
        haystack = text if self.case_sensitive else folded.text
        position = haystack.find(self.needle)
        while position != -1:
            span = (position, position + len(self.needle))
            if not self.case_sensitive:
                span = folded.to_original(*span)
            if span is not None and (
                not self.whole_word
                or (is_word_boundary(text, span[0]) and is_word_boundary(text, span[1]))
            ):
                yield span
            position = haystack.find(self.needle, position + 1)


def _protected(text: str, labels: Iterable[str]) -> bytearray:
    """1 for every character that is part of text reading exactly like a replacement label."""
    mask = bytearray(len(text))
    for label in labels:
        position = text.find(label)
        while position != -1:
            mask[position : position + len(label)] = b"\x01" * len(label)
            position = text.find(label, position + 1)
    return mask


def _one_pass(text: str, matchers: Sequence[_Matcher], labels: set[str]) -> list[Replacement]:
    folded = None if all(m.case_sensitive for m in matchers) else _Folded(text)
    protected = _protected(text, labels)
    candidates = [
        (start, start - end, matcher.order, end, matcher)
        for matcher in matchers
        for start, end in matcher.spans(text, folded)
        if protected.find(1, start, end) == -1
    ]
    candidates.sort(key=lambda c: c[:3])
    chosen, covered_to = [], 0
    for start, _, _, end, matcher in candidates:
        if start >= covered_to:
            chosen.append(Replacement(start, end, text[start:end], matcher.label, matcher.rule_id))
            covered_to = end
    return chosen


def find_replacements(text: str, rules: Iterable[RuleLike]) -> list[Replacement]:
    """Every replacement ``rules`` make in ``text``, in text order, none overlapping."""
    matchers = [_Matcher(rule, order) for order, rule in enumerate(rules)]
    if not matchers or not text:
        return []
    labels = {matcher.label for matcher in matchers}
    chosen = _one_pass(text, matchers, labels)
    # A replacement can create a word boundary next to it ("[P1]Kowalski"), so search the
    # output again until it is stable: that is what makes a second application a no-op.
    while chosen:
        new_text, offsets = apply(text, chosen)
        more = _one_pass(new_text, matchers, labels)
        if not more:
            break
        # Labels are protected, so every new match lies in text the last pass left unchanged.
        chosen = sorted(chosen + [offsets.back(r) for r in more])
    return chosen


# --- rewriting -----------------------------------------------------------------------------


class OffsetMap:
    """Old offsets of a rewritten text → new ones.

    Outside a replaced name an offset moves by the change in length before it. Inside a
    replaced name there is no exact counterpart, so an offset snaps to the replacement's
    bounds: to its start when it starts a span, to its end when it ends one. A span that
    covers part of a name therefore covers the whole replacement afterwards.
    """

    def __init__(self, replacements: Sequence[Replacement], old_length: int):
        self.old_length = old_length
        self._old_starts = []
        self._segments = []  # (old start, old end, new start, new end)
        shift = 0
        for r in replacements:
            new_start = r.start + shift
            new_end = new_start + len(r.replacement)
            self._old_starts.append(r.start)
            self._segments.append((r.start, r.end, new_start, new_end))
            shift = new_end - r.end
        self.new_length = old_length + shift

    def __call__(self, offset: int, side: Literal["start", "end"] = "start") -> int:
        if not 0 <= offset <= self.old_length:
            raise ValueError(f"Offset {offset} is outside the text (0 to {self.old_length}).")
        index = bisect_right(self._old_starts, offset) - 1
        if index < 0:
            return offset
        old_start, old_end, new_start, new_end = self._segments[index]
        if offset == old_start:
            return new_start
        if offset < old_end:
            return new_start if side == "start" else new_end
        return offset - old_end + new_end

    def __len__(self) -> int:
        return len(self._segments)

    def back(self, r: Replacement) -> Replacement:
        """A replacement found in the new text, outside every replaced name, in old offsets."""
        new_starts = [segment[2] for segment in self._segments]
        index = bisect_right(new_starts, r.start) - 1
        shift = 0 if index < 0 else self._segments[index][3] - self._segments[index][1]
        return Replacement(r.start - shift, r.end - shift, r.original, r.replacement, r.rule_id)


def apply(text: str, replacements: Sequence[Replacement]) -> tuple[str, OffsetMap]:
    """Rewrite ``text``; ``replacements`` are in text order, not overlapping, found in it."""
    pieces, position = [], 0
    for r in replacements:
        if not position <= r.start < r.end <= len(text):
            raise ValueError(f"Replacement at {r.start}:{r.end} overlaps or leaves the text.")
        if text[r.start : r.end] != r.original:
            raise ValueError(f"Replacement at {r.start}:{r.end} was found in another text.")
        pieces += [text[position : r.start], r.replacement]
        position = r.end
    pieces.append(text[position:])
    return "".join(pieces), OffsetMap(replacements, len(text))


def remap_span(start: int, end: int, offset_map: OffsetMap) -> tuple[int, int]:
    """Where the span ``start:end`` of the old text lies in the new one."""
    if not 0 <= start <= end:
        raise ValueError(f"Span {start}:{end} is not a span.")
    return offset_map(start, "start"), offset_map(end, "end")


# --- for the service and the preview -------------------------------------------------------


def counts_by_label(replacements: Iterable[Replacement]) -> dict[str, int]:
    return dict(sorted(Counter(r.replacement for r in replacements).items()))


def find_digest(find: str, key: bytes) -> str:
    """Keyed SHA-256 (HMAC) of a rule's lower-cased name: lets the audit trail tell rules apart
    without holding the name. Keyed, so that a list of candidate names cannot be checked
    against the trail by anyone who lacks the key."""
    name = unicodedata.normalize("NFC", find).lower().encode("utf-8")
    return hmac.new(key, name, hashlib.sha256).hexdigest()


def rules_fingerprint(rules: Iterable[RuleLike]) -> str:
    """Changes whenever the replacement list does, so an apply can refuse a stale preview."""
    digest = hashlib.sha256()
    for rule in rules:
        fields = (getattr(rule, "id", None), rule.find, rule.replace_with)
        digest.update(repr((*fields, rule.whole_word, rule.case_sensitive)).encode("utf-8"))
    return digest.hexdigest()


def in_context(text: str, r: Replacement, width: int = 60) -> tuple[str, str]:
    """Up to ``width`` characters either side of a replacement, within its line.

    A side cut short of its line is trimmed back to a space where one is near and marked
    with "…"; whitespace runs read as one space.
    """
    line_start = text.rfind("\n", 0, r.start) + 1
    line_end = text.find("\n", r.end)
    line_end = len(text) if line_end == -1 else line_end
    before = text[max(line_start, r.start - width) : r.start]
    after = text[r.end : min(line_end, r.end + width)]
    if r.start - width > line_start:
        space = before.find(" ", 0, width // 3)
        before = "…" + before[space + 1 :]
    if r.end + width < line_end:
        space = after.rfind(" ", len(after) - width // 3)
        after = (after[:space] if space >= 0 else after) + "…"
    return _WHITESPACE.sub(" ", before), _WHITESPACE.sub(" ", after)


def conflicts(rule: RuleLike, others: Iterable[RuleLike]) -> list[str]:
    """Why ``rule`` could not work next to ``others``: a name containing a label never fires."""
    reasons = []
    find = unicodedata.normalize("NFC", rule.find).casefold()
    label = unicodedata.normalize("NFC", rule.replace_with)
    for other in [rule, *others]:
        other_label = unicodedata.normalize("NFC", other.replace_with)
        other_find = unicodedata.normalize("NFC", other.find).casefold()
        if other_label and other_label.casefold() in find:
            reasons.append(
                f"The name contains “{other_label}”, which is a replacement label; "
                "labels are never replaced, so this rule could never apply."
            )
        if other is not rule and label.casefold() in other_find:
            reasons.append(
                f"“{label}” occurs in a name already on the list (replaced by "
                f"“{other_label}”); that name could then never be replaced. "
                "Choose a distinctive label such as [P3]."
            )
    return list(dict.fromkeys(reasons))
