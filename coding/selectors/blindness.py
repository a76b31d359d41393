"""Blindness, enforced on the server: whose codings a person may see.

In independent mode neither coder sees the other's layer (not its codings, counts or anything
derived) until both layers are submitted. In review mode each side sees the other's layer once
that layer is submitted. Leads and reviewers who are not coding the transcript see every layer.

The rule is written once, as a query condition (``_visible``); ``visible_layers`` (one
transcript) and ``visible_layers_in_study`` (counts and lists across transcripts) both apply it.
Every coding page, fragment, count and download reads layers through one of them.
"""

from django.db.models import Q, QuerySet

from coding.models import CodingMode, Layer, LayerStatus
from transcripts.selectors.transcripts import analysable_transcripts

OVERSEERS = {"manage_assignments", "review_codings"}


def _visible(user, perms, layers: QuerySet[Layer]) -> Q:
    """The condition on ``layers`` (already narrowed to a transcript or a study) that keeps
    those ``user``, holding study ``perms``, may see."""
    own = layers.filter(coder=user)
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
    return visible


def visible_layers(user, perms, transcript) -> list[Layer]:
    """The layers of ``transcript`` that ``user`` (holding study ``perms``) may see, their own
    layer first."""
    layers = Layer.objects.filter(transcript=transcript)
    visible = list(layers.filter(_visible(user, perms, layers)).select_related("coder"))
    return sorted(visible, key=lambda layer: layer.coder_id != user.pk)


def visible_layers_in_study(user, perms, study) -> QuerySet[Layer]:
    """Every layer in ``study`` that ``user`` may see, in one query. Withdrawn transcripts are
    left out, as they are from every analysis."""
    layers = Layer.objects.filter(transcript__study=study)
    return Layer.objects.filter(transcript__in=analysable_transcripts(study)).filter(
        _visible(user, perms, layers)
    )
