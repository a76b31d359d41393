"""Transcript files in, canonical text and speaker turns out. Pure Python: no Django, no database.

``parse_transcript(filename, data)`` reads plain text (with many speaker-label styles),
Markdown, Word .docx, WebVTT, SRT, Whisper JSON and TSV/CSV tables, and ParlaMint's
``ID<TAB>text`` lines. It returns the canonical text (Unicode NFC, LF line ends) and the turns
as code-point offsets into it. Anything it cannot read raises ``TranscriptFormatError`` with a
message for the researcher; no other exception escapes for bad input.

How the text is made:

- Running text (plain text, DOCX paragraphs joined by LF): the text is the file's text; labels
  and timestamps stay in it and turns point at the speech between them.
- Markdown (``.md``, or a text file whose speakers are labelled ``**Name:**``) is first read as
  the text it shows (``markdown.to_plain``: no backslash escapes, no emphasis markers), then as
  running text.
- Timed formats (VTT, SRT, Whisper JSON, TSV): there is no running text, so one is written:
  ``Speaker: speech`` per turn (just ``speech`` without a speaker), blank line between turns.
"""

import hashlib
import json

from . import markdown, plain, segments, subtitles, tabular, whisper
from .base import ParsedTranscript, TranscriptFormatError, Turn, display_name, distinct_speakers
from .normalise import check_size, check_text_size, read_text, reject_binary
from .tabular import looks_like_parlamint_meta, speaker_names_from_parlamint_meta
from .word import DEFAULT_MAX_UNPACKED_BYTES, docx_text

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_UNPACKED_BYTES",
    "ParsedTranscript",
    "TranscriptFormatError",
    "Turn",
    "looks_like_parlamint_meta",
    "parse_transcript",
    "sha256",
    "speaker_names_from_parlamint_meta",
]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_transcript(
    filename: str,
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
    speaker_names: dict[str, str] | None = None,
) -> ParsedTranscript:
    """Read an uploaded transcript. The format is chosen by content first, then extension.

    ``max_bytes`` caps the file and the text made from it (UTF-8), ``max_unpacked_bytes`` what
    any part of a ZIP-based file (.docx) may unpack to. ``speaker_names`` maps labels as
    written (e.g. ParlaMint utterance IDs, or "I") to the names the turns should carry.
    """
    check_size(filename, data, max_bytes)
    parsed = _parse(filename, data, max_bytes, max_unpacked_bytes, speaker_names)
    # The text is what is stored; a format may make more of it than the file had bytes.
    check_text_size(filename, parsed.text, max_bytes)
    return parsed


def _parse(
    filename: str,
    data: bytes,
    max_bytes: int,
    max_unpacked_bytes: int,
    speaker_names: dict[str, str] | None,
) -> ParsedTranscript:
    extension = _extension(filename)
    if data.startswith(_ZIP_MAGIC):
        text = docx_text(filename, data, max_bytes=max_bytes, max_unpacked_bytes=max_unpacked_bytes)
        return _running_text(filename, text, "docx", speaker_names, paragraph_per_line=True)
    reject_binary(filename, data)
    if extension == ".docx":
        raise TranscriptFormatError(
            f"{display_name(filename)} is not a Word .docx file (a .docx is a ZIP package and "
            "this is not one). If it is an old .doc file, save it as .docx and upload again."
        )
    text = read_text(filename, data)

    if extension == ".vtt" or text.startswith("WEBVTT"):
        return _timed(*subtitles.parse_vtt(filename, text), "vtt", speaker_names)
    if extension == ".srt" or _looks_like_srt(text):
        return _timed(*subtitles.parse_srt(filename, text), "srt", speaker_names)
    document = _json_document(filename, extension, text)
    if document is not None:
        found = whisper.parse_whisper_json(filename, document)
        return _timed(*found, "whisper-json", speaker_names)
    if _is_table(extension, text):
        table_format = "csv" if extension == ".csv" else "tsv"
        return _timed(*tabular.parse_table(filename, text), table_format, speaker_names)
    if plain.looks_like_id_tab_lines(text):
        turns = _renamed(plain.parse_id_tab_lines(text), speaker_names)
        return ParsedTranscript(text, turns, "tab-turns", distinct_speakers(turns), [])
    markdown = extension in (".md", ".markdown")
    return _running_text(filename, text, "markdown" if markdown else "text", speaker_names)


def _extension(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ""


def _running_text(
    filename: str,
    text: str,
    format: str,
    speaker_names: dict[str, str] | None,
    *,
    paragraph_per_line: bool = False,
) -> ParsedTranscript:
    if format == "markdown":
        text = markdown.to_plain(text)
    if not text.strip():
        raise TranscriptFormatError(f"{display_name(filename)} has no text.")
    turns, warnings, used_bold = plain.parse_running_text(
        text, paragraph_per_line=paragraph_per_line
    )
    if format == "text" and used_bold:
        # "**Name:**" labels: Markdown saved as .txt (the Changelog file). Read it as Markdown.
        return _running_text(filename, text, "markdown", speaker_names)
    turns = _renamed(turns, speaker_names)
    return ParsedTranscript(text, turns, format, distinct_speakers(turns), warnings)


def _timed(
    found: list[segments.Segment],
    warnings: list[str],
    format: str,
    speaker_names: dict[str, str] | None,
) -> ParsedTranscript:
    segments.split_spoken_labels(found)
    text, turns = segments.build(found, speaker_names)
    return ParsedTranscript(text, turns, format, distinct_speakers(turns), warnings)


def _renamed(turns: list[Turn], speaker_names: dict[str, str] | None) -> list[Turn]:
    if not speaker_names:
        return turns
    return [
        Turn(speaker_names.get(t.speaker, t.speaker), t.start, t.end, t.start_ms, t.end_ms)
        for t in turns
    ]


def _looks_like_srt(text: str) -> bool:
    lines = text.lstrip().split("\n", 2)
    return len(lines) >= 2 and lines[0].strip().isdigit() and "-->" in lines[1]


def _json_document(filename: str, extension: str, text: str):
    """The parsed JSON for a .json file, or for a text that is Whisper JSON; else None."""
    if extension == ".json":
        return whisper.load_json(filename, text)
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None  # a text that happens to start with a bracket, e.g. "[00:01] Name: …"
    return document if whisper.looks_like_whisper(document) else None


def _is_table(extension: str, text: str) -> bool:
    """A table with a header row; ParlaMint's "ID<TAB>text" lines are not one."""
    cells = text.split("\n", 1)[0].split("\t")
    known_header = tabular.has_text_column(cells) or tabular.is_parlamint_meta(cells)
    if extension in (".tsv", ".csv"):
        return known_header or not plain.looks_like_id_tab_lines(text)
    return len(cells) >= 2 and known_header
