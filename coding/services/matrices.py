"""Writing the summary notes of the code × case matrix (NVivo's framework matrix).

Leads write them (``manage_analysis``: they run the analysis). Saving an empty text removes
the note. An edit made from an older version than the note's is refused (``StaleEdit``), and a
first note written while someone else wrote one too is refused the same way. The audit trail
keeps the note's length and a keyed digest, not its wording: it may quote a participant, and
the trail outlives a withdrawal (see ``coding/services/notes.py``).
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from coding.models import Code, CodeKind, MatrixCellNote
from transcripts.models import Case
from workbench import audit
from workbench.access import require
from workbench.locking import StaleEdit, lock_row

MAX_CHARS = 5000


def _facts(code: Code, case: Case, text: str) -> dict:
    return {"code": code.public_id, "case": case.name} | audit.text_facts("text", text)


@transaction.atomic
def matrix_cell_note_save(
    *, actor, code: Code, case: Case, text: str, version: int | None
) -> MatrixCellNote | None:
    """Write, change or (empty ``text``) remove the note of the cell (``code``, ``case``).
    ``version`` is the note's version the editor started from, None for a new note."""
    study = code.study
    require(actor, study, "manage_analysis", message="Only leads write matrix notes.")
    if case.study_id != study.pk or code.kind == CodeKind.CATEGORY:
        raise ValidationError("A note belongs to a code or theme and a case of this study.")
    text = (text or "").strip()
    if len(text) > MAX_CHARS:
        raise ValidationError({"text": f"Keep the note under {MAX_CHARS} characters."})
    existing = MatrixCellNote.objects.filter(code=code, case=case).values_list("pk", flat=True)
    pk = existing.first()
    if pk is None:
        if version is not None:
            raise StaleEdit("This note")  # it was removed since the editor opened it
        if not text:
            return None
        try:
            with transaction.atomic():
                note = MatrixCellNote.objects.create(
                    study=study, code=code, case=case, text=text, written_by=actor
                )
        except IntegrityError:
            raise StaleEdit("This note") from None
        audit.record(
            actor=actor,
            study=study,
            verb="matrix_note.create",
            obj=note,
            after=_facts(code, case, text),
        )
        return note
    note = lock_row(MatrixCellNote, pk, version=version if version is not None else -1)
    before = _facts(code, case, note.text)
    if not text:
        note.delete()
        audit.record(
            actor=actor,
            study=study,
            verb="matrix_note.delete",
            object_type="matrix_cell_note",
            object_id=str(pk),
            object_repr=f"Note on {code} × {case}",
            before=before,
        )
        return None
    note.text, note.written_by, note.version = text, actor, note.version + 1
    note.save()
    audit.record(
        actor=actor,
        study=study,
        verb="matrix_note.update",
        obj=note,
        before=before,
        after=_facts(code, case, text),
    )
    return note
