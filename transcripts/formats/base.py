"""The result types shared by every format reader.

They live here rather than in ``__init__`` so the reader modules can import them without a
circular import through the package.
"""

from dataclasses import dataclass


class TranscriptFormatError(ValueError):
    """The upload cannot be read as a transcript.

    The message names the file and says what is wrong in words a researcher understands; it is
    shown to them as it is.
    """


@dataclass(frozen=True)
class Turn:
    """One speaker turn: a span of ``ParsedTranscript.text``.

    Offsets count Unicode code points, 0-based, end exclusive (the REFI-QDA convention). The
    span covers what was said: no speaker label, no timestamp, no surrounding whitespace.
    """

    speaker: str
    start: int
    end: int
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class ParsedTranscript:
    text: str
    turns: list[Turn]
    format: str
    speakers: list[str]
    warnings: list[str]


def display_name(filename: str) -> str:
    """The file's own name, for messages: browsers may send a whole Windows path."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return f"“{name or 'the file'}”"


def distinct_speakers(turns: list[Turn]) -> list[str]:
    """Labels in order of first appearance; "" means "no label", so it is not a speaker."""
    return list(dict.fromkeys(turn.speaker for turn in turns if turn.speaker))


def summarise(problems: list[str], *, limit: int = 5) -> list[str]:
    """Keep warnings readable when a file has hundreds of the same problem."""
    if len(problems) <= limit:
        return problems
    return [*problems[:limit], f"… and {len(problems) - limit} more like these"]
