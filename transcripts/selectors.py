"""Reads for the transcripts pages; query counts do not grow with data."""

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from transcripts.models import (
    Attribute,
    ConsentKind,
    ConsentRecord,
    Participant,
    Transcript,
    TranscriptStatus,
)
from workbench.models import Study


class ConsentState:
    """How a participant's current consent stands, as one word for lists and filters."""

    NONE = "none"  # nothing recorded yet
    ACTIVE = "active"  # covers analysis
    LIMITED = "limited"  # consent recorded, but not to analysis
    EXPIRED = "expired"  # past its retention date
    WITHDRAWN = "withdrawn"

    LABELS = {
        NONE: "No consent recorded",
        ACTIVE: "Consent covers analysis",
        LIMITED: "Consent excludes analysis",
        EXPIRED: "Past retention date",
        WITHDRAWN: "Withdrawn",
    }
    CHOICES = list(LABELS.items())


def _latest_consent(outer: str = "pk"):
    return ConsentRecord.objects.filter(participant=OuterRef(outer)).order_by(
        "-effective_on", "-id"
    )


def with_consent(queryset, participant_path: str = "pk"):
    """Annotate the current consent's kind, analysis permission and retention date."""
    latest = _latest_consent(participant_path)
    return queryset.annotate(
        consent_kind=Subquery(latest.values("kind")[:1]),
        consent_analyse=Subquery(latest.values("allow_analyse")[:1]),
        consent_retain_until=Subquery(latest.values("retain_until")[:1]),
    )


def not_withdrawn(queryset):
    """Leave out withdrawn participants (or their transcripts) from a ``with_consent`` queryset.

    Spelled out because SQL's NOT on a NULL subquery (no consent recorded yet) is NULL, which
    a plain ``exclude(consent_kind=...)`` would silently drop as well.
    """
    return queryset.filter(Q(consent_kind__isnull=True) | ~Q(consent_kind=ConsentKind.WITHDRAWAL))


def consent_state(kind, analyse, retain_until, today=None) -> str:
    today = today or timezone.localdate()
    if kind is None:
        return ConsentState.NONE
    if kind == ConsentKind.WITHDRAWAL:
        return ConsentState.WITHDRAWN
    if retain_until is not None and retain_until < today:
        return ConsentState.EXPIRED
    return ConsentState.ACTIVE if analyse else ConsentState.LIMITED


def filter_consent_state(queryset, state: str, today=None):
    """Filter a queryset annotated by ``with_consent`` to one ConsentState."""
    today = today or timezone.localdate()
    not_expired = Q(consent_retain_until__isnull=True) | Q(consent_retain_until__gte=today)
    conditions = {
        ConsentState.NONE: Q(consent_kind__isnull=True),
        ConsentState.WITHDRAWN: Q(consent_kind=ConsentKind.WITHDRAWAL),
        ConsentState.EXPIRED: Q(consent_kind=ConsentKind.CONSENT, consent_retain_until__lt=today),
        ConsentState.ACTIVE: Q(consent_kind=ConsentKind.CONSENT, consent_analyse=True)
        & not_expired,
        ConsentState.LIMITED: Q(consent_kind=ConsentKind.CONSENT, consent_analyse=False)
        & not_expired,
    }
    return queryset.filter(conditions[state]) if state in conditions else queryset


def attributes_for(study: Study, target: str) -> list[Attribute]:
    return list(study.attributes.filter(target=target))


def case_table_cases(study: Study) -> QuerySet:
    """Cases with their participants' codes; only the code is read, never contact details.

    A participant who withdrew leaves the table (and so its downloads) like every other output.
    """
    codes = not_withdrawn(
        with_consent(Participant.objects.only("id", "code", "case_id"))
    ).order_by()
    return study.cases.prefetch_related(Prefetch("participants", queryset=codes))


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


def analysable_transcripts(study: Study) -> QuerySet[Transcript]:
    """Transcripts whose participant's current consent covers analysis: every analysis,
    list and export starts here, so a withdrawal removes a transcript from all of them."""
    annotated = with_consent(study.transcripts.all(), "participant_id")
    return filter_consent_state(annotated, ConsentState.ACTIVE)


def study_overview(study: Study) -> dict:
    """Counts for the study dashboard: participants by consent state, transcripts by status."""
    states = {state: 0 for state, _ in ConsentState.CHOICES}
    rows = with_consent(study.participants.all()).values_list(
        "consent_kind", "consent_analyse", "consent_retain_until"
    )
    for kind, analyse, retain_until in rows:
        states[consent_state(kind, analyse, retain_until)] += 1
    by_status = dict(
        not_withdrawn(with_consent(study.transcripts.all(), "participant_id"))
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "participants": sum(states.values()),
        "consent": [(ConsentState.LABELS[state], n) for state, n in states.items() if n],
        "transcripts": sum(by_status.values()),
        "by_status": [
            (label, by_status.get(value, 0)) for value, label in TranscriptStatus.choices
        ],
        "due_for_purge": states[ConsentState.WITHDRAWN] + states[ConsentState.EXPIRED],
    }
