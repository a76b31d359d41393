"""The agreement page (and its CSV): reliability between the two layers of each transcript.

For leads and reviewers — the people who oversee coding — and only over transcripts whose two
layers are both submitted, so no figure can tell a coder anything about a colleague's open layer.
"""

import csv

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from coding import agreement_report
from coding.models import Layer
from coding.visibility import OVERSEERS
from workbench.access import study_for
from workbench.exports import csv_safe


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _coders(study):
    """Everyone who holds a layer in this study, for the pair filter."""
    ids = Layer.objects.filter(transcript__study=study).values("coder")
    return list(get_user_model().objects.filter(pk__in=ids).order_by("username"))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def agreement(request, study_slug):
    access = study_for(request, study_slug)
    if not OVERSEERS & access.perms:
        raise PermissionDenied
    study = access.study
    coders = _coders(study)
    by_pk = {c.pk: c for c in coders}
    a, b = by_pk.get(_int(request.GET.get("a"))), by_pk.get(_int(request.GET.get("b")))
    pair = (a, b) if a and b and a != b else None
    transcript = _int(request.GET.get("transcript"))
    report = agreement_report.build(
        study,
        transcript_ids=[transcript] if transcript else None,
        coders=pair,
        speaker_aware=request.GET.get("speaker") == "aware",
    )
    if request.GET.get("format") == "csv":
        return _csv(study, report)
    context = {
        "access": access,
        "study": study,
        "nav_section": "agreement",
        "report": report,
        "overall": agreement_report.overall(report),
        "code_rows": agreement_report.code_rows(report),
        "transcript_rows": agreement_report.transcript_rows(report),
        "coders": coders,
        "pair": pair,
        "transcript": transcript,
        "choices": agreement_report.comparable(study)[0],
        "thresholds": (agreement_report.RELIABLE, agreement_report.TENTATIVE),
        "query": request.GET.urlencode(),
    }
    template = "coding/agreement.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#figures"
    return render(request, template, context)


def _csv(study, report):
    fields, rows = agreement_report.flat_rows(report)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{study.slug}-agreement.csv"'
    writer = csv.DictWriter(response, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_safe(v) if isinstance(v, str) else v for k, v in row.items()})
    return response


urlpatterns = [path("agreement/", agreement, name="agreement")]
