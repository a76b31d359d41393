"""Speaker labels and timestamps written into running text, and when to believe a label.

A line such as ``Note: the slides were busy`` has the same shape as ``Jane: the slides were
busy``. No single line can tell them apart, so this module works in two steps: ``match_label``
finds *candidate* labels line by line, and ``accepted_labels`` looks at all candidates of a file
together and keeps those that read as speakers (see its docstring for the rules).
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# 2 fields MM:SS, 3 fields HH:MM:SS, 4 fields DD:HH:MM:SS (Spacelog mission time); optional
# fraction of a second after "." or ",".
CLOCK = r"\d{1,3}:\d{2}(?::\d{2}){0,2}(?:[.,]\d{1,3})?"

# "[00:01:02]", Markdown-escaped "\[01:46\]", "(00:01:02)", or a bare "00:01:02".
_TIMESTAMP = re.compile(
    rf"\\?\[(?P<bracket>{CLOCK})\\?\]|\((?P<paren>{CLOCK})\)|(?P<bare>{CLOCK})(?=\s|$)"
)

# "Name: text", "**Name:** text", "**Name**: text", "Name (00:01:02): text", "张三：text".
# Everything before the first colon is the candidate; whether it is a label is decided later.
_COLON_LABEL = re.compile(
    r"(?P<open>\*\*)?"
    r"(?P<label>[^\s:：*\t][^:：*\t]{0,59}?)"
    rf"(?:\s*(?:\\?\[(?P<bracket>{CLOCK})\\?\]|\((?P<paren>{CLOCK})\)))?"
    r"\s*(?P<close1>\*\*)?(?P<colon>[:：])(?P<close2>\*\*)?"
)

# QualCoder's "[id1] text" and Markdown's "**[I5]:** text": an identifier in brackets, not a
# timestamp, with or without a colon after it.
_BRACKET_ID = re.compile(r"\[(?P<label>[^\]\s:]{1,20})\](?P<colon>[:：])?(?=\s|$)")

# Otter.ai's export puts "Name  0:03" on a line of its own and the speech below it.
_NAME_THEN_CLOCK = re.compile(rf"(?P<label>[^\s:：*\t][^:：*\t]{{0,39}}?)\s+(?P<clock>{CLOCK})\s*$")

_LABEL_PUNCTUATION = set(" .'’-_()&/")

# First words that start prose or document headers with a colon, never a speaker.
_STOP_WORDS = {
    "abstract", "address", "agenda", "appendix", "attendees", "audio", "caution", "cf",
    "chapter", "conclusion", "conclusions", "contents", "date", "duration", "e.g", "edit",
    "edited", "eg", "email", "example", "examples", "fig", "figure", "file", "filename", "fixme",
    "hint", "i.e", "ie", "important", "interview", "keywords", "language", "length", "link",
    "location", "n.b", "nb", "note", "notes", "p.s", "page", "part", "participants", "place",
    "project", "ps", "re", "recorded", "recording", "section", "see", "source", "sources", "step",
    "study", "subject", "summary", "table", "tel", "time", "tip", "title", "todo", "topic",
    "transcribed", "transcriber", "transcript", "transcription", "update", "updated", "url",
    "venue", "version", "video", "warning",
}  # fmt: skip

# Lower-case words that belong inside names ("Ludwig van Beethoven", "Omar bin Laden").
_NAME_PARTICLES = {
    "al", "bin", "bint", "da", "das", "de", "del", "della", "den", "der", "di", "do", "dos", "du",
    "e", "el", "ibn", "la", "le", "ten", "ter", "van", "von", "y", "zu",
}  # fmt: skip

# Interview roles and their usual abbreviations: a label even when written once or lower case.
_ROLE = re.compile(
    r"(?:[IRQAPS]|IV|IE|INT|RESP|MOD|interviewer|interviewee|respondent|participant|moderator"
    r"|facilitator|researcher|speaker|question|answer|audience|unknown)"
    r"(?:\s*[-#]?\s*\d{1,3}[a-z]?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Candidate:
    label: str
    speech: int  # column of the line where the speech starts
    ms: int | None  # the time written with the label, if any
    strong: bool  # written with a timestamp or as an [id1] tag: prose does not look like that
    bold: bool = False  # Markdown "**Name:**"
    needs_repeat: bool = False  # "Name 0:03" lines: only a recurring name shows a conversation


def clock_ms(clock: str) -> int | None:
    """Milliseconds of "MM:SS", "HH:MM:SS" or "DD:HH:MM:SS" (with an optional fraction).

    None when a field is out of range, so "99:99" is not mistaken for a time.
    """
    whole, _, fraction = clock.replace(",", ".").partition(".")
    fields = [int(field) for field in whole.split(":")]
    if any(field > 59 for field in fields[1:]):
        return None
    if len(fields) == 4 and fields[1] > 23:
        return None
    seconds = 0
    for field, unit in zip(reversed(fields), (1, 60, 3600, 86400), strict=False):
        seconds += field * unit
    return seconds * 1000 + int(fraction.ljust(3, "0")[:3] or 0)


def timestamp_at(line: str, col: int, *, bare: bool = True) -> tuple[int, int] | None:
    """(milliseconds, end column) of a timestamp written at ``col``, else None."""
    match = _TIMESTAMP.match(line, col)
    if not match or (match["bare"] and not bare):
        return None
    ms = clock_ms(match["bracket"] or match["paren"] or match["bare"])
    return None if ms is None else (ms, match.end())


def skip_space(line: str, col: int) -> int:
    while col < len(line) and line[col].isspace():
        col += 1
    return col


def match_label(line: str, col: int, *, timed: bool = False) -> Candidate | None:
    """A candidate speaker label at ``col`` (after any leading timestamp), else None.

    ``timed`` says a timestamp came before the label on the line, which makes it strong.
    """
    return (
        _colon_label(line, col, timed)
        or _bracket_id(line, col)
        or _name_then_clock(line, col, timed)
    )


def _colon_label(line: str, col: int, timed: bool) -> Candidate | None:
    match = _COLON_LABEL.match(line, col)
    if not match:
        return None
    closed = bool(match["close1"]) + bool(match["close2"])
    if closed != (1 if match["open"] else 0):
        return None
    after = match.end()
    # "10:30", "http://…" and "ratio 3:1" have no space after the colon. A full-width colon
    # (Chinese, Japanese) is not followed by a space.
    if match["colon"] == ":" and after < len(line) and not line[after].isspace():
        return None
    label = match["label"].strip()
    if not _plausible(label):
        return None
    written = match["bracket"] or match["paren"]
    ms = clock_ms(written) if written else None
    speech, ms_after = _speech_start(line, after)
    return Candidate(
        label=label,
        speech=speech,
        ms=ms if ms is not None else ms_after,
        strong=timed or ms is not None,
        bold=bool(match["open"]),
    )


def _speech_start(line: str, col: int) -> tuple[int, int | None]:
    """Skip the space after a label and a timestamp written there ("**Tim:** \\[01:46\\] …")."""
    col = skip_space(line, col)
    stamp = timestamp_at(line, col, bare=False)
    if stamp is None:
        return col, None
    ms, end = stamp
    return skip_space(line, end), ms


def _bracket_id(line: str, col: int) -> Candidate | None:
    match = _BRACKET_ID.match(line, col)
    if not match:
        return None
    label = match["label"]
    # Without a colon, only identifiers such as "id1" or "P03": a bracketed word at the start
    # of a line is far more often a stage direction ("[laughs]") than a speaker.
    if not _plausible(label) or not (match["colon"] or any(c.isdigit() for c in label)):
        return None
    return Candidate(label=label, speech=skip_space(line, match.end()), ms=None, strong=True)


def _name_then_clock(line: str, col: int, timed: bool) -> Candidate | None:
    match = _NAME_THEN_CLOCK.match(line, col)
    if timed or not match:
        return None
    label = match["label"].strip()
    ms = clock_ms(match["clock"])
    if ms is None or not _plausible(label):
        return None
    return Candidate(label=label, speech=len(line), ms=ms, strong=False, needs_repeat=True)


def _plausible(label: str) -> bool:
    """Short, starts with a letter, only letters, marks, digits and name punctuation."""
    if not 0 < len(label) <= 40 or len(label.split()) > 5:
        return False
    if unicodedata.category(label[0])[0] != "L":
        return False
    return all(
        unicodedata.category(char)[0] in "LMN" or char in _LABEL_PUNCTUATION for char in label
    )


def _stop_listed(label: str) -> bool:
    return label.split()[0].lower().rstrip(".") in _STOP_WORDS


def _is_role(label: str) -> bool:
    return _ROLE.fullmatch(label) is not None


def _name_like(label: str) -> bool:
    """Capitalised like a name or a code ("Jason Snell", "CC", "Заря 1"); scripts without case
    (Thai, Chinese) always pass. "the answer" and "We met at" do not."""
    words = label.split()
    if words[0][0].islower():
        return False
    return all(
        not word[0].islower() or word.lower() in _NAME_PARTICLES or word[0].isdigit()
        for word in words[1:]
    )


def accepted_labels(candidates: Iterable[Candidate], *, content_lines: int) -> set[str]:
    """The candidate labels that are speakers, judged over the whole file.

    - Never: labels whose first word starts prose or a header ("Note", "Date", "Figure"…).
    - Always: labels written with a timestamp or as an ``[id1]`` tag, and interview roles
      (I, R, Q, A, P1, Interviewer, Speaker 2…).
    - Name-like labels (capitalised, or in a script without case) that occur at least twice.
    - Once those establish that the file is a conversation, a name-like label that occurs only
      once is a speaker too (Spacelog's "LCC: Lift-off").
    - Without any of the above, a short exchange where at least two distinct name-like
      "Name:" labels start half of the non-blank lines ("Alice: hi" / "Bob: hello") is a
      conversation too.
    """
    usable = [
        c
        for c in candidates
        if not _stop_listed(c.label) and (c.strong or _is_role(c.label) or _name_like(c.label))
    ]
    counts = Counter(c.label for c in usable)
    established = {c.label for c in usable if c.strong or _is_role(c.label)}
    established |= {label for label, count in counts.items() if count >= 2}
    if established:
        return set(counts)
    # "Name 0:03" lines do not count here: a schedule ("Lunch 12:00") looks just like them.
    exchange = [c for c in usable if not c.needs_repeat]
    labels = {c.label for c in exchange}
    if len(labels) >= 2 and 2 * len(exchange) >= content_lines:
        return labels
    return set()
