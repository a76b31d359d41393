"""Undo: every coding write keeps its inverse on the server, for an hour.

The page gets only the random id of an ``UndoAction`` (in the undo form, and in the URL after a
plain POST); the inverse itself, which may hold a memo's previous text, never travels through a
URL or a form. An undo is its author's, in their own layer, usable once; carrying it out refuses
to overwrite a change made since (the coding's version moved on, or the text was corrected).

Undo records are a working aid, not the study's record: no audit event (the writes an undo
carries out are audited as any other).
"""

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coding.models import UNDO_MAX_AGE, Code, Coding, UndoAction
from coding.services import codings as coding_services

UNAVAILABLE = (
    "There is nothing to undo: that undo has expired or is not yours, or it was already used."
)
EXPIRED = "That undo has expired: an action can be undone for an hour after it."
# Whoever never comes back leaves undo records behind; they go a day after expiring.
FORGOTTEN = timedelta(days=1)


@transaction.atomic
def undo_record(*, actor, layer, label: str, **inverse) -> dict:
    """Keep the inverse of what ``actor`` just did in ``layer``; returns what the page shows
    (``token`` is the record's id)."""
    now = timezone.now()
    UndoAction.objects.filter(
        Q(user=actor, created_at__lt=now - UNDO_MAX_AGE)
        | Q(created_at__lt=now - UNDO_MAX_AGE - FORGOTTEN)
    ).delete()
    action = UndoAction.objects.create(
        layer=layer, user=actor, label=label, inverse=inverse, created_at=now
    )
    return {"token": str(action.pk), "label": label}


def _action(actor, layer, token: str, *, lock=False) -> UndoAction | None:
    try:
        pk = uuid.UUID(str(token))
    except ValueError:
        return None
    if layer is None:
        return None
    found = UndoAction.objects.filter(pk=pk, user=actor, layer=layer)
    return (found.select_for_update() if lock else found).first()


def undo_shown(*, actor, layer, token: str) -> dict | None:
    """The undo bar for ``token`` (from the page's URL), if it is ``actor``'s and still usable."""
    action = _action(actor, layer, token)
    if action is None or action.expired:
        return None
    return {"token": str(action.pk), "label": action.label}


def undo_of_applied(*, actor, layer, applied: list[tuple[Coding, bool]]) -> dict:
    """The undo of applying codes (``coding_apply``'s answers): it removes the codings made.

    A code that was already on the span (a double click, a second tab) was not applied now, so
    undoing does not remove it: when nothing was new, the page keeps offering the undo of the
    action that made those codings, if it is still there (the first of a double click).
    """
    new = [coding for coding, made in applied if made]
    old = [coding for coding, made in applied if not made]
    label = ""
    if new:
        label = f"Applied {', '.join(f'“{c.code.name}”' for c in new)}."
    if old:
        were = "was" if len(old) == 1 else "were"
        names = ", ".join(f"“{c.code.name}”" for c in old)
        label = f"{label} {names} {were} already applied here.".strip()
    if new:
        ids = [[c.pk, c.version] for c in new]
        return undo_record(actor=actor, layer=layer, label=label, op="delete", ids=ids)
    wanted = sorted(c.pk for c in old)
    recent = UndoAction.objects.filter(
        user=actor, layer=layer, created_at__gte=timezone.now() - UNDO_MAX_AGE
    )
    for action in recent:
        inverse = action.inverse
        if inverse.get("op") == "delete" and sorted(pk for pk, _ in inverse["ids"]) == wanted:
            return {"token": str(action.pk), "label": action.label}
    return {"token": "", "label": label}


def coding_fields(coding: Coding) -> dict:
    return {
        "code": coding.code_id,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo,
        "exemplar": coding.exemplar,
        "needs_recheck": coding.needs_recheck,
    }


def _own_coding(layer, pk):
    return Coding.objects.filter(pk=pk, layer=layer).select_related("code").first()


@transaction.atomic
def undo_run(*, actor, layer, token: str) -> Coding | None:
    """Carry out ``actor``'s undo ``token`` in their ``layer``, once; returns the coding to show
    in the editor, if one remains. Refused, changing nothing, if it is not theirs, expired, or
    would overwrite a later change."""
    if layer is None:
        raise ValidationError(UNAVAILABLE, code="unavailable")
    # The layer first, as every write in it (coding.services.codings: the lock order); then the
    # record, so that a second click waits and finds it used.
    layer = coding_services.lock_layer(layer.pk)
    action = _action(actor, layer, token, lock=True)
    if action is None:
        raise ValidationError(UNAVAILABLE, code="unavailable")
    if action.expired:
        raise ValidationError(EXPIRED, code="expired")
    result = _carry_out(actor, layer, action.inverse)
    action.delete()
    return result


def _carry_out(actor, layer, data: dict) -> Coding | None:
    op = data.get("op", "create")
    if op == "delete":
        for pk, version in data["ids"]:
            coding = _own_coding(layer, pk)
            if coding is None:
                continue  # already gone: nothing to take back
            if coding.version != version:
                raise ValidationError("That coding was changed since; undo would lose the change.")
            coding_services.coding_delete(actor=actor, coding=coding)
        return None
    before = data["before"]
    code = Code.objects.filter(study_id=layer.transcript.study_id, pk=before["code"]).first()
    if code is None:
        raise ValidationError("That code no longer exists.")
    if op == "restore":
        coding = _own_coding(layer, data["id"])
        if coding is None:
            raise ValidationError("That coding no longer exists.")
        return coding_services.coding_update(
            actor=actor, coding=coding, version=data["version"], **(before | {"code": code})
        )
    if data.get("text") != coding_services.text_version_of(layer.transcript):
        raise ValidationError(
            "The transcript's text was corrected since; the coding would cover other words."
        )
    coding, made = coding_services.coding_apply(
        actor=actor,
        layer=layer,
        code=code,
        start=before["start"],
        end=before["end"],
        memo=before["memo"],
        exemplar=before["exemplar"],
    )
    if not made:
        raise ValidationError(
            f"A “{code.name}” coding is on these words again; undo would lose the change."
        )
    if before.get("needs_recheck"):
        coding = coding_services.coding_update(
            actor=actor, coding=coding, version=coding.version, needs_recheck=True
        )
    return coding
