"""Word .docx files: their paragraphs, in document order, as running text.

python-docx opens and checks the package; the text is then read from the document XML by
``_paragraph_text``, because ``Paragraph.text`` only sees plain runs and hyperlinks and would
silently drop tracked insertions, content controls and smart tags: words the participant said.

(Named ``word`` rather than ``docx`` so that ``import docx`` here plainly means python-docx.)
"""

import io
import zipfile

import docx

from .base import TranscriptFormatError, display_name
from .normalise import normalise

# A .docx is a ZIP: a few kilobytes can unpack to gigabytes. Refuse archives that claim to
# unpack to more than this many times the upload limit.
_MAX_UNPACK_RATIO = 10

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# Not part of the reading text: deleted revisions, formatting, and drawings or text boxes
# (whose text sits outside the flow, and which Word stores twice, as a choice and a fallback).
_SKIPPED = {
    f"{_W}del", f"{_W}moveFrom", f"{_W}pPr", f"{_W}rPr", f"{_W}drawing", f"{_W}pict",
    f"{_W}object", f"{_W}instrText", f"{_W}sectPr",
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent",
}  # fmt: skip


def docx_text(filename: str, data: bytes, *, max_bytes: int) -> str:
    """The document's paragraphs (table cells included) joined by LF, normalised."""
    name = display_name(filename)
    archive = _open_zip(name, data)
    names = set(archive.namelist())
    if "word/document.xml" not in names:
        raise TranscriptFormatError(f"{name} is {_what_zip_is(archive, names)}.")
    if sum(info.file_size for info in archive.infolist()) > _MAX_UNPACK_RATIO * max_bytes:
        raise TranscriptFormatError(f"{name} unpacks to far more data than a transcript holds.")
    try:
        body = docx.Document(io.BytesIO(data)).element.body
        paragraphs = [_paragraph_text(p) for p in _paragraphs(body)]
    # python-docx reports broken packages with whatever lxml, zipfile or its own package
    # reader raised; for the researcher they all mean the same thing.
    except Exception as error:
        raise TranscriptFormatError(
            f"{name} is a damaged Word document and cannot be read ({type(error).__name__})."
        ) from None
    return normalise("\n".join(paragraphs))


def _open_zip(name: str, data: bytes) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TranscriptFormatError(
            f"{name} is not a Word .docx file (a .docx is a ZIP package and this is not one). "
            "If it is an old .doc file, save it as .docx in Word and upload again."
        ) from None


def _what_zip_is(archive: zipfile.ZipFile, names: set[str]) -> str:
    """Name the ZIP-based formats people mix up with .docx, for a useful message."""
    if any(n.lower().endswith(".qde") for n in names):
        return "a REFI-QDA project (.qdpx), not a transcript; import it as a project instead"
    if "xl/workbook.xml" in names:
        return "an Excel workbook, not a Word document"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation, not a Word document"
    if "mimetype" in names:
        try:
            mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, RuntimeError):
            mimetype = ""
        if mimetype.startswith("application/vnd.oasis.opendocument"):
            return "an OpenDocument file (.odt), not a Word document; save it as .docx"
    return "a ZIP archive, not a Word document"


def _paragraphs(container):
    """``w:p`` elements in reading order, through tables and block-level content controls.

    Walking the XML rather than python-docx's ``row.cells`` also reads a merged cell once.
    """
    for child in container:
        if child.tag == f"{_W}p":
            yield child
        elif child.tag not in _SKIPPED:  # w:tbl, w:tr, w:tc, w:sdt, w:sdtContent, w:customXml
            yield from _paragraphs(child)


def _paragraph_text(element) -> str:
    """Text of one paragraph, including tracked insertions, hyperlinks and content controls."""
    parts: list[str] = []
    for child in element:
        tag = child.tag
        if tag in _SKIPPED:
            continue
        if tag == f"{_W}t":
            parts.append(child.text or "")
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            # As python-docx: a line break is a new line; page and column breaks are not text.
            if child.get(f"{_W}type", "textWrapping") == "textWrapping":
                parts.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            parts.append("-")
        else:
            parts.append(_paragraph_text(child))
    return "".join(parts)
