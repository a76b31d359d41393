"""Peer debriefing, analytic memos and agreement rounds: every state change.

Each function is atomic and keyword-only and writes its audit event in the same transaction.
Business rules raise ``ValidationError`` (field-keyed where a form field is to blame) and leave
the database untouched; an edit or delete made from an older version is refused (``StaleEdit``).

What the audit trail keeps: titles, dates, kinds and the labels of what a note links to
(transcript titles, code names, disagreement numbers, attendees' usernames). Note and memo
*bodies* and the decisions taken are recorded by their length and a keyed digest only
(``workbench.audit.text_facts``), so that an edit of the wording is on the trail even when the
length stays the same. They are written by staff, but they may quote what a participant said,
and the audit trail is never purged: a quote kept there would outlive the participant's
withdrawal and the purge of their transcript. Transcript text itself never enters an event.

Who may do what (the views check the same rules first and answer 403):

- debrief notes and tentative syntheses: leads (``manage_analysis``) and reviewers
  (``review_codings``) write and edit them; the author or a lead deletes one;
- memos: leads, reviewers and coders (``code_transcripts``) write them; the author edits or
  deletes their own memo, a lead any memo;
- agreement rounds: leads (``manage_assignments``) record them.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from coding.models import (
    AnalyticMemo,
    Code,
    DebriefNote,
    Disagreement,
    NoteKind,
)
from coding.selectors.blindness import OVERSEERS
from transcripts.models import Transcript
from workbench import audit
from workbench.access import member_perms
from workbench.locking import lock_row
from workbench.models import Membership, Study

NOTE_WRITERS = frozenset({"manage_analysis", "review_codings"})


MEMO_WRITERS = frozenset({"manage_analysis", "review_codings", "code_transcripts"})


LEAD = "manage_analysis"


def can_write_notes(perms) -> bool:
    return bool(NOTE_WRITERS & set(perms))


def can_delete_note(user, perms, note: DebriefNote) -> bool:
    return can_write_notes(perms) and (note.written_by_id == user.pk or LEAD in perms)


def can_write_memos(perms) -> bool:
    return bool(MEMO_WRITERS & set(perms))


def can_change_memo(user, perms, memo: AnalyticMemo) -> bool:
    return can_write_memos(perms) and (memo.written_by_id == user.pk or LEAD in perms)


def can_see_disagreements(perms) -> bool:
    """Who may see a disagreement a note links to: those who may see reconciliations."""
    return bool(OVERSEERS & set(perms))


def refuse_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise ValidationError(message, code="forbidden")


def _text(value, *, field: str, required: str = "", max_length: int | None = None) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: required})
    if max_length is not None and len(value) > max_length:
        raise ValidationError({field: f"Keep this under {max_length} characters."})
    return value


def _title(value) -> str:
    title = " ".join((value or "").split())
    if not title:
        raise ValidationError({"title": "Give it a title."})
    if len(title) > 200:
        raise ValidationError({"title": "Keep the title under 200 characters."})
    return title


def _own_transcripts(study: Study, transcripts) -> list[Transcript]:
    transcripts = list(transcripts or ())
    if any(t.study_id != study.pk for t in transcripts):
        raise ValidationError({"transcripts": "Link only this study's transcripts."})
    return transcripts


def _own_codes(study: Study, codes) -> list[Code]:
    codes = list(codes or ())
    if any(code.study_id != study.pk for code in codes):
        raise ValidationError({"codes": "Link only this study's codes."})
    return codes


def _own_disagreements(study: Study, disagreements) -> list[Disagreement]:
    disagreements = list(disagreements or ())
    ids = {d.pk for d in disagreements}
    if ids:
        found = Disagreement.objects.filter(
            pk__in=ids, reconciliation__transcript__study=study
        ).count()
        if found != len(ids):
            raise ValidationError(
                {"disagreements": "Link only disagreements from this study's reconciliations."}
            )
    return disagreements


def _members(study: Study, users) -> list:
    users = list(users or ())
    ids = {u.pk for u in users}
    if ids:
        found = (
            Membership.objects.filter(study=study, user_id__in=ids)
            .values("user_id")
            .distinct()
            .count()
        )
        if found != len(ids):
            raise ValidationError(
                {
                    "attendees": "Only members of the study can be listed as attendees; "
                    "name others under “Other attendees”."
                }
            )
    return users


def _kind(value) -> str:
    if value not in NoteKind.values:
        raise ValidationError({"kind": "Choose peer debriefing or tentative synthesis."})
    return value


def _date(value) -> datetime.date:
    if not isinstance(value, datetime.date):
        raise ValidationError({"held_on": "Give the date the session was held."})
    return value


def _labels(items, label=str) -> list[str]:
    return sorted(label(item) for item in items)


def _disagreement_label(d: Disagreement) -> str:
    return f"#{d.number} in {d.reconciliation.transcript.title}"


def _note_snapshot(note: DebriefNote) -> dict:
    return {
        "kind": note.kind,
        "held_on": note.held_on.isoformat(),
        "title": note.title,
        "attendees": _labels(note.attendees.all(), lambda u: u.get_username()),
        "other_attendees": note.other_attendees,
        # Length and digest only: see the module docstring (the audit trail is never purged).
        **audit.text_facts("body", note.body),
        **audit.text_facts("decisions", note.decisions),
        "transcripts": _labels(note.transcripts.all()),
        "codes": _labels(note.codes.all()),
        "disagreements": _labels(
            note.disagreements.select_related("reconciliation__transcript").defer(
                "reconciliation__transcript__text"
            ),
            _disagreement_label,
        ),
    }


def _memo_snapshot(memo: AnalyticMemo) -> dict:
    return {
        "title": memo.title,
        "code": memo.code.name if memo.code_id else None,
        # Length and digest only: see the module docstring (the audit trail is never purged).
        **audit.text_facts("body", memo.body),
        "transcripts": _labels(memo.transcripts.all()),
    }


@transaction.atomic
def debrief_note_create(
    *,
    actor,
    study: Study,
    title: str,
    held_on: datetime.date,
    kind: str = NoteKind.DEBRIEF,
    attendees=(),
    other_attendees: str = "",
    body: str = "",
    decisions: str = "",
    transcripts=(),
    codes=(),
    disagreements=(),
) -> DebriefNote:
    perms = member_perms(actor, study)
    refuse_unless(
        can_write_notes(perms), "Only leads and reviewers write debriefing notes and syntheses."
    )
    if disagreements and not can_see_disagreements(perms):
        raise ValidationError({"disagreements": "You cannot link disagreements."})
    note = DebriefNote.objects.create(
        study=study,
        kind=_kind(kind),
        held_on=_date(held_on),
        title=_title(title),
        other_attendees=_text(other_attendees, field="other_attendees", max_length=300),
        body=_text(body, field="body"),
        decisions=_text(decisions, field="decisions"),
        written_by=actor,
    )
    note.attendees.set(_members(study, attendees))
    note.transcripts.set(_own_transcripts(study, transcripts))
    note.codes.set(_own_codes(study, codes))
    note.disagreements.set(_own_disagreements(study, disagreements))
    audit.record(
        actor=actor, study=study, verb="debrief_note.create", obj=note, after=_note_snapshot(note)
    )
    return note


@transaction.atomic
def debrief_note_update(
    *,
    actor,
    note: DebriefNote,
    version: int,
    title: str,
    held_on: datetime.date,
    kind: str,
    attendees=(),
    other_attendees: str = "",
    body: str = "",
    decisions: str = "",
    transcripts=(),
    codes=(),
    disagreements=None,
) -> DebriefNote:
    """Save a note; ``disagreements=None`` leaves its disagreement links as they are."""
    study = note.study
    perms = member_perms(actor, study)
    refuse_unless(
        can_write_notes(perms), "Only leads and reviewers edit debriefing notes and syntheses."
    )
    if disagreements is not None and not can_see_disagreements(perms):
        raise ValidationError({"disagreements": "You cannot link disagreements."})
    note = lock_row(DebriefNote, note.pk, version=version, study=study)
    before = _note_snapshot(note)
    note.kind = _kind(kind)
    note.held_on = _date(held_on)
    note.title = _title(title)
    note.other_attendees = _text(other_attendees, field="other_attendees", max_length=300)
    note.body = _text(body, field="body")
    note.decisions = _text(decisions, field="decisions")
    note.attendees.set(_members(study, attendees))
    note.transcripts.set(_own_transcripts(study, transcripts))
    note.codes.set(_own_codes(study, codes))
    if disagreements is not None:
        note.disagreements.set(_own_disagreements(study, disagreements))
    after = _note_snapshot(note)
    if after != before:
        note.version += 1
        note.save()
        audit.record_changes(
            actor=actor,
            study=study,
            obj=note,
            before=before,
            after=after,
            verb="debrief_note.update",
        )
    return note


@transaction.atomic
def debrief_note_delete(*, actor, note: DebriefNote, version: int) -> None:
    study = note.study
    perms = member_perms(actor, study)
    note = lock_row(DebriefNote, note.pk, version=version, study=study)
    refuse_unless(
        can_delete_note(actor, perms, note),
        "Only the note's author or a lead can delete it.",
    )
    before = _note_snapshot(note)
    ref, label = note.public_id, str(note)
    note.delete()
    audit.record(
        actor=actor,
        study=study,
        verb="debrief_note.delete",
        object_type=DebriefNote.audit_type,
        object_id=ref,
        object_repr=label,
        before=before,
    )


def _memo_code(study: Study, code: Code | None) -> Code | None:
    if code is not None and code.study_id != study.pk:
        raise ValidationError({"code": "Link the memo to one of this study's codes."})
    return code


def _memo_body(body) -> str:
    return _text(body, field="body", required="Write the memo.")


@transaction.atomic
def memo_create(
    *, actor, study: Study, title: str, body: str, code: Code | None = None, transcripts=()
) -> AnalyticMemo:
    refuse_unless(
        can_write_memos(member_perms(actor, study)),
        "Only leads, reviewers and coders write analytic memos.",
    )
    memo = AnalyticMemo.objects.create(
        study=study,
        code=_memo_code(study, code),
        title=_title(title),
        body=_memo_body(body),
        written_by=actor,
    )
    memo.transcripts.set(_own_transcripts(study, transcripts))
    audit.record(actor=actor, study=study, verb="memo.create", obj=memo, after=_memo_snapshot(memo))
    return memo


@transaction.atomic
def memo_update(
    *,
    actor,
    memo: AnalyticMemo,
    version: int,
    title: str,
    body: str,
    code: Code | None = None,
    transcripts=(),
) -> AnalyticMemo:
    study = memo.study
    perms = member_perms(actor, study)
    memo = lock_row(AnalyticMemo, memo.pk, version=version, study=study)
    refuse_unless(
        can_change_memo(actor, perms, memo), "Only the memo's author or a lead can edit it."
    )
    before = _memo_snapshot(memo)
    memo.title = _title(title)
    memo.body = _memo_body(body)
    memo.code = _memo_code(study, code)
    memo.transcripts.set(_own_transcripts(study, transcripts))
    after = _memo_snapshot(memo)
    if after != before:
        memo.version += 1
        memo.save()
        audit.record_changes(
            actor=actor, study=study, obj=memo, before=before, after=after, verb="memo.update"
        )
    return memo


@transaction.atomic
def memo_delete(*, actor, memo: AnalyticMemo, version: int) -> None:
    study = memo.study
    perms = member_perms(actor, study)
    memo = lock_row(AnalyticMemo, memo.pk, version=version, study=study)
    refuse_unless(
        can_change_memo(actor, perms, memo), "Only the memo's author or a lead can delete it."
    )
    before = _memo_snapshot(memo)
    ref, label = memo.public_id, str(memo)
    memo.delete()
    audit.record(
        actor=actor,
        study=study,
        verb="memo.delete",
        object_type=AnalyticMemo.audit_type,
        object_id=ref,
        object_repr=label,
        before=before,
    )
