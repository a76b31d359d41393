"""Transcripts: where every analysis and export starts."""

from django.db.models import Count, QuerySet

from transcripts.models import (
    Transcript,
    TranscriptStatus,
)
from transcripts.selectors.consent import (
    ConsentState,
    consent_state,
    filter_consent_state,
    not_withdrawn,
    with_consent,
)
from workbench.models import Study


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
