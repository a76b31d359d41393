"""Retrieved segments written out as CSV or XLSX: one row per segment, every cell text (or a
number), and no cell ever starting a formula (``workbench.exports.csv_safe`` for CSV; XLSX
cells are stored as strings, which a spreadsheet never evaluates)."""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from workbench.exports import csv_safe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER = (
    "Code",
    "Layer",
    "Transcript",
    "Participant",
    "Case",
    "Speaker",
    "Start",
    "End",
    "Before",
    "Segment",
    "After",
    "Memo",
    "Exemplar",
    "Attributes",
    "Dimension values",
)
WIDE = {"Before", "Segment", "After", "Memo"}


def rows(segments) -> list[list]:
    """Each segment as a row of the ``HEADER`` columns (offsets as numbers, the rest text)."""
    return [
        [
            s.code.name,
            s.coder or "Consensus",
            s.title,
            s.participant,
            s.case,
            s.speaker,
            s.start,
            s.end,
            s.before,
            s.passage,
            s.after,
            s.memo,
            "yes" if s.exemplar else "",
            "; ".join(f"{name}: {value}" for name, value in s.attributes),
            "; ".join(f"{v.dimension.name}: {v.label}" for v in s.dimension_values),
        ]
        for s in segments
    ]


def csv_text(segments) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in rows(segments):
        writer.writerow([v if isinstance(v, int) else csv_safe(v) for v in row])
    return out.getvalue()


def xlsx_bytes(segments, title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Segments"
    for index, label in enumerate(HEADER, start=1):
        sheet.cell(row=1, column=index, value=label).font = Font(bold=True)
        width = 50 if label in WIDE else 16
        sheet.column_dimensions[get_column_letter(index)].width = width
    for number, row in enumerate(rows(segments), start=2):
        for index, value in enumerate(row, start=1):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = sheet.cell(row=number, column=index, value=value)
            if isinstance(value, str):
                # openpyxl would store "=..." as a formula: text stays text, nothing can run.
                cell.data_type = "s"
                if HEADER[index - 1] in WIDE:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(HEADER))}{max(sheet.max_row, 1)}"
    workbook.properties.title = title[:200]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
