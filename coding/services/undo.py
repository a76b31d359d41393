"""Undo: every coding write answers with a signed description of its inverse.

The token names the transcript and the layer; carrying it out refuses to overwrite a change
made since (the coding's version moved on).
"""

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction

from coding.models import Code, Coding
from coding.services import codings as coding_services

UNDO_SALT = "coding.undo"


UNDO_MAX_AGE = 60 * 60  # an hour: undo is for the last action, not for archaeology


def undo_token(layer, label: str, **inverse) -> dict:
    token = signing.dumps(
        {"t": layer.transcript_id, "layer": layer.pk, "label": label, **inverse},
        salt=UNDO_SALT,
        compress=True,
    )
    return {"token": token, "label": label}


def undo_data(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=UNDO_SALT, max_age=UNDO_MAX_AGE)
    except signing.BadSignature:
        return None


def undo_of_created(layer, created: list[Coding]) -> dict:
    names = ", ".join(f"“{c.code.name}”" for c in created)
    return undo_token(
        layer, f"Applied {names}.", op="delete", ids=[[c.pk, c.version] for c in created]
    )


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
def undo_run(*, actor, layer, data: dict) -> Coding | None:
    """Carry out an undo; returns the coding to show in the editor, if one remains."""
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
    coding = coding_services.coding_create(
        actor=actor,
        layer=layer,
        code=code,
        start=before["start"],
        end=before["end"],
        memo=before["memo"],
        exemplar=before["exemplar"],
    )
    if before.get("needs_recheck"):
        coding = coding_services.coding_update(
            actor=actor, coding=coding, version=coding.version, needs_recheck=True
        )
    return coding
