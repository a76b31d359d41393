"""Timed segments (subtitle cues, Whisper segments, table rows) turned into a transcript.

These formats have no running text to point into, so we write one: a line per turn,
``Speaker: speech`` (or just ``speech``), turns separated by a blank line.
"""

from dataclasses import dataclass

from .base import Turn
from .labels import accepted_labels, match_label
from .normalise import clean


@dataclass
class Segment:
    speech: str
    start_ms: int | None
    end_ms: int | None
    speaker: str = ""


def split_spoken_labels(segments: list[Segment]) -> None:
    """Take "Name: text" at the start of a segment without a speaker as its speaker.

    Zoom and many SRT files write the speaker this way. The same file-wide judgement as for
    running text decides whether "Name:" is a label, so "Note: …" in a subtitle stays text.
    """
    unlabelled = [segment for segment in segments if not segment.speaker]
    candidates = [match_label(segment.speech, 0) for segment in unlabelled]
    accepted = accepted_labels([c for c in candidates if c], content_lines=len(unlabelled))
    for segment, candidate in zip(unlabelled, candidates, strict=True):
        if candidate and candidate.label in accepted:
            segment.speaker = candidate.label
            segment.speech = segment.speech[candidate.speech :]


def build(
    segments: list[Segment], speaker_names: dict[str, str] | None = None
) -> tuple[str, list[Turn]]:
    """The written-out text and its turns.

    Consecutive segments of the same speaker merge into one turn (start of the first, end of
    the last). Segments without a speaker do not merge: nothing says they belong together, and
    each keeps its own times for playback.
    """
    names = speaker_names or {}
    merged: list[Segment] = []
    for segment in segments:
        speaker = clean(names.get(segment.speaker, segment.speaker))
        speech = clean(segment.speech)
        if not speech:
            continue
        previous = merged[-1] if merged else None
        if previous is not None and speaker and previous.speaker == speaker:
            previous.speech = f"{previous.speech} {speech}"
            previous.end_ms = segment.end_ms
        else:
            merged.append(Segment(speech, segment.start_ms, segment.end_ms, speaker))

    parts: list[str] = []
    turns: list[Turn] = []
    offset = 0
    for segment in merged:
        if parts:
            parts.append("\n\n")
            offset += 2
        prefix = f"{segment.speaker}: " if segment.speaker else ""
        start = offset + len(prefix)
        parts.append(prefix + segment.speech)
        offset = start + len(segment.speech)
        turns.append(Turn(segment.speaker, start, offset, segment.start_ms, segment.end_ms))
    return "".join(parts) + ("\n" if parts else ""), turns
