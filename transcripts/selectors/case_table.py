"""The case summary table (like the paper's Table 1): one row per case, its participants'
codes and every case attribute; sortable, and written out as CSV or XLSX.

Participants appear only by their pseudonym code: contact details are never loaded, so no
table or download can leak them.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from urllib.parse import urlencode

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from transcripts.models import Attribute, AttributeKind, AttributeTarget, Case
from transcripts.selectors import cases as case_selectors
from transcripts.selectors.attributes import display
from workbench.exports import csv_safe

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _natural(text: str) -> tuple:
    """Sort key in which I2 comes before I10 and case does not matter."""
    parts = re.split(r"(\d+)", text.casefold())
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    attribute: Attribute | None = None


@dataclass
class Cell:
    column: Column
    value: object  # typed: int/float for numbers, a date for dates, else text
    text: str
    sort_key: tuple | None  # None: empty, always sorted last


@dataclass
class Row:
    case: Case
    codes: list[str]
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Table:
    columns: list[Column]
    rows: list[Row]
    sort: str
    descending: bool

    @property
    def query(self) -> str:
        return urlencode({"sort": self.sort, "dir": "desc" if self.descending else "asc"})

    @property
    def sorted_by(self) -> Column:
        return next(column for column in self.columns if column.key == self.sort)

    def headers(self):
        """(column, link query, aria-sort) for each column header."""
        for column in self.columns:
            current = column.key == self.sort
            flip = "asc" if current and self.descending else "desc" if current else "asc"
            state = ("descending" if self.descending else "ascending") if current else ""
            yield column, urlencode({"sort": column.key, "dir": flip}), state


DEFAULT_SORT = "participants"


def _columns(attributes: list[Attribute]) -> list[Column]:
    return [
        Column("participants", "Participants"),
        Column("name", "Case"),
        *(Column(f"attr_{a.pk}", a.name, a) for a in attributes),
        Column("description", "Description"),
    ]


def _typed(attribute: Attribute, value):
    """(typed value, sort key) of a stored attribute value; a malformed one sorts after."""
    kind = attribute.kind
    if kind == AttributeKind.NUMBER:
        try:
            number = Decimal(str(value))
            if number.is_finite():
                return value, (0, number)
        except InvalidOperation:
            pass
    elif kind == AttributeKind.DATE:
        try:
            day = date.fromisoformat(str(value))
            return day, (0, day)
        except ValueError:
            pass
    elif attribute.is_choice:
        # Choices sort in the order the attribute lists them (an ordinal scale reads right).
        options = attribute.options or []
        items = value if isinstance(value, list) else [value]
        key = tuple(
            (0, options.index(item), "") if item in options else (1, 0, str(item).casefold())
            for item in items
        )
        return display(attribute, value), key
    else:
        return str(value), (0, _natural(str(value)))
    return str(value), (1, _natural(str(value)))


def _cell(column: Column, case: Case, codes: list[str]) -> Cell:
    if column.key == "participants":
        text = ", ".join(codes)
        return Cell(column, text, text, tuple(_natural(code) for code in codes) or None)
    if column.key == "name":
        return Cell(column, case.name, case.name, _natural(case.name))
    if column.key == "description":
        text = case.description
        return Cell(column, text, text, _natural(text) if text else None)
    value = case.attributes.get(str(column.attribute.pk))
    if value is None or value == "" or value == []:
        return Cell(column, None, "", None)
    typed, key = _typed(column.attribute, value)
    return Cell(column, typed, display(column.attribute, value), key)


def build(study, params, *, cases=None, attributes=None) -> Table:
    """The case table, sorted as ``params`` (a QueryDict) asks.

    Queries: the case attributes, the cases, their participants' codes: three, however many.
    """
    if attributes is None:
        attributes = case_selectors.attributes_for(study, AttributeTarget.CASE)
    columns = _columns(attributes)
    keys = {column.key for column in columns}
    sort = params.get("sort", DEFAULT_SORT)
    sort = sort if sort in keys else DEFAULT_SORT
    descending = params.get("dir") == "desc"
    rows = []
    for case in cases if cases is not None else case_selectors.case_table_cases(study):
        codes = sorted((p.code for p in case.participants.all()), key=_natural)
        rows.append(Row(case=case, codes=codes, cells=[_cell(c, case, codes) for c in columns]))
    # Ties (and the empty values, always last) stay in case-name order.
    rows.sort(key=lambda row: _natural(row.case.name))
    position = [column.key for column in columns].index(sort)
    filled = [row for row in rows if row.cells[position].sort_key is not None]
    empty = [row for row in rows if row.cells[position].sort_key is None]
    filled.sort(key=lambda row: row.cells[position].sort_key, reverse=descending)
    return Table(columns=columns, rows=filled + empty, sort=sort, descending=descending)


def _csv_text(cell: Cell) -> str:
    # A validated number such as -5 is data, not a formula; every text is neutralised.
    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
        return cell.text
    return csv_safe(cell.text)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_csv(table: Table, file) -> None:
    writer = csv.writer(file)
    writer.writerow([csv_safe(column.label) for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_text(cell) for cell in row.cells])


def xlsx_bytes(table: Table) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Cases"
    widths = [len(column.label) for column in table.columns]
    for index, column in enumerate(table.columns, start=1):
        cell = _xlsx_cell(sheet, 1, index, column.label)
        cell.font = Font(bold=True)
    for row_number, row in enumerate(table.rows, start=2):
        for index, cell in enumerate(row.cells, start=1):
            target = _xlsx_cell(sheet, row_number, index, cell.value)
            if isinstance(cell.value, date):
                target.number_format = "yyyy-mm-dd"
            if cell.column.key == "description":
                target.alignment = Alignment(wrap_text=True, vertical="top")
            widths[index - 1] = max(widths[index - 1], len(cell.text))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 6), 60) + 2
    sheet.freeze_panes = "A2"
    last = f"{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    sheet.auto_filter.ref = f"A1:{last}"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, row: int, column: int, value):
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        # openpyxl would store "=..." as a formula; text stays text, so nothing can run.
        cell.data_type = "s"
    return cell
