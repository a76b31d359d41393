"""Participants with their case, consent state and attributes."""

from django.db.models import Count, Prefetch, QuerySet

from transcripts.models import (
    ConsentRecord,
    Participant,
)
from transcripts.selectors.consent import with_consent
from workbench.models import Study


def participants(study: Study) -> QuerySet[Participant]:
    """Participants with their case, current consent and transcript count."""
    return with_consent(
        study.participants.select_related("case").annotate(
            transcript_count=Count("transcripts", distinct=True)
        )
    ).order_by("code", "id")


def participant_detail(study: Study, pk: int) -> Participant | None:
    return (
        study.participants.select_related("case")
        .prefetch_related(
            Prefetch(
                "consent_records",
                queryset=ConsentRecord.objects.select_related("recorded_by").order_by(
                    "-effective_on", "-id"
                ),
            )
        )
        .filter(pk=pk)
        .first()
    )
