"""Assigning a transcript to two coders, and submitting and reopening their layers."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import pluralize
from django.utils import timezone

from coding.models import (
    Assignment,
    Coding,
    CodingMode,
    Layer,
    LayerRole,
    LayerStatus,
    UndoAction,
)
from coding.selectors.assignments import coding_mode
from coding.services.codings import can_code, layer_facts
from transcripts.models import Transcript, TranscriptStatus
from transcripts.selectors.consent import allows
from workbench import audit
from workbench.access import member_perms
from workbench.locking import lock_row


def _check_nothing_done(layer: Layer) -> None:
    """Refuse to hand ``layer`` (locked) to someone else if its coder has done any work in it."""
    who = layer.coder.get_username()
    role = layer.get_role_display().lower()
    keep = "their layer cannot be handed to someone else."
    if layer.codings.exists():
        raise ValidationError(f"{who} has already coded this transcript as {role}; {keep}")
    reviews = layer.reviews.count()
    if reviews:
        raise ValidationError(
            f"{who} has already reviewed {reviews} of the primary coder's coding"
            f"{pluralize(reviews)} as {role}; {keep}"
        )
    if layer.status == LayerStatus.SUBMITTED:
        raise ValidationError(
            f"{who} has already submitted their layer as {role}; {keep} "
            "Reopen it first if it should go to someone else."
        )


@transaction.atomic
def assignment_set(*, actor, transcript: Transcript, primary, second, mode: str) -> Assignment:
    """Assign (or re-assign) a transcript's two coders; work already done is never dropped.

    A layer goes to someone else only while it holds no work: no coding, no review, not
    submitted. Its layers are locked before the transcript (the lock order of
    ``coding.services.codings``), so no coding or review can land in a layer being handed over.
    """
    locked = list(
        Layer.objects.select_for_update(of=("self",))
        .filter(transcript_id=transcript.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
    study = transcript.study
    if mode not in CodingMode.values:
        raise ValidationError({"mode": "Choose independent or review mode."})
    if primary == second:
        raise ValidationError({"second_coder": "The second coder must be someone else."})
    for field, user in (("primary_coder", primary), ("second_coder", second)):
        if not can_code(user, study):
            raise ValidationError(
                {field: f"{user.get_username()} is not a coder or reviewer here."}
            )
    if transcript.status != TranscriptStatus.READY or not allows(transcript, "analyse"):
        raise ValidationError(
            "Only transcripts that are ready for coding, with consent to analysis, can be assigned."
        )
    existing = Assignment.objects.filter(transcript=transcript).first()
    layers = {layer.role: layer for layer in transcript.layers.select_related("coder")}
    if sorted(layer.pk for layer in layers.values()) != locked:
        # Another lead's assignment was saved while this one waited: do not write over it.
        raise ValidationError(
            "Someone changed this transcript's assignment while you were saving yours; nothing "
            "was changed. Look at the assignment as it is now and save again."
        )
    wanted = {LayerRole.PRIMARY: primary, LayerRole.SECOND: second}
    for role, layer in layers.items():
        if layer.coder_id != wanted[role].pk:
            _check_nothing_done(layer)
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


@transaction.atomic
def layer_submit(*, actor, layer: Layer) -> Layer:
    layer = lock_row(Layer, layer.pk, version=None)
    if layer.coder_id != actor.pk:
        raise ValidationError("Only the layer's coder can submit it.")
    if layer.status == LayerStatus.SUBMITTED:
        raise ValidationError("This layer is already submitted.")
    if layer.role == LayerRole.SECOND and coding_mode(layer.transcript) == CodingMode.REVIEW:
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
    # Its coder's undo and redo steps go: nothing done before a submission is undone after it
    # (not even once a lead reopens the layer).
    UndoAction.objects.filter(layer=layer).delete()
    audit.record(
        actor=actor,
        study=layer.transcript.study,
        verb="layer.submit",
        obj=layer,
        after=layer_facts(layer) | {"codings": layer.codings.count()},
    )
    return layer


@transaction.atomic
def layer_reopen(*, actor, layer: Layer, reason: str) -> Layer:
    """A lead reopens a submitted layer so its coder can work on it again."""
    layer = lock_row(Layer, layer.pk, version=None)
    if "manage_assignments" not in member_perms(actor, layer.transcript.study):
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
        after=layer_facts(layer) | {"reason": reason.strip()},
    )
    return layer
