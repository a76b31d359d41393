"""From uploaded files to an import preview, and from a confirmed preview to transcripts.

Shared by the browser import and ``manage.py import_transcript`` so both accept and refuse
exactly the same files.
"""

from dataclasses import dataclass, field

from django.conf import settings

from transcripts.formats import (
    ParsedTranscript,
    TranscriptFormatError,
    parse_transcript,
    sha256,
    speaker_names_from_parlamint_meta,
)
from transcripts.models import Participant, SpeakerRole

INTERVIEWER_LABELS = {
    "i",
    "int",
    "interviewer",
    "q",
    "question",
    "moderator",
    "facilitator",
    "researcher",
}


@dataclass
class Candidate:
    """One file that parsed: what the preview shows and the confirmation imports."""

    name: str
    sha256: str
    size: int
    parsed: ParsedTranscript
    roles: dict[str, str] = field(default_factory=dict)


@dataclass
class Rejected:
    name: str
    problem: str


def guess_roles(parsed: ParsedTranscript) -> dict[str, str]:
    """A first guess the user corrects in the preview: the most talkative labelled speaker is
    the participant; labels that name an interviewer, and other labelled speakers, are
    interviewers; unlabelled text is "other"."""
    words: dict[str, int] = {}
    for turn in parsed.turns:
        words[turn.speaker] = words.get(turn.speaker, 0) + len(
            parsed.text[turn.start : turn.end].split()
        )
    labelled = [label for label in parsed.speakers if label]
    roles = {label: SpeakerRole.OTHER for label in parsed.speakers if not label}
    if len(labelled) == 1:
        roles[labelled[0]] = SpeakerRole.PARTICIPANT
        return roles
    candidates = [s for s in labelled if s.strip().lower().rstrip(".") not in INTERVIEWER_LABELS]
    main = max(candidates or labelled, key=lambda s: words.get(s, 0), default=None)
    for label in labelled:
        roles[label] = SpeakerRole.PARTICIPANT if label == main else SpeakerRole.INTERVIEWER
    return roles


def is_companion(name: str) -> bool:
    """A file that describes another one (ParlaMint speaker metadata), not a transcript."""
    return name.lower().endswith("-meta.tsv")


def examine(
    files: list[tuple[str, bytes]], participant: Participant | None
) -> tuple[list[Candidate], list[Rejected]]:
    """Parse every file; good ones become candidates, bad ones are listed with the problem.

    A ParlaMint ``-meta.tsv`` uploaded with its transcript names the speakers of the
    transcript and is not imported itself.
    """
    limit = settings.TRANSCRIPT_MAX_BYTES
    speaker_names: dict[str, str] = {}
    for name, data in files:
        if is_companion(name):
            try:
                speaker_names |= speaker_names_from_parlamint_meta(data)
            except TranscriptFormatError as exc:
                return [], [Rejected(name, str(exc))]
    known = set()
    if participant is not None:
        known = set(participant.transcripts.values_list("original_sha256", flat=True))
    candidates: list[Candidate] = []
    rejected: list[Rejected] = []
    seen: dict[str, str] = {}
    for name, data in files:
        if is_companion(name):
            continue
        digest = sha256(data)
        if digest in seen:
            rejected.append(
                Rejected(name, f"{name}: the same file as {seen[digest]} in this upload.")
            )
            continue
        if digest in known:
            rejected.append(Rejected(name, f"{name}: already imported for {participant.code}."))
            continue
        try:
            parsed = parse_transcript(
                name, data, max_bytes=limit, speaker_names=speaker_names or None
            )
        except TranscriptFormatError as exc:
            rejected.append(Rejected(name, str(exc)))
            continue
        seen[digest] = name
        candidates.append(Candidate(name, digest, len(data), parsed, guess_roles(parsed)))
    return candidates, rejected
