"""Assignments, layers and codings: every write of the dual-coding workflow.

Atomic and audited like every service. Audit events never hold transcript text (the trail can
never be purged, transcripts can): a coding is recorded by its code, span and layer.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone
from guardian.shortcuts import get_user_perms

from coding.models import (
    Assignment,
    Code,
    CodeOrigin,
    CodeStatus,
    Coding,
    CodingMode,
    CodingReview,
    Layer,
    LayerRole,
    LayerStatus,
    PinnedCode,
    ReviewVerdict,
)
from transcripts.models import Transcript, TranscriptStatus
from transcripts.selectors.consent import allows
from workbench import audit
from workbench.locking import lock_row

CODING_PERMISSIONS = {"code_transcripts", "review_codings"}


def _can_code(user, study) -> bool:
    return bool(CODING_PERMISSIONS & set(get_user_perms(user, study)))


def _layer_facts(layer: Layer) -> dict:
    return {
        "transcript": layer.transcript_id,
        "layer": layer.role,
        "coder": layer.coder.get_username(),
    }


# --- assignments ---------------------------------------------------------------------------


@transaction.atomic
def assignment_set(*, actor, transcript: Transcript, primary, second, mode: str) -> Assignment:
    """Assign (or re-assign) a transcript's two coders; work already coded is never dropped."""
    transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
    study = transcript.study
    if mode not in CodingMode.values:
        raise ValidationError({"mode": "Choose independent or review mode."})
    if primary == second:
        raise ValidationError({"second_coder": "The second coder must be someone else."})
    for field, user in (("primary_coder", primary), ("second_coder", second)):
        if not _can_code(user, study):
            raise ValidationError(
                {field: f"{user.get_username()} is not a coder or reviewer here."}
            )
    if transcript.status != TranscriptStatus.READY or not allows(transcript, "analyse"):
        raise ValidationError(
            "Only transcripts that are ready for coding, with consent to analysis, can be assigned."
        )
    existing = Assignment.objects.filter(transcript=transcript).first()
    layers = {layer.role: layer for layer in transcript.layers.select_related("coder")}
    wanted = {LayerRole.PRIMARY: primary, LayerRole.SECOND: second}
    for role, layer in layers.items():
        if layer.coder_id != wanted[role].pk and layer.codings.exists():
            raise ValidationError(
                f"{layer.coder.get_username()} has already coded this transcript as "
                f"{layer.get_role_display().lower()}; their layer cannot be handed to someone else."
            )
    if (
        existing
        and existing.mode != mode
        and any(layer.status == LayerStatus.SUBMITTED for layer in layers.values())
    ):
        raise ValidationError(
            {"mode": "A layer is already submitted: the mode can no longer change."}
        )
    before = None
    if existing:
        before = {
            "primary": existing.primary_coder.get_username(),
            "second": existing.second_coder.get_username(),
            "mode": existing.mode,
        }
        existing.primary_coder, existing.second_coder, existing.mode = primary, second, mode
        existing.assigned_by = actor
        existing.version += 1
        existing.save()
        assignment = existing
    else:
        assignment = Assignment.objects.create(
            transcript=transcript,
            primary_coder=primary,
            second_coder=second,
            mode=mode,
            assigned_by=actor,
        )
    # Free both places first so that swapping the two coders does not collide.
    for role, layer in layers.items():
        if layer.coder_id != wanted[role].pk:
            layer.delete()
    for role, user in wanted.items():
        Layer.objects.get_or_create(transcript=transcript, role=role, defaults={"coder": user})
    after = {"primary": primary.get_username(), "second": second.get_username(), "mode": mode}
    audit.record(
        actor=actor,
        study=study,
        verb="assignment.set",
        obj=assignment,
        object_repr=f"{transcript.participant.code}: transcript {transcript.pk}",
        before=before,
        after=after,
    )
    return assignment


# --- layers --------------------------------------------------------------------------------


@transaction.atomic
def layer_submit(*, actor, layer: Layer) -> Layer:
    layer = lock_row(Layer, layer.pk, version=None)
    if layer.coder_id != actor.pk:
        raise ValidationError("Only the layer's coder can submit it.")
    if layer.status == LayerStatus.SUBMITTED:
        raise ValidationError("This layer is already submitted.")
    if layer.role == LayerRole.SECOND and _mode(layer.transcript) == CodingMode.REVIEW:
        unreviewed = Coding.objects.filter(
            layer__transcript=layer.transcript, layer__role=LayerRole.PRIMARY, review__isnull=True
        ).count()
        if unreviewed:
            raise ValidationError(
                f"{unreviewed} of the primary coder's codings {pluralize(unreviewed, 'is,are')} "
                "not reviewed yet: confirm or challenge each before submitting."
            )
    layer.status, layer.submitted_at = LayerStatus.SUBMITTED, timezone.now()
    layer.version += 1
    layer.save()
    audit.record(
        actor=actor,
        study=layer.transcript.study,
        verb="layer.submit",
        obj=layer,
        after=_layer_facts(layer) | {"codings": layer.codings.count()},
    )
    return layer


@transaction.atomic
def layer_reopen(*, actor, layer: Layer, reason: str) -> Layer:
    """A lead reopens a submitted layer so its coder can work on it again."""
    layer = lock_row(Layer, layer.pk, version=None)
    if "manage_assignments" not in set(get_user_perms(actor, layer.transcript.study)):
        raise ValidationError("Only a lead can reopen a submitted layer.")
    if layer.status != LayerStatus.SUBMITTED:
        raise ValidationError("Only a submitted layer can be reopened.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the layer is reopened."})
    layer.status, layer.submitted_at = LayerStatus.IN_PROGRESS, None
    layer.version += 1
    layer.save()
    audit.record(
        actor=actor,
        study=layer.transcript.study,
        verb="layer.reopen",
        obj=layer,
        after=_layer_facts(layer) | {"reason": reason.strip()},
    )
    return layer


# --- codings -------------------------------------------------------------------------------


def _mode(transcript) -> str | None:
    assignment = Assignment.objects.filter(transcript=transcript).first()
    return assignment.mode if assignment else None


def _check_can_write(actor, layer: Layer) -> None:
    if layer.coder_id != actor.pk:
        raise ValidationError("You can only code in your own layer.")
    if layer.status == LayerStatus.SUBMITTED:
        raise ValidationError("This layer is submitted; ask a lead to reopen it to change it.")
    transcript = layer.transcript
    if not allows(transcript, "analyse"):
        raise ValidationError("The participant's consent does not cover analysis: no coding.")
    if layer.role == LayerRole.SECOND and _mode(transcript) == CodingMode.REVIEW:
        primary = transcript.layers.filter(role=LayerRole.PRIMARY).first()
        if primary is None or primary.status != LayerStatus.SUBMITTED:
            raise ValidationError(
                "In review mode the second coder starts once the primary coding is submitted."
            )


def _check_code(actor, layer: Layer, code: Code) -> Code:
    """The code as it stands now (a caller's copy may predate a retirement), if usable."""
    code = Code.objects.get(pk=code.pk)
    if code.study_id != layer.transcript.study_id:
        raise ValidationError({"code": "That code belongs to another study."})
    if code.status == CodeStatus.RETIRED:
        raise ValidationError({"code": f"“{code.name}” is retired; choose an active code."})
    if code.status == CodeStatus.PENDING and code.created_by_id != actor.pk:
        raise ValidationError({"code": f"“{code.name}” is still waiting for approval."})
    return code


def _check_span(text: str, start: int, end: int) -> None:
    if not (isinstance(start, int) and isinstance(end, int)):
        raise ValidationError("Offsets must be whole numbers.")
    if start < 0 or end > len(text):
        raise ValidationError(
            f"The span {start}–{end} lies outside the transcript (0–{len(text)} characters)."
        )
    if end <= start:
        raise ValidationError("Select at least one character: the end must come after the start.")
    if not text[start:end].strip():
        raise ValidationError("The selection holds only white space.")


@transaction.atomic
def coding_create(
    *, actor, layer: Layer, code: Code, start: int, end: int, memo: str = "", exemplar=False
) -> Coding:
    # Lock the layer row only; read what the checks and the audit event need in the same query.
    layer = (
        Layer.objects.select_for_update(of=("self",))
        .select_related("transcript__participant", "transcript__study", "coder")
        .get(pk=layer.pk)
    )
    _check_can_write(actor, layer)
    code = _check_code(actor, layer, code)
    text = layer.transcript.text
    _check_span(text, start, end)
    coding = Coding.objects.create(
        layer=layer,
        code=code,
        start=start,
        end=end,
        snippet=text[start:end],
        memo=memo.strip(),
        exemplar=bool(exemplar),
    )
    if layer.status == LayerStatus.NOT_STARTED:
        layer.status = LayerStatus.IN_PROGRESS
        layer.save(update_fields=["status"])
    audit.record(
        actor=actor,
        study=layer.transcript.study,
        verb="coding.create",
        obj=coding,
        object_repr=f"{code.name} [{start}:{end}]",
        after=_layer_facts(layer)
        | {
            "code": code.name,
            "start": start,
            "end": end,
            "memo": bool(coding.memo),
            "exemplar": coding.exemplar,
        },
    )
    return coding


@transaction.atomic
def coding_update(
    *,
    actor,
    coding: Coding,
    version: int,
    code: Code | None = None,
    start: int | None = None,
    end: int | None = None,
    memo: str | None = None,
    exemplar: bool | None = None,
    needs_recheck: bool | None = None,
) -> Coding:
    """Change a coding's code, span, memo, exemplar mark or re-check flag (stale edits refused)."""
    coding = lock_row(Coding, coding.pk, version=version)
    layer = Layer.objects.select_related("transcript").get(pk=coding.layer_id)
    _check_can_write(actor, layer)
    before = {
        "code": coding.code.name,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo != "",
        "exemplar": coding.exemplar,
        "needs_recheck": coding.needs_recheck,
    }
    if code is not None:
        coding.code = _check_code(actor, layer, code)
    start = coding.start if start is None else start
    end = coding.end if end is None else end
    _check_span(layer.transcript.text, start, end)
    coding.start, coding.end = start, end
    coding.snippet = layer.transcript.text[start:end]
    if memo is not None:
        coding.memo = memo.strip()
    if exemplar is not None:
        coding.exemplar = bool(exemplar)
    if needs_recheck is not None:
        coding.needs_recheck = bool(needs_recheck)
    coding.version += 1
    coding.save()
    after = {
        "code": coding.code.name,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo != "",
        "exemplar": coding.exemplar,
        "needs_recheck": coding.needs_recheck,
    }
    audit.record_changes(
        actor=actor, study=layer.transcript.study, obj=coding, before=before, after=after
    )
    return coding


@transaction.atomic
def coding_delete(*, actor, coding: Coding) -> dict:
    """Delete a coding; returns what is needed to undo it (``coding_create(**undo)``)."""
    coding = lock_row(Coding, coding.pk, version=None)
    layer = Layer.objects.select_related("transcript").get(pk=coding.layer_id)
    _check_can_write(actor, layer)
    undo = {
        "layer": layer,
        "code": coding.code,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo,
        "exemplar": coding.exemplar,
    }
    audit.record(
        actor=actor,
        study=layer.transcript.study,
        verb="coding.delete",
        obj=coding,
        object_repr=f"{coding.code.name} [{coding.start}:{coding.end}]",
        before=_layer_facts(layer)
        | {"code": coding.code.name, "start": coding.start, "end": coding.end},
    )
    coding.delete()
    return undo


# --- while coding: new inductive codes, pins, span nudges ------------------------------------


@transaction.atomic
def coding_create_with_new_code(
    *, actor, layer: Layer, name: str, definition: str, start: int, end: int, also=()
) -> list[Coding]:
    """Create an inductive code while coding and apply it (and any ``also`` codes) to a span.

    The code records who created it and in which transcript it first appeared; under a
    "pending approval" policy it is pending, usable by its creator until an admin decides.
    All or nothing: a refused coding leaves no orphan code behind.
    """
    from coding.services.codebook import code_create

    locked = Layer.objects.select_for_update().select_related("transcript").get(pk=layer.pk)
    _check_can_write(actor, locked)
    _check_span(locked.transcript.text, start, end)
    if not name.strip():
        raise ValidationError({"name": "Give the new code a name."})
    if not definition.strip():
        raise ValidationError({"definition": "Say in a sentence what the new code means."})
    code = code_create(
        actor=actor,
        study=locked.transcript.study,
        name=name,
        definition=definition,
        origin=CodeOrigin.INDUCTIVE,
        first_seen_transcript=locked.transcript,
        note="created while coding",
    )
    return [
        coding_create(actor=actor, layer=locked, code=c, start=start, end=end)
        for c in dict.fromkeys([code, *also])
    ]


MAX_PINS = 9  # number keys 1–9


@transaction.atomic
def code_pin_toggle(*, actor, code: Code) -> bool:
    """Pin or unpin a code for ``actor``; returns whether it is pinned now.

    Pins are a personal working preference, not part of the study's record: no audit event.
    """
    # One toggle at a time per person, so the limit below holds under double clicks.
    get_user_model().objects.select_for_update().get(pk=actor.pk)
    existing = PinnedCode.objects.filter(user=actor, code=code)
    if existing.exists():
        existing.delete()
        return False
    if code.status == CodeStatus.RETIRED:
        raise ValidationError(f"“{code.name}” is retired and cannot be pinned.")
    pinned = PinnedCode.objects.filter(user=actor, code__study_id=code.study_id).count()
    if pinned >= MAX_PINS:
        raise ValidationError(
            f"You have pinned {MAX_PINS} codes already (keys 1–9): unpin one first."
        )
    PinnedCode.objects.create(user=actor, code=code)
    return True


def nudged(text: str, start: int, end: int, edge: str, forward: bool) -> tuple[int, int]:
    """Move one edge of the span ``[start, end)`` to the next or previous word boundary.

    Words are runs of non-space characters, so a nudge never leaves an edge in the middle of
    a word; the span never becomes empty or leaves the text.
    """
    n = len(text)
    if edge == "start":
        i = start
        if forward:
            while i < n and not text[i].isspace():
                i += 1
            while i < n and text[i].isspace():
                i += 1
            return (start, end) if i >= end else (i, end)
        while i > 0 and text[i - 1].isspace():
            i -= 1
        while i > 0 and not text[i - 1].isspace():
            i -= 1
        return i, end
    i = end
    if forward:
        while i < n and text[i].isspace():
            i += 1
        while i < n and not text[i].isspace():
            i += 1
        return start, i
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return (start, end) if i <= start else (start, i)


# --- review mode -------------------------------------------------------------------------------


@transaction.atomic
def coding_review(
    *,
    actor,
    coding: Coding,
    verdict: str,
    comment: str = "",
    alt_code: Code | None = None,
    alt_start: int | None = None,
    alt_end: int | None = None,
) -> CodingReview:
    """The second coder confirms or challenges one of the primary coder's codings (review
    mode). A challenge needs a comment and may offer another code and/or span."""
    coding = Coding.objects.select_related("layer__transcript", "code").get(pk=coding.pk)
    transcript = coding.layer.transcript
    if coding.layer.role != LayerRole.PRIMARY or _mode(transcript) != CodingMode.REVIEW:
        raise ValidationError("Only the primary coder's codings are reviewed, in review mode.")
    own = Layer.objects.select_for_update().filter(transcript=transcript, coder=actor).first()
    if own is None or own.role != LayerRole.SECOND:
        raise ValidationError("Only the second coder reviews the primary coding.")
    _check_can_write(actor, own)
    if verdict not in ReviewVerdict.values:
        raise ValidationError({"verdict": "Confirm or challenge the coding."})
    comment = comment.strip()
    if verdict == ReviewVerdict.CHALLENGE and not comment:
        raise ValidationError(
            {"comment": "Say what is wrong with it: a challenge needs a comment."}
        )
    if verdict == ReviewVerdict.CONFIRM:
        alt_code, alt_start, alt_end = None, None, None
    if alt_code is not None:
        alt_code = _check_code(actor, own, alt_code)
    if (alt_start is None) != (alt_end is None):
        raise ValidationError("Give both ends of the alternative span, or neither.")
    if alt_start is not None:
        _check_span(transcript.text, alt_start, alt_end)
    review, created = CodingReview.objects.update_or_create(
        coding=coding,
        defaults={
            "layer": own,
            "verdict": verdict,
            "comment": comment,
            "alt_code": alt_code,
            "alt_start": alt_start,
            "alt_end": alt_end,
        },
    )
    if not created:
        CodingReview.objects.filter(pk=review.pk).update(version=models.F("version") + 1)
    if own.status == LayerStatus.NOT_STARTED:
        own.status = LayerStatus.IN_PROGRESS
        own.save(update_fields=["status"])
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="coding.review",
        obj=review,
        object_repr=f"{coding.code.name} [{coding.start}:{coding.end}]",
        after=_layer_facts(own)
        | {
            "coding": coding.pk,
            "verdict": verdict,
            "alternative code": alt_code.name if alt_code else None,
            "alternative span": [alt_start, alt_end] if alt_start is not None else None,
            "comment": bool(comment),
        },
    )
    return review
