"""Matrices as spreadsheets: a grid (a header row, then rows) written as CSV or XLSX.

Every text cell is neutralised (``workbench.exports.csv_safe``: a code or case named "=SUM(…)"
or "-1" stays text) and XLSX text cells are stored as strings, so no cell runs as a formula;
numbers stay numbers so a spreadsheet can sum them.
"""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from workbench.exports import csv_safe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value) -> str:
    return "" if value is None else csv_safe(str(value))


def csv_text(grid: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in grid:
        writer.writerow([value if _is_number(value) else _text(value) for value in row])
    return out.getvalue()


def xlsx_bytes(grid: list[list], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = ILLEGAL_CHARACTERS_RE.sub("", title)[:31] or "Matrix"
    widths: dict[int, int] = {}
    for r, row in enumerate(grid, start=1):
        for c, value in enumerate(row, start=1):
            if _is_number(value):
                cell = sheet.cell(row=r, column=c, value=value)
            else:
                cell = sheet.cell(
                    row=r, column=c, value=ILLEGAL_CHARACTERS_RE.sub("", _text(value))
                )
                cell.data_type = "s"  # text stays text: openpyxl would store "=…" as a formula
            if r == 1 or c == 1:
                cell.font = Font(bold=True)
            widths[c] = max(widths.get(c, 0), len(str(cell.value or "")))
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(max(width, 6), 50) + 2
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
