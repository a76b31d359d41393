"""The import page with files as they really come (shared/interop): speakers of unlabelled
speech-to-text output, duplicate warnings, character counts, consent before any upload."""

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tests.factories import consented_participant
from transcripts.models import SpeakerRole, Transcript
from transcripts.services import participants as participant_services

INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"
needs_interop = pytest.mark.skipif(
    not INTEROP.is_dir(), reason=f"the shared interop corpus is not checked out at {INTEROP}"
)
TRANSCRIPTS = INTEROP / "transcripts"
JFK = INTEROP / "subtitles" / "whisper-jfk"
WHISPER = ["jfk.vtt", "jfk.srt", "jfk.json", "jfk.tsv", "jfk.txt"]
PARLAMINT = "parlamint-UA_2014-12-02-m0_uk.txt"
PARLAMINT_META = "parlamint-UA_2014-12-02-m0-meta_uk.tsv"
# Every transcript file of the corpus (the ParlaMint metadata goes with its transcript).
INTEROP_FILES = (
    sorted(
        [p for p in TRANSCRIPTS.iterdir() if p.name != PARLAMINT_META]
        + [JFK / name for name in WHISPER]
    )
    if INTEROP.is_dir()
    else []
)


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def files_for(path: Path) -> list[SimpleUploadedFile]:
    files = [SimpleUploadedFile(path.name, path.read_bytes())]
    if path.name == PARLAMINT:
        files.append(
            SimpleUploadedFile(PARLAMINT_META, (TRANSCRIPTS / PARLAMINT_META).read_bytes())
        )
    return files


def preview(client, study, participant, files):
    response = client.post(
        url("transcript_import", study), {"participant": participant.pk, "files": files}
    )
    assert response.status_code == 200
    return response


@pytest.fixture
def staging_dir(settings, tmp_path):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    return settings.IMPORT_STAGING_DIR


@needs_interop
@pytest.mark.parametrize("name", WHISPER)
def test_unlabelled_speech_to_text_gets_the_speaker_and_role_named_in_the_preview(
    client, study, lead, staging_dir, name
):
    participant = consented_participant(study, "I7")
    client.force_login(lead)
    response = preview(
        client, study, participant, [SimpleUploadedFile(name, (JFK / name).read_bytes())]
    )
    [item] = response.context["items"]
    page = response.content.decode()
    # One row for the turns without a label: named after the participant, as the participant.
    assert item["preview"].unlabelled == 1
    assert 'name="f0-unlabelled-name"' in page and 'value="I7"' in page
    assert "Speaker of the turns without a label" in page
    assert item["preview"].unlabelled_role == SpeakerRole.PARTICIPANT

    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {
            "f0-title": "Inaugural",
            "f0-participant": participant.pk,
            "f0-unlabelled-name": "  John F.  Kennedy ",
            "f0-unlabelled-role": SpeakerRole.INTERVIEWER,
        },
    )
    transcript = Transcript.objects.get(title="Inaugural")
    assert list(transcript.utterances.values_list("speaker", "role")) == [
        ("John F. Kennedy", SpeakerRole.INTERVIEWER)
    ]
    detail = client.get(url("transcript_detail", study, pk=transcript.pk)).content.decode()
    assert "John F. Kennedy" in detail


@needs_interop
def test_unlabelled_paragraphs_of_a_word_file_take_the_default_speaker(
    client, study, lead, staging_dir
):
    participant = consented_participant(study, "I3")
    client.force_login(lead)
    response = preview(
        client, study, participant, files_for(TRANSCRIPTS / "qualcoder-example-ID1_en.docx")
    )
    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {"f0-title": "Feedback", "f0-participant": participant.pk, "f0-unlabelled-name": "I3",
         "f0-unlabelled-role": SpeakerRole.PARTICIPANT},
    )  # fmt: skip
    roles = set(Transcript.objects.get().utterances.values_list("speaker", "role"))
    assert roles == {("I3", SpeakerRole.PARTICIPANT)}


def test_a_preamble_without_a_label_in_a_labelled_file_stays_other(
    client, study, lead, staging_dir
):
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    text = "Recorded in May.\n\nQ: Why?\n\nI1: Because.\n"
    response = preview(client, study, participant, [SimpleUploadedFile("t.txt", text.encode())])
    [item] = response.context["items"]
    assert (item["preview"].unlabelled, item["preview"].unlabelled_role) == (1, SpeakerRole.OTHER)
    assert item["preview"].unlabelled_name == ""


@needs_interop
def test_the_preview_counts_characters_of_the_text_not_bytes_of_the_file(
    client, study, lead, staging_dir
):
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    path = TRANSCRIPTS / PARLAMINT
    assert path.stat().st_size == 10_146  # Cyrillic: two bytes a letter
    response = preview(client, study, participant, files_for(path))
    page = response.content.decode()
    assert "5,656 characters" in page and "10,146" not in page and "10146" not in page


@needs_interop
def test_markdown_escapes_and_bold_labels_do_not_reach_the_stored_turns(
    client, study, lead, staging_dir
):
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    response = preview(
        client, study, participant, files_for(TRANSCRIPTS / "changelog-afk-1_interview_en.md.txt")
    )
    page = response.content.decode()
    assert "\\[" not in page and "**" not in page
    assert "Markdown · 22 turns · 19,998 characters" in page
    assert "<time>00:01:46</time>" in page
    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {"f0-title": "AFK", "f0-participant": participant.pk},
    )
    transcript = Transcript.objects.get()
    said = [transcript.text[u.start : u.end] for u in transcript.utterances.all()]
    assert not any("\\" in s or "**" in s for s in said)
    assert "[laughs] Right." in said
    assert {u.speaker for u in transcript.utterances.all()} == {"Tim Smith", "Jason Snell"}


@needs_interop
@pytest.mark.parametrize("path", INTEROP_FILES, ids=lambda p: p.name)
def test_the_same_file_again_is_flagged_in_the_preview_and_skipped_by_default(
    client, study, lead, staging_dir, path
):
    first, second = consented_participant(study, "I1"), consented_participant(study, "I2")
    client.force_login(lead)
    response = preview(client, study, first, files_for(path))
    assert response.context["items"][0]["preview"].duplicates == []
    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {"f0-title": "First copy", "f0-participant": first.pk},
    )
    assert Transcript.objects.count() == 1

    response = preview(client, study, second, files_for(path))
    [item] = response.context["items"]
    assert item["preview"].duplicates == [
        "The same text is already in this study as “First copy” (I1)."
    ]
    page = response.content.decode()
    assert 'name="f0-skip" value="1" checked' in page
    # Confirmed as shown (skip ticked), nothing more is imported.
    client.post(
        url("transcript_import_confirm", study, token=response.context["token"]),
        {"f0-title": "Second copy", "f0-participant": second.pk, "f0-skip": "1"},
    )
    assert Transcript.objects.count() == 1


@needs_interop
def test_the_same_words_in_another_format_or_staged_twice_are_flagged(
    client, study, lead, staging_dir
):
    participant = consented_participant(study, "I1")
    client.force_login(lead)
    vtt, srt, json = (SimpleUploadedFile(n, (JFK / n).read_bytes()) for n in WHISPER[:3])
    response = preview(client, study, participant, [vtt, srt])
    first, second = (item["preview"] for item in response.context["items"])
    assert first.duplicates == []
    assert second.duplicates == ["The same text as jfk.vtt in this upload."]

    # A second preview of the same words while the first still waits.
    response = preview(client, study, participant, [json])
    [item] = response.context["items"]
    assert item["preview"].duplicates == [] and item["preview"].also_waiting
    page = response.content.decode()
    assert "The same text is waiting in another import preview in this study" in page
    assert 'name="f0-skip" value="1" checked' not in page  # a warning; the choice is theirs


def test_participants_without_consent_to_transcription_are_not_offered_and_refused_on_upload(
    client, study, lead, staging_dir
):
    consented_participant(study, "I1")
    consented_participant(study, "I2", uses=["record", "analyse"])
    pending = participant_services.participant_create(actor=lead, study=study, code="I9")
    client.force_login(lead)
    page = client.get(url("transcript_import", study))
    choices = [label for _, label in page.context["form"].fields["participant"].choices]
    assert choices == ["---------", "I1"]
    text = page.content.decode()
    assert "not listed: I2 (consent excludes transcription); I9 (no consent recorded)" in text

    response = client.post(
        url("transcript_import", study),
        {"participant": pending.pk, "files": [SimpleUploadedFile("t.txt", b"I9: words\n")]},
    )
    assert "I9 has no current consent to transcription (no consent recorded)." in (
        response.content.decode()
    )
    assert "items" not in response.context
    assert not Path(staging_dir).exists() or not any(Path(staging_dir).iterdir())


@needs_interop
def test_the_import_command_gives_unlabelled_speech_to_the_participant(study, lead):
    participant = consented_participant(study, "I4")
    out = io.StringIO()
    call_command(
        "import_transcript", "--study", study.slug, "--participant", "I4", "--as", lead.username,
        str(JFK / "jfk.srt"), stdout=out,
    )  # fmt: skip
    assert "✓ jfk.srt" in out.getvalue()
    utterances = participant.transcripts.get().utterances
    assert list(utterances.values_list("speaker", "role")) == [("I4", SpeakerRole.PARTICIPANT)]
