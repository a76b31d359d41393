"""Retrieval pages: every segment behind a code, theme or category; its exports; exemplar marks.

Every member may read (``study_for`` first); what they read is limited by blindness in
``coding.selectors.retrieval``. Filters live in the query string, so a filtered page, its next
page and its exports share one URL's parameters; htmx swaps just the results.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from coding.formats import segments as segment_files
from coding.models import Coding, ConsensusCoding
from coding.selectors import retrieval as selectors
from coding.selectors.blindness import OVERSEERS, viewer_of
from coding.services.codings import coding_update
from coding.services.exemplars import consensus_exemplar_set
from workbench.access import study_for
from workbench.views.shared import int_or_none

TEMPLATE = "coding/retrieval.html"


def _target(request, study_slug, ref):
    access = study_for(request, study_slug)
    viewer = viewer_of(request, access)
    book = selectors.codebook(viewer)
    target = book.by_ref(ref)
    if target is None:
        raise Http404  # unknown, or a blind colleague's code
    return access, viewer, book, target


@require_GET
@login_required
@vary_on_headers("HX-Request")
def retrieval(request, study_slug, ref):
    access, viewer, book, target = _target(request, study_slug, ref)
    filters = selectors.Filters.of(request.GET)
    page = int_or_none(request.GET.get("page")) or 1
    found = selectors.retrieve(viewer, target, book, filters, page)
    query = filters.query()
    context = {
        "access": access,
        "study": access.study,
        "nav_section": "codebook",
        "found": found,
        "filters": filters,
        "query": urlencode(query),
        "sorts": [(key, label) for key, (label, _) in selectors.SORTS.items()],
        "transcripts": selectors.transcript_choices(viewer),
        "cases": selectors.case_choices(viewer),
        "targets": selectors.targets(book),
        "can_mark_consensus": bool(OVERSEERS & access.perms),
        "can_split": access.can("manage_codebook"),  # the split page: choose codings to move
        "here": request.get_full_path(),
    }
    template = TEMPLATE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


def _export(request, study_slug, ref):
    access, viewer, book, target = _target(request, study_slug, ref)
    filters = selectors.Filters.of(request.GET)
    found = selectors.retrieve(viewer, target, book, filters, page=None)
    name = f"{access.study.slug}-{target.public_id}-segments"
    return found, target, name


@require_GET
@login_required
def retrieval_csv(request, study_slug, ref):
    found, target, name = _export(request, study_slug, ref)
    response = HttpResponse(
        segment_files.csv_text(found.segments), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@require_GET
@login_required
def retrieval_xlsx(request, study_slug, ref):
    found, target, name = _export(request, study_slug, ref)
    data = segment_files.xlsx_bytes(found.segments, f"Segments of {target.name}")
    response = HttpResponse(data, content_type=segment_files.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


def _mark(request, access, viewer) -> tuple[object, str]:
    """Set the posted segment's exemplar mark; the segment (for the fragment) and an error."""
    wanted = request.POST.get("exemplar") == "1"
    consensus_pk = int_or_none(request.POST.get("consensus"))
    if consensus_pk is not None:
        row = (
            ConsensusCoding.objects.filter(
                pk=consensus_pk, transcript__in=viewer.consensus_transcripts()
            )
            .select_related("code")
            .first()
        )
        if row is None:
            raise Http404
        consensus_exemplar_set(actor=request.user, consensus_coding=row, exemplar=wanted)
        return row, ""
    ref = request.POST.get("coding", "")
    if not ref:
        return None, "Choose a segment to mark."
    coding = (
        Coding.objects.filter(public_id=ref, layer__in=viewer.layers())
        .select_related("code")
        .first()
    )
    if coding is None:
        raise Http404  # blindness: a hidden coding does not exist for you
    coding_update(actor=request.user, coding=coding, version=coding.version, exemplar=wanted)
    return coding, ""


@require_POST
@login_required
def retrieval_exemplar(request, study_slug):
    """Mark or unmark one segment as an exemplar quote (htmx: the button is swapped)."""
    access = study_for(request, study_slug)
    if not ({"code_transcripts"} | OVERSEERS) & access.perms:
        raise PermissionDenied
    viewer = viewer_of(request, access)
    error, segment = "", None
    try:
        segment, error = _mark(request, access, viewer)
        if segment is not None:
            segment.refresh_from_db(fields=["exemplar"])
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if request.htmx and segment is not None:
        context = {"segment": segment, "kind": request.POST.get("kind", ""), "error": error}
        context |= {"study": access.study, "can_mark_consensus": True}
        return render(request, f"{TEMPLATE}#exemplar", _fragment(request, context))
    if error:
        messages.error(request, error)
    elif segment is not None:
        messages.success(request, "Exemplar mark saved.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("codebook", args=[access.study.slug])
    return redirect(back)


def _fragment(request, context: dict) -> dict:
    """The exemplar button's context, in the shape the page's loop gives it."""
    segment = context["segment"]
    consensus = isinstance(segment, ConsensusCoding)
    context["s"] = {
        "kind": selectors.CONSENSUS if consensus else "coding",
        "ref": str(segment.pk) if consensus else segment.public_id,
        "exemplar": segment.exemplar,
        "mine": not consensus,
    }
    context["here"] = request.POST.get("next", "")
    return context


urlpatterns = [
    path("codebook/<str:ref>/segments/", retrieval, name="retrieval"),
    path("codebook/<str:ref>/segments.csv", retrieval_csv, name="retrieval_csv"),
    path("codebook/<str:ref>/segments.xlsx", retrieval_xlsx, name="retrieval_xlsx"),
    path("segments/exemplar/", retrieval_exemplar, name="retrieval_exemplar"),
]
