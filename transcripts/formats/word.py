"""Word .docx files: their paragraphs, in document order, as running text.

The document XML is read as a stream (``packages``): lxml's pull parser is fed the unpacked
``word/document.xml`` a chunk at a time, each paragraph is read once it ends and then dropped,
and reading stops as soon as the part, the open tree, the text or the number of paragraphs
passes its limit. Loading the
whole package instead (python-docx builds every part's tree first) held 218 MB for a real 585 KB
NVivo export and 2.65 GB for a 612 KB crafted one.

A paragraph's text is read by ``_paragraph_text`` rather than python-docx's ``Paragraph.text``,
which only sees plain runs and hyperlinks and would silently drop tracked insertions, content
controls and smart tags: words the participant said.
"""

import zipfile

from . import packages
from .base import TranscriptFormatError, display_name
from .normalise import normalise, text_too_large

# NVivo's export of 585 KB of text has 18.5 MB of XML; reading takes about 1 s per 15 MB.
DEFAULT_MAX_UNPACKED_BYTES = 50 * 1024 * 1024
_DOCUMENT = "word/document.xml"

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_P = f"{_W}p"
_BODY = f"{_W}body"
# A transcript has thousands of paragraphs (NVivo's 585 KB of text: 15,000); a file of
# millions of empty ones would take a worker's time for nothing.
MAX_PARAGRAPHS = 500_000
# Not part of the reading text: deleted revisions, formatting, and drawings or text boxes
# (whose text sits outside the flow, and which Word stores twice, as a choice and a fallback).
_SKIPPED = {
    f"{_W}del", f"{_W}moveFrom", f"{_W}pPr", f"{_W}rPr", f"{_W}drawing", f"{_W}pict",
    f"{_W}object", f"{_W}instrText", f"{_W}sectPr",
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}AlternateContent",
}  # fmt: skip


def docx_text(
    filename: str,
    data: bytes,
    *,
    max_bytes: int,
    max_unpacked_bytes: int = DEFAULT_MAX_UNPACKED_BYTES,
) -> str:
    """The document's paragraphs (table cells included) joined by LF, normalised.

    ``max_unpacked_bytes`` caps what any part may unpack to, ``max_bytes`` the text (UTF-8).
    """
    name = display_name(filename)
    archive = _open_zip(name, data)
    names = set(archive.namelist())
    if _DOCUMENT not in names:
        raise TranscriptFormatError(f"{name} is {_what_zip_is(archive, names)}.")
    try:
        chunks = packages.member_chunks(archive, _DOCUMENT, max_bytes=max_unpacked_bytes)
        paragraphs = _read_paragraphs(chunks, filename, max_bytes)
    except TranscriptFormatError:
        raise
    except (packages.LimitExceeded, packages.UnsafeXML) as error:
        raise TranscriptFormatError(
            f"{name} was not read: {error}. If it is a real document, save it as plain text "
            "(.txt) and upload that."
        ) from None
    # zipfile, zlib and lxml report a broken package with many exception types; for the
    # researcher they all mean the same thing.
    except Exception as error:
        raise TranscriptFormatError(
            f"{name} is a damaged Word document and cannot be read ({type(error).__name__})."
        ) from None
    return normalise("\n".join(paragraphs))


def _open_zip(name: str, data: bytes) -> zipfile.ZipFile:
    try:
        return packages.open_zip(data)
    except packages.LimitExceeded as error:
        raise TranscriptFormatError(f"{name} was not read: {error}.") from None
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
            mimetype = packages.read_member(archive, "mimetype", max_bytes=1024)
            mimetype = mimetype.decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, RuntimeError, packages.LimitExceeded):
            mimetype = ""
        if mimetype.startswith("application/vnd.oasis.opendocument"):
            return "an OpenDocument file (.odt), not a Word document; save it as .docx"
    return "a ZIP archive, not a Word document"


def _read_paragraphs(chunks, filename: str, max_bytes: int) -> list[str]:
    """The text of the body's outermost ``w:p`` elements, in reading order (through tables,
    rows, cells and content controls; a merged cell is one cell, read once).

    Each paragraph is read when its end has been parsed; after each chunk, what has been read
    is dropped (``_prune``), so the tree holds about one paragraph whatever the document's
    size. Stops at ``max_bytes`` of text or ``MAX_PARAGRAPHS``.
    """
    paragraphs: list[str] = []
    size = -1  # the LFs between paragraphs count, the one that is not there does not
    body = None
    tags = (f"{_W}document", _BODY, _P)
    for batch in packages.xml_event_batches(chunks, events=("start", "end"), tag=tags):
        for event, element in batch:
            if event == "start":
                if body is None and element.tag == _BODY:
                    if element.getparent().tag != f"{_W}document":
                        raise ValueError("the main part is not a Word document")
                    body = element
                continue
            if element.tag != _P:
                continue
            parent = element.getparent()
            if parent is not body and not _in_reading_flow(parent):
                continue  # inside another paragraph (its text is part of it), or not read
            text = ""
            if len(element):
                text = _paragraph_text(element)
                element.clear()  # freed here in C; a pruned subtree with proxies is moved
            size += len(text.encode("utf-8", "surrogatepass")) + 1
            if size > max_bytes:
                raise text_too_large(filename, max_bytes)
            paragraphs.append(text)
            if len(paragraphs) > MAX_PARAGRAPHS:
                raise packages.LimitExceeded(f"it has more than {MAX_PARAGRAPHS:,} paragraphs")
        batch.clear()  # without Python references the pruned elements are freed, not moved
        _prune(body)
    return paragraphs


def _in_reading_flow(element) -> bool:
    """Whether a paragraph in ``element`` is read: under the body, not inside another
    paragraph or anything skipped."""
    while element is not None:
        if element.tag == _BODY:
            return True
        if element.tag == _P or element.tag in _SKIPPED:
            return False
        element = element.getparent()
    return False


def _prune(body) -> None:
    """Drop every finished element on the way down the open end of the tree: all but the
    last child at each level (only the last can still be open, and every finished paragraph
    has been read). It stops at a paragraph, whose runs are still to be read."""
    node = body
    while node is not None and len(node) and node.tag != _P:
        if len(node) > 1:
            del node[:-1]
        node = node[-1]


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
