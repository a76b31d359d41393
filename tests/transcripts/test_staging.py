"""Files waiting in an import preview go with a withdrawal or a purge, and expire on a schedule.

The review found a purged transcript's text still on disk under media/import-staging/.
"""

import io
import os
import time
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.factories import consented_participant, imported_transcript
from transcripts.models import ConsentKind, ConsentRecord, Transcript
from transcripts.services import consent as consent_services
from transcripts.services import staging
from transcripts.services import transcripts as transcript_services
from workbench.models import AuditEvent

SAID = "I1: the words only this participant said about the steering group.\n"
OTHER = "I2: something else entirely, said by someone who stays.\n"


def url(name, study, **kwargs):
    return reverse(name, kwargs={"study_slug": study.slug, **kwargs})


def preview(client, study, participant, name: str, text: str) -> str:
    response = client.post(
        url("transcript_import", study),
        {"participant": participant.pk, "files": [SimpleUploadedFile(name, text.encode())]},
    )
    assert response.context["items"], response.context.get("rejected")
    return response.context["token"]


def staged_bytes(settings) -> bytes:
    """Everything on disk under the staging folder, concatenated."""
    root = Path(settings.IMPORT_STAGING_DIR)
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


def withdraw(admin_user, participant):
    consent_services.consent_withdraw(
        actor=admin_user, participant=participant, effective_on=timezone.localdate(), reason="x"
    )


def test_withdrawal_discards_the_participants_waiting_previews_and_only_theirs(
    client, study, lead, admin_user, settings
):
    leaving, staying = consented_participant(study, "I1"), consented_participant(study, "I2")
    client.force_login(lead)
    token = preview(client, study, leaving, "leaving.txt", SAID)
    preview(client, study, staying, "staying.txt", OTHER)

    client.force_login(admin_user)
    client.post(
        url("consent_withdraw", study, pk=leaving.pk),
        {"effective_on": timezone.localdate(), "reason": "Changed their mind", "confirm": "on"},
    )
    on_disk = staged_bytes(settings)
    assert b"steering group" not in on_disk and b"someone who stays" in on_disk
    assert AuditEvent.objects.get(verb="consent.withdraw").after["import previews discarded"] == 1

    client.force_login(lead)
    response = client.post(
        url("transcript_import_confirm", study, token=token),
        {"f0-title": "Too late", "f0-participant": leaving.pk},
        follow=True,
    )
    assert "This preview has expired" in response.content.decode()
    assert not Transcript.objects.exists()


def test_nothing_is_staged_for_a_participant_who_has_withdrawn(
    client, study, lead, admin_user, settings
):
    participant = consented_participant(study, "I1")
    withdraw(admin_user, participant)
    client.force_login(lead)
    response = client.post(
        url("transcript_import", study),
        {"participant": participant.pk, "files": [SimpleUploadedFile("late.txt", SAID.encode())]},
    )
    assert "I1 has no current consent to transcription (withdrawn)." in response.content.decode()
    assert staged_bytes(settings) == b""


def test_purge_leaves_no_copy_of_the_text_waiting_in_a_preview(
    client, study, lead, admin_user, settings
):
    participant, other = consented_participant(study, "I1"), consented_participant(study, "I2")
    transcript = imported_transcript(study, participant, SAID, filename="talk.txt")
    client.force_login(lead)
    # The same file again, by mistake for another participant, and that one's own interview.
    preview(client, study, other, "talk-again.txt", SAID)
    preview(client, study, other, "other.txt", OTHER)
    withdraw(admin_user, participant)
    assert b"steering group" in staged_bytes(settings)  # staged for I2, not for I1

    transcript_services.transcript_purge(actor=admin_user, transcript=transcript, reason="gone")

    on_disk = staged_bytes(settings)
    assert b"steering group" not in on_disk and b"someone who stays" in on_disk
    assert AuditEvent.objects.get(verb="transcript.purge").after["import previews discarded"] == 1


def test_the_sweep_command_deletes_expired_and_withdrawn_previews(
    client, study, lead, admin_user, settings
):
    fresh, old, leaving = (consented_participant(study, code) for code in ("I1", "I2", "I3"))
    client.force_login(lead)
    kept = preview(client, study, fresh, "fresh.txt", "I1: fresh words\n")
    expired = preview(client, study, old, "old.txt", "I2: two days old\n")
    preview(client, study, leaving, "raced.txt", SAID)
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(Path(settings.IMPORT_STAGING_DIR) / expired, (two_days_ago, two_days_ago))
    # A withdrawal recorded while that upload was still being staged: the service's discard
    # ran before the preview was written, so only the sweep can find it.
    ConsentRecord.objects.create(
        participant=leaving,
        kind=ConsentKind.WITHDRAWAL,
        effective_on=timezone.localdate(),
        recorded_by=admin_user,
    )

    out = io.StringIO()
    call_command("sweep_import_staging", stdout=out)

    assert out.getvalue().strip() == (
        "Deleted 1 expired import preview and 1 of withdrawn participants."
    )
    assert [p.token for p in staging.previews()] == [kept]
    assert sorted(p.name for p in Path(settings.IMPORT_STAGING_DIR).iterdir()) == [kept]
    assert b"steering group" not in staged_bytes(settings)
