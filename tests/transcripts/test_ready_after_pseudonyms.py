"""Coding starts on pseudonymised text: with the study setting on (the default) a transcript is
marked ready only once no listed name is left in it, and a growing list flags ready transcripts
that hold a newly listed name."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import consented_participant, imported_transcript
from transcripts.models import Transcript, TranscriptStatus
from transcripts.services import corrections
from transcripts.services import pseudonyms as ps
from transcripts.services import transcripts as transcript_services
from workbench.services import studies as study_services

TEXT = "Interviewer: Thanks, Amara.\n\nI2: Amara here. I worked at Nimbus Labs with Tomasz.\n"


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


@pytest.fixture
def transcript(study):
    return imported_transcript(study, consented_participant(study, "I2"), TEXT)


def mark_ready(lead, transcript):
    transcript.refresh_from_db()
    return transcript_services.transcript_update(
        actor=lead, transcript=transcript, version=transcript.version, status="ready"
    )


def pseudonymise(lead, transcript):
    transcript.refresh_from_db()
    ps.transcript_pseudonymise(
        actor=lead,
        transcript=transcript,
        version=transcript.version,
        expected_sha256=transcript.text_sha256,
    )


def test_ready_is_refused_while_listed_names_remain(study, lead, transcript):
    ps.pseudonym_rule_create(actor=lead, study=study, find="Amara", replace_with="[P2]")
    ps.pseudonym_rule_create(actor=lead, study=study, find="Nimbus Labs", replace_with="[ORG]")
    with pytest.raises(ValidationError) as refused:
        mark_ready(lead, transcript)
    assert "2 names from the study's replacement list are still in this transcript" in str(
        refused.value
    )
    transcript.refresh_from_db()
    assert transcript.status == TranscriptStatus.DRAFT
    pseudonymise(lead, transcript)
    assert mark_ready(lead, transcript).status == TranscriptStatus.READY


def test_the_setting_can_be_turned_off(study, lead, admin_user, transcript):
    assert study.requires_pseudonymisation  # on by default
    ps.pseudonym_rule_create(actor=lead, study=study, find="Amara", replace_with="[P2]")
    study_services.study_update(
        actor=admin_user,
        study=study,
        version=study.version,
        name=study.name,
        description="",
        requires_pseudonymisation=False,
    )
    transcript.study.refresh_from_db()
    assert mark_ready(lead, transcript).status == TranscriptStatus.READY


def test_the_edit_page_explains_and_links_to_pseudonymising(client, study, lead, transcript):
    ps.pseudonym_rule_create(actor=lead, study=study, find="Tomasz", replace_with="[P4]")
    client.force_login(lead)
    page = client.post(
        url("transcript_edit", study, pk=transcript.pk),
        {"title": "Interview with I2", "status": "ready", "version": transcript.version},
    ).content.decode()
    assert "1 name from the study&#x27;s replacement list is still in this transcript" in page
    assert url("pseudonym_preview", study, pk=transcript.pk) in page


def test_a_growing_list_flags_ready_transcripts(client, study, lead, transcript):
    mark_ready(lead, transcript)
    client.force_login(lead)
    listing = client.get(url("transcript_list", study)).content.decode()
    assert "from the replacement list" not in listing
    ps.pseudonym_rule_create(actor=lead, study=study, find="Amara", replace_with="[P2]")
    ps.pseudonym_rule_create(actor=lead, study=study, find="Tomasz", replace_with="[P4]")
    listing = client.get(url("transcript_list", study)).content.decode()
    assert "contains 2 names from the replacement list" in listing
    assert url("pseudonym_preview", study, pk=transcript.pk) in listing
    detail = client.get(url("transcript_detail", study, pk=transcript.pk)).content.decode()
    assert "Marked ready for coding, but this transcript" in detail
    assert "contains 2 names from the study's replacement list" in detail
    pseudonymise(lead, transcript)
    listing = client.get(url("transcript_list", study)).content.decode()
    assert "from the replacement list" not in listing
    # Taking a name off the list, or a correction writing one back, keeps the count true.
    rule = ps.pseudonym_rule_create(actor=lead, study=study, find="Nimbus", replace_with="[ORG]")
    assert Transcript.objects.get(pk=transcript.pk).listed_names == 1
    ps.pseudonym_rule_delete(actor=lead, rule=rule)
    assert Transcript.objects.get(pk=transcript.pk).listed_names == 0
    transcript.refresh_from_db()
    at = transcript.text.index("[P2]")
    corrections.transcript_correct(
        actor=lead,
        transcript=transcript,
        version=transcript.version,
        edits=[(at, at + 4, "Amara")],
        reason="missed redaction test",
    )
    assert Transcript.objects.get(pk=transcript.pk).listed_names == 1


def test_an_import_counts_listed_names(study, lead):
    ps.pseudonym_rule_create(actor=lead, study=study, find="Tomasz", replace_with="[P4]")
    transcript = imported_transcript(study, consented_participant(study, "I3"), TEXT)
    assert transcript.listed_names == 1
