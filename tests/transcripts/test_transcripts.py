import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tests.factories import consented_participant, imported_transcript
from transcripts.models import SpeakerRole, Transcript, Utterance
from transcripts.services import transcripts as transcript_services
from workbench.models import AuditEvent

INTERVIEW = (
    "Interviewer: How did you start contributing?\n\n"
    "I1: I fixed a broken deduplication script.\n\n"
    "Interviewer: And then?\n\n"
    "I1: Then I ran the data group.\n"
)

# One interview in five scripts, with emoji outside the Basic Multilingual Plane.
MULTILINGUAL = (
    "Interviewer: สวัสดีครับ เล่าให้ฟังหน่อย\n\n"
    "I1: Zaczęłam od tłumaczeń — źródła były słabe.\n\n"
    "Interviewer: Ẹ ṣé púpọ̀! 你好吗？\n\n"
    "I1: 我们一起训练模型 🤗🚀 and it worked.\n"
)


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def upload(name, content: bytes | str):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


class TestImportInTheBrowser:
    def test_preview_stores_nothing_and_confirm_imports(
        self, client, study, lead, settings, tmp_path
    ):
        settings.IMPORT_STAGING_DIR = tmp_path
        participant = consented_participant(study, "I1")
        client.force_login(lead)
        response = client.post(
            url("transcript_import", study),
            {"participant": participant.pk, "files": [upload("talk.txt", INTERVIEW)]},
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "Interviewer" in page and "I1" in page and "I fixed a broken" in page
        assert not Transcript.objects.exists()
        token = response.context["token"]
        confirm = client.post(
            url("transcript_import_confirm", study, token=token),
            {
                "f0-title": "First interview",
                "f0-participant": participant.pk,
                "f0-role-0": SpeakerRole.INTERVIEWER,
                "f0-role-1": SpeakerRole.PARTICIPANT,
                "f0-interviewers": [lead.pk],
                "f0-language": "en",
            },
        )
        assert confirm.status_code == 302
        transcript = Transcript.objects.get()
        assert transcript.title == "First interview"
        assert list(transcript.interviewers.all()) == [lead]
        roles = list(transcript.utterances.values_list("speaker", "role"))
        assert roles == [
            ("Interviewer", "interviewer"),
            ("I1", "participant"),
            ("Interviewer", "interviewer"),
            ("I1", "participant"),
        ]
        assert not list(tmp_path.iterdir()), "staged files must be removed after import"
        assert AuditEvent.objects.get(verb="transcript.import").after["turns"] == 4

    def test_htmx_preview_is_a_fragment(self, client, study, lead, settings, tmp_path):
        settings.IMPORT_STAGING_DIR = tmp_path
        participant = consented_participant(study, "I1")
        client.force_login(lead)
        response = client.post(
            url("transcript_import", study),
            {"participant": participant.pk, "files": [upload("talk.txt", INTERVIEW)]},
            headers={"HX-Request": "true"},
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="preview"' in body

    def test_batch_imports_good_files_and_lists_bad_ones(
        self, client, study, lead, settings, tmp_path
    ):
        settings.IMPORT_STAGING_DIR = tmp_path
        settings.TRANSCRIPT_MAX_BYTES = 2000
        participant = consented_participant(study, "I1")
        client.force_login(lead)
        png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
        files = [
            upload("good.txt", INTERVIEW),
            upload("empty.txt", b""),
            upload("photo.txt", png),
            upload("fake.docx", b"PK\x03\x04 not really a word file"),
            upload("latin1.txt", "Interviewer: Zażółć\n".encode("cp1250")),
            upload("huge.txt", "I1: " + "words " * 1000),
            upload("broken.vtt", "WEBVTT\n\nnot a timing line\nhello\n"),
            upload("again.txt", INTERVIEW),
        ]
        response = client.post(
            url("transcript_import", study), {"participant": participant.pk, "files": files}
        )
        rejected = {item.name: item.problem for item in response.context["rejected"]}
        assert set(rejected) == {
            "empty.txt",
            "photo.txt",
            "fake.docx",
            "latin1.txt",
            "huge.txt",
            "broken.vtt",
            "again.txt",
        }
        for name, problem in rejected.items():
            assert name in problem
        assert "2000" not in rejected["huge.txt"] or "MB" in rejected["huge.txt"]
        assert [item["preview"].name for item in response.context["items"]] == ["good.txt"]
        client.post(
            url("transcript_import_confirm", study, token=response.context["token"]),
            {"f0-title": "Good", "f0-participant": participant.pk},
        )
        assert list(Transcript.objects.values_list("title", flat=True)) == ["Good"]

    def test_duplicate_upload_is_refused(self, client, study, lead, settings, tmp_path):
        settings.IMPORT_STAGING_DIR = tmp_path
        participant = consented_participant(study, "I1")
        imported_transcript(study, participant, INTERVIEW, filename="talk.txt")
        client.force_login(lead)
        response = client.post(
            url("transcript_import", study),
            {"participant": participant.pk, "files": [upload("renamed.txt", INTERVIEW)]},
        )
        [item] = response.context["rejected"]
        assert "already imported" in item.problem
        assert Transcript.objects.count() == 1

    def test_no_import_without_consent_to_transcription(self, study, lead):
        participant = consented_participant(study, "I2", uses={"record"})
        with pytest.raises(Exception, match="no current consent"):
            imported_transcript(study, participant, INTERVIEW)
        assert not Transcript.objects.exists()

    def test_someone_elses_preview_cannot_be_confirmed(
        self, client, study, lead, admin_user, settings, tmp_path
    ):
        settings.IMPORT_STAGING_DIR = tmp_path
        participant = consented_participant(study, "I1")
        client.force_login(lead)
        response = client.post(
            url("transcript_import", study),
            {"participant": participant.pk, "files": [upload("talk.txt", INTERVIEW)]},
        )
        client.force_login(admin_user)
        client.post(
            url("transcript_import_confirm", study, token=response.context["token"]),
            {"f0-title": "Stolen", "f0-participant": participant.pk},
        )
        assert not Transcript.objects.exists()


class TestMultilingual:
    def test_offsets_are_code_points_and_land_on_the_words(self, study, lead):
        participant = consented_participant(study, "I1")
        transcript = imported_transcript(study, participant, MULTILINGUAL)
        said = [transcript.text[u.start : u.end] for u in transcript.utterances.order_by("index")]
        assert said == [
            "สวัสดีครับ เล่าให้ฟังหน่อย",
            "Zaczęłam od tłumaczeń — źródła były słabe.",
            "Ẹ ṣé púpọ̀! 你好吗？",
            "我们一起训练模型 🤗🚀 and it worked.",
        ]
        last = transcript.utterances.order_by("index").last()
        assert last.end == len(transcript.text.rstrip("\n"))

    def test_reading_page_shows_every_script(self, client, study, lead):
        participant = consented_participant(study, "I1")
        transcript = imported_transcript(study, participant, MULTILINGUAL)
        client.force_login(lead)
        page = client.get(url("transcript_detail", study, pk=transcript.pk)).content.decode()
        for fragment in ("สวัสดีครับ", "źródła", "púpọ̀", "训练模型", "🤗🚀"):
            assert fragment in page


class TestReading:
    def test_find_highlights_and_counts(self, client, study, coder):
        participant = consented_participant(study, "I1")
        transcript = imported_transcript(study, participant, INTERVIEW)
        client.force_login(coder)
        response = client.get(
            url("transcript_detail", study, pk=transcript.pk),
            {"q": "THEN"},
            headers={"HX-Request": "true"},
        )
        body = response.content.decode()
        assert "<html" not in body
        assert "2 matches" in body
        assert "<mark>then</mark>" in body and "<mark>Then</mark>" in body

    def test_uploaded_markup_is_never_rendered(self, client, study, coder):
        participant = consented_participant(study, "I1")
        transcript = imported_transcript(
            study, participant, "I1: <script>alert(1)</script><img src=x onerror=alert(2)>\n"
        )
        client.force_login(coder)
        body = client.get(
            url("transcript_detail", study, pk=transcript.pk), {"q": "script"}
        ).content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;<mark>script</mark>&gt;" in body

    def test_list_filters_and_counts(self, client, study, lead, admin_user):
        one = consented_participant(study, "I1")
        two = consented_participant(study, "I2", uses={"transcribe"})
        imported_transcript(study, one, INTERVIEW)
        t2 = imported_transcript(study, two, INTERVIEW.replace("I1", "I2"))
        transcript_services.transcript_update(actor=lead, transcript=t2, version=1, title="Second")
        client.force_login(lead)
        page = client.get(
            url("transcript_list", study), {"consent": "limited"}, headers={"HX-Request": "true"}
        ).content.decode()
        assert "Second" in page and "1 transcript" in page
        page = client.get(url("transcript_list", study), {"participant": one.pk}).content.decode()
        assert "Second" not in page

    def test_ready_for_coding_needs_consent_to_analysis(self, study, lead):
        participant = consented_participant(study, "I2", uses={"transcribe"})
        transcript = imported_transcript(study, participant, INTERVIEW)
        with pytest.raises(Exception, match="cannot be ready for coding"):
            transcript_services.transcript_update(
                actor=lead, transcript=transcript, version=1, status="ready"
            )

    def test_list_query_count_is_constant(self, client, study, lead, django_assert_num_queries):
        participant = consented_participant(study, "I1")
        first = imported_transcript(study, participant, INTERVIEW)
        client.force_login(lead)
        client.get(url("transcript_list", study))
        # session, user, study, permissions, counts per status, count for the pager, one page
        # of transcripts (consent and turn counts in subqueries), cases and participants for
        # the filters, and (a lead oversees coding) the transcripts waiting for reconciliation
        with django_assert_num_queries(10):
            client.get(url("transcript_list", study))
        # 1,000 transcripts, written in bulk (the import path is measured in bench/).
        others = [consented_participant(study, f"P{n}") for n in range(10)]
        Transcript.objects.bulk_create(
            Transcript(
                study=study,
                participant=others[n % 10],
                title=f"T{n}",
                text=first.text,
                text_sha256=first.text_sha256,
                source_format="text",
                original_sha256=f"{n:064d}",
                imported_by=lead,
            )
            for n in range(1000)
        )
        with django_assert_num_queries(10):
            page = client.get(url("transcript_list", study)).content.decode()
        assert "1001 transcripts" in page


def test_import_command(study, lead, tmp_path):
    participant = consented_participant(study, "I1")
    good = tmp_path / "talk.txt"
    good.write_text(INTERVIEW, encoding="utf-8")
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "import_transcript",
            "--study",
            study.slug,
            "--participant",
            "i1",
            "--as",
            "lena",
            "--role",
            "Interviewer=interviewer",
            str(good),
            str(bad),
            stdout=out,
            stderr=err,
        )
    assert exit_info.value.code == 1
    assert "✓ talk.txt" in out.getvalue() and "empty.txt" in err.getvalue()
    transcript = participant.transcripts.get()
    assert set(transcript.utterances.values_list("speaker", "role")) == {
        ("Interviewer", "interviewer"),
        ("I1", "participant"),
    }


def test_import_command_refuses_non_importers(study, coder, tmp_path):
    from django.core.management.base import CommandError

    consented_participant(study, "I1")
    path = Path(tmp_path / "talk.txt")
    path.write_text(INTERVIEW, encoding="utf-8")
    with pytest.raises(CommandError, match="may not import"):
        call_command(
            "import_transcript",
            "--study",
            study.slug,
            "--participant",
            "I1",
            "--as",
            "chen",
            str(path),
        )
    assert not Utterance.objects.exists()


def test_import_audit_holds_no_names_or_words(study, lead):
    participant = consented_participant(study, "I1")
    imported_transcript(
        study,
        participant,
        "Jan Kowalski: Hello there.\n\nI1: Secret words.\n",
        filename="jan-kowalski-interview.txt",
    )
    event = AuditEvent.objects.get(verb="transcript.import")
    trail = f"{event.object_repr} {event.before} {event.after}"
    for leak in ("Kowalski", "kowalski", "Secret words"):
        assert leak not in trail
    assert event.after["turns"] == 2
    assert event.after["speakers by role"] == {"interviewer": 1, "participant": 1}


INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"
INTEROP_FILES = sorted(
    [*INTEROP.glob("transcripts/*"), *INTEROP.glob("subtitles/*/*")] if INTEROP.exists() else []
)


@pytest.mark.skipif(not INTEROP.exists(), reason="../shared/interop is not beside the project")
@pytest.mark.parametrize("path", INTEROP_FILES, ids=lambda p: p.name)
def test_every_interop_file_imports_end_to_end(client, study, lead, settings, tmp_path, path):
    """Upload, preview, confirm: as a researcher would, through the browser views."""
    settings.IMPORT_STAGING_DIR = tmp_path
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    files = [upload(path.name, path.read_bytes())]
    if path.name.endswith("_uk.txt"):
        # The pair as it comes: "…-m0_uk.txt" with "…-m0-meta_uk.tsv", neither renamed.
        meta = path.parent / path.name.replace("_uk.txt", "-meta_uk.tsv")
        files.append(upload(meta.name, meta.read_bytes()))
    if path.name.endswith("-meta_uk.tsv"):
        # A speaker table alone is refused with a clear message, and nothing is stored.
        response = client.post(
            url("transcript_import", study), {"participant": participant.pk, "files": files}
        )
        [rejected] = response.context["rejected"]
        assert "metadata" in rejected.problem
        return
    response = client.post(
        url("transcript_import", study), {"participant": participant.pk, "files": files}
    )
    assert response.context["rejected"] == [], response.context["rejected"]
    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {"f0-title": path.name, "f0-participant": participant.pk},
    )
    transcript = Transcript.objects.get()
    utterances = list(transcript.utterances.order_by("index"))
    assert utterances, "no turns"
    for utterance in utterances:
        said = transcript.text[utterance.start : utterance.end]
        assert said and said == said.strip()
    if "parlamint" in path.name:
        assert "Борисович Гройсман, Володимир" in {u.speaker for u in utterances}
    page = client.get(url("transcript_detail", study, pk=transcript.pk))
    assert page.status_code == 200


def test_a_60_mb_file_is_refused_by_the_default_limit_without_being_read(
    client, study, lead, settings, tmp_path
):
    settings.IMPORT_STAGING_DIR = tmp_path
    assert settings.TRANSCRIPT_MAX_BYTES == 20 * 1024 * 1024
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    big = upload("recording-notes.txt", b"I1: " + b"word " * (12 * 1024 * 1024))
    response = client.post(
        url("transcript_import", study),
        {"participant": participant.pk, "files": [big, upload("ok.txt", INTERVIEW)]},
    )
    [rejected] = response.context["rejected"]
    assert rejected.name == "recording-notes.txt"
    assert "20 MB" in rejected.problem
    assert [item["preview"].name for item in response.context["items"]] == ["ok.txt"]
    assert not Transcript.objects.exists()
