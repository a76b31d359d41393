"""Every state change of cases, participants, consent and transcripts.

Atomic, keyword-only, each with its audit event in the same transaction. Business rules raise
ValidationError and leave the database untouched.
"""

import hashlib
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from transcripts.attributes import clean_values
from transcripts.formats import ParsedTranscript
from transcripts.models import (
    Attribute,
    AttributeKind,
    AttributeTarget,
    Case,
    ConsentKind,
    ConsentRecord,
    ConsentUse,
    Participant,
    SpeakerRole,
    Transcript,
    TranscriptStatus,
    Utterance,
)
from workbench import audit
from workbench.locking import lock_row
from workbench.models import Membership, Study


def _save_unique(obj, field: str, message: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError({field: message}) from exc


# --- attributes ----------------------------------------------------------------------------


def _clean_options(kind: str, options) -> list[str]:
    if kind not in {AttributeKind.CHOICE, AttributeKind.MULTI}:
        return []
    cleaned, seen = [], set()
    for option in options or []:
        option = str(option).strip()
        if option and option.lower() not in seen:
            seen.add(option.lower())
            cleaned.append(option)
    if not cleaned:
        raise ValidationError({"options": "A choice attribute needs at least one option."})
    return cleaned


@transaction.atomic
def attribute_create(
    *, actor, study: Study, target: str, name: str, kind: str, options=()
) -> Attribute:
    if target not in AttributeTarget.values:
        raise ValidationError({"target": "Attributes describe cases or participants."})
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": "Unknown kind of attribute."})
    name = _required_text(name, "name", "attribute a name", 100)
    message = f"{name} already exists for {AttributeTarget(target).label.lower()}s."
    if study.attributes.filter(target=target, name__iexact=name).exists():
        raise ValidationError({"name": message})
    position = (study.attributes.filter(target=target).aggregate(m=Max("position"))["m"] or 0) + 1
    attribute = Attribute(
        study=study,
        target=target,
        name=name,
        kind=kind,
        options=_clean_options(kind, options),
        position=position,
    )
    _save_unique(attribute, "name", message)
    audit.record(
        actor=actor,
        study=study,
        verb="attribute.create",
        obj=attribute,
        after=audit.snapshot(attribute),
    )
    return attribute


@transaction.atomic
def attribute_update(*, actor, attribute: Attribute, version: int, name: str, options=()):
    """Rename an attribute or change its options; a removed option must not be in use."""
    attribute = lock_row(Attribute, attribute.pk, version=version)
    before = audit.snapshot(attribute)
    name = _required_text(name, "name", "attribute a name", 100)
    if (
        Attribute.objects.filter(
            study_id=attribute.study_id, target=attribute.target, name__iexact=name
        )
        .exclude(pk=attribute.pk)
        .exists()
    ):
        raise ValidationError({"name": f"{name} already exists."})
    options = _clean_options(attribute.kind, options)
    removed = set(attribute.options) - set(options)
    if removed:
        in_use = sorted(removed & _values_in_use(attribute))
        if in_use:
            raise ValidationError({"options": f"Still used, so it cannot go: {', '.join(in_use)}."})
    attribute.name, attribute.options = name, options
    attribute.version += 1
    _save_unique(attribute, "name", f"{name} already exists.")
    audit.record_changes(actor=actor, study=attribute.study, obj=attribute, before=before)
    return attribute


def _holders(attribute: Attribute):
    model = Case if attribute.target == AttributeTarget.CASE else Participant
    return model.objects.filter(study_id=attribute.study_id)


def _values_in_use(attribute: Attribute) -> set[str]:
    key = str(attribute.pk)
    used: set[str] = set()
    for values in _holders(attribute).values_list("attributes", flat=True):
        value = values.get(key)
        used.update(value if isinstance(value, list) else [value] if value else [])
    return used


@transaction.atomic
def attribute_delete(*, actor, attribute: Attribute, version: int) -> None:
    """Delete an attribute and every value recorded for it (the audit keeps a count)."""
    attribute = lock_row(Attribute, attribute.pk, version=version)
    key = str(attribute.pk)
    holders = list(_holders(attribute).select_for_update())
    cleared = 0
    for holder in holders:
        if key in holder.attributes:
            del holder.attributes[key]
            holder.save(update_fields=["attributes"])
            cleared += 1
    audit.record(
        actor=actor,
        study=attribute.study,
        verb="attribute.delete",
        obj=attribute,
        before=audit.snapshot(attribute) | {"values_cleared": cleared},
    )
    attribute.delete()


def _attributes_of(study: Study, target: str) -> list[Attribute]:
    """The target's attributes, locked: an option removed meanwhile cannot slip in.

    Writers lock attributes before cases or participants, as attribute_delete does, so the
    two never wait on each other in opposite orders.
    """
    return list(study.attributes.filter(target=target).select_for_update())


def _required_text(value: str, field: str, label: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"Give the {label}."})
    if len(value) > max_length:
        raise ValidationError({field: f"Keep the {label} under {max_length} characters."})
    return value


def _attributes_snapshot(study: Study, target: str, values: dict) -> dict:
    """Attribute values by name, which reads better in the audit trail than ids."""
    names = {str(a.pk): a.name for a in _attributes_of(study, target)}
    return {names.get(key, key): value for key, value in values.items()}


# --- cases ---------------------------------------------------------------------------------


@transaction.atomic
def case_create(*, actor, study: Study, name: str, description: str = "", attributes=None):
    name = _required_text(name, "name", "case a name", 200)
    message = f"This study already has a case named {name}."
    if study.cases.filter(name__iexact=name).exists():
        raise ValidationError({"name": message})
    values = clean_values(_attributes_of(study, AttributeTarget.CASE), attributes or {})
    case = Case(study=study, name=name, description=description.strip(), attributes=values)
    _save_unique(case, "name", message)
    audit.record(
        actor=actor,
        study=study,
        verb="case.create",
        obj=case,
        after={
            "name": case.name,
            "description": case.description,
            "attributes": _attributes_snapshot(study, AttributeTarget.CASE, values),
        },
    )
    return case


@transaction.atomic
def case_update(*, actor, case: Case, version: int, name: str, description: str, attributes):
    case_attributes = _attributes_of(case.study, AttributeTarget.CASE)
    case = lock_row(Case, case.pk, version=version)
    study = case.study
    name = _required_text(name, "name", "case a name", 200)
    message = f"This study already has a case named {name}."
    if study.cases.filter(name__iexact=name).exclude(pk=case.pk).exists():
        raise ValidationError({"name": message})
    values = clean_values(case_attributes, attributes or {})
    before = {
        "name": case.name,
        "description": case.description,
        "attributes": _attributes_snapshot(study, AttributeTarget.CASE, case.attributes),
    }
    case.name, case.description, case.attributes = name, description.strip(), values
    case.version += 1
    _save_unique(case, "name", message)
    after = {
        "name": case.name,
        "description": case.description,
        "attributes": _attributes_snapshot(study, AttributeTarget.CASE, values),
    }
    audit.record_changes(actor=actor, study=study, obj=case, before=before, after=after)
    return case


@transaction.atomic
def case_delete(*, actor, case: Case, version: int) -> None:
    case = lock_row(Case, case.pk, version=version)
    if case.participants.exists():
        raise ValidationError("Participants still belong to this case; move them first.")
    audit.record(
        actor=actor, study=case.study, verb="case.delete", obj=case, before={"name": case.name}
    )
    case.delete()


# --- participants --------------------------------------------------------------------------

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_notes")


def _own_case(study: Study, case: Case | None) -> Case | None:
    if case is not None and case.study_id != study.pk:
        raise ValidationError({"case": "Choose one of this study's cases."})
    return case


def _participant_snapshot(participant: Participant) -> dict:
    return {
        "code": participant.code,
        "case": str(participant.case) if participant.case else None,
        "attributes": _attributes_snapshot(
            participant.study, AttributeTarget.PARTICIPANT, participant.attributes
        ),
    }


@transaction.atomic
def participant_create(
    *, actor, study: Study, code: str, case: Case | None = None, attributes=None, **contact
) -> Participant:
    code = _required_text(code, "code", "participant a pseudonym code", 30)
    message = f"{code} is already a participant of this study."
    if study.participants.filter(code__iexact=code).exists():
        raise ValidationError({"code": message})
    values = clean_values(_attributes_of(study, AttributeTarget.PARTICIPANT), attributes or {})
    participant = Participant(
        study=study,
        code=code,
        case=_own_case(study, case),
        attributes=values,
        **{field: (contact.get(field) or "").strip() for field in CONTACT_FIELDS},
    )
    _save_unique(participant, "code", message)
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
    participant_attributes = _attributes_of(participant.study, AttributeTarget.PARTICIPANT)
    participant = lock_row(Participant, participant.pk, version=version)
    study = participant.study
    code = _required_text(code, "code", "participant a pseudonym code", 30)
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
    _save_unique(participant, "code", message)
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


# --- consent -------------------------------------------------------------------------------


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
        },
    )
    return record


def current_consent(participant: Participant) -> ConsentRecord | None:
    return participant.consent_records.order_by("-effective_on", "-id").first()


def allows(transcript: Transcript, use: str) -> bool:
    """The one consent gate: does the participant's current consent cover this use?"""
    consent = current_consent(transcript.participant)
    return consent is not None and consent.allows(use)


# --- transcripts ---------------------------------------------------------------------------


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@transaction.atomic
def transcript_import(
    *,
    actor,
    study: Study,
    participant: Participant,
    parsed: ParsedTranscript,
    filename: str,
    original_sha256: str,
    original_size: int,
    speaker_roles: dict[str, str] | None = None,
    title: str = "",
    interview_date: date | None = None,
    interviewers=(),
    mode: str = "",
    duration_minutes: int | None = None,
    language: str = "",
) -> Transcript:
    """Store a parsed transcript and its speaker turns; the file's bytes are not kept."""
    if participant.study_id != study.pk:
        raise ValidationError({"participant": "Choose one of this study's participants."})
    consent = current_consent(participant)
    if consent is None or not consent.allows(ConsentUse.TRANSCRIBE):
        raise ValidationError(
            {"participant": f"{participant.code} has no current consent to transcription."}
        )
    duplicate = participant.transcripts.filter(original_sha256=original_sha256).first()
    if duplicate is not None:
        raise ValidationError(
            f"{filename}: this file was already imported for {participant.code} "
            f"(as “{duplicate.title}”)."
        )
    speaker_roles = speaker_roles or {}
    unknown_roles = set(speaker_roles.values()) - set(SpeakerRole.values)
    if unknown_roles:
        raise ValidationError(f"Unknown speaker role: {', '.join(sorted(unknown_roles))}.")
    interviewers = list(interviewers)
    member_ids = set(
        Membership.objects.filter(study=study, user__in=interviewers).values_list(
            "user_id", flat=True
        )
    )
    if any(user.pk not in member_ids for user in interviewers):
        raise ValidationError({"interviewers": "Interviewers must be members of the study."})
    transcript = Transcript(
        study=study,
        participant=participant,
        title=(title or filename or "Transcript").strip()[:200],
        text=parsed.text,
        text_sha256=text_sha256(parsed.text),
        source_format=parsed.format,
        original_filename=filename[:255],
        original_sha256=original_sha256,
        original_size=original_size,
        interview_date=interview_date,
        mode=mode,
        duration_minutes=duration_minutes,
        language=language.strip(),
        imported_by=actor,
    )
    try:
        with transaction.atomic():
            transcript.save()
    except IntegrityError as exc:
        raise ValidationError(
            f"{filename}: this file was already imported for {participant.code}."
        ) from exc
    transcript.interviewers.set(interviewers)
    Utterance.objects.bulk_create(
        Utterance(
            transcript=transcript,
            index=index,
            speaker=turn.speaker[:200],
            role=speaker_roles.get(turn.speaker, SpeakerRole.OTHER),
            start=turn.start,
            end=turn.end,
            start_ms=turn.start_ms,
            end_ms=turn.end_ms,
        )
        for index, turn in enumerate(parsed.turns)
    )
    role_counts: dict[str, int] = {}
    for label in parsed.speakers:
        role = speaker_roles.get(label, SpeakerRole.OTHER)
        role_counts[role] = role_counts.get(role, 0) + 1
    # No file name, title or speaker labels here: they may hold real names, and the audit
    # trail can never be purged. The file's hash identifies it well enough.
    audit.record(
        actor=actor,
        study=study,
        verb="transcript.import",
        obj=transcript,
        object_repr=f"{participant.code}: transcript {transcript.pk}",
        after={
            "participant": participant.code,
            "format": parsed.format,
            "sha256 of file": original_sha256,
            "characters": len(parsed.text),
            "turns": len(parsed.turns),
            "speakers by role": role_counts,
        },
    )
    return transcript


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
        after={"reason": reason, "because": "withdrawal" if withdrawn else "retention"},
    )
    transcript.delete()
