"""Cases: the case summary table (the paper's Table 1) and its downloads, editing cases, and the
attribute definitions that give the table its columns.

Every view calls ``study_for`` first. The table and its downloads are for every member; writes
need ``manage_participants``. htmx requests get a fragment of the same template
(``template#fragment``); plain POSTs redirect, so every form works without JavaScript.

Participants appear in these pages only by their pseudonym code: their contact details are never
loaded here, so no table, CSV or XLSX can leak them.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget

from transcripts.forms import AttributeEditForm, AttributeForm, CaseForm
from transcripts.models import Attribute, AttributeTarget, Case
from transcripts.selectors import case_table as summary
from transcripts.selectors import cases as case_selectors
from transcripts.services import attributes as attribute_services
from transcripts.services import cases as case_services
from workbench.access import study_for
from workbench.forms import apply_service
from workbench.views.shared import delete_versioned

MANAGE = "manage_participants"


def _autofocus(form) -> None:
    """An opened edit form focuses its first field in error, else its first field."""
    visible = [name for name, f in form.fields.items() if not f.widget.is_hidden]
    name = next((name for name in visible if name in form.errors), visible[0])
    form.fields[name].widget.attrs["autofocus"] = True


def _case_form(attributes, data=None, case: Case | None = None) -> CaseForm:
    if case is None:
        return CaseForm(data, attributes=attributes, prefix="new-case")
    initial = {"name": case.name, "description": case.description, "version": case.version}
    return CaseForm(
        data,
        attributes=attributes,
        values=case.attributes,
        initial=initial,
        prefix=f"case-{case.pk}",
    )


def _case_of(study, pk: int) -> Case:
    case = case_selectors.case_table_cases(study).filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def _cases_page(request, access, *, add_form=None, editing=None, focus="", fragment="cases"):
    study = access.study
    table = summary.build(study, request.GET)
    can_edit = access.can(MANAGE)
    context = {
        "access": access,
        "study": study,
        "table": table,
        "can_edit": can_edit,
        "colspan": len(table.columns) + (1 if can_edit else 0),
        "editing": editing,
        "focus": focus,
        # After a sort, keyboard focus returns to the column heading that was used.
        "table_focus": f"sort-{table.sort}" if fragment == "case-table" else "",
    }
    if can_edit:
        attributes = [column.attribute for column in table.columns if column.attribute]
        context["add_form"] = add_form or _case_form(attributes)
    template = "transcripts/cases.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += f"#{fragment}"
    return render(request, template, context)


def _table_url(study, query: str, anchor: str = "") -> str:
    url = reverse("case_table", kwargs={"study_slug": study.slug})
    return url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _sort_query(params) -> str:
    """The sort a write was made under (forms post to ``...?sort=..&dir=..``), to go back to."""
    return urlencode({key: params[key] for key in ("sort", "dir") if key in params})


def _after_case_write(request, access, focus):
    if request.htmx:
        return retarget(_cases_page(request, access, focus=focus), "#cases")
    return redirect(_table_url(access.study, _sort_query(request.GET), focus))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def case_table(request, study_slug):
    access = study_for(request, study_slug)
    # A click on a column header swaps just the table (and its download links).
    return _cases_page(request, access, fragment="case-table")


@require_GET
@login_required
def case_table_csv(request, study_slug):
    access = study_for(request, study_slug)
    table = summary.build(access.study, request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-cases.csv"'
    summary.write_csv(table, response)
    return response


@require_GET
@login_required
def case_table_xlsx(request, study_slug):
    access = study_for(request, study_slug)
    table = summary.build(access.study, request.GET)
    response = HttpResponse(summary.xlsx_bytes(table), content_type=summary.XLSX)
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-cases.xlsx"'
    return response


# --- case writes ---------------------------------------------------------------------------


@require_POST
@login_required
def case_create(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    study = access.study
    form = _case_form(case_selectors.attributes_for(study, AttributeTarget.CASE), request.POST)
    if form.is_valid():
        case = apply_service(
            form,
            case_services.case_create,
            actor=request.user,
            study=study,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            attributes=form.attribute_values(),
        )
        if case is not None:
            messages.success(request, f"Case “{case.name}” added.")
            return _after_case_write(request, access, focus=f"case-{case.pk}")
    return _cases_page(request, access, add_form=form, focus="add-new-case")


@require_GET
@login_required
def case_row(request, study_slug, pk):
    """One case as a table row: what an inline form's Cancel puts back."""
    access = study_for(request, study_slug)
    case = _case_of(access.study, pk)
    if not request.htmx:
        return redirect(_table_url(access.study, _sort_query(request.GET), f"case-{pk}"))
    table = summary.build(access.study, request.GET, cases=[case])
    context = {
        "access": access,
        "study": access.study,
        "table": table,
        "row": table.rows[0],
        "can_edit": access.can(MANAGE),
        "standalone": True,
    }
    # Escape targets the form inside the row; the row replaces the whole row, wherever asked.
    return retarget(render(request, "transcripts/cases.html#case-row", context), f"#case-{pk}")


@require_http_methods(["GET", "POST"])
@login_required
def case_edit(request, study_slug, pk):
    access = study_for(request, study_slug, need=MANAGE)
    study = access.study
    case = _case_of(study, pk)
    attributes = case_selectors.attributes_for(study, AttributeTarget.CASE)
    form = _case_form(attributes, request.POST if request.method == "POST" else None, case)
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            case_services.case_update,
            actor=request.user,
            case=case,
            version=form.cleaned_data["version"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            attributes=form.attribute_values(),
        )
        if saved is not None:
            messages.success(request, f"Case “{saved.name}” saved.")
            return _after_case_write(request, access, focus=f"case-{pk}")
    _autofocus(form)
    if request.htmx:
        # The form row only needs the columns (for its width) and the sort (to come back to).
        table = summary.build(study, request.GET, cases=[], attributes=attributes)
        context = {
            "access": access,
            "study": study,
            "table": table,
            "case": case,
            "form": form,
            "colspan": len(table.columns) + 1,
        }
        return render(request, "transcripts/cases.html#case-form-row", context)
    return _cases_page(request, access, editing=(pk, form), focus=f"case-{pk}")


@require_POST
@login_required
def case_delete(request, study_slug, pk):
    access = study_for(request, study_slug, need=MANAGE)
    case = _case_of(access.study, pk)
    done = f"Deleted case “{case.name}”."
    if delete_versioned(request, case_services.case_delete, case=case, done=done):
        return _after_case_write(request, access, focus="case-table")
    return _after_case_write(request, access, focus=f"case-{pk}")


# --- attribute definitions -----------------------------------------------------------------


@dataclass
class Section:
    target: str
    title: str
    attributes: list[Attribute]
    add_form: AttributeForm


SECTION_TITLES = {
    AttributeTarget.CASE: "Case attributes",
    AttributeTarget.PARTICIPANT: "Participant attributes",
}


def _add_form(target: str, data=None) -> AttributeForm:
    return AttributeForm(data, initial={"target": target}, auto_id=f"id_new-{target}-%s")


def _attributes_page(request, access, *, add_form=None, editing=None, focus=""):
    study = access.study
    attributes = list(study.attributes.all())
    if editing:
        pk, form = editing
        for attribute in attributes:
            if attribute.pk == pk:
                attribute.edit_form = form
    failed_target, failed_form = add_form or (None, None)
    sections = []
    for target, title in SECTION_TITLES.items():
        form = failed_form if target == failed_target else None
        sections.append(
            Section(
                target=target,
                title=title,
                attributes=[a for a in attributes if a.target == target],
                add_form=form or _add_form(target),
            )
        )
    context = {
        "access": access,
        "study": study,
        "sections": sections,
        "focus": focus,
    }
    template = "transcripts/attributes.html"
    if request.htmx:
        template += "#attributes"
    return render(request, template, context)


def _attribute_of(study, pk: int) -> Attribute:
    attribute = study.attributes.filter(pk=pk).first()
    if attribute is None:
        raise Http404
    return attribute


def _after_attribute_write(request, access, focus):
    if request.htmx:
        return retarget(_attributes_page(request, access, focus=focus), "#attributes")
    url = reverse("attribute_list", kwargs={"study_slug": access.study.slug})
    return redirect(f"{url}#{focus}")


@require_GET
@login_required
def attribute_list(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    return _attributes_page(request, access)


@require_POST
@login_required
def attribute_create(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    target = request.POST.get("target")
    target = target if target in AttributeTarget.values else AttributeTarget.CASE
    form = _add_form(target, request.POST)
    if form.is_valid():
        attribute = apply_service(
            form,
            attribute_services.attribute_create,
            actor=request.user,
            study=access.study,
            target=form.cleaned_data["target"],
            name=form.cleaned_data["name"],
            kind=form.cleaned_data["kind"],
            options=form.cleaned_data["options"],
        )
        if attribute is not None:
            messages.success(request, f"Attribute “{attribute.name}” added.")
            return _after_attribute_write(request, access, focus=f"attribute-{attribute.pk}")
    return _attributes_page(
        request, access, add_form=(target, form), focus=f"add-{target}-attribute"
    )


@require_GET
@login_required
def attribute_row(request, study_slug, pk):
    """One attribute as a row: what an inline form's Cancel puts back."""
    access = study_for(request, study_slug, need=MANAGE)
    attribute = _attribute_of(access.study, pk)
    if not request.htmx:
        url = reverse("attribute_list", kwargs={"study_slug": study_slug})
        return redirect(f"{url}#attribute-{pk}")
    context = {"access": access, "study": access.study, "item": attribute, "standalone": True}
    return render(request, "transcripts/attributes.html#attribute-row", context)


@require_http_methods(["GET", "POST"])
@login_required
def attribute_edit(request, study_slug, pk):
    access = study_for(request, study_slug, need=MANAGE)
    attribute = _attribute_of(access.study, pk)
    data = request.POST if request.method == "POST" else None
    form = AttributeEditForm(data, attribute=attribute, prefix=f"attribute-{pk}")
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            attribute_services.attribute_update,
            actor=request.user,
            attribute=attribute,
            version=form.cleaned_data["version"],
            name=form.cleaned_data["name"],
            options=form.cleaned_data.get("options", ()),
        )
        if saved is not None:
            messages.success(request, f"Attribute “{saved.name}” saved.")
            return _after_attribute_write(request, access, focus=f"attribute-{pk}")
    if request.htmx:
        context = {"access": access, "study": access.study, "item": attribute, "form": form}
        return render(request, "transcripts/attributes.html#attribute-form", context)
    return _attributes_page(request, access, editing=(pk, form), focus=f"attribute-{pk}")


@require_POST
@login_required
def attribute_delete(request, study_slug, pk):
    access = study_for(request, study_slug, need=MANAGE)
    attribute = _attribute_of(access.study, pk)
    done = f"Deleted attribute “{attribute.name}” and its values."
    if delete_versioned(
        request, attribute_services.attribute_delete, attribute=attribute, done=done
    ):
        return _after_attribute_write(request, access, focus=f"{attribute.target}-attributes")
    return _after_attribute_write(request, access, focus=f"attribute-{pk}")


urlpatterns = [
    path("cases/", case_table, name="case_table"),
    path("cases.csv", case_table_csv, name="case_table_csv"),
    path("cases.xlsx", case_table_xlsx, name="case_table_xlsx"),
    path("cases/new/", case_create, name="case_create"),
    path("cases/<int:pk>/", case_row, name="case_row"),
    path("cases/<int:pk>/edit/", case_edit, name="case_edit"),
    path("cases/<int:pk>/delete/", case_delete, name="case_delete"),
    path("attributes/", attribute_list, name="attribute_list"),
    path("attributes/new/", attribute_create, name="attribute_create"),
    path("attributes/<int:pk>/", attribute_row, name="attribute_row"),
    path("attributes/<int:pk>/edit/", attribute_edit, name="attribute_edit"),
    path("attributes/<int:pk>/delete/", attribute_delete, name="attribute_delete"),
]
