"""Editing a transcript's metadata and status, and purging its text for good."""

import hashlib

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from transcripts import spans
from transcripts.models import (
    Transcript,
    TranscriptStatus,
)
from transcripts.selectors.consent import allows, current_consent
from transcripts.selectors.transcripts import listed_names_in, study_rules_in_order
from transcripts.services import staging
from workbench import audit
from workbench.access import require
from workbench.locking import lock_row
from workbench.models import Membership


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def transcript_update(*, actor, transcript: Transcript, version: int, **fields) -> Transcript:
    """Edit metadata (title, status, interview date, mode, duration, language, interviewers)."""
    transcript = lock_row(Transcript, transcript.pk, version=version)
    before = audit.snapshot(transcript)
    interviewers = fields.pop("interviewers", None)
    allowed = {"title", "status", "interview_date", "mode", "duration_minutes", "language"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Not a transcript field: {', '.join(sorted(unknown))}")
    if fields.get("status") == TranscriptStatus.READY and not allows(transcript, "analyse"):
        raise ValidationError(
            {"status": "Consent does not cover analysis, so it cannot be ready for coding."}
        )
    if (
        fields.get("status") == TranscriptStatus.READY
        and transcript.status != TranscriptStatus.READY
        and transcript.study.requires_pseudonymisation
    ):
        # Counted afresh from the text: coding must not start on a name the list hides.
        left = listed_names_in(transcript.text, study_rules_in_order(transcript.study))
        if left:
            names = "name" if left == 1 else "names"
            raise ValidationError(
                {
                    "status": f"{left} {names} from the study's replacement list "
                    f"{'is' if left == 1 else 'are'} still in this transcript: pseudonymise it "
                    "before marking it ready for coding.",
                },
                code="not_pseudonymised",
            )
    for name, value in fields.items():
        setattr(transcript, name, value)
    transcript.version += 1
    transcript.save()
    if interviewers is not None:
        member_ids = set(
            Membership.objects.filter(study=transcript.study).values_list("user_id", flat=True)
        )
        if any(user.pk not in member_ids for user in interviewers):
            raise ValidationError({"interviewers": "Interviewers must be members of the study."})
        transcript.interviewers.set(interviewers)
    audit.record_changes(actor=actor, study=transcript.study, obj=transcript, before=before)
    return transcript


@transaction.atomic
def transcript_purge(*, actor, transcript: Transcript, reason: str) -> None:
    """Delete a transcript's text and turns for good; the audit keeps a SHA-256 of the text."""
    # What holds spans of it (coding's layers) before the transcript, as a correction takes
    # them: deleting them after locking the transcript could deadlock with one.
    spans.lock_holders(transcript)
    transcript = lock_row(Transcript, transcript.pk, version=None)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the transcript is purged."})
    consent = current_consent(transcript.participant)
    withdrawn = consent is not None and consent.is_withdrawal
    expired = (
        consent is not None
        and consent.retain_until is not None
        and consent.retain_until < timezone.localdate()
    )
    if not (withdrawn or expired):
        raise ValidationError(
            "Only transcripts whose participant withdrew or whose retention date has passed "
            "can be purged."
        )
    # The same file (or others of this participant) may still wait in an import preview.
    discarded = staging.discard_for(
        study_id=transcript.study_id,
        participant_id=transcript.participant_id,
        sha256=transcript.original_sha256,
    )
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="transcript.purge",
        obj=transcript,
        object_repr=f"{transcript.participant.code}: transcript {transcript.pk}",
        before={
            "participant": transcript.participant.code,
            "sha256 of file": transcript.original_sha256,
            "sha256 of text": transcript.text_sha256,
            "characters": len(transcript.text),
            "turns": transcript.utterances.count(),
        },
        after={
            "reason": reason,
            "because": "withdrawal" if withdrawn else "retention",
            "import previews discarded": discarded,
        },
    )
    transcript.delete()


@transaction.atomic
def interview_order_set(*, actor, study, order: list[str]) -> int:
    """Set the lead's order of interviews from ``order``, a list of transcript ids (as given
    by a form) in the wanted sequence; interviews of one day are then read in that order.
    Returns how many interviews moved. Unknown or repeated ids change nothing."""
    require(actor, study, "manage_analysis", message="Only a lead sets the interview order.")
    try:
        pks = [int(pk) for pk in order]
    except (TypeError, ValueError):
        raise ValidationError("The order names an interview that is not in this study.") from None
    if len(set(pks)) != len(pks):
        raise ValidationError("An interview appears twice in the order.")
    rows = {t.pk: t for t in Transcript.objects.select_for_update().filter(study=study, pk__in=pks)}
    if len(rows) != len(pks):
        raise ValidationError("The order names an interview that is not in this study.")
    moved = []
    for position, pk in enumerate(pks, start=1):
        transcript = rows[pk]
        if transcript.interview_order != position:
            transcript.interview_order = position
            transcript.version += 1
            moved.append(transcript)
    Transcript.objects.bulk_update(moved, ["interview_order", "version"])
    if moved:
        audit.record(
            actor=actor,
            study=study,
            verb="transcript.reorder",
            object_type="study",
            object_id=str(study.pk),
            object_repr=str(study),
            after={"order": [rows[pk].title for pk in pks]},
        )
    return len(moved)
