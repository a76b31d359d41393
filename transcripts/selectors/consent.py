"""Consent as the rest of the app reads it: a participant's consent state and what it allows."""

from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from transcripts.models import ConsentKind, ConsentRecord, Participant, Transcript


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


def current_consent(participant: Participant) -> ConsentRecord | None:
    return participant.consent_records.order_by("-effective_on", "-id").first()


def allows(transcript: Transcript, use: str) -> bool:
    """The one consent gate: does the participant's current consent cover this use?"""
    consent = current_consent(transcript.participant)
    return consent is not None and consent.allows(use)


_NOT_TRANSCRIBABLE = {
    ConsentState.NONE: "no consent recorded",
    ConsentState.WITHDRAWN: "withdrawn",
    ConsentState.EXPIRED: "past the retention date",
}


def transcription_split(study, today=None) -> tuple[list[int], list[tuple[int, str, str]]]:
    """Who may have transcripts imported: the ids of participants whose current consent covers
    transcription, and the others as (id, code, why not) for the import page. One query."""
    today = today or timezone.localdate()
    latest = _latest_consent()
    rows = study.participants.annotate(
        consent_kind=Subquery(latest.values("kind")[:1]),
        consent_transcribe=Subquery(latest.values("allow_transcribe")[:1]),
        consent_retain_until=Subquery(latest.values("retain_until")[:1]),
    ).values_list("pk", "code", "consent_kind", "consent_transcribe", "consent_retain_until")
    allowed, refused = [], []
    for pk, code, kind, transcribe, retain_until in rows:
        state = consent_state(kind, True, retain_until, today)
        if state == ConsentState.ACTIVE and transcribe:
            allowed.append(pk)
        else:
            why = _NOT_TRANSCRIBABLE.get(state, "consent excludes transcription")
            refused.append((pk, code, why))
    return allowed, refused
