"""Recording and withdrawing informed consent; withdrawal locks the transcripts at once."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from transcripts.models import (
    ConsentKind,
    ConsentRecord,
    ConsentUse,
    Participant,
)
from transcripts.services import staging
from workbench import audit


@transaction.atomic
def consent_record(
    *,
    actor,
    participant: Participant,
    form_version: str,
    effective_on: date,
    allowed: set[str],
    retain_until: date | None = None,
) -> ConsentRecord:
    """Record consent with its scope (``allowed``: ConsentUse values); it becomes current."""
    unknown = set(allowed) - set(ConsentUse.values)
    if unknown:
        raise ValidationError(f"Unknown use of data: {', '.join(sorted(unknown))}.")
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": "Consent cannot be dated in the future."})
    if retain_until is not None and retain_until < effective_on:
        raise ValidationError({"retain_until": "The retention date is before the consent date."})
    Participant.objects.select_for_update().get(pk=participant.pk)
    record = ConsentRecord.objects.create(
        participant=participant,
        kind=ConsentKind.CONSENT,
        form_version=form_version.strip(),
        effective_on=effective_on,
        retain_until=retain_until,
        recorded_by=actor,
        **{f"allow_{use}": use in allowed for use in ConsentUse.values},
    )
    audit.record(
        actor=actor,
        study=participant.study,
        verb="consent.record",
        obj=record,
        object_repr=f"Consent of {participant.code}",
        after={
            "form_version": record.form_version,
            "effective_on": record.effective_on.isoformat(),
            "retain_until": retain_until.isoformat() if retain_until else None,
            "allows": sorted(allowed),
        },
    )
    return record


@transaction.atomic
def consent_withdraw(
    *, actor, participant: Participant, effective_on: date, reason: str
) -> ConsentRecord:
    """Withdrawal locks the participant's transcripts at once: the current record allows nothing."""
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": "A withdrawal cannot be dated in the future."})
    Participant.objects.select_for_update().get(pk=participant.pk)
    record = ConsentRecord.objects.create(
        participant=participant,
        kind=ConsentKind.WITHDRAWAL,
        effective_on=effective_on,
        reason=reason.strip(),
        recorded_by=actor,
    )
    transcripts = list(participant.transcripts.values_list("pk", flat=True))
    # Files uploaded for them and waiting in an import preview go at once. Before the commit
    # on purpose: if the withdrawal then failed, losing a preview costs an upload, while
    # keeping one after a withdrawal would keep data the participant took back.
    discarded = staging.discard_for(study_id=participant.study_id, participant_id=participant.pk)
    audit.record(
        actor=actor,
        study=participant.study,
        verb="consent.withdraw",
        obj=record,
        object_repr=f"Withdrawal of {participant.code}",
        after={
            "effective_on": effective_on.isoformat(),
            "reason": record.reason,
            "transcripts locked": len(transcripts),
            "import previews discarded": discarded,
        },
    )
    return record
