"""Storing an examined transcript file: canonical text, speaker turns, audit event."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from transcripts.formats import ParsedTranscript
from transcripts.models import (
    ConsentUse,
    Participant,
    SpeakerRole,
    Transcript,
    Utterance,
)
from transcripts.selectors.consent import current_consent
from transcripts.selectors.transcripts import listed_names_in, study_rules_in_order
from transcripts.services.transcripts import text_sha256
from workbench import audit
from workbench.models import Membership, Study


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
    unlabelled_speaker: str = "",
    title: str = "",
    interview_date: date | None = None,
    interviewers=(),
    mode: str = "",
    duration_minutes: int | None = None,
    language: str = "",
) -> Transcript:
    """Store a parsed transcript and its speaker turns; the file's bytes are not kept.

    ``speaker_roles`` maps each label to a role, "" the turns without a label (speech-to-text
    output has none); ``unlabelled_speaker`` names who speaks in those turns.
    """
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
    unlabelled_speaker = " ".join(unlabelled_speaker.split())
    if len(unlabelled_speaker) > 200:
        raise ValidationError("A speaker's name is at most 200 characters.")
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
        listed_names=listed_names_in(parsed.text, study_rules_in_order(study)),
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
            speaker=(turn.speaker or unlabelled_speaker)[:200],
            role=speaker_roles.get(turn.speaker, SpeakerRole.OTHER),
            start=turn.start,
            end=turn.end,
            start_ms=turn.start_ms,
            end_ms=turn.end_ms,
        )
        for index, turn in enumerate(parsed.turns)
    )
    role_counts: dict[str, int] = {}
    unlabelled = [""] if any(not turn.speaker for turn in parsed.turns) else []
    for label in [*parsed.speakers, *unlabelled]:
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
