"""From uploaded files to an import preview, and from a confirmed preview to transcripts.

Shared by the browser import and ``manage.py import_transcript`` so both accept and refuse
exactly the same files.
"""

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q

from transcripts.formats import (
    ParsedTranscript,
    TranscriptFormatError,
    looks_like_parlamint_meta,
    parse_transcript,
    sha256,
    speaker_names_from_parlamint_meta,
)
from transcripts.models import Participant, SpeakerRole, Transcript
from transcripts.selectors.transcripts import clock

_WORD = re.compile(r"\S+")
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
    data: bytes = field(default=b"", repr=False)  # the file, for staging it
    duplicates: list[str] = field(default_factory=list)  # where the same text already is

    @property
    def text_sha256(self) -> str:
        """The hash of the text as stored: the same for the same words in any format."""
        return sha256(self.parsed.text.encode("utf-8"))


@dataclass
class Rejected:
    name: str
    problem: str


def guess_roles(parsed: ParsedTranscript) -> dict[str, str]:
    """A first guess the user corrects in the preview: the most talkative labelled speaker is
    the participant; labels that name an interviewer, and other labelled speakers, are
    interviewers. Turns without a label (key "") are the participant's when no turn has a
    label (speech-to-text output, a written answer), else "other" (a title, a preamble)."""
    words: dict[str, int] = {}
    for turn in parsed.turns:
        # Counted in place: slicing and splitting a 19 MB turn held about 250 MB.
        said = _WORD.finditer(parsed.text, turn.start, turn.end)
        words[turn.speaker] = words.get(turn.speaker, 0) + sum(1 for _ in said)
    labelled = [label for label in parsed.speakers if label]
    roles = {}
    if "" in words:
        roles[""] = SpeakerRole.OTHER if labelled else SpeakerRole.PARTICIPANT
    if len(labelled) == 1:
        roles[labelled[0]] = SpeakerRole.PARTICIPANT
        return roles
    candidates = [s for s in labelled if s.strip().lower().rstrip(".") not in INTERVIEWER_LABELS]
    main = max(candidates or labelled, key=lambda s: words.get(s, 0), default=None)
    for label in labelled:
        roles[label] = SpeakerRole.PARTICIPANT if label == main else SpeakerRole.INTERVIEWER
    return roles


def unlabelled_speaker(candidate: "Candidate", participant: Participant) -> str:
    """Who speaks in the turns without a label, as first offered: the participant, by their
    code, when no turn has a label (speech-to-text output); nobody otherwise."""
    if candidate.roles.get("") == SpeakerRole.PARTICIPANT:
        return participant.code
    return ""


def is_companion(name: str, read: Callable[[], bytes]) -> bool:
    """A file that describes another one (ParlaMint speaker metadata), not a transcript.

    Told by its header row, not its name: the corpus names it ``…-m0-meta.tsv`` beside
    ``…-m0.txt``, and copies rename both (``…-m0-meta_uk.tsv`` beside ``…-m0_uk.txt``).
    """
    return name.lower().endswith(".tsv") and looks_like_parlamint_meta(read())


def examine_each(
    files: list[tuple[str, Callable[[], bytes]]], participant: Participant | None
) -> Iterator[Candidate | Rejected]:
    """Parse the files one at a time: a candidate or a refusal per transcript, in order.

    Each file is a name and a function that reads its bytes, called once, when its turn comes;
    the caller drops a candidate once it has used it, so only one file's bytes and parse are
    ever held (eight 19 MB files read at once held 1 GB). A ParlaMint ``-meta.tsv`` uploaded
    with its transcript names the speakers of the transcript and is not imported itself; if it
    cannot be read, it is the only thing refused and nothing else is examined.
    """
    speaker_names: dict[str, str] = {}
    transcripts = []
    for name, read in files:
        if not is_companion(name, read):
            transcripts.append((name, read))
            continue
        try:
            speaker_names |= speaker_names_from_parlamint_meta(read())
        except TranscriptFormatError as exc:
            yield Rejected(name, str(exc))
            return
    if not transcripts and files:
        names = ", ".join(name for name, _ in files)
        yield Rejected(
            names,
            f"{names}: ParlaMint speaker metadata names the speakers of a transcript; upload "
            "it together with its transcript (the .txt of the same sitting).",
        )
        return
    known = set()
    if participant is not None:
        known = set(participant.transcripts.values_list("original_sha256", flat=True))
    seen: dict[str, str] = {}
    seen_text: dict[str, str] = {}
    for name, read in transcripts:
        result = _examine_one(name, read(), participant, known, seen, speaker_names)
        if isinstance(result, Candidate) and participant is not None:
            result.duplicates = _duplicates(result, participant, seen_text)
        yield result


def _duplicates(candidate: Candidate, participant: Participant, seen_text: dict) -> list[str]:
    """Where the same text already is: in the study (by the text as stored, so the same words
    from a .vtt and an .srt match, or by the file's bytes) or earlier in this upload. A warning
    for the preview, not a refusal: two participants may share a group interview."""
    text_hash = candidate.text_sha256
    found = []
    existing = (
        Transcript.objects.filter(study_id=participant.study_id)
        .filter(Q(text_sha256=text_hash) | Q(original_sha256=candidate.sha256))
        .values_list("title", "participant__code")
        .order_by("pk")[:3]
    )
    for title, code in existing:
        found.append(f"The same text is already in this study as “{title}” ({code}).")
    if text_hash in seen_text:
        found.append(f"The same text as {seen_text[text_hash]} in this upload.")
    else:
        seen_text[text_hash] = candidate.name
    return found


def _examine_one(name, data, participant, known, seen, speaker_names) -> Candidate | Rejected:
    digest = sha256(data)
    if digest in seen:
        return Rejected(name, f"{name}: the same file as {seen[digest]} in this upload.")
    if digest in known:
        return Rejected(name, f"{name}: already imported for {participant.code}.")
    try:
        parsed = parse_transcript(
            name,
            data,
            max_bytes=settings.TRANSCRIPT_MAX_BYTES,
            max_unpacked_bytes=settings.UPLOAD_MAX_UNPACKED_BYTES,
            speaker_names=speaker_names or None,
        )
    except TranscriptFormatError as exc:
        return Rejected(name, str(exc))
    seen[digest] = name
    return Candidate(name, digest, len(data), parsed, guess_roles(parsed), data)


def examine(
    files: list[tuple[str, bytes]], participant: Participant | None
) -> tuple[list[Candidate], list[Rejected]]:
    """Every file at once (``manage.py import_transcript``): candidates and refusals."""
    candidates: list[Candidate] = []
    rejected: list[Rejected] = []
    readers = [(name, (lambda data=data: data)) for name, data in files]
    for result in examine_each(readers, participant):
        (candidates if isinstance(result, Candidate) else rejected).append(result)
    return candidates, rejected


@dataclass
class Preview:
    """What the import preview shows of one candidate: no text beyond the first turns, so
    the candidate's parse can be dropped before the next file is read."""

    index: int
    name: str
    format: str
    turns: int
    characters: int
    warnings: list[str]
    speakers: list[tuple[str, int, str]]  # label, turns, guessed role
    first_turns: list[tuple[str, str, str]]  # speaker, time, the first 300 characters said
    text_sha256: str = ""
    duplicates: list[str] = field(default_factory=list)
    unlabelled: int = 0  # turns without a speaker label
    unlabelled_role: str = SpeakerRole.OTHER  # guessed
    unlabelled_name: str = ""  # guessed
    also_waiting: bool = False  # the same text waits in another preview (not yet imported)

    @property
    def characters_label(self) -> str:
        return f"{self.characters:,}"

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.format, self.format)


def _opening(parsed: ParsedTranscript, turn, limit: int = 300) -> str:
    said = parsed.text[turn.start : min(turn.end, turn.start + limit + 1)]
    if len(said) <= limit:
        return said
    cut = said[:limit]
    return (cut.rsplit(None, 1)[0] if " " in cut else cut) + " …"  # at a word's end


def default_title(filename: str) -> str:
    """The file's name without its extensions ("interview.md.txt" → "interview")."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    while dot and stem and extension.lower() in _EXTENSIONS:
        name = stem
        stem, dot, extension = name.rpartition(".")
    return name


_EXTENSIONS = {"txt", "md", "markdown", "docx", "vtt", "srt", "json", "tsv", "csv"}

FORMAT_LABELS = {
    "text": "Plain text",
    "markdown": "Markdown",
    "docx": "Word document",
    "vtt": "WebVTT subtitles",
    "srt": "SRT subtitles",
    "whisper-json": "Whisper JSON",
    "tsv": "Table (TSV)",
    "csv": "Table (CSV)",
    "tab-turns": "ParlaMint lines",
}


def preview_of(index: int, candidate: Candidate, participant: Participant) -> Preview:
    parsed = candidate.parsed
    return Preview(
        index=index,
        name=candidate.name,
        format=parsed.format,
        turns=len(parsed.turns),
        characters=len(parsed.text),
        warnings=list(parsed.warnings),
        speakers=[
            (label, sum(1 for t in parsed.turns if t.speaker == label), candidate.roles[label])
            for label in parsed.speakers
        ],
        first_turns=[
            (turn.speaker, clock(turn.start_ms), _opening(parsed, turn))
            for turn in parsed.turns[:5]
        ],
        text_sha256=candidate.text_sha256,
        duplicates=list(candidate.duplicates),
        unlabelled=sum(1 for turn in parsed.turns if not turn.speaker),
        unlabelled_role=candidate.roles.get("", SpeakerRole.OTHER),
        unlabelled_name=unlabelled_speaker(candidate, participant),
    )
