"""Transcripts: where every analysis and export starts; the list and the reading page."""

import re
from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from transcripts.models import PseudonymRule, Transcript, TranscriptStatus, Utterance
from transcripts.rewriting.pseudonymise import find_replacements
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


LIST_FILTERS = ("case", "participant", "consent", "status")


def transcript_list(study: Study, filters: dict) -> tuple[QuerySet[Transcript], dict[str, int]]:
    """The study's transcripts for the list page, filtered, with their consent annotated and
    their number of turns; and how many there are per status. Withdrawn participants'
    transcripts leave every list (they are on the stewardship page)."""
    transcripts = not_withdrawn(
        with_consent(study.transcripts.select_related("participant__case"), "participant_id")
    )
    if filters.get("case", "").isdigit():
        transcripts = transcripts.filter(participant__case_id=int(filters["case"]))
    if filters.get("participant", "").isdigit():
        transcripts = transcripts.filter(participant_id=int(filters["participant"]))
    if filters.get("consent"):
        transcripts = filter_consent_state(transcripts, filters["consent"])
    if filters.get("status") in TranscriptStatus.values:
        transcripts = transcripts.filter(status=filters["status"])
    by_status = dict(
        transcripts.order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    # A subquery, not a join: grouping by every column would drag each full text along.
    turns = (
        Utterance.objects.filter(transcript=OuterRef("pk"))
        .order_by()
        .values("transcript")
        .annotate(n=Count("id"))
        .values("n")
    )
    listed = (
        transcripts.defer("text")
        .annotate(turns=Subquery(turns))
        .order_by("participant__code", "interview_date", "id")
    )
    return listed, by_status


def with_consent_state(transcripts) -> list[Transcript]:
    """The transcripts (annotated by ``with_consent``), each with its ``consent_state``."""
    rows = list(transcripts)
    for t in rows:
        t.consent_state = consent_state(t.consent_kind, t.consent_analyse, t.consent_retain_until)
    return rows


def clock(ms: int | None) -> str:
    """A turn's start time as hh:mm:ss (empty when the source had no timestamps)."""
    if ms is None:
        return ""
    seconds = ms // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass
class ReadingTurn:
    utterance: Utterance
    html: SafeString  # the turn's text, escaped, with <mark> around each match
    time: str
    has_match: bool


def _highlight(text: str, pattern: re.Pattern | None) -> tuple[str, int]:
    """HTML-escaped text with <mark> around each match, and the number of matches."""
    if pattern is None:
        return escape(text), 0
    pieces, last, count = [], 0, 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[last : match.start()]))
        pieces.append(f"<mark>{escape(match.group())}</mark>")
        last, count = match.end(), count + 1
    pieces.append(escape(text[last:]))
    return "".join(pieces), count


def reading_turns(transcript: Transcript, query: str) -> tuple[list[ReadingTurn], int]:
    """The transcript's turns for the reading page with every match of ``query`` (case
    insensitive, literal) marked; and the number of matches."""
    pattern = re.compile(re.escape(query), re.IGNORECASE) if query else None
    text, turns, matches = transcript.text, [], 0
    for utterance in transcript.utterances.all():
        html, found = _highlight(text[utterance.start : utterance.end], pattern)
        matches += found
        # mark_safe: escaped piece by piece in _highlight
        turns.append(ReadingTurn(utterance, mark_safe(html), clock(utterance.start_ms), found > 0))
    return turns, matches


def listed_names_in(text: str, rules) -> int:
    """How many different names of the replacement list (``rules``) occur in ``text``."""
    return len({r.rule_id for r in find_replacements(text, rules)}) if rules else 0


def study_rules_in_order(study) -> list[PseudonymRule]:
    """The study's replacement list in the order preview and apply share (oldest first)."""
    return list(PseudonymRule.objects.filter(study=study).order_by("id"))


def in_interview_order(transcripts: QuerySet[Transcript]) -> QuerySet[Transcript]:
    """Interviews in the order they were held: by interview date, then by the lead's order
    among interviews of the same day (or without a date), then by participant and import."""
    return transcripts.order_by(
        F("interview_date").asc(nulls_last=True),
        F("interview_order").asc(nulls_last=True),
        "participant__code",
        "pk",
    )
