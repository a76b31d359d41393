"""Undo and redo: two stacks of steps per coder and transcript (layer), kept on the server.

Every coding write of the coding view (apply, create with a new code, edit, delete) pushes a
step on its author's undo stack and clears their redo stack. Undoing carries out the top
step's inverse and moves the step to the redo stack (with the inverse of what was carried
out); redoing moves it back. Several steps in a row work because a step names its codings by
their content — layer, code, span, memo and marks — never by a row id: a coding deleted and
brought back by undo is a new row, yet the steps below it still find it.

A step is its author's, in their own layer, and only the top of a stack can be carried out (the
page posts the random id of the step its button names: a page left open behind a newer action
is told so). Carrying it out refuses to overwrite a change made since (the coding is not as the
step left it, or the text was corrected): nothing is written, and the step, which can never
apply again, leaves the stack so that the one below is offered. Submitting a layer clears its
stacks (``coding.services.assignments.layer_submit``): nothing done before a submission is
undone after it. Steps expire an hour after they were last done or undone.

Steps are a working aid, not the study's record: no audit event (the writes an undo carries
out are audited as any other). The page gets only a step's random id and its label; the inverse
itself, which may hold a memo's previous text, never travels through a URL or a form.
"""

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from coding.models import UNDO_MAX_AGE, Code, Coding, UndoAction, UndoStack
from coding.services import codings as coding_services

UNAVAILABLE = (
    "There is nothing to undo: that undo has expired or is not yours, or it was already used."
)
EXPIRED = "That undo has expired: an action can be undone for an hour after it."
OUT_OF_DATE = (
    "Something was done since this page showed that button (in another tab?): "
    "the buttons now name the latest step."
)
CHANGED = "That coding was changed since; undo would lose the change."
CORRECTED = "The transcript's text was corrected since; the coding would cover other words."
# Whoever never comes back leaves steps behind; they go a day after expiring.
FORGOTTEN = timedelta(days=1)
DEPTH = 100  # steps kept per stack: a working session, not the layer's history
SNIPPET = 40  # characters of the coded words in a label


def coding_fields(coding: Coding) -> dict:
    """What names a coding in a step: the fields undo restores and checks."""
    return {
        "code": coding.code_id,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo,
        "exemplar": coding.exemplar,
        "needs_recheck": coding.needs_recheck,
    }


def words(text: str) -> str:
    """The coded words as a label quotes them, shortened."""
    text = " ".join(text.split())
    return f"“{text[: SNIPPET - 1]}…”" if len(text) > SNIPPET else f"“{text}”"


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _push(actor, layer, label: str, inverse: dict, stack: str) -> None:
    now = timezone.now()
    UndoAction.objects.filter(
        Q(user=actor, created_at__lt=now - UNDO_MAX_AGE)
        | Q(created_at__lt=now - UNDO_MAX_AGE - FORGOTTEN)
    ).delete()
    UndoAction.objects.create(
        layer=layer, user=actor, stack=stack, label=label, inverse=inverse, created_at=now
    )
    mine = UndoAction.objects.filter(user=actor, layer=layer, stack=stack)
    too_deep = mine.order_by("-created_at").values_list("pk", flat=True)[DEPTH:]
    if too_deep:
        UndoAction.objects.filter(pk__in=list(too_deep)).delete()


@transaction.atomic
def undo_record(*, actor, layer, label: str, inverse: dict) -> None:
    """Push what ``actor`` just did in ``layer`` on their undo stack; a new action clears the
    redo stack. Call it in the write's transaction (after the write's ``lock_layer``), so that
    the text version recorded is the one the write saw."""
    inverse = inverse | {"text": coding_services.text_version_of(layer.transcript)}
    UndoAction.objects.filter(user=actor, layer=layer, stack=UndoStack.REDO).delete()
    _push(actor, layer, label, inverse, UndoStack.UNDO)


def _top(actor, layer, stack: str):
    fresh = timezone.now() - UNDO_MAX_AGE
    return (
        UndoAction.objects.filter(user=actor, layer=layer, stack=stack, created_at__gte=fresh)
        .order_by("-created_at")
        .only("pk", "label")
        .first()
    )


def undo_bar(*, actor, layer, status: str = "") -> dict:
    """What the undo bar shows: ``status`` (what just happened) and the top step of each stack
    (``{"token", "label"}`` or None). A reader without a layer has no stacks."""
    bar = {"status": status, "undo": None, "redo": None}
    if layer is None:
        return bar
    for stack in (UndoStack.UNDO, UndoStack.REDO):
        top = _top(actor, layer, stack)
        if top is not None:
            bar[stack] = {"token": str(top.pk), "label": top.label}
    return bar


def undo_of_applied(*, actor, layer, applied: list[tuple[Coding, bool]]) -> str:
    """Push the undo of applying codes (``coding_apply``'s answers); returns the status line.

    A code that was already on the span (a double click, a second tab) was not applied now:
    nothing is pushed for it, so undoing never removes it; the step that made it, if still on
    the stack, stays the one offered.
    """
    new = [coding for coding, made in applied if made]
    old = [coding for coding, made in applied if not made]
    status = ""
    if new:
        status = f"Applied {', '.join(f'“{c.code.name}”' for c in new)}."
        undo_record(
            actor=actor,
            layer=new[0].layer,
            label=f"coded {words(new[0].snippet)} as {_names([c.code.name for c in new])}",
            inverse={"op": "delete", "codings": [coding_fields(c) for c in new]},
        )
    if old:
        were = "was" if len(old) == 1 else "were"
        names = ", ".join(f"“{c.code.name}”" for c in old)
        status = f"{status} {names} {were} already applied here.".strip()
    return status


def undo_of_delete(*, actor, deleted: dict, fields: dict) -> str:
    """Push the undo of a delete (``deleted``: what ``coding_delete`` returned, ``fields``: the
    coding's ``coding_fields`` before); returns the status line."""
    name = deleted["code"].name
    text = deleted["layer"].transcript.text[fields["start"] : fields["end"]]
    undo_record(
        actor=actor,
        layer=deleted["layer"],
        label=f"deleted the {name} coding of {words(text)}",
        inverse={"op": "create", "codings": [fields]},
    )
    return f"Deleted a “{name}” coding."


def undo_of_edit(*, actor, before: dict, before_name: str, updated: Coding) -> str:
    """Push the undo of an edit (``before``: the coding's ``coding_fields`` before it, with its
    code's name); returns the status line."""
    after = coding_fields(updated)
    name, quoted = updated.code.name, words(updated.snippet)
    if after["code"] != before["code"]:
        label = f"recoded {quoted} from {before_name} to {name}"
    elif (after["start"], after["end"]) != (before["start"], before["end"]):
        label = f"moved the {name} coding to {quoted}"
    elif after["memo"] != before["memo"]:
        label = f"edited the memo of the {name} coding of {quoted}"
    else:
        label = f"changed the {name} coding of {quoted}"
    if after != before:
        undo_record(
            actor=actor,
            layer=updated.layer,
            label=label,
            inverse={"op": "change", "from": after, "to": before},
        )
    return f"Changed a “{name}” coding."


def _action(actor, layer, token: str, stack: str, *, lock=False) -> UndoAction | None:
    try:
        pk = uuid.UUID(str(token))
    except ValueError:
        return None
    found = UndoAction.objects.filter(pk=pk, user=actor, layer=layer, stack=stack)
    return (found.select_for_update() if lock else found).first()


def undo_step(*, actor, layer, token: str, stack: str = UndoStack.UNDO) -> tuple:
    """Undo (or, with ``stack="redo"``, redo) ``actor``'s step ``token`` in their ``layer``:
    only the top of that stack, once. Returns the coding to show in the editor (if one
    remains) and the status line; refused with a ``ValidationError``, writing nothing."""
    if layer is None:
        raise ValidationError(UNAVAILABLE, code="unavailable")
    error = None
    with transaction.atomic():
        # The layer first, as every write in it (coding.services.codings: the lock order); then
        # the step, so that a second click waits and finds it used.
        layer = coding_services.lock_layer(layer.pk)
        action = _action(actor, layer, token, stack, lock=True)
        if action is None:
            raise ValidationError(UNAVAILABLE, code="unavailable")
        if action.expired:
            raise ValidationError(EXPIRED, code="expired")
        mine = UndoAction.objects.filter(user=actor, layer=layer, stack=stack)
        if mine.filter(created_at__gt=action.created_at).exists():
            raise ValidationError(OUT_OF_DATE, code="out_of_date")
        saved = transaction.savepoint()
        try:
            coding, back = _carry_out(actor, layer, action.inverse)
        except ValidationError as exc:
            # Nothing is written; the step can never apply again, so it leaves the stack.
            transaction.savepoint_rollback(saved)
            action.delete()
            error = exc
        else:
            action.delete()
            other = UndoStack.REDO if stack == UndoStack.UNDO else UndoStack.UNDO
            back["text"] = coding_services.text_version_of(layer.transcript)
            _push(actor, layer, action.label, back, other)
    if error is not None:
        raise error
    done = "Undone" if stack == UndoStack.UNDO else "Redone"
    return coding, f"{done}: {action.label}."


def _find(layer, fields: dict) -> Coding:
    """The coding a step names, as the step left it; refused if it changed or is gone."""
    coding = (
        Coding.objects.filter(
            layer=layer, code_id=fields["code"], start=fields["start"], end=fields["end"]
        )
        .select_related("code")
        .first()
    )
    if coding is None or coding_fields(coding) != fields:
        raise ValidationError(CHANGED, code="changed")
    return coding


def _code(layer, pk) -> Code:
    code = Code.objects.filter(study_id=layer.transcript.study_id, pk=pk).first()
    if code is None:
        raise ValidationError("That code no longer exists.", code="changed")
    return code


def _carry_out(actor, layer, data: dict) -> tuple[Coding | None, dict]:
    """Carry out one inverse; returns the coding to show and the inverse of what was done."""
    text = data["text"]
    if text != coding_services.text_version_of(layer.transcript):
        raise ValidationError(CORRECTED, code="changed")
    op = data["op"]
    if op == "delete":
        for fields in data["codings"]:
            coding_services.coding_delete(actor=actor, coding=_find(layer, fields))
        return None, {"op": "create", "codings": data["codings"]}
    if op == "change":
        coding = _find(layer, data["from"])
        to = data["to"]
        coding = coding_services.coding_update(
            actor=actor,
            coding=coding,
            version=coding.version,
            text_version=text,
            **(to | {"code": _code(layer, to["code"])}),
        )
        return coding, {"op": "change", "from": data["to"], "to": data["from"]}
    coding = None
    for fields in data["codings"]:
        code = _code(layer, fields["code"])
        coding, made = coding_services.coding_apply(
            actor=actor,
            layer=layer,
            code=code,
            start=fields["start"],
            end=fields["end"],
            memo=fields["memo"],
            exemplar=fields["exemplar"],
            text_version=text,
        )
        if not made:
            raise ValidationError(
                f"A “{code.name}” coding is on these words again; undo would lose the change.",
                code="changed",
            )
        if fields["needs_recheck"]:
            coding = coding_services.coding_update(
                actor=actor, coding=coding, version=coding.version, needs_recheck=True
            )
    return coding, {"op": "delete", "codings": data["codings"]}
