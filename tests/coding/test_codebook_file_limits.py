"""Codebook files are read within limits: a .qdpx/.qdc bomb, too many codes, oversized requests.

Before, a project whose XML unpacked to 240 MB took 3.8 GB and ended in a 500 (the code counter
ran out after a million codes). Time and memory of each refusal: bench/bench_uploads.py.
"""

import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from coding.formats import codebook as interchange
from coding.models import Code
from tests import bombs
from workbench.models import AuditEvent

MB = bombs.MB
NVIVO = (
    Path(__file__).resolve().parents[2].parent
    / "shared/interop/refi-qda/nvivo/nvivo-12.6_oltas0517_hu.qdpx"
)


@pytest.fixture(scope="module")
def reviews_qdpx_bomb():
    return bombs.expanding_qdpx(240 * MB)


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def import_page(client, study, name: str, data: bytes) -> str:
    response = client.post(
        reverse("codebook_import", kwargs={"study_slug": study.slug}),
        {"file": SimpleUploadedFile(name, data)},
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("name", ["project.qdpx", "codebook.qdc"])
def test_the_reviews_project_bomb_is_refused_and_nothing_is_written(
    as_admin, study, reviews_qdpx_bomb, name
):
    assert len(reviews_qdpx_bomb) < MB
    page = import_page(as_admin, study, name, reviews_qdpx_bomb)
    assert "The file was not read: project.qde unpacks to 240 MB (the limit is 50 MB)." in page
    assert "Nothing was imported" in page
    assert not Code.objects.exists()
    assert not AuditEvent.objects.filter(verb="codebook.import").exists()


def test_more_codes_than_the_cap_are_refused_with_a_message_not_a_500(as_admin, study):
    xml = b"".join(bombs.codes_xml(interchange.MAX_CODES + 1))
    page = import_page(as_admin, study, "many.qdc", xml)
    assert "The file has more than 5,000 codes; import it in parts." in page
    assert not Code.objects.exists()


def test_the_cap_itself_is_accepted(study):
    parsed = interchange.parse_qdc(b"".join(bombs.codes_xml(interchange.MAX_CODES)), study)
    assert parsed.valid and len(parsed.rows) == interchange.MAX_CODES


def test_a_csv_with_more_codes_than_the_cap_is_refused(study):
    rows = "".join(f"Code {n}\n" for n in range(interchange.MAX_CODES + 1))
    parsed = interchange.parse_csv(f"name\n{rows}".encode(), study)
    assert parsed.errors == ["The file has more than 5,000 codes; import it in parts."]
    assert not parsed.rows


def test_a_flood_of_elements_in_the_codebook_is_refused(study):
    flood = [b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>', b"<x/>" * 400_000]
    parsed = interchange.parse_qdc(b"".join(flood), study)
    assert parsed.errors == [
        "The file was not read: its XML holds more than 100,000 elements at once."
    ]


def test_the_unpacked_limit_applies_to_a_plain_qdc_too(study):
    xml = b"".join(bombs.codes_xml(50))
    parsed = interchange.parse_qdc(xml, study, max_unpacked_bytes=len(xml) - 1)
    assert parsed.errors[0].startswith("The file was not read: the XML unpacks to")
    assert interchange.parse_qdc(xml, study, max_unpacked_bytes=len(xml)).valid


def test_a_project_is_read_only_up_to_the_end_of_its_codebook(study):
    """Sources after the codebook are never parsed: broken XML there does not matter."""
    head = b"".join(bombs.codes_xml(3, root="Project")).removesuffix(b"</Project>")
    parsed = interchange.parse_qdc(head + b"<Sources><TextSource", study)
    assert parsed.valid and [row.name for row in parsed.rows] == ["Code 0", "Code 1", "Code 2"]


@pytest.mark.skipif(not NVIVO.exists(), reason="../shared/interop is absent")
def test_real_projects_are_not_refused_by_the_limits(study, settings):
    parsed = interchange.parse_qdc(NVIVO.read_bytes(), study)
    assert parsed.valid and len(parsed.rows) == 152


def test_an_upload_request_over_the_limit_is_refused_on_the_codebook_page(
    as_admin, study, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = 10_240
    rows = "".join(f"Code {n}\n" for n in range(2000))
    page = import_page(as_admin, study, "codes.csv", f"name\n{rows}".encode())
    assert "These files are more than 10 KB together, the limit for one upload" in page
    assert not Code.objects.exists()
