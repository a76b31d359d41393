"""Uploads are bounded: ZIP bombs, XML floods, text past the limit, oversized requests, quotas.

The crafted files are built at run time (``tests/bombs.py``); how fast and how little memory
each refusal takes is measured by ``bench/bench_uploads.py`` (bench/RESULTS.md), not here.
"""

import io
import struct
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from lxml import etree

from tests import bombs
from tests.factories import consented_participant
from transcripts.formats import TranscriptFormatError, packages, parse_transcript, word
from transcripts.formats.normalise import normalise
from transcripts.models import SpeakerRole, Transcript

MB = bombs.MB
INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"
needs_interop = pytest.mark.skipif(not INTEROP.is_dir(), reason="../shared/interop is absent")
INTERVIEW = "Interviewer: How did you start?\n\nI1: I fixed a broken script.\n"


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


def test_a_document_of_more_tags_than_any_real_one_is_refused_at_the_limit():
    data = bombs.busy_paragraphs_docx(7 * MB)  # 1.2 million tags, far under 50 MB
    assert f"it has more than {packages.MAX_TAGS:,} XML tags" in refusal("busy.docx", data)


def test_a_flood_of_tags_is_refused_before_the_parser_reads_any(monkeypatch):
    # Counting tags costs a tenth of parsing them: the refusal must come from the count alone.
    parsers = []
    real = packages.etree.XMLPullParser
    monkeypatch.setattr(
        packages.etree, "XMLPullParser", lambda *a, **k: parsers.append(1) or real(*a, **k)
    )
    data = bombs.busy_paragraphs_docx(7 * MB)
    assert "XML tags" in refusal("busy.docx", data)
    assert parsers == []


def test_a_document_of_more_paragraphs_than_any_transcript_is_refused():
    message = refusal("empty.docx", bombs.empty_paragraphs_docx(word.MAX_PARAGRAPHS + 1))
    assert "it has more than 500,000 paragraphs" in message
    with pytest.raises(TranscriptFormatError, match="has no text"):
        parse_transcript("empty.docx", bombs.empty_paragraphs_docx(word.MAX_PARAGRAPHS))


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


# --- The import page -----------------------------------------------------------------------------


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def upload(name, data: bytes | str):
    data = data.encode() if isinstance(data, str) else data
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def staged_folders(settings) -> list[Path]:
    root = Path(settings.IMPORT_STAGING_DIR)
    return sorted(root.iterdir()) if root.exists() else []


def test_the_docx_bomb_is_refused_on_the_import_page_and_the_other_files_go_on(
    client, study, lead, settings, reviews_docx_bomb
):
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    response = client.post(
        url("transcript_import", study),
        {
            "participant": participant.pk,
            "files": [upload("bomb.docx", reviews_docx_bomb), upload("talk.txt", INTERVIEW)],
        },
    )
    assert response.status_code == 200
    [rejected] = response.context["rejected"]
    assert rejected.name == "bomb.docx" and "unpacks to 190 MB" in rejected.problem
    assert [item["preview"].name for item in response.context["items"]] == ["talk.txt"]
    [folder] = staged_folders(settings)
    assert sorted(p.name for p in folder.glob("*.bin")) == ["0.bin"]  # the bomb is not kept


def test_a_request_over_the_total_limit_is_refused_without_keeping_its_files(
    client, study, lead, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = MB
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    files = [upload(f"part-{n}.txt", f"{INTERVIEW}I1: {n}" + " words" * 70_000) for n in range(3)]
    response = client.post(
        url("transcript_import", study), {"participant": participant.pk, "files": files}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "more than 1 MB together, the limit for one upload; nothing was read" in page
    assert not response.wsgi_request.FILES, "the files must be skipped, not stored"
    assert "items" not in response.context and not staged_folders(settings)
    assert not Transcript.objects.exists()
    # Under the limit the same page previews them.
    settings.UPLOAD_MAX_REQUEST_BYTES = 10 * MB
    files = [upload(f"part-{n}.txt", f"{INTERVIEW}I1: {n}" + " words" * 70_000) for n in range(3)]
    response = client.post(
        url("transcript_import", study), {"participant": participant.pk, "files": files}
    )
    assert len(response.context["items"]) == 3


def test_files_previewed_one_by_one_are_imported_at_their_own_indexes(client, study, lead):
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    texts = {
        "one.txt": "Interviewer: First?\n\nI1: One.\n",
        "broken.vtt": "WEBVTT\n\nnot a timing line\n",
        "two.txt": "Q: Second?\n\nAna: Two.\n",
        "three.txt": "Interviewer: Third?\n\nI1: Three.\n",
    }
    response = client.post(
        url("transcript_import", study),
        {"participant": participant.pk, "files": [upload(n, t) for n, t in texts.items()]},
    )
    previews = [item["preview"] for item in response.context["items"]]
    assert [(p.index, p.name) for p in previews] == [
        (0, "one.txt"),
        (1, "two.txt"),
        (2, "three.txt"),
    ]
    assert previews[1].speakers == [("Q", 1, SpeakerRole.INTERVIEWER), ("Ana", 1, "participant")]
    assert previews[1].first_turns == [("Q", "Second?"), ("Ana", "Two.")]
    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {
            "f0-title": "First",
            "f0-participant": participant.pk,
            "f1-skip": "1",
            "f2-title": "Third",
            "f2-participant": participant.pk,
            "f2-role-0": SpeakerRole.OTHER,
        },
    )
    imported = {t.title: t for t in Transcript.objects.all()}
    assert set(imported) == {"First", "Third"}
    assert imported["Third"].text.startswith("Interviewer: Third?")
    assert imported["Third"].utterances.get(speaker="Interviewer").role == SpeakerRole.OTHER


# --- Quota of waiting previews ---------------------------------------------------------------


def _preview(client, study, participant, name="talk.txt", text=INTERVIEW):
    return client.post(
        url("transcript_import", study),
        {"participant": participant.pk, "files": [upload(name, text)]},
    )


def test_each_user_may_keep_a_few_previews_waiting_and_cancel_them(
    client, study, lead, admin_user, settings
):
    settings.IMPORT_STAGING_MAX_PREVIEWS = 2
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    first = _preview(client, study, participant, "a.txt").context["token"]
    _preview(client, study, participant, "b.txt", INTERVIEW + "I1: b\n")
    third = _preview(client, study, participant, "c.txt", INTERVIEW + "I1: c\n")
    page = third.content.decode()
    assert "You have 2 import previews waiting to be confirmed" in page
    assert "items" not in third.context and len(staged_folders(settings)) == 2
    assert [p.names for p in third.context["pending"]] == [["a.txt"], ["b.txt"]]
    # Another user's quota is their own.
    client.force_login(admin_user)
    assert _preview(client, study, participant, "d.txt").context["items"]
    # Cancelling one (as the page offers) makes room.
    client.force_login(lead)
    client.post(url("transcript_import_cancel", study, token=first))
    assert _preview(client, study, participant, "c.txt", INTERVIEW + "I1: c\n").context["items"]


def test_waiting_previews_are_limited_in_bytes(client, study, lead, settings):
    settings.IMPORT_STAGING_MAX_BYTES = 100_000
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    big = INTERVIEW + "I1: words and words. " * 3000  # about 63 KB
    assert _preview(client, study, participant, "a.txt", big).context["items"]
    response = _preview(client, study, participant, "b.txt", big + "I1: again\n")
    page = response.content.decode()
    assert "would pass 97 KB, the most one person may have waiting" in page
    assert len(staged_folders(settings)) == 1
