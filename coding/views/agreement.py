"""The agreement page (and its CSV): reliability between the two layers of each transcript.

For leads and reviewers — the people who oversee coding — and only over transcripts whose two
layers are both submitted, so no figure can tell a coder anything about a colleague's open layer.

Leads record the study's figures as numbered rounds (before reconciliation, after codebook
changes…); the page then shows how reliability changed: a small server-drawn SVG chart of the
overall α_U per round and a table per code carrying the same numbers.
"""

import csv

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from coding.forms import RoundForm
from coding.models import AgreementRound, Layer
from coding.rendering.agreement_chart import (
    overall_alpha,
    reliability_chart,
    scale_floor,
    sparkline,
)
from coding.selectors import agreement as agreement_report
from coding.selectors.blindness import OVERSEERS
from coding.services import agreement as agreement_services
from workbench.access import study_for
from workbench.exports import csv_safe
from workbench.forms import apply_service
from workbench.views.shared import int_or_none


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
    return _agreement_page(request, access)


def _agreement_page(request, access, *, round_form=None):
    study = access.study
    coders = _coders(study)
    by_pk = {c.pk: c for c in coders}
    a, b = (
        by_pk.get(int_or_none(request.GET.get("a"))),
        by_pk.get(int_or_none(request.GET.get("b"))),
    )
    pair = (a, b) if a and b and a != b else None
    transcript = int_or_none(request.GET.get("transcript"))
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
        # Unfiltered, the report already holds every comparable transcript: no second read.
        "choices": report.transcripts
        if transcript is None and pair is None
        else agreement_report.comparable(study)[0],
        "thresholds": (agreement_report.RELIABLE, agreement_report.TENTATIVE),
        "query": request.GET.urlencode(),
    }
    template = "coding/agreement.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#figures"
    else:
        context |= _rounds_context(access, bool(context["choices"]), round_form)
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


# --- agreement rounds: reliability over time -----------------------------------------------


def _rounds_context(access, comparable: bool, round_form=None) -> dict:
    rounds = list(AgreementRound.objects.filter(study=access.study).select_related("recorded_by"))
    can_record = agreement_services.can_record_rounds(access.perms)
    return {
        "rounds": rounds,
        "round_chart": reliability_chart(rounds),
        "round_codes": round_code_rows(rounds),
        "can_record_round": can_record,
        "round_comparable": comparable,
        "round_form": (round_form or RoundForm(prefix="round")) if can_record else None,
    }


def round_code_rows(rounds) -> list[dict]:
    """One row per code ever measured: its figures in each round (None where it was not
    used), the change from its first to its last defined α_U, and a sparkline."""
    if not rounds:
        return []
    names: dict[str, str] = {}
    for r in rounds:
        for code_id, figures in (r.figures.get("codes") or {}).items():
            names[code_id] = figures["name"]  # the latest name wins
    every = [
        f.get("alpha_u")
        for r in rounds
        for f in (r.figures.get("codes") or {}).values()
        if f.get("alpha_u") is not None
    ]
    low = scale_floor(every + [v for v in map(overall_alpha, rounds) if v is not None])
    rows = []
    for code_id, name in sorted(names.items(), key=lambda item: item[1].casefold()):
        cells = [(r.figures.get("codes") or {}).get(code_id) for r in rounds]
        cells = [
            c | {"verdict": agreement_report.verdict(c.get("alpha_u"))} if c else None
            for c in cells
        ]
        alphas = [c.get("alpha_u") if c else None for c in cells]
        defined = [a for a in alphas if a is not None]
        rows.append(
            {
                "name": name,
                "cells": cells,
                "change": round(defined[-1] - defined[0], 3) if len(defined) > 1 else None,
                "spark": sparkline(alphas, low),
            }
        )
    return rows


@require_POST
@login_required
def agreement_round_record(request, study_slug):
    access = study_for(request, study_slug, need="manage_assignments")
    form = RoundForm(request.POST, prefix="round")
    if form.is_valid():
        recorded = apply_service(
            form,
            agreement_services.agreement_round_record,
            actor=request.user,
            study=access.study,
            label=form.cleaned_data["label"],
            kind=form.cleaned_data["kind"],
        )
        if recorded is not None:
            alpha = recorded.figures["overall"]["alpha_u"]
            shown = "undefined" if alpha is None else f"{alpha:.3f}"
            messages.success(request, f"Round {recorded.number} recorded: overall α_U {shown}.")
            if not request.htmx:
                return redirect(reverse("agreement", args=[study_slug]) + "#rounds")
            form = None
    if request.htmx:
        comparable = bool(agreement_report.comparable(access.study)[0])
        context = {"access": access, "study": access.study}
        context |= _rounds_context(access, comparable, form)
        return render(request, "coding/agreement.html#rounds", context)
    return _agreement_page(request, access, round_form=form)


urlpatterns = [
    path("agreement/", agreement, name="agreement"),
    path("agreement/rounds/", agreement_round_record, name="agreement_round_record"),
]
