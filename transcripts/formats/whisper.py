"""Whisper's JSON output: ``{"segments": [{"start": 0.0, "end": 11.0, "text": " …"}]}``.

Times are seconds. WhisperX adds a ``speaker`` to each segment after diarisation; we use it
when it is there.
"""

import json
import math

from .base import TranscriptFormatError, display_name, summarise
from .segments import Segment


def load_json(filename: str, text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TranscriptFormatError(
            f"{display_name(filename)} is not valid JSON (line {error.lineno}, column "
            f"{error.colno}: {error.msg})."
        ) from None


def looks_like_whisper(document) -> bool:
    segments = document.get("segments") if isinstance(document, dict) else document
    return (
        isinstance(segments, list)
        and bool(segments)
        and all(isinstance(s, dict) and "text" in s for s in segments)
    )


def parse_whisper_json(filename: str, document) -> tuple[list[Segment], list[str]]:
    name = display_name(filename)
    segments = document.get("segments") if isinstance(document, dict) else document
    if not isinstance(segments, list):
        raise TranscriptFormatError(
            f"{name} is JSON but not Whisper output: it has no list of “segments”."
        )
    result: list[Segment] = []
    problems: list[str] = []
    empty = 0
    for number, item in enumerate(segments, start=1):
        segment = _segment(item)
        if isinstance(segment, str):
            problems.append(f"Skipped segment {number}: {segment}.")
        elif not segment.speech.strip():
            empty += 1
        else:
            result.append(segment)
    if not result:
        detail = f" ({problems[0]})" if problems else ""
        raise TranscriptFormatError(f"{name} has no segments with text{detail}.")
    if empty:
        problems.append(f"{empty} empty segment{'s' * (empty != 1)} skipped.")
    return result, summarise(problems)


def _segment(item) -> Segment | str:
    """The segment, or the reason it cannot be used."""
    if not isinstance(item, dict):
        return "it is not an object"
    text = item.get("text")
    if not isinstance(text, str):
        return "it has no text"
    start, end = _ms(item.get("start")), _ms(item.get("end"))
    if start is None or end is None:
        return "its start or end time is missing or not a number of seconds"
    if end < start:
        return "it ends before it starts"
    speaker = item.get("speaker")
    return Segment(text, start, end, speaker if isinstance(speaker, str) else "")


def _ms(seconds) -> int | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return round(seconds * 1000)
