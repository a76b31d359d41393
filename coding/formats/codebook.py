"""Codebook files in and out: CSV, and REFI-QDA codebooks (``.qdc``, or the ``<CodeBook>`` of a
``.qdpx`` project). Parsing never writes; ``coding.services.codes_import`` writes a parsed file
only when every row is valid.
"""

import csv
import io
import re
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from lxml import etree

from coding.models import PARENT_KIND, Code, CodeKind, CodeOrigin, CodeStatus
from coding.services.codebook import normalise_colour
from transcripts.formats import packages
from workbench.exports import csv_safe

CSV_COLUMNS = [
    "name",
    "definition",
    "when_to_use",
    "when_not_to_use",
    "example",
    "colour",
    "origin",
    "parent",
    "kind",
    "status",
    "guid",
]
REQUIRED_COLUMNS = {"name"}
QDC_NS = "urn:QDA-XML:codebook:1.0"
MAX_BYTES = 5 * 1024 * 1024
# Codes in one file: real codebooks have tens to a few hundred (NVivo's sample: 152); each
# imported code is a row and an audit event, written in one transaction.
MAX_CODES = 5_000
# Description sections written by the export and read back on import, so that a round trip
# through REFI-QDA (which has a single Description) keeps every definition field.
SECTIONS = (
    ("when_to_use", "When to use:"),
    ("when_not_to_use", "When not to use:"),
    ("example", "Example:"),
)


@dataclass
class Row:
    line: int
    name: str
    definition: str = ""
    when_to_use: str = ""
    when_not_to_use: str = ""
    example: str = ""
    colour: str = ""
    origin: str = CodeOrigin.DEDUCTIVE
    parent: str = ""
    kind: str = ""
    status: str = CodeStatus.ACTIVE
    guid: uuid.UUID | None = None
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skip: str = ""


@dataclass
class ParsedCodebook:
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # about the file as a whole
    notes: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors and not any(row.errors for row in self.rows)

    @property
    def to_create(self) -> int:
        return sum(1 for row in self.rows if not row.skip and not row.errors)


# --- shared validation ---------------------------------------------------------------------


def _finish(parsed: ParsedCodebook, study) -> ParsedCodebook:
    """Check rows against each other and the codebook; infer kinds; order parents first."""
    existing = {
        code.name.lower(): code
        for code in Code.objects.filter(study=study).only("name", "kind", "guid")
    }
    guids = {code.guid for code in existing.values()}
    in_file: dict[str, Row] = {}
    for row in parsed.rows:
        key = row.name.lower()
        if not row.name:
            row.errors.append("The name is empty.")
        elif len(row.name) > 200:
            row.errors.append("The name is longer than 200 characters.")
        elif key in in_file:
            row.errors.append(f"“{row.name}” is also on line {in_file[key].line}.")
        else:
            in_file[key] = row
        if key in existing:
            row.skip = "already in the codebook"
        elif row.guid is not None and row.guid in guids:
            row.skip = "already in the codebook (same GUID)"
    children: dict[str, list[Row]] = {}
    for row in parsed.rows:
        if row.parent:
            if row.parent.lower() == row.name.lower():
                row.errors.append("A code cannot be its own parent.")
            elif row.parent.lower() not in in_file and row.parent.lower() not in existing:
                row.errors.append(
                    f"The parent “{row.parent}” is neither in the file nor in the codebook."
                )
            else:
                children.setdefault(row.parent.lower(), []).append(row)
    # Kinds: given, else inferred from depth (a parent of codes is a theme, of themes a category).
    for row in parsed.rows:
        if not row.kind:
            below = children.get(row.name.lower(), [])
            grand = any(children.get(child.name.lower()) for child in below)
            row.kind = CodeKind.CATEGORY if grand else CodeKind.THEME if below else CodeKind.CODE
    for row in parsed.rows:
        if not row.parent or row.errors:
            continue
        parent = in_file.get(row.parent.lower())
        if parent is None or parent.skip:
            # The parent already exists (its row is skipped): the existing code's kind counts.
            parent_kind = existing[row.parent.lower()].kind
        else:
            parent_kind = parent.kind
        wanted = PARENT_KIND.get(row.kind)
        if wanted is None:
            row.errors.append("A category cannot have a parent.")
        elif parent_kind != wanted:
            row.errors.append(
                f"A {row.kind} can only be grouped under a {wanted}; "
                f"“{row.parent}” is a {parent_kind}."
            )
    if not parsed.rows and not parsed.errors:
        parsed.errors.append("The file has no codes.")
    # Parents before children, keeping file order otherwise.
    depth = {}

    def level(row, seen=()):
        if row.name.lower() in depth:
            return depth[row.name.lower()]
        parent = in_file.get(row.parent.lower()) if row.parent else None
        if parent is None or parent.name.lower() in seen:
            value = 0
        else:
            value = level(parent, (*seen, row.name.lower())) + 1
        depth[row.name.lower()] = value
        return value

    parsed.rows.sort(key=level)
    return parsed


def _field_row(row: Row, data: dict) -> Row:
    for key in ("definition", "when_to_use", "when_not_to_use", "example"):
        setattr(row, key, (data.get(key) or "").strip())
    try:
        row.colour = normalise_colour(data.get("colour") or "")
    except ValidationError:
        row.errors.append(f"Colour “{data.get('colour')}” is not #rrggbb.")
    origin = (data.get("origin") or "").strip().lower() or CodeOrigin.DEDUCTIVE
    if origin not in CodeOrigin.values:
        row.errors.append(f"Origin “{origin}” is not deductive or inductive.")
    row.origin = origin
    kind = (data.get("kind") or "").strip().lower()
    if kind and kind not in CodeKind.values:
        row.errors.append(f"Kind “{kind}” is not code, theme or category.")
    row.kind = kind
    status = (data.get("status") or "").strip().lower() or CodeStatus.ACTIVE
    if status == CodeStatus.PENDING:
        status = CodeStatus.ACTIVE
    if status not in CodeStatus.values:
        row.errors.append(f"Status “{status}” is not active or retired.")
    row.status = status
    row.parent = " ".join((data.get("parent") or "").split())
    if data.get("guid"):
        row.guid = _guid(data["guid"])
        if row.guid is None:
            row.errors.append(f"GUID “{data['guid']}” is not a GUID.")
    return row


def _guid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip().strip("{}"))
    except ValueError:
        return None


# --- CSV -----------------------------------------------------------------------------------


def parse_csv(data: bytes, study) -> ParsedCodebook:
    parsed = ParsedCodebook()
    if len(data) > MAX_BYTES:
        parsed.errors.append("The file is larger than 5 MB.")
        return parsed
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        parsed.errors.append("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
        return parsed
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    headers = [(h or "").strip().lower() for h in reader.fieldnames or []]
    missing = REQUIRED_COLUMNS - set(headers)
    if missing:
        parsed.errors.append(
            "The first line must name the columns; “name” is required. Known columns: "
            + ", ".join(CSV_COLUMNS)
            + "."
        )
        return parsed
    unknown = [h for h in headers if h and h not in CSV_COLUMNS]
    if unknown:
        parsed.errors.append(f"Unknown column(s): {', '.join(unknown)}.")
        return parsed
    reader.fieldnames = headers
    try:
        for line, record in enumerate(reader, start=2):
            if len(parsed.rows) >= MAX_CODES:
                parsed.rows = []
                parsed.errors.append(_TOO_MANY_CODES)
                return parsed
            if not any(
                (value or "").strip() for value in record.values() if isinstance(value, str)
            ):
                continue
            if None in record:
                parsed.errors.append(f"Line {line} has more cells than there are columns.")
                continue
            row = Row(line=line, name=" ".join((record.get("name") or "").split()))
            parsed.rows.append(_field_row(row, record))
    except csv.Error as exc:
        parsed.errors.append(f"The CSV could not be read: {exc}.")
        return parsed
    return _finish(parsed, study)


def write_csv(codes, out) -> None:
    """``codes`` with ``parent`` selected; every cell is made spreadsheet-safe."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for code in codes:
        writer.writerow(
            [
                csv_safe(code.name),
                csv_safe(code.definition),
                csv_safe(code.when_to_use),
                csv_safe(code.when_not_to_use),
                csv_safe(code.example),
                code.colour,
                code.origin,
                csv_safe(code.parent.name if code.parent else ""),
                code.kind,
                code.status,
                str(code.guid),
            ]
        )


# --- REFI-QDA ------------------------------------------------------------------------------


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _split_description(text: str) -> dict:
    """Description → definition and the sections our export appends."""
    fields = {"definition": text.strip()}
    labels = "|".join(re.escape(label) for _, label in SECTIONS)
    parts = re.split(rf"(?m)^({labels})[ \t]*", text)
    if len(parts) > 1:
        fields["definition"] = parts[0].strip()
        by_label = {label: key for key, label in SECTIONS}
        for label, body in zip(parts[1::2], parts[2::2], strict=False):
            fields[by_label[label]] = body.strip()
    return fields


def _qdc_chunks(data: bytes, max_unpacked_bytes: int):
    """The codebook XML a chunk at a time: the file itself, or ``project.qde`` in a .qdpx.

    Tags are not counted up front: a project holds its sources' codings after the codebook,
    and reading stops at the codebook's end (the parser still stops at the tag limit)."""
    if data[:2] != b"PK":
        return packages.byte_chunks(
            data, max_bytes=max_unpacked_bytes, what="the XML", max_tags=None
        )
    archive = packages.open_zip(data)
    name = next((n for n in archive.namelist() if n.lower().endswith("project.qde")), None)
    if name is None:
        raise _Refused("The .qdpx file has no project.qde inside.")
    return packages.member_chunks(archive, name, max_bytes=max_unpacked_bytes, max_tags=None)


class _Refused(Exception):
    """The file as a whole cannot be read; the message says why."""


@dataclass
class _OpenCode:
    """A ``<Code>`` whose end has not been read yet."""

    element: etree._Element
    row: Row
    codable: bool
    description: str | None = None
    tallest_child: int = -1  # height of its tallest sub-code; -1: none


_SETS_NOTE = "Code sets (<Sets>) are not imported."
_TOO_MANY_CODES = f"The file has more than {MAX_CODES:,} codes; import it in parts."
# The elements the reader acts on; every other element costs no Python time.
_TAGS = tuple(f"{{*}}{name}" for name in ("CodeBook", "Codes", "Code", "Description", "Sets"))


def _read_codes(chunks, parsed: ParsedCodebook) -> bool:
    """Rows for the ``<Code>`` tree of the first ``<CodeBook>`` (in pre-order, nesting as
    parent names), read as the XML streams in; each code's element is cleared once read, and
    reading stops at the end of the codebook, so a project's sources are never parsed.
    Returns whether a ``<Codes>`` element was found."""
    codebook = codes = None
    open_codes: list[_OpenCode] = []
    for event, element in packages.xml_events(chunks, events=("start", "end"), tag=_TAGS):
        name, parent = _local(element), element.getparent()
        if event == "start":
            if name == "CodeBook" and codebook is None:
                codebook = element
            elif codebook is None or (name != "Code" and parent is not codebook):
                pass
            elif name == "Codes" and codes is None:
                codes = element
            elif name == "Sets" and _SETS_NOTE not in parsed.notes:
                parsed.notes.append(_SETS_NOTE)
            elif name == "Code" and codes is not None and _holder(open_codes, codes) is parent:
                if len(parsed.rows) >= MAX_CODES:
                    raise _Refused(_TOO_MANY_CODES)
                row = Row(len(parsed.rows) + 1, " ".join((element.get("name") or "").split()))
                codable = (element.get("isCodable") or "true").strip().lower() in {"true", "1"}
                parsed.rows.append(row)
                open_codes.append(_OpenCode(element, row, codable))
            continue
        if name == "CodeBook" and element is codebook:
            break
        if not open_codes:
            continue
        current = open_codes[-1]
        if name == "Description" and parent is current.element and current.description is None:
            current.description = element.text or ""
        elif element is current.element:
            open_codes.pop()
            _finish_code(current, open_codes[-1].row if open_codes else None)
            if open_codes:
                open_codes[-1].tallest_child = max(
                    open_codes[-1].tallest_child, current.tallest_child + 1
                )
            element.clear()  # its sub-codes are rows now
    if codebook is None:
        raise _Refused("No <CodeBook> element found: is this a REFI-QDA codebook or project?")
    return codes is not None


def _holder(open_codes: list[_OpenCode], codes):
    """The element a ``<Code>`` must be a child of to belong to the tree being read."""
    return open_codes[-1].element if open_codes else codes


def _finish_code(code: _OpenCode, parent: Row | None) -> None:
    row, element = code.row, code.element
    values = _split_description(code.description or "") | {
        "colour": element.get("color") or "",
        "guid": element.get("guid") or "",
        "parent": parent.name if parent else "",
    }
    _field_row(row, values)
    if not element.get("guid"):
        row.errors.append("The code has no guid attribute.")
    # Leaves are codes (or themes, when not codable); parents of codes are themes, parents of
    # themes categories: NVivo-style trees of codable nodes map onto that.
    height = code.tallest_child + 1
    if height == 0:
        row.kind = CodeKind.CODE if code.codable else CodeKind.THEME
    else:
        row.kind = CodeKind.THEME if height == 1 else CodeKind.CATEGORY
        if code.codable:
            row.notes.append(f"Codable, with sub-codes: imported as a {row.kind}.")


def parse_qdc(data: bytes, study, *, max_unpacked_bytes: int | None = None) -> ParsedCodebook:
    """A REFI-QDA codebook (.qdc) or a project (.qdpx/.qde) → rows, nesting → parent links.

    Namespaces are matched by local name (files use the default namespace, a ``qda:`` prefix
    or both). ``isCodable="false"`` codes become themes (or categories, if they group themes);
    a codable code nested in another codable code cannot be grouped in our tree, so it is
    attached to the nearest non-codable ancestor and the report says so.

    The XML is read as a stream within limits (``transcripts.formats.packages``): what a .qdpx
    member unpacks to (``max_unpacked_bytes``, default ``settings.UPLOAD_MAX_UNPACKED_BYTES``),
    ``MAX_CODES``, no DTD; a file past any of them is refused as a whole.
    """
    parsed = ParsedCodebook()
    if len(data) > 10 * MAX_BYTES:
        parsed.errors.append("The file is larger than 50 MB.")
        return parsed
    if max_unpacked_bytes is None:
        max_unpacked_bytes = settings.UPLOAD_MAX_UNPACKED_BYTES
    try:
        found_codes = _read_codes(_qdc_chunks(data, max_unpacked_bytes), parsed)
    except _Refused as refused:
        found_codes, problem = False, str(refused)
    except (packages.LimitExceeded, packages.UnsafeXML) as error:
        found_codes, problem = False, f"The file was not read: {error}."
    except etree.XMLSyntaxError as error:
        found_codes, problem = False, f"The file is not well-formed XML: {error.msg}."
    # zipfile and zlib report a damaged archive with many exception types.
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError):
        found_codes, problem = False, "The file looks like a ZIP archive but is damaged."
    else:
        problem = "" if found_codes else "The codebook has no <Codes> element."
    if problem:
        parsed.rows, parsed.notes = [], []
        parsed.errors.append(problem)
        return parsed
    kinds = {row.name.lower(): row.kind for row in parsed.rows}
    for row in parsed.rows:
        parent_kind = kinds.get(row.parent.lower()) if row.parent else None
        if parent_kind and PARENT_KIND.get(row.kind) != parent_kind:
            row.notes.append(
                f"A {row.kind} cannot be grouped under the {parent_kind} “{row.parent}”; "
                "kept at the top level."
            )
            row.parent = ""
    return _finish(parsed, study)


def _description(code: Code) -> str:
    parts = [code.definition]
    for key, label in SECTIONS:
        value = getattr(code, key)
        if value:
            parts.append(f"{label} {value}")
    return "\n\n".join(part for part in parts if part)


def qdc_bytes(codes, *, origin: str = "Qualitative workbench") -> bytes:
    """A REFI-QDA Codebook 1.0 document; the tree becomes nested ``<Code>`` elements."""
    codes = list(codes)
    children: dict[int | None, list[Code]] = {}
    ids = {code.pk for code in codes}
    for code in codes:
        parent = code.parent_id if code.parent_id in ids else None
        children.setdefault(parent, []).append(code)
    root = etree.Element(f"{{{QDC_NS}}}CodeBook", nsmap={None: QDC_NS}, origin=origin)
    holder = etree.SubElement(root, f"{{{QDC_NS}}}Codes")

    def add(parent_element, code: Code):
        element = etree.SubElement(
            parent_element,
            f"{{{QDC_NS}}}Code",
            guid=str(code.guid),
            name=code.name,
            isCodable="true" if code.kind == CodeKind.CODE else "false",
            color=code.colour,
        )
        description = _description(code)
        if description:
            etree.SubElement(element, f"{{{QDC_NS}}}Description").text = description
        for child in children.get(code.pk, []):
            add(element, child)

    for code in children.get(None, []):
        add(holder, code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
