"""Blindness, enforced on the server: whose codings a person may see on a transcript.

In independent mode neither coder sees the other's layer — not its codings, counts or
anything derived — until both layers are submitted. In review mode the second coder sees the
primary layer once it is submitted. Leads and reviewers who are not coding the transcript see
every layer. Every coding page, fragment, count and download must ask ``visible_layers``.
"""

from django.db.models import Q, QuerySet

from coding.models import Assignment, CodingMode, Layer, LayerRole, LayerStatus
from transcripts.selectors.transcripts import analysable_transcripts

OVERSEERS = {"manage_assignments", "review_codings"}


def visible_layers(user, perms, transcript) -> list[Layer]:
    """The layers of ``transcript`` that ``user`` (holding study ``perms``) may see."""
    layers = list(transcript.layers.select_related("coder"))
    mine = [layer for layer in layers if layer.coder_id == user.pk]
    if not mine:
        return layers if OVERSEERS & set(perms) else []
    own = mine[0]
    others = [layer for layer in layers if layer.pk != own.pk]
    assignment = Assignment.objects.filter(transcript=transcript).first()
    if assignment is None:
        return [own]
    submitted = {layer.role for layer in layers if layer.status == LayerStatus.SUBMITTED}
    if assignment.mode == CodingMode.INDEPENDENT:
        both = submitted >= {LayerRole.PRIMARY, LayerRole.SECOND}
        return [own, *others] if both else [own]
    # Review mode: each side sees the other's layer once that layer is submitted.
    return [own, *[layer for layer in others if layer.role in submitted]]


def visible_layers_in_study(user, perms, study) -> QuerySet[Layer]:
    """Every layer in ``study`` that ``user`` may see: the study-wide twin of ``visible_layers``
    (same rules, one query), for counts and lists across transcripts. Withdrawn transcripts
    are left out, as they are from every analysis."""
    own = Layer.objects.filter(coder=user, transcript__study=study)
    own_transcripts = own.values("transcript")
    submitted = LayerStatus.SUBMITTED
    visible = Q(coder=user)
    if OVERSEERS & set(perms):
        visible |= ~Q(transcript__in=own_transcripts)
    # Another coder's layer on a transcript I code: submitted, and in independent mode only
    # once my layer is submitted too.
    visible |= Q(transcript__in=own_transcripts, status=submitted) & (
        Q(transcript__assignment__mode=CodingMode.REVIEW)
        | Q(
            transcript__assignment__mode=CodingMode.INDEPENDENT,
            transcript__in=own.filter(status=submitted).values("transcript"),
        )
    )
    return Layer.objects.filter(transcript__in=analysable_transcripts(study)).filter(visible)
