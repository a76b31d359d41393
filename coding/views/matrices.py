"""The Matrices pages: code co-occurrence, code or theme × case (with a summary note per cell),
and themes cross-tabulated over dimensions; each also as CSV and XLSX (``?format=``).

Every member reads them; what they count follows the viewer's blindness
(``coding/selectors/matrices.py``). Leads write the cell notes (``coding/services/matrices.py``);
htmx swaps one cell, a plain POST redirects back to the matrix.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from coding.formats import matrices as spreadsheet
from coding.selectors import matrices as matrix
from coding.selectors.blindness import viewer_of
from coding.services.matrices import matrix_cell_note_save
from workbench.access import study_for
from workbench.views.shared import int_or_none


def _choice(request, name, options, default):
    value = request.GET.get(name)
    return value if value in options else default


def _context(request, access, tab, **extra):
    viewer = viewer_of(request, access)
    options = matrix.sources(viewer)
    source = matrix.source_of(options, request.GET.get("source"))
    return {
        "access": access,
        "study": access.study,
        "nav_section": "matrices",
        "tab": tab,
        "viewer": viewer,
        "sources": options,
        "source": source,
        "blind": bool(viewer.pairs),
        "can_write_notes": access.can("manage_analysis"),
        "query": request.GET.urlencode(),
    } | extra


def _download(request, access, name, grid):
    wanted = request.GET.get("format")
    filename = f"{access.study.slug}-{name}"
    if wanted == "csv":
        response = HttpResponse(spreadsheet.csv_text(grid), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    if wanted == "xlsx":
        response = HttpResponse(spreadsheet.xlsx_bytes(grid, name), content_type=spreadsheet.XLSX)
        response["Content-Disposition"] = f'attachment; filename="{filename}.xlsx"'
        return response
    return None


@require_GET
@login_required
@vary_on_headers("HX-Request")
def cooccurrence(request, study_slug):
    access = study_for(request, study_slug)
    context = _context(request, access, "cooccurrence")
    definition = _choice(request, "by", (matrix.OVERLAP, matrix.TURN), matrix.OVERLAP)
    measure = _choice(request, "measure", (matrix.COUNT, matrix.JACCARD), matrix.COUNT)
    found = None
    if context["source"] is not None:
        found = matrix.cooccurrence(
            context["viewer"], context["source"], definition=definition, measure=measure
        )
        download = _download(request, access, "co-occurrence", matrix.cooccurrence_grid(found))
        if download:
            return download
    context |= {"matrix": found, "definition": definition, "measure": measure}
    return render(request, "coding/matrices.html", context)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def cases(request, study_slug):
    access = study_for(request, study_slug)
    context = _context(request, access, "cases")
    kind = _choice(request, "rows", (matrix.CODES, matrix.THEMES), matrix.CODES)
    found = None
    if context["source"] is not None:
        found = matrix.case_matrix(context["viewer"], context["source"], kind=kind)
        download = _download(request, access, f"{kind}-by-case", matrix.case_grid(found))
        if download:
            return download
    context |= {"matrix": found, "rows": kind}
    return render(request, "coding/matrices.html", context)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def dimensions(request, study_slug):
    access = study_for(request, study_slug)
    context = _context(request, access, "dimensions")
    found = matrix.crosstab(
        context["viewer"],
        row=int_or_none(request.GET.get("row")),
        column=int_or_none(request.GET.get("column")),
        page_value=int_or_none(request.GET.get("value")),
        rq=int_or_none(request.GET.get("rq")),
    )
    download = _download(request, access, "themes-by-dimension", matrix.crosstab_grid(found))
    if download:
        return download
    context |= {"crosstab": found}
    return render(request, "coding/matrices.html", context)


def _cell(request, access, ref, case_id):
    found = matrix.cell_of(viewer_of(request, access), ref, case_id)
    if found is None:
        raise Http404
    return found


def _cell_context(request, access, code, case, **extra):
    # Notes summarise the consensus, which a viewer still coding blind does not see.
    note = None
    if not viewer_of(request, access).pairs:
        note = code.matrix_cell_notes.filter(case=case).first()
    return _context(request, access, "cases", code=code, case=case, note=note) | extra


def _back(request, access, ref, case_id):
    url = reverse("matrix_cases", kwargs={"study_slug": access.study.slug})
    query = request.GET.urlencode()
    return redirect(url + (f"?{query}" if query else "") + f"#note-{ref}-{case_id}")


@require_GET
@login_required
def cell_note(request, study_slug, ref, case_id):
    """One cell's note as shown in the matrix: what the edit form's Cancel puts back."""
    access = study_for(request, study_slug)
    code, case = _cell(request, access, ref, case_id)
    if not request.htmx:
        return _back(request, access, ref, case_id)
    context = _cell_context(request, access, code, case)
    return render(request, "coding/matrices.html#cell-note", context)


@require_http_methods(["GET", "POST"])
@login_required
def cell_note_edit(request, study_slug, ref, case_id):
    access = study_for(request, study_slug)
    if not access.can("manage_analysis") or viewer_of(request, access).pairs:
        raise PermissionDenied
    code, case = _cell(request, access, ref, case_id)
    context = _cell_context(request, access, code, case)
    if request.method == "POST":
        text = request.POST.get("text", "")
        try:
            matrix_cell_note_save(
                actor=request.user,
                code=code,
                case=case,
                text=text,
                version=int_or_none(request.POST.get("version")),
            )
        except ValidationError as exc:
            context |= {"error": exc.messages[0], "text": text}
        else:
            if not request.htmx:
                messages.success(request, f"Note on {code.name} × {case.name} saved.")
                return _back(request, access, ref, case_id)
            context = _cell_context(request, access, code, case)
            return render(request, "coding/matrices.html#cell-note", context)
    template = "coding/matrices.html#cell-note-form" if request.htmx else "coding/matrix_note.html"
    return render(request, template, context)


urlpatterns = [
    path("matrices/", cooccurrence, name="matrices"),
    path("matrices/cases/", cases, name="matrix_cases"),
    path("matrices/dimensions/", dimensions, name="matrix_dimensions"),
    path("matrices/cases/<str:ref>/<int:case_id>/note/", cell_note, name="matrix_cell_note"),
    path(
        "matrices/cases/<str:ref>/<int:case_id>/note/edit/",
        cell_note_edit,
        name="matrix_cell_note_edit",
    ),
]
