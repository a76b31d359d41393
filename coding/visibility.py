"""Blindness, enforced on the server: whose codings a person may see on a transcript.

In independent mode neither coder sees the other's layer — not its codings, counts or
anything derived — until both layers are submitted. In review mode the second coder sees the
primary layer once it is submitted. Leads and reviewers who are not coding the transcript see
every layer. Every coding page, fragment, count and download must ask ``visible_layers``.
"""

from coding.models import Assignment, CodingMode, Layer, LayerRole, LayerStatus

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
