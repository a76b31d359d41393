"""Crafted uploads, built at run time with zipfile (never committed): the files of the review.

Shared by the tests and ``bench/bench_uploads.py``. Each builder streams its XML into the
archive, so building a 190 MB document costs a fraction of a second and no memory.
"""

import io
import zipfile
from collections.abc import Iterable, Iterator

MB = 1024 * 1024
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
QDA = "urn:QDA-XML:project:1.0"
# A paragraph with a formatted, empty run: compresses about 330:1.
EMPTY_PARAGRAPH = b"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t></w:t></w:r></w:p>"


def _repeated(unit: bytes, size: int) -> Iterator[bytes]:
    block = unit * max(1, 256 * 1024 // len(unit))
    for _ in range(size // len(block)):
        yield block
    yield unit * ((size % len(block)) // len(unit))


def zip_of(members: dict[str, bytes | Iterable[bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in members.items():
            if isinstance(content, bytes):
                archive.writestr(name, content)
                continue
            with archive.open(name, "w") as member:
                for chunk in content:
                    member.write(chunk)
    return buffer.getvalue()


def word_document(body: Iterable[bytes]) -> Iterator[bytes]:
    yield f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'.encode()
    yield from body
    yield b"</w:body></w:document>"


# The least a package needs for Word and python-docx to find its document.
CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELATIONSHIPS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    b'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="word/document.xml"/></Relationships>'
)


def docx(body: Iterable[bytes]) -> bytes:
    """A .docx whose document holds ``body`` (what goes inside ``<w:body>``)."""
    return zip_of(
        {
            "[Content_Types].xml": CONTENT_TYPES,
            "_rels/.rels": RELATIONSHIPS,
            "word/document.xml": word_document(body),
        }
    )


def expanding_docx(unpacked: int) -> bytes:
    """The review's .docx: 612 KB whose document unpacks to ``unpacked`` bytes (190 MB)."""
    return docx(_repeated(EMPTY_PARAGRAPH, unpacked))


def text_docx(text_bytes: int) -> bytes:
    """A small .docx whose paragraphs hold ``text_bytes`` of (very compressible) text."""
    line = "Participant: and then we trained the model together, every night. " * 15
    paragraph = f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>".encode()
    return docx(_repeated(paragraph, text_bytes * len(paragraph) // len(line)))


def flat_markup_docx(elements: int, *, in_one_paragraph: bool) -> bytes:
    """Millions of empty elements that never close a paragraph, or sit outside any."""
    run = b"<w:r/>"
    body = _repeated(run, elements * len(run))
    if in_one_paragraph:
        return docx([b"<w:p>", *body, b"</w:p>"])
    return docx(body)


def empty_paragraphs_docx(count: int) -> bytes:
    """Nothing but ``count`` empty paragraphs (6 bytes each)."""
    return docx(_repeated(b"<w:p/>", 6 * count))


def busy_paragraphs_docx(unpacked: int) -> bytes:
    """Paragraphs of 200 empty runs each, ``unpacked`` bytes of them: about 170,000 elements
    per megabyte, each costing the parser time, with no text and few paragraphs."""
    return docx(_repeated(b"<w:p>" + b"<w:r/>" * 200 + b"</w:p>", unpacked))


def many_members(count: int) -> bytes:
    """A ZIP with ``count`` empty entries (its directory alone is megabytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
        for n in range(count):
            archive.writestr(f"{n}", b"")
    return buffer.getvalue()


def codes_xml(count: int, *, root: str = "CodeBook") -> Iterator[bytes]:
    """A REFI-QDA codebook (or project) with ``count`` flat codes, streamed."""
    ns = "urn:QDA-XML:codebook:1.0" if root == "CodeBook" else QDA
    yield f'<?xml version="1.0" encoding="utf-8"?><{root} xmlns="{ns}">'.encode()
    if root == "Project":
        yield b"<CodeBook>"
    yield b"<Codes>"
    for n in range(count):
        yield (
            f'<Code guid="00000000-0000-4000-8000-{n:012d}" name="Code {n}" isCodable="true"/>'
        ).encode()
    yield b"</Codes>"
    if root == "Project":
        yield b"</CodeBook>"
    yield f"</{root}>".encode()


def expanding_qdpx(unpacked: int) -> bytes:
    """The review's project: a .qdpx whose project.qde unpacks to ``unpacked`` bytes of codes
    (240 MB: about three million; the old reader's code counter gave out after a million)."""
    code = b'<Code guid="00000000-0000-4000-8000-000000000000" name="Code" isCodable="true"/>'
    head = f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{QDA}"><CodeBook><Codes>'
    tail = b"</Codes></CodeBook></Project>"
    return zip_of({"project.qde": [head.encode(), *_repeated(code, unpacked), tail]})
