"""Reading a reconciliation: its disagreements, where the reviewer is, and the consensus so far."""

from coding.models import Code, CodeStatus, ConsensusCoding, Disagreement, Reconciliation
from workbench.models import AuditEvent

CONTEXT = 160  # characters of transcript shown either side of a disagreement


def reconciliation_of(transcript) -> Reconciliation | None:
    return Reconciliation.objects.filter(transcript=transcript).select_related("started_by").first()


def progress(reconciliation: Reconciliation, transcript, number: int | None) -> dict:
    """The disagreements, how many are settled, the one to show (``number``, else the first
    undecided), the consensus layer so far and the codes an edited decision may use."""
    disagreements = list(reconciliation.disagreements.select_related("resolved_by"))
    resolved = sum(1 for d in disagreements if d.decision)
    current = None
    if disagreements:
        wanted = number or next((d.number for d in disagreements if not d.decision), 1)
        current = next((d for d in disagreements if d.number == wanted), disagreements[0])
    return {
        "disagreements": disagreements,
        "resolved": resolved,
        "total": len(disagreements),
        "percent": round(100 * resolved / len(disagreements)) if disagreements else 100,
        "current": current,
        "consensus": list(
            ConsensusCoding.objects.filter(transcript=transcript).select_related(
                "code", "disagreement"
            )
        ),
        "codes": list(
            Code.objects.filter(study_id=transcript.study_id, status=CodeStatus.ACTIVE).order_by(
                "position", "id"
            )
        ),
    }


def around(text: str, disagreement: Disagreement, count: int) -> dict:
    """The disputed passage with ``CONTEXT`` characters either side, and its neighbours'
    numbers for previous / next."""
    start, end = disagreement.start, disagreement.end
    lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
    return {
        "before": ("…" if lo else "") + text[lo:start],
        "passage": text[start:end],
        "after": text[end:hi] + ("…" if hi < len(text) else ""),
        "previous": disagreement.number - 1 if disagreement.number > 1 else None,
        "next": disagreement.number + 1 if disagreement.number < count else None,
    }


def history(study, disagreement: Disagreement) -> list[AuditEvent]:
    """Every decision and reopening of this disagreement, oldest first."""
    return list(
        AuditEvent.objects.filter(
            study=study, object_type="disagreement", object_id=str(disagreement.pk)
        ).order_by("at", "id")
    )
