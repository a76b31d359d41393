"""WebVTT and SRT subtitles: cues become segments; cue markup never reaches the text.

webvtt-py reads the timings and the cue text. We hand it one cue at a time, so a broken cue is
skipped with a warning that names it instead of failing (or silently vanishing from) the file.
"""

import html
import io
import re

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from .base import TranscriptFormatError, display_name, summarise
from .segments import Segment

# "<v Name>", "<v.loud Name>": the WebVTT voice span, which names the speaker.
_VOICE = re.compile(r"<v(?:\.[^\s>]+)*(?:\s+(?P<name>[^>]*))?>")
# Any other cue tag (<b>, <i>, <c.yellow>, <00:00:01.000>, </v>, <font …>) and SRT's ASS
# positioning codes like "{\an8}".
_TAG = re.compile(r"<[^>\n]*>|\{\\[^}\n]*\}")
_SKIPPED_BLOCKS = ("NOTE", "STYLE", "REGION")


class _Report:
    """What went wrong in which cue, for the warnings or for the error when nothing is left."""

    def __init__(self) -> None:
        self.broken: list[str] = []
        self.empty = 0
        self.stray_lines: list[int] = []

    def warnings(self) -> list[str]:
        notes = [f"Skipped {problem}." for problem in self.broken]
        if self.empty:
            notes.append(f"{self.empty} empty cue{'s' * (self.empty != 1)} skipped.")
        if self.stray_lines:
            notes.append(
                f"{len(self.stray_lines)} block(s) of text outside any cue ignored "
                f"(first at line {self.stray_lines[0]})."
            )
        return summarise(notes)


def parse_vtt(filename: str, text: str) -> tuple[list[Segment], list[str]]:
    name = display_name(filename)
    if not text.startswith("WEBVTT"):
        raise TranscriptFormatError(
            f"{name} is not a WebVTT file: its first line must be “WEBVTT”."
        )
    report = _Report()
    segments: list[Segment] = []
    number = 0
    for line_number, lines in _blocks(text)[1:]:  # the first block is the header
        if lines[0].startswith(_SKIPPED_BLOCKS) and _timing_index(lines) is None:
            continue
        if _timing_index(lines) is None:
            report.stray_lines.append(line_number)
            continue
        number += 1
        caption = _vtt_caption(lines)
        where = f"cue {number} (line {line_number})"
        if caption is None:
            report.broken.append(f"{where}: its timing line cannot be read")
            continue
        segments += _cue_segments(caption, where, report)
    return _checked(name, segments, report, number)


def parse_srt(filename: str, text: str) -> tuple[list[Segment], list[str]]:
    name = display_name(filename)
    report = _Report()
    segments: list[Segment] = []
    number = 0
    last: list[Segment] = []  # the previous cue's segments, for text split by a blank line
    for line_number, lines in _blocks(text):
        timing = _timing_index(lines)
        if timing is None:
            # As in webvtt-py: a blank line inside a cue's text does not end the cue.
            if last:
                last[-1].speech += " " + _cue_text("\n".join(lines))
            else:
                report.stray_lines.append(line_number)
            continue
        number += 1
        written = lines[0].strip() if timing == 1 else ""
        where = f"cue {written or number} (line {line_number})"
        text_lines = lines[timing + 1 :]
        if not text_lines:
            report.empty += 1
            last = []
            continue
        caption = _srt_caption(lines[timing], text_lines)
        if caption is None:
            timing_line = lines[timing].strip()
            report.broken.append(f"{where}: its timing line “{timing_line}” cannot be read")
            last = []
            continue
        last = _cue_segments(caption, where, report)
        segments += last
    return _checked(name, segments, report, number)


def _checked(name: str, segments: list[Segment], report: _Report, cues: int):
    if segments:
        return segments, report.warnings()
    if report.broken:
        raise TranscriptFormatError(
            f"{name} has no readable cues: " + "; ".join(report.broken[:3]) + "."
        )
    if cues:
        raise TranscriptFormatError(f"{name} has cues but none of them has any text.")
    raise TranscriptFormatError(f"{name} has no cues (no “00:00:01.000 --> 00:00:02.000” lines).")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Blocks of non-blank lines with the line number of their first line.

    A line with "-->" after a block's first two lines, or an SRT index right before one,
    starts a new block even without a blank line (as webvtt-py reads them).
    """
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if not line.strip():
            if current:
                blocks.append((first, current))
            current = []
            continue
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        starts_cue = ("-->" in line and len(current) >= 2) or (
            line.strip().isdigit() and "-->" in next_line and len(current) >= 2
        )
        if starts_cue:
            blocks.append((first, current))
            current = []
        if not current:
            first = index + 1
        current.append(line)
    if current:
        blocks.append((first, current))
    return blocks


def _timing_index(lines: list[str]) -> int | None:
    """Index of the timing line: first, or second after a cue identifier."""
    if "-->" in lines[0]:
        return 0
    if len(lines) > 1 and "-->" in lines[1]:
        return 1
    return None


def _vtt_caption(lines: list[str]) -> webvtt.Caption | None:
    try:
        captions = webvtt.from_string("WEBVTT\n\n" + "\n".join(lines)).captions
    except (MalformedCaptionError, MalformedFileError):
        return None
    return captions[0] if len(captions) == 1 else None


def _srt_caption(timing: str, text_lines: list[str]) -> webvtt.Caption | None:
    cue = "\n".join(["1", timing.strip(), *text_lines])
    try:
        captions = webvtt.from_buffer(io.StringIO(cue), format="srt").captions
    except (MalformedCaptionError, MalformedFileError):
        return None
    return captions[0] if len(captions) == 1 else None


def _cue_segments(caption: webvtt.Caption, where: str, report: _Report) -> list[Segment]:
    start = caption.start_time.in_milliseconds()
    end = caption.end_time.in_milliseconds()
    if end < start:
        report.broken.append(f"{where}: it ends ({caption.end}) before it starts ({caption.start})")
        return []
    segments = [
        Segment(speech, start, end, voice)
        for voice, speech in _voice_pieces(caption.raw_text)
        if speech
    ]
    if not segments:
        report.empty += 1
    return segments


def _voice_pieces(raw: str) -> list[tuple[str, str]]:
    """(speaker, text) pieces of a cue: a "<v Name>" span names the speaker of what follows."""
    pieces = []
    voice = ""
    position = 0
    for match in _VOICE.finditer(raw):
        pieces.append((voice, raw[position : match.start()]))
        voice = _cue_text(match["name"] or "")
        position = match.end()
    pieces.append((voice, raw[position:]))
    return [(voice, _cue_text(piece)) for voice, piece in pieces]


def _cue_text(raw: str) -> str:
    """Cue text without markup; entities such as "&amp;" decoded after the tags are gone."""
    return " ".join(html.unescape(_TAG.sub("", raw)).split())
