"""The saturation page: what each interview adds, the Guest et al. runs, the stopping
criteria and meaning stability (``coding/selectors/saturation.py``), the chart
(``coding/rendering/saturation_chart.py``), and the team's decisions with their evidence.

Every member reads it; what it counts follows the viewer's blindness (interviews a coder may
not read are left out and the page says how many). Leads record decisions and set the order of
interviews held on the same day. The parameters form swaps the analysis in place with htmx and
reloads the page without JavaScript; ``?format=csv`` and ``?format=json`` download the same
numbers. A decision's page shows the evidence stored with it, never recomputed.
"""

import dataclasses
import json
from collections import Counter
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from coding.formats.saturation import TABLES, csv_table
from coding.forms import SaturationDecisionForm
from coding.models import DebriefNote, NoteKind
from coding.rendering import saturation_tables
from coding.rendering.saturation_chart import saturation_chart
from coding.saturation.report import LIMITS
from coding.selectors import saturation as sat
from coding.selectors import saturation_evidence as shown
from coding.selectors.blindness import viewer_of
from coding.services.saturation import saturation_decision_record
from transcripts.selectors.transcripts import in_interview_order
from transcripts.services.transcripts import interview_order_set
from workbench.access import study_for
from workbench.forms import apply_service
from workbench.views.shared import int_or_none


def _params(viewer, data):
    """The parameters from ``data``; a layer the viewer may not choose falls back to the
    consensus, with a message, like any other wrong field."""
    params, errors = sat.SaturationParams.from_data(data)
    choices = sat.layer_choices(viewer, reuse=True)
    if params.layer not in dict(choices):
        errors["layer"] = "No submitted layers of that coder that you may read: showing consensus."
        params = dataclasses.replace(params, layer=sat.CONSENSUS)
    return params, errors, choices


def _query(params) -> str:
    return "" if params == sat.SaturationParams() else urlencode(params.as_query())


def _page_url(study, params, anchor="") -> str:
    query = _query(params)
    return reverse("saturation", args=[study.slug]) + (f"?{query}" if query else "") + anchor


def _syntheses(viewer):
    return DebriefNote.objects.filter(study=viewer.study, kind=NoteKind.SYNTHESIS).exclude(
        viewer.hidden_notes()
    )


def _marks(rows) -> list[dict]:
    return [
        {
            "number": row["number"],
            "interviews": row["decision"].interviews,
            "verdict": row["decision"].verdict,
            "label": row["decision"].get_verdict_display(),
            "date": f"{timezone.localtime(row['decision'].decided_at):%d %b %Y}".lstrip("0"),
        }
        for row in rows
    ]


def _shared_days(interviews) -> set:
    """Interview dates held by more than one interview: where the lead's order decides."""
    days = Counter(row.interview_date for row in interviews if row.interview_date)
    return {day for day, count in days.items() if count > 1}


def _decision_rows(viewer, known=None) -> list[dict]:
    """The study's decisions, numbered D1, D2… in the order taken, with what this viewer may
    read of each: its verdict labels only where every interview of its layer is readable,
    its synthesis only where the note is not hidden from them. ``known``: withheld counts
    already worked out, by layer (``readable_layers``)."""
    found = sat.decisions(viewer.study)
    wanted = {shown.evidence_layer(d.evidence) for d in found}
    readable = shown.readable_layers(viewer, wanted, known) if wanted else set()
    visible = set(_syntheses(viewer).values_list("pk", flat=True))  # one query, whatever links
    return [
        {
            "number": n,
            "decision": d,
            "readable": shown.evidence_layer(d.evidence) in readable,
            "labels": [r["label"] for r in (d.evidence.get("guest") or {}).get("results", [])],
            "synthesis": d.synthesis if d.synthesis_id in visible else None,
        }
        for n, d in enumerate(found, start=1)
    ]


def _tables(evidence: dict) -> dict:
    """What the evidence template shows, its three long tables rendered in Python."""
    runs, rows, summary = (
        shown.runs_table(evidence),
        shown.interview_rows(evidence),
        shown.summary(evidence),
    )
    k = (evidence.get("no_new_themes") or {}).get("last") or 3
    return {
        "runs": runs,
        "rows": rows,
        "summary": summary,
        "tables": saturation_tables.tables(runs, rows, summary, k),
    }


def _context(request, access, data, *, decision_form=None) -> dict:
    viewer = viewer_of(request, access)
    params, errors, choices = _params(viewer, data)
    # The reads are reused while the study is unchanged: a parameter change only recomputes.
    analysis = sat.analyse(viewer, params, reuse=True)
    evidence = analysis.evidence()
    for item, row in zip(evidence["interviews"], analysis.interviews, strict=True):
        item["url"] = reverse("transcript_detail", args=[access.study.slug, row.transcript_id])
    rows = _decision_rows(viewer, {params.layer: analysis.withheld})
    marks = _marks(rows)
    can_decide = access.can("manage_analysis")
    shared_days = _shared_days(analysis.interviews)
    if can_decide and decision_form is None:
        decision_form = SaturationDecisionForm(syntheses=_syntheses(viewer))
    return {
        "access": access,
        "study": access.study,
        "nav_section": "saturation",
        "params": params,
        "errors": errors,
        "layers": choices,
        "information_choices": sat.INFORMATION,
        "modes": sat.MODES,
        "limits": LIMITS,
        "analysis": analysis,
        "evidence": evidence,
        **_tables(evidence),
        "chart": saturation_chart(evidence, marks),
        "beyond": [m for m in marks if m["interviews"] > len(analysis.interviews)],
        "decisions": rows,
        "can_decide": can_decide,
        "shared_days": shared_days,
        "order_rows": saturation_tables.order_rows(analysis.interviews, shared_days)
        if can_decide
        else "",
        "decision_form": decision_form,
        "query": _query(params),
    }


def _download(request, study, evidence, name):
    """The evidence as JSON (everything), or one of its tables as CSV (``?table=``: interviews,
    runs or meaning): what ``manage.py saturation`` prints."""
    if request.GET.get("format") == "json":
        body = json.dumps(evidence, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        filename = f"{study.slug}-{name}.json"
    else:
        table = request.GET.get("table")
        table = table if table in TABLES else TABLES[0]
        response = HttpResponse(csv_table(evidence, table), content_type="text/csv; charset=utf-8")
        filename = f"{study.slug}-{name}-{table}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@login_required
@vary_on_headers("HX-Request")
def saturation(request, study_slug):
    access = study_for(request, study_slug)
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        viewer = viewer_of(request, access)
        params, _, _ = _params(viewer, request.GET)
        evidence = sat.analyse(viewer, params, reuse=True).evidence()
        return _download(request, access.study, evidence, "saturation")
    context = _context(request, access, request.GET)
    template = "coding/saturation.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#analysis"
    return render(request, template, context)


@require_POST
@login_required
def decision_record(request, study_slug):
    access = study_for(request, study_slug, need="manage_analysis")
    viewer = viewer_of(request, access)
    params, errors, _ = _params(viewer, request.POST)
    form = SaturationDecisionForm(request.POST, syntheses=_syntheses(viewer))
    if errors:
        form.add_error(None, "The parameters were changed: check them, then record again.")
    elif form.is_valid():
        decision = apply_service(
            form,
            saturation_decision_record,
            actor=request.user,
            study=access.study,
            verdict=form.cleaned_data["verdict"],
            rationale=form.cleaned_data["rationale"],
            params=params,
            synthesis=form.cleaned_data["synthesis"],
        )
        if decision is not None:
            messages.success(request, f"Decision recorded: {decision}.")
            return redirect(_page_url(access.study, params, f"#decision-{decision.public_id}"))
    context = _context(request, access, request.POST, decision_form=form)
    return render(request, "coding/saturation.html", context)


@require_GET
@login_required
def decision(request, study_slug, ref):
    """One decision with the evidence stored with it: the numbers as the team saw them."""
    access = study_for(request, study_slug)
    viewer = viewer_of(request, access)
    rows = _decision_rows(viewer)
    row = next((r for r in rows if r["decision"].public_id == ref), None)
    if row is None:
        raise Http404
    evidence = row["decision"].evidence
    fmt = request.GET.get("format")
    if fmt in ("csv", "json"):
        if not row["readable"]:
            raise PermissionDenied
        return _download(request, access.study, evidence, f"saturation-decision-{row['number']}")
    context = {
        "access": access,
        "study": access.study,
        "nav_section": "saturation",
        "row": row,
        "evidence": evidence,
        "information_choices": sat.INFORMATION,
        "modes": sat.MODES,
    }
    if row["readable"]:
        context |= _tables(evidence) | {"chart": saturation_chart(evidence, _marks([row]))}
    return render(request, "coding/saturation_decision.html", context)


@require_POST
@login_required
def order_set(request, study_slug):
    """The lead's order of interviews: one number per interview; ties keep the order shown."""
    access = study_for(request, study_slug, need="manage_analysis")
    params, _, _ = _params(viewer_of(request, access), request.POST)
    # Back to the top, where the message and the analysis in its new order are.
    back = redirect(_page_url(access.study, params))
    wanted = []
    for index, (key, value) in enumerate(request.POST.items()):
        if key.startswith("order-"):
            number = int_or_none(value)
            if number is None:
                messages.error(request, "Order not saved: give each interview a whole number.")
                return back
            wanted.append((number, index, key.removeprefix("order-")))
    order = [pk for _, _, pk in sorted(wanted)]
    try:
        moved = interview_order_set(actor=request.user, study=access.study, order=order)
    except ValidationError as exc:
        messages.error(request, f"Order not saved: {exc.messages[0]}")
        return back
    if not moved:
        messages.info(request, "The interview order is unchanged.")
        return back
    messages.success(request, "Interview order saved.")
    now = [
        str(pk)
        for pk in in_interview_order(access.study.transcripts.filter(pk__in=order)).values_list(
            "pk", flat=True
        )
    ]
    if now != order:
        messages.warning(
            request,
            "Interviews held on different days stay in date order: to move one across days, "
            "correct its interview date on the transcript.",
        )
    return back


urlpatterns = [
    path("saturation/", saturation, name="saturation"),
    path("saturation/decisions/", decision_record, name="saturation_decision_record"),
    path("saturation/decisions/<str:ref>/", decision, name="saturation_decision"),
    path("saturation/order/", order_set, name="saturation_order"),
]
