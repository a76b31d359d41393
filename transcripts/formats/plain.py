"""Running text (plain text, Markdown, the paragraphs of a DOCX) split into speaker turns.

The canonical text is the file's text itself: labels and timestamps stay where they were
written, and each turn points at the speech between them.
"""

import re
from dataclasses import dataclass

from .base import Turn
from .labels import Candidate, accepted_labels, match_label, skip_space, timestamp_at

# Spacelog's metadata lines ("_note: HF was not received"): never speech, never a speaker.
# Lower case and a space after the colon, so Markdown italics ("_Note:_ …") stay text.
_METADATA = re.compile(r"_[a-z][a-z_-]*:(?=\s|$)")

# ParlaMint's "ParlaMint-UA_2014-12-02-m0.u1<TAB>text": an identifier, one tab, the speech.
# The identifier starts with a letter (not a time such as "00:01:02") and does not end with a
# colon ("Anna:<TAB>text" is a colon label followed by a tab).
_ID_TAB_LINE = re.compile(r"(?P<id>[^\W\d_]\S{0,199}(?<!:))\t(?P<speech>[^\t]*\S[^\t]*)")


@dataclass
class _Line:
    offset: int  # where the line starts in the text
    text: str
    kind: str  # "blank", "clock" (a timestamp alone), "meta" or "text"
    body: int = 0  # column where the content starts, after a leading timestamp
    ms: int | None = None  # the leading timestamp
    candidate: Candidate | None = None


@dataclass
class _OpenTurn:
    speaker: str
    start_ms: int | None
    line_number: int
    start: int | None = None
    end: int | None = None


def split_lines(text: str) -> list[tuple[int, str]]:
    """(offset, line) pairs, splitting on LF only.

    ``str.splitlines`` also splits on form feeds and other separators, which would shift every
    offset after them.
    """
    pairs = []
    offset = 0
    for line in text.split("\n"):
        pairs.append((offset, line))
        offset += len(line) + 1
    return pairs


def classify(offset: int, line: str) -> _Line:
    col = skip_space(line, 0)
    if col == len(line):
        return _Line(offset, line, "blank")
    if _METADATA.match(line, col):
        return _Line(offset, line, "meta")
    ms = None
    stamp = timestamp_at(line, col)
    if stamp is not None:
        after = skip_space(line, stamp[1])
        if after == len(line):
            return _Line(offset, line, "clock", ms=stamp[0])
        # A bare "10:30" starting a sentence is prose; only a bracketed time, or one before a
        # speaker label, is a timestamp of the line.
        bracketed = line[col] in "[(\\"
        if bracketed or match_label(line, after, timed=True):
            ms, col = stamp[0], after
    candidate = match_label(line, col, timed=ms is not None)
    return _Line(offset, line, "text", body=col, ms=ms, candidate=candidate)


def parse_running_text(
    text: str, *, paragraph_per_line: bool = False
) -> tuple[list[Turn], list[str], bool]:
    """Turns of a running text, warnings, and whether Markdown "**Name:**" labels were used.

    Lines without a label continue the current speaker's turn, blank lines included, so a
    multi-paragraph answer stays one turn. Text that no label covers (a file without labels,
    or the preamble before the first one) has no speaker to hold it together, so it becomes
    one turn per paragraph: a blank-line-separated block in a text file, or each Word paragraph
    (``paragraph_per_line``).
    """
    lines = [classify(offset, line) for offset, line in split_lines(text)]
    candidates = [line.candidate for line in lines if line.candidate]
    content_lines = sum(1 for line in lines if line.kind == "text")
    accepted = accepted_labels(candidates, content_lines=content_lines)
    turns, warnings = _walk(lines, accepted, paragraph_per_line)
    used_bold = any(c.bold and c.label in accepted for c in candidates)
    return turns, warnings, used_bold


def _walk(
    lines: list[_Line], accepted: set[str], paragraph_per_line: bool
) -> tuple[list[Turn], list[str]]:
    turns: list[Turn] = []
    warnings: list[str] = []
    speaker = ""
    pending_ms: int | None = None  # a timestamp on a line of its own, for the next turn
    current: _OpenTurn | None = None

    def close() -> None:
        nonlocal current
        if current is not None and current.start is not None:
            turns.append(Turn(current.speaker, current.start, current.end, current.start_ms))
        elif current is not None and current.speaker:
            warnings.append(
                f"Line {current.line_number}: the label “{current.speaker}” has no speech "
                "after it, so it was not made a turn."
            )
        current = None

    for number, line in enumerate(lines, start=1):
        if line.kind == "blank":
            if not speaker:
                close()
            continue
        if line.kind in ("clock", "meta"):
            # Spacelog: each timestamp starts a new exchange; a metadata line is not speech.
            close()
            if line.kind == "clock":
                pending_ms = line.ms
            continue
        label = line.candidate if line.candidate and line.candidate.label in accepted else None
        if label is not None:
            close()
            speaker = label.label
            current = _OpenTurn(speaker, _first(line.ms, label.ms, pending_ms), number)
            pending_ms = None
            _extend(current, line, label.speech)
        elif current is None:
            current = _OpenTurn(speaker, _first(line.ms, pending_ms), number)
            pending_ms = None
            _extend(current, line, line.body)
        else:
            # A timestamp inside a turn stays in its span: the span must be one stretch of text.
            _extend(current, line, 0)
        if paragraph_per_line and not speaker:
            close()
    close()
    return turns, warnings


def _first(*values: int | None) -> int | None:
    return next((value for value in values if value is not None), None)


def _extend(turn: _OpenTurn, line: _Line, col: int) -> None:
    """Grow the turn to cover the line's content from ``col``, without surrounding space."""
    content = line.text[col:]
    stripped = content.strip()
    if not stripped:
        return
    start = line.offset + col + (len(content) - len(content.lstrip()))
    if turn.start is None:
        turn.start = start
    turn.end = start + len(stripped)


def looks_like_id_tab_lines(text: str) -> bool:
    """Every non-blank line is "identifier<TAB>speech" (ParlaMint's plain-text export)."""
    lines = [line for line in text.split("\n") if line.strip()]
    return bool(lines) and all(_ID_TAB_LINE.fullmatch(line) for line in lines)


def parse_id_tab_lines(text: str) -> list[Turn]:
    """One turn per line; the identifier is the speaker (the caller may map it to a name)."""
    turns = []
    for offset, line in split_lines(text):
        match = _ID_TAB_LINE.fullmatch(line)
        if match is None:
            continue
        speech = match["speech"]
        start = offset + match.start("speech") + (len(speech) - len(speech.lstrip()))
        turns.append(Turn(match["id"], start, start + len(speech.strip())))
    return turns
