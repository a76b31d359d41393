"""Reading a reconciliation: its disagreements, where the reviewer is, the consensus so far,
whether decisions are paused, and which transcripts wait for a reviewer."""

from django.db.models import Count, Exists, OuterRef, Q

from coding.models import (
    Code,
    CodeStatus,
    ConsensusCoding,
    Decision,
    Disagreement,
    Layer,
    LayerRole,
    LayerStatus,
    Reconciliation,
)
from coding.selectors.blindness import OVERSEERS, visible_layers_in_study
from transcripts.models import Transcript
from workbench.models import AuditEvent

CONTEXT = 160  # characters of transcript shown either side of a disagreement
SIDE = {LayerRole.PRIMARY: "A", LayerRole.SECOND: "B"}


def reconciliation_of(transcript) -> Reconciliation | None:
    return Reconciliation.objects.filter(transcript=transcript).select_related("started_by").first()


def out_of_date(layers) -> str:
    """Why decisions on this transcript are paused ("" when they are not): a layer compared
    here was reopened, so its coder may be changing what the disagreements were found in."""
    reopened = sorted(SIDE[layer.role] for layer in layers if layer.status != LayerStatus.SUBMITTED)
    if len(reopened) == 1:
        return (
            f"{reopened[0]}'s layer was reopened; decisions are paused until it is submitted again."
        )
    if reopened:
        return (
            "A's and B's layers were reopened; decisions are paused until they are submitted again."
        )
    if len(layers) < 2:
        return "A layer compared here was removed; decisions are paused."
    return ""


def progress(reconciliation: Reconciliation, transcript, number: int | None, hidden=None) -> dict:
    """The disagreements, how many are settled, the one to show (``number``, else the first
    undecided; none once all are decided: the page then shows the completed state), the
    consensus layer so far and the codes an edited decision may use (less ``hidden``: the codes
    the viewer may not know of, ``blindness.hidden_codes``)."""
    disagreements = list(reconciliation.disagreements.select_related("resolved_by"))
    resolved = sum(1 for d in disagreements if d.decision)
    complete = resolved == len(disagreements)
    current = None
    if number is not None:
        current = next((d for d in disagreements if d.number == number), None)
    if current is None and not complete:
        current = next(d for d in disagreements if not d.decision)
    codes = Code.objects.filter(study_id=transcript.study_id, status=CodeStatus.ACTIVE)
    if hidden is not None:
        codes = codes.exclude(hidden)
    return {
        "disagreements": disagreements,
        "resolved": resolved,
        "total": len(disagreements),
        "percent": round(100 * resolved / len(disagreements)) if disagreements else 100,
        "current": current,
        "complete": complete,
        "summary": summary(disagreements),
        "consensus": list(
            ConsensusCoding.objects.filter(transcript=transcript).select_related(
                "code", "disagreement"
            )
        ),
        "codes": list(codes.order_by("position", "id")),
    }


def summary(disagreements) -> list[tuple[str, int]]:
    """How many disagreements each decision settled, in the order of the choices."""
    counts = {value: 0 for value in Decision.values}
    for d in disagreements:
        if d.decision:
            counts[d.decision] += 1
    return [(Decision(value).label, n) for value, n in counts.items() if n]


def edit_choices(disagreement: Disagreement, codes: list[Code]) -> dict:
    """The codes an edited decision offers: those in dispute (A's and B's here, A's first),
    prefilled; the rest of the codebook only as a deliberate addition."""
    by_pk = {code.pk: code for code in codes}
    # Ordered (A's first) and a set at once.
    disputed = dict.fromkeys(s["code"] for s in disagreement.a_codings + disagreement.b_codings)
    return {
        "codes_in_dispute": [by_pk[pk] for pk in disputed if pk in by_pk],
        "other_codes": [code for code in codes if code.pk not in disputed],
    }


def around(text: str, disagreement: Disagreement, count: int) -> dict:
    """The disputed passage with ``CONTEXT`` characters either side (and where that context
    starts and ends, for selecting an edited span in it), and its neighbours' numbers for
    previous / next."""
    start, end = disagreement.start, disagreement.end
    lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    return {
        "context_start": lo,
        "context_end": hi,
        "cut_before": lo > 0,
        "cut_after": hi < len(text),
        "before": text[lo:start],
        "passage": text[start:end],
        "after": text[end:hi],
        "previous": disagreement.number - 1 if disagreement.number > 1 else None,
        "next": disagreement.number + 1 if disagreement.number < count else None,
    }


def history(study, disagreement: Disagreement) -> list[AuditEvent]:
    """Every decision and reopening of this disagreement, oldest first; a decision carries
    its label ("Accept A"), as the page says it."""
    events = list(
        AuditEvent.objects.filter(
            study=study, object_type="disagreement", object_id=str(disagreement.pk)
        ).order_by("at", "id")
    )
    labels = dict(Decision.choices)
    for event in events:
        decision = (event.after or {}).get("decision")
        event.decision_label = labels.get(decision, decision)
    return events


def waiting_for_reconciliation(user, perms, study, *, limit=None) -> list[Transcript]:
    """Transcripts ``user`` may reconcile that still need it: both layers submitted (so the
    queue says nothing about a layer still coded blind), not coded by ``user``, and either not
    compared yet or with disagreements open. Each carries ``started``, ``open`` and ``total``.
    One query, whatever the study's size."""
    if not OVERSEERS & set(perms):
        return []
    submitted = visible_layers_in_study(user, perms, study).filter(status=LayerStatus.SUBMITTED)
    both = submitted.values("transcript").annotate(n=Count("pk")).filter(n=2).values("transcript")
    mine = Layer.objects.filter(transcript__study=study, coder=user).values("transcript")
    disagreements = "reconciliation__disagreements"
    rows = (
        Transcript.objects.filter(pk__in=both)
        .exclude(pk__in=mine)
        .select_related("participant")
        .defer("text")
        .annotate(
            started=Exists(Reconciliation.objects.filter(transcript=OuterRef("pk"))),
            total=Count(disagreements),
            open=Count(disagreements, filter=Q(**{f"{disagreements}__decision": ""})),
        )
        .filter(Q(started=False) | Q(open__gt=0))
        .order_by("participant__code", "title", "pk")
    )
    return list(rows[:limit] if limit else rows)
