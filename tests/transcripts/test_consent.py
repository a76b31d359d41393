from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from tests.factories import consented_participant, imported_transcript
from transcripts.models import ConsentKind, ConsentRecord, ConsentUse
from transcripts.selectors import consent as consent_selectors
from transcripts.selectors import transcripts as transcript_selectors
from transcripts.services import cases as case_services
from transcripts.services import consent as consent_services
from transcripts.services import transcripts as transcript_services
from workbench.models import AuditEvent

INTERVIEW = "Interviewer: How did you start?\n\nI1: I fixed a broken script.\n"


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


class TestConsentApi:
    def test_allows_answers_per_use(self, study):
        participant = consented_participant(study, uses={"record", "transcribe", "analyse"})
        consent = consent_selectors.current_consent(participant)
        assert consent.allows("analyse") and consent.allows(ConsentUse.TRANSCRIBE)
        assert not consent.allows("quote") and not consent.allows("attribute")

    def test_unknown_use_is_a_programming_error(self, study):
        consent = consent_selectors.current_consent(consented_participant(study))
        with pytest.raises(ValueError):
            consent.allows("sell")

    def test_latest_record_is_current(self, study, admin_user):
        participant = consented_participant(study)
        consent_services.consent_record(
            actor=admin_user,
            participant=participant,
            form_version="v2",
            effective_on=date(2026, 3, 1),
            allowed={"transcribe"},
        )
        consent = consent_selectors.current_consent(participant)
        assert consent.form_version == "v2" and not consent.allows("analyse")

    def test_nothing_is_allowed_past_retention(self, study):
        participant = consented_participant(study)
        consent = consent_selectors.current_consent(participant)
        consent.retain_until = date(2026, 6, 30)
        assert consent.allows("analyse", on=date(2026, 6, 30))
        assert not consent.allows("analyse", on=date(2026, 7, 1))

    def test_withdrawal_allows_nothing_even_in_the_database(self, study, admin_user):
        participant = consented_participant(study)
        with pytest.raises(IntegrityError), transaction.atomic():
            ConsentRecord.objects.create(
                participant=participant,
                kind=ConsentKind.WITHDRAWAL,
                allow_analyse=True,
                effective_on=date(2026, 2, 1),
                recorded_by=admin_user,
            )

    def test_future_dates_and_reversed_retention_are_refused(self, study, admin_user):
        participant = consented_participant(study)
        tomorrow = timezone.localdate() + timedelta(days=1)
        with pytest.raises(ValidationError):
            consent_services.consent_record(
                actor=admin_user,
                participant=participant,
                form_version="v2",
                effective_on=tomorrow,
                allowed=set(),
            )
        with pytest.raises(ValidationError):
            consent_services.consent_record(
                actor=admin_user,
                participant=participant,
                form_version="v2",
                effective_on=date(2026, 2, 1),
                allowed=set(),
                retain_until=date(2026, 1, 1),
            )
        assert participant.consent_records.count() == 1


class TestWithdrawal:
    def test_withdrawal_locks_transcripts_and_removes_them_from_lists(
        self, client, study, admin_user, coder
    ):
        participant = consented_participant(study)
        transcript = imported_transcript(study, participant, INTERVIEW)
        assert transcript_selectors.analysable_transcripts(study).count() == 1
        client.force_login(admin_user)
        response = client.post(
            url("consent_withdraw", study, pk=participant.pk),
            {"effective_on": timezone.localdate(), "reason": "Changed their mind", "confirm": "on"},
        )
        assert response.status_code == 302
        assert transcript_selectors.analysable_transcripts(study).count() == 0
        client.force_login(coder)
        locked = client.get(url("transcript_detail", study, pk=transcript.pk))
        assert locked.status_code == 403
        assert "withdrew their consent" in locked.content.decode()
        assert "fixed a broken script" not in locked.content.decode()
        listing = client.get(url("transcript_list", study)).content.decode()
        assert transcript.title not in listing
        event = AuditEvent.objects.get(verb="consent.withdraw")
        assert event.after["transcripts locked"] == 1

    def test_withdrawal_needs_confirmation_and_a_reason(self, client, study, admin_user):
        participant = consented_participant(study)
        client.force_login(admin_user)
        response = client.post(
            url("consent_withdraw", study, pk=participant.pk),
            {"effective_on": timezone.localdate(), "reason": ""},
        )
        assert response.status_code == 200
        assert "This field is required" in response.content.decode()
        assert not consent_selectors.current_consent(participant).is_withdrawal

    def test_only_admins_manage_consent(self, client, study, lead, coder):
        participant = consented_participant(study)
        for user in (lead, coder):
            client.force_login(user)
            response = client.post(
                url("consent_record", study, pk=participant.pk),
                {"form_version": "v9", "effective_on": "2026-02-01", "allowed": ["analyse"]},
            )
            assert response.status_code == 403
        assert participant.consent_records.count() == 1


class TestPurge:
    def test_purge_deletes_text_and_turns_for_good_and_keeps_a_hash(
        self, client, study, admin_user
    ):
        participant = consented_participant(study)
        transcript = imported_transcript(study, participant, INTERVIEW)
        digest = transcript.text_sha256
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=participant,
            effective_on=timezone.localdate(),
            reason="withdrew",
        )
        client.force_login(admin_user)
        page = client.get(url("stewardship", study)).content.decode()
        assert transcript.title in page
        response = client.post(
            url("transcript_purge", study, pk=transcript.pk),
            {"reason": "Participant withdrew", "confirm": "on"},
        )
        assert response.status_code == 302
        from transcripts.models import Transcript, Utterance

        assert not Transcript.objects.filter(pk=transcript.pk).exists()
        assert not Utterance.objects.filter(transcript_id=transcript.pk).exists()
        event = AuditEvent.objects.get(verb="transcript.purge")
        assert event.before["sha256 of text"] == digest
        assert event.actor == admin_user
        # No trace of the words anywhere in the audit trail.
        for audit_event in AuditEvent.objects.all():
            assert "broken script" not in str(audit_event.before) + str(audit_event.after)

    def test_consented_transcript_cannot_be_purged(self, study, admin_user):
        participant = consented_participant(study)
        transcript = imported_transcript(study, participant, INTERVIEW)
        with pytest.raises(ValidationError):
            transcript_services.transcript_purge(
                actor=admin_user, transcript=transcript, reason="oops"
            )
        transcript.refresh_from_db()
        assert "broken script" in transcript.text

    def test_retention_page_lists_expired_transcripts(self, client, study, admin_user):
        participant = consented_participant(study)
        transcript = imported_transcript(study, participant, INTERVIEW)
        consent_services.consent_record(
            actor=admin_user,
            participant=participant,
            form_version="v1",
            effective_on=date(2025, 1, 1),
            allowed=set(ConsentUse.values),
            retain_until=date(2025, 12, 31),
        )
        # The newer-dated original record is still current; record an expired one as latest.
        ConsentRecord.objects.filter(
            participant=participant, effective_on=date(2026, 1, 15)
        ).update(retain_until=date(2026, 1, 31))
        client.force_login(admin_user)
        page = client.get(url("stewardship", study)).content.decode()
        assert "Past their retention date" in page and transcript.title in page
        transcript_services.transcript_purge(
            actor=admin_user, transcript=transcript, reason="retention"
        )
        assert AuditEvent.objects.get(verb="transcript.purge").after["because"] == "retention"

    def test_lead_cannot_purge(self, client, study, lead, admin_user):
        participant = consented_participant(study)
        transcript = imported_transcript(study, participant, INTERVIEW)
        consent_services.consent_withdraw(
            actor=admin_user,
            participant=participant,
            effective_on=timezone.localdate(),
            reason="x",
        )
        client.force_login(lead)
        response = client.post(
            url("transcript_purge", study, pk=transcript.pk), {"reason": "x", "confirm": "on"}
        )
        assert response.status_code == 403


def test_withdrawn_participant_leaves_the_case_table_and_its_downloads(
    client, study, lead, admin_user
):
    case = case_services.case_create(actor=lead, study=study, name="Project A")
    consented_participant(study, "I1", case=case)
    gone = consented_participant(study, "I2", case=case)
    consent_services.consent_withdraw(
        actor=admin_user, participant=gone, effective_on=timezone.localdate(), reason="x"
    )
    client.force_login(lead)
    page = client.get(url("case_table", study)).content.decode()
    csv_text = client.get(url("case_table_csv", study)).content.decode()
    assert ">I1<" in page and ">I2<" not in page
    assert "I1" in csv_text and "I2" not in csv_text
