"""Participants: pseudonym codes, their case, attributes and contact details."""

from django.core.exceptions import ValidationError
from django.db import transaction

from transcripts.models import (
    AttributeTarget,
    Case,
    Participant,
)
from transcripts.selectors.attributes import clean_values
from transcripts.services.attributes import (
    attributes_of,
    attributes_snapshot,
    required_text,
    save_unique,
)
from workbench import audit
from workbench.locking import lock_row
from workbench.models import Study

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_notes")


def _own_case(study: Study, case: Case | None) -> Case | None:
    if case is not None and case.study_id != study.pk:
        raise ValidationError({"case": "Choose one of this study's cases."})
    return case


def _participant_snapshot(participant: Participant) -> dict:
    return {
        "code": participant.code,
        "case": str(participant.case) if participant.case else None,
        "attributes": attributes_snapshot(
            participant.study, AttributeTarget.PARTICIPANT, participant.attributes
        ),
    }


@transaction.atomic
def participant_create(
    *, actor, study: Study, code: str, case: Case | None = None, attributes=None, **contact
) -> Participant:
    code = required_text(code, "code", "participant a pseudonym code", 30)
    message = f"{code} is already a participant of this study."
    if study.participants.filter(code__iexact=code).exists():
        raise ValidationError({"code": message})
    values = clean_values(attributes_of(study, AttributeTarget.PARTICIPANT), attributes or {})
    participant = Participant(
        study=study,
        code=code,
        case=_own_case(study, case),
        attributes=values,
        **{field: (contact.get(field) or "").strip() for field in CONTACT_FIELDS},
    )
    save_unique(participant, "code", message)
    after = _participant_snapshot(participant)
    if any(getattr(participant, field) for field in CONTACT_FIELDS):
        # Contact details are personal data: the trail says they exist, never what they are.
        after["contact details"] = "recorded"
    audit.record(actor=actor, study=study, verb="participant.create", obj=participant, after=after)
    return participant


@transaction.atomic
def participant_update(
    *,
    actor,
    participant: Participant,
    version: int,
    code: str,
    case: Case | None,
    attributes,
    **contact,
) -> Participant:
    participant_attributes = attributes_of(participant.study, AttributeTarget.PARTICIPANT)
    participant = lock_row(Participant, participant.pk, version=version)
    study = participant.study
    code = required_text(code, "code", "participant a pseudonym code", 30)
    message = f"{code} is already a participant of this study."
    if study.participants.filter(code__iexact=code).exclude(pk=participant.pk).exists():
        raise ValidationError({"code": message})
    values = clean_values(participant_attributes, attributes or {})
    before = _participant_snapshot(participant)
    contact_before = tuple(getattr(participant, field) for field in CONTACT_FIELDS)
    participant.code, participant.case = code, _own_case(study, case)
    participant.attributes = values
    if contact:
        for field in CONTACT_FIELDS:
            setattr(participant, field, (contact.get(field) or "").strip())
    participant.version += 1
    save_unique(participant, "code", message)
    old, new = audit.changed(before, _participant_snapshot(participant))
    if tuple(getattr(participant, field) for field in CONTACT_FIELDS) != contact_before:
        old["contact details"], new["contact details"] = "(not shown)", "changed"
    if new:
        audit.record(
            actor=actor,
            study=study,
            verb="participant.update",
            obj=participant,
            before=old,
            after=new,
        )
    return participant
