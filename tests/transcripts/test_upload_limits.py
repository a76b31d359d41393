"""Uploads are bounded: ZIP bombs, XML floods, text past the limit, oversized requests, quotas.

The crafted files are built at run time (``tests/bombs.py``); how fast and how little memory
each refusal takes is measured by ``bench/bench_uploads.py`` (bench/RESULTS.md), not here.
"""

import io
import struct
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from tests import bombs
from transcripts.formats import TranscriptFormatError, parse_transcript, word
from transcripts.formats.normalise import normalise

MB = bombs.MB
INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"
needs_interop = pytest.mark.skipif(not INTEROP.is_dir(), reason="../shared/interop is absent")


def refusal(filename: str, data: bytes, **limits) -> str:
    with pytest.raises(TranscriptFormatError) as error:
        parse_transcript(filename, data, **limits)
    return str(error.value)


# --- What a ZIP may unpack to ------------------------------------------------------------------


@pytest.fixture(scope="module")
def reviews_docx_bomb():
    """612 KB in the review, 190 MB of document XML: 78 s and 2.65 GB before."""
    return bombs.expanding_docx(190 * MB)


def test_the_reviews_docx_bomb_is_refused_by_its_declared_size(reviews_docx_bomb):
    assert len(reviews_docx_bomb) < 1 * MB
    message = refusal("notes.docx", reviews_docx_bomb)
    assert message.startswith("“notes.docx” was not read: word/document.xml unpacks to 190 MB")
    assert "the limit is 50 MB" in message and "save it as plain text" in message


def test_the_unpacked_limit_is_an_argument_and_a_document_within_it_is_read():
    data = bombs.docx(
        [b"<w:p><w:r><w:t>I1: hello</w:t></w:r></w:p>", *[bombs.EMPTY_PARAGRAPH] * 30_000]
    )
    size = zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml").file_size
    assert size > MB
    message = refusal("a.docx", data, max_unpacked_bytes=MB)
    assert f"unpacks to {size / MB:.1f} MB (the limit is 1 MB)" in message
    parsed = parse_transcript("a.docx", data, max_unpacked_bytes=2 * MB)
    assert parsed.text.startswith("I1: hello")


def _understating(data: bytes, member: str, size: int) -> bytes:
    """The same ZIP with ``member``'s declared size replaced by ``size`` in both headers."""
    patched = bytearray(data)
    name = member.encode()
    local = data.find(name) - 30  # the name follows the 30-byte local header
    central = data.rfind(name) - 46  # and the 46-byte central directory entry
    assert data[local : local + 4] == b"PK\x03\x04" and data[central : central + 4] == b"PK\x01\x02"
    struct.pack_into("<I", patched, local + 22, size)
    struct.pack_into("<I", patched, central + 24, size)
    return bytes(patched)


def test_a_member_that_understates_its_size_is_not_unpacked_past_it():
    data = _understating(bombs.expanding_docx(8 * MB), "word/document.xml", 1000)
    assert zipfile.ZipFile(io.BytesIO(data)).getinfo("word/document.xml").file_size == 1000
    message = refusal("liar.docx", data, max_unpacked_bytes=MB)
    assert "“liar.docx” is a damaged Word document" in message


def test_a_zip_with_more_entries_than_any_document_is_refused_before_its_directory_is_read():
    message = refusal("many.docx", bombs.many_members(10_001))
    assert message == "“many.docx” was not read: it holds more than 10,000 files."


# --- Parsing as a stream ---------------------------------------------------------------------


@pytest.mark.parametrize("in_one_paragraph", [True, False], ids=["in-a-paragraph", "in-the-body"])
def test_markup_that_never_completes_a_paragraph_is_refused_before_it_fills_memory(
    in_one_paragraph,
):
    data = bombs.flat_markup_docx(400_000, in_one_paragraph=in_one_paragraph)
    message = refusal("flood.docx", data)
    assert "its XML holds more than 100,000 elements at once" in message


def test_a_document_declaring_a_dtd_is_refused():
    document = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "said">]><w:document xmlns:w="{bombs.W}">'
        "<w:body><w:p><w:r><w:t>I1: &e;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    data = bombs.zip_of({"word/document.xml": document})
    assert "it declares a DTD" in refusal("dtd.docx", data)


def _whole_tree_text(data: bytes) -> str:
    """The reading of the DOCX before streaming: the whole document tree, walked from the body."""
    skipped = word._SKIPPED

    def paragraphs(container):
        for child in container:
            if child.tag == f"{word._W}p":
                yield child
            elif child.tag not in skipped:
                yield from paragraphs(child)

    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    body = etree.fromstring(xml, etree.XMLParser(huge_tree=True)).find(f"{word._W}body")
    return normalise("\n".join(word._paragraph_text(p) for p in paragraphs(body)))


def _real_docx_files() -> dict[str, bytes]:
    if not INTEROP.is_dir():
        return {}
    path = INTEROP / "transcripts" / "qualcoder-example-ID1_en.docx"
    found = {path.name: path.read_bytes()}
    # NVivo keeps each source's .docx inside its project: 585 KB of text, 18.5 MB of XML.
    project = zipfile.ZipFile(INTEROP / "refi-qda" / "nvivo" / "nvivo-12.6_oltas0517_hu.qdpx")
    found |= {
        f"nvivo-{n[8:16]}.docx": project.read(n) for n in project.namelist() if n.endswith(".docx")
    }
    return found


REAL_DOCX = _real_docx_files()


@needs_interop
@pytest.mark.parametrize("name", sorted(REAL_DOCX))
def test_real_documents_read_as_a_stream_give_the_whole_tree_reading(name):
    data = REAL_DOCX[name]
    parsed = parse_transcript(name, data)
    assert parsed.turns
    assert parsed.text == _whole_tree_text(data)


# --- The text made from a file -----------------------------------------------------------------


def test_text_extracted_from_a_small_docx_is_held_to_the_transcript_limit():
    data = bombs.text_docx(2 * MB)
    assert len(data) < 100 * 1024
    message = refusal("small.docx", data, max_bytes=MB)
    assert (
        message == "The text in “small.docx” is more than 1 MB; the limit for a transcript is 1 MB."
    )
    assert len(parse_transcript("small.docx", data, max_bytes=3 * MB).text) > 2 * MB


def test_text_a_timed_format_writes_is_held_to_the_limit_too():
    cues = [
        f"{n + 1}\n00:00:{n % 60:02d},000 --> 00:00:{n % 60:02d},500\n{'AB'[n % 2]}: yes\n"
        for n in range(8000)
    ]
    data = "\n".join(cues).encode()
    names = {"A": "Participant from the second focus group " * 8}
    assert len(data) < MB
    message = refusal("long-names.srt", data, max_bytes=MB, speaker_names=names)
    assert message.startswith("The text in “long-names.srt” is more than 1 MB")
    assert parse_transcript("long-names.srt", data, max_bytes=MB).turns
