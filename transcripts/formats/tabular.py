"""Tables of timed text: Whisper's TSV (``start<TAB>end<TAB>text``, milliseconds) and
similar TSV/CSV exports with a header row; plus ParlaMint's speaker metadata table.
"""

import csv
import io
import math
import re

from .base import TranscriptFormatError, display_name, summarise
from .labels import CLOCK, clock_ms
from .normalise import read_text
from .segments import Segment

# Header names we understand, lower case. The first one present wins.
_TEXT_COLUMNS = ("text", "transcript", "utterance", "speech", "content", "sentence")
_SPEAKER_COLUMNS = ("speaker", "speaker_name", "speaker name", "name", "who")
_START_COLUMNS = ("start", "start_ms", "start_time", "begin", "from", "in")
_END_COLUMNS = ("end", "end_ms", "end_time", "stop", "to", "out")
_CLOCK_CELL = re.compile(CLOCK)


def _reader(filename: str, text: str):
    """CSV with its quoting rules; TSV without any, as Whisper writes it: a quote that starts
    a speech ("Hello," she said) must not swallow the rows after it."""
    first_line = text.split("\n", 1)[0]
    if filename.lower().endswith(".csv") or "\t" not in first_line:
        return csv.reader(io.StringIO(text))
    return csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)


def is_parlamint_meta(header: list[str]) -> bool:
    return "ID" in header and "Speaker_name" in header


def looks_like_parlamint_meta(data: bytes) -> bool:
    """Whether a file's first line is the header of a ParlaMint metadata table, whatever the
    file is called (``…-meta.tsv`` in the corpus, ``…-meta_uk.tsv`` in copies)."""
    first = data[:4096].split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    return is_parlamint_meta([cell.strip() for cell in first.split("\t")])


def has_text_column(header: list[str]) -> bool:
    return any(cell.strip().lower() in _TEXT_COLUMNS for cell in header)


def parse_table(filename: str, text: str) -> tuple[list[Segment], list[str]]:
    """One segment per row with text; rows with unreadable times are skipped with a warning."""
    name = display_name(filename)
    try:
        rows = list(_reader(filename, text))
    except csv.Error as error:  # e.g. a cell over the csv module's size limit
        raise TranscriptFormatError(f"{name} is not a readable table ({error}).") from None
    header = [cell.strip() for cell in rows[0]] if rows else []
    if is_parlamint_meta(header):
        raise _parlamint_meta_error(name)
    header = [cell.lower() for cell in header]
    columns = {
        role: _column(header, names)
        for role, names in (
            ("text", _TEXT_COLUMNS),
            ("speaker", _SPEAKER_COLUMNS),
            ("start", _START_COLUMNS),
            ("end", _END_COLUMNS),
        )
    }
    if columns["text"] is None:
        raise TranscriptFormatError(
            f"{name} is a table without a “text” column; its header row must name the column "
            "that holds the speech (e.g. start, end, text)."
        )
    segments: list[Segment] = []
    problems: list[str] = []
    for line_number, row in enumerate(rows[1:], start=2):
        segment = _row_segment(row, columns)
        if isinstance(segment, str):
            problems.append(f"Skipped row {line_number}: {segment}.")
        elif segment is not None:
            segments.append(segment)
    if not segments:
        detail = f" ({problems[0]})" if problems else ""
        raise TranscriptFormatError(f"{name} has no rows with text{detail}.")
    return segments, summarise(problems)


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for wanted in names:
        if wanted in header:
            return header.index(wanted)
    return None


def _row_segment(row: list[str], columns: dict[str, int | None]) -> Segment | str | None:
    """The row's segment, None for a row without text, or the reason it cannot be used."""

    def cell(role: str) -> str:
        index = columns[role]
        return row[index].strip() if index is not None and index < len(row) else ""

    if not cell("text"):
        return None
    times = []
    for role in ("start", "end"):
        value = cell(role)
        ms = _cell_ms(value)
        if value and ms is None:
            return f"its {role} time “{value}” cannot be read"
        times.append(ms)
    start, end = times
    if start is not None and end is not None and end < start:
        return "it ends before it starts"
    return Segment(cell("text"), start, end, cell("speaker"))


def _cell_ms(value: str) -> int | None:
    """Whole numbers are milliseconds, as in Whisper's TSV; other tools write seconds with a
    decimal point ("1.5") or a clock ("00:01:02.500")."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    if _CLOCK_CELL.fullmatch(value):
        return clock_ms(value)
    try:
        seconds = float(value)
    except ValueError:
        return None
    return round(seconds * 1000) if math.isfinite(seconds) and seconds >= 0 else None


def _parlamint_meta_error(name: str) -> TranscriptFormatError:
    return TranscriptFormatError(
        f"{name} is a ParlaMint speaker table (metadata), not a transcript. Upload the matching "
        ".txt file; this table can supply the speakers’ names."
    )


def speaker_names_from_parlamint_meta(data: bytes) -> dict[str, str]:
    """Utterance ID → speaker name, from a ParlaMint ``…-meta.tsv`` (its ID and Speaker_name
    columns), to pass as ``parse_transcript(…, speaker_names=…)``."""
    text = read_text("ParlaMint metadata", data)
    try:
        rows = list(csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE))
    except csv.Error as error:
        raise TranscriptFormatError(
            f"The ParlaMint metadata is not a readable table ({error})."
        ) from None
    if not rows or not is_parlamint_meta(list(rows[0])):
        raise TranscriptFormatError(
            "The ParlaMint metadata has no “ID” and “Speaker_name” columns."
        )
    return {
        row["ID"].strip(): row["Speaker_name"].strip()
        for row in rows
        if (row.get("ID") or "").strip() and (row.get("Speaker_name") or "").strip()
    }
