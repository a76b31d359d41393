"""Word .docx files: their paragraphs, in document order, as running text.

(Named ``word`` rather than ``docx`` so that ``import docx`` here plainly means python-docx.)
"""

import io
import zipfile

import docx
from docx.table import Table
from docx.text.paragraph import Paragraph

from .base import TranscriptFormatError, display_name
from .normalise import normalise

# A .docx is a ZIP: a few kilobytes can unpack to gigabytes. Refuse archives that claim to
# unpack to more than this many times the upload limit.
_MAX_UNPACK_RATIO = 10


def docx_text(filename: str, data: bytes, *, max_bytes: int) -> str:
    """The document's paragraphs (table cells included) joined by LF, normalised."""
    name = display_name(filename)
    archive = _open_zip(name, data)
    names = set(archive.namelist())
    if "word/document.xml" not in names:
        raise TranscriptFormatError(f"{name} is {_what_zip_is(archive, names)}, not a Word document.")
    if sum(info.file_size for info in archive.infolist()) > _MAX_UNPACK_RATIO * max_bytes:
        raise TranscriptFormatError(f"{name} unpacks to far more data than a transcript holds.")
    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = list(_paragraphs(document))
    # python-docx reports broken packages with whatever lxml, zipfile or its own package
    # reader raised; for the researcher they all mean the same thing.
    except Exception as error:
        raise TranscriptFormatError(
            f"{name} is a damaged Word document and cannot be read ({type(error).__name__})."
        ) from None
    return normalise("\n".join(paragraph.text for paragraph in paragraphs))


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
    if {"project.qde", "Project.qde"} & names or any(n.endswith(".qde") for n in names):
        return "a REFI-QDA project (.qdpx); import it as a project instead"
    if "xl/workbook.xml" in names:
        return "an Excel workbook"
    if "ppt/presentation.xml" in names:
        return "a PowerPoint presentation"
    if "mimetype" in names:
        try:
            mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
            mimetype = ""
        if mimetype.startswith("application/vnd.oasis.opendocument"):
            return "an OpenDocument file (.odt); save it as .docx"
    return "a ZIP archive"


def _paragraphs(container):
    """Paragraphs in document order, descending into tables (and tables within cells)."""
    for block in container.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block
        elif isinstance(block, Table):
            yield from _table_paragraphs(block)


def _table_paragraphs(table: Table):
    seen = set()
    for row in table.rows:
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans; read it once.
            if cell._tc in seen:
                continue
            seen.add(cell._tc)
            yield from _paragraphs(cell)
