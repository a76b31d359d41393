"""Reading debriefing notes and memos, and what they may link to."""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch

from coding.models import AnalyticMemo, DebriefNote, Disagreement
from transcripts.models import Transcript

User = get_user_model()


def linkable_transcripts(study=None):
    qs = Transcript.objects.select_related("participant").defer("text")
    return qs.filter(study=study) if study is not None else qs


def linkable_disagreements(study=None):
    qs = Disagreement.objects.select_related("reconciliation__transcript__participant").defer(
        "reconciliation__transcript__text", "a_codings", "b_codings", "rationale"
    )
    return qs.filter(reconciliation__transcript__study=study) if study is not None else qs


def debrief_notes(study, filters, *, with_disagreements: bool, ref=None, hidden=None):
    """The study's notes, filtered; those matching ``hidden`` (``Viewer.hidden_notes``: linked
    by a blind colleague to what the viewer may not see) left out."""
    qs = DebriefNote.objects.filter(study=study).select_related("written_by")
    if hidden is not None:
        qs = qs.exclude(hidden)
    if ref is not None:
        qs = qs.filter(public_id=ref)
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("code"):
        qs = qs.filter(codes=filters["code"])
    related = [
        Prefetch("attendees", queryset=User.objects.order_by("username")),
        Prefetch("transcripts", queryset=linkable_transcripts()),
        "codes",
    ]
    if with_disagreements:
        related.append(Prefetch("disagreements", queryset=linkable_disagreements()))
    return list(qs.prefetch_related(*related))


def analytic_memos(study, filters, ref=None, hidden=None):
    """The study's memos, filtered; those matching ``hidden`` (``Viewer.hidden_memos``) left
    out."""
    qs = AnalyticMemo.objects.filter(study=study).select_related("code", "written_by")
    if hidden is not None:
        qs = qs.exclude(hidden)
    if ref is not None:
        qs = qs.filter(public_id=ref)
    if filters.get("code"):
        qs = qs.filter(code=filters["code"])
    return list(qs.prefetch_related(Prefetch("transcripts", queryset=linkable_transcripts())))
