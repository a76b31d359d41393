"""Cases: the case summary table (the paper's Table 1) and its downloads, editing cases, and the
attribute definitions that give the table its columns.

Every view calls ``study_for`` first. The table and its downloads are for every member; writes
need ``manage_participants``. htmx requests get a fragment of the same template
(``template#fragment``); plain POSTs redirect, so every form works without JavaScript.

Participants appear in these pages only by their pseudonym code: their contact details are never
loaded here, so no table, CSV or XLSX can leak them.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from transcripts import selectors, services
from transcripts.attributes import display
from transcripts.models import Attribute, AttributeKind, AttributeTarget, Case, Participant
from workbench.access import study_for
from workbench.forms import VersionedForm
from workbench.views import _csv_safe

MANAGE = "manage_participants"


# --- forms ---------------------------------------------------------------------------------


class _ListField(forms.Field):
    """The ticked boxes, as posted: the attribute's own validation judges them."""

    widget = forms.CheckboxSelectMultiple

    def to_python(self, value):
        return [item for item in value or [] if item != ""]


class _NumberField(forms.CharField):
    """Passes numbers on to the attribute's validation, but not absurdly large ones.

    ``clean_value`` turns "1e999999999" into a Python int of a billion digits (minutes of CPU,
    gigabytes of memory) and "1e5000" into one json.dumps refuses (a 500); stop both here.
    """

    widget = forms.NumberInput(attrs={"step": "any"})

    def clean(self, value):
        value = super().clean(value)
        try:
            too_large = Decimal(value.replace(",", ".")).adjusted() > 15
        except (InvalidOperation, ValueError):
            too_large = False  # not a number at all: the attribute's validation says so
        if too_large:
            raise ValidationError(f"{self.label}: “{value}” is too large a number.")
        return value


def _attribute_field(attribute: Attribute) -> forms.Field:
    """A form field for one attribute, typed by its kind.

    The fields accept what is posted; ``transcripts.attributes.clean_value`` (run by the
    service) is the one judge of a value, so the page and any other caller get the same errors.
    """
    label, kind = attribute.name, attribute.kind
    choices = [(option, option) for option in attribute.options or []]
    if kind == AttributeKind.NUMBER:
        return _NumberField(label=label, required=False)
    if kind == AttributeKind.DATE:
        widget = forms.DateInput(attrs={"type": "date"})
        return forms.CharField(label=label, required=False, widget=widget)
    if kind == AttributeKind.CHOICE:
        widget = forms.Select(choices=[("", "—")] + choices)
        return forms.CharField(label=label, required=False, widget=widget)
    if kind == AttributeKind.MULTI:
        return _ListField(
            label=label, required=False, widget=forms.CheckboxSelectMultiple(choices=choices)
        )
    return forms.CharField(label=label, required=False, max_length=1000)


class CaseForm(VersionedForm):
    name = forms.CharField(
        label="Case", max_length=200, help_text="The project or organisation, e.g. BigScience."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, attributes: list[Attribute], **kwargs):
        super().__init__(*args, **kwargs)
        self.attributes = attributes
        for attribute in attributes:
            self.fields[f"attr_{attribute.pk}"] = _attribute_field(attribute)

    def attribute_values(self) -> dict[str, object]:
        return {str(a.pk): self.cleaned_data.get(f"attr_{a.pk}") for a in self.attributes}


def _autofocus(form) -> None:
    """An opened edit form focuses its first field in error, else its first field."""
    visible = [name for name, f in form.fields.items() if not f.widget.is_hidden]
    name = next((name for name in visible if name in form.errors), visible[0])
    form.fields[name].widget.attrs["autofocus"] = True


def _case_form(attributes, data=None, case: Case | None = None) -> CaseForm:
    if case is None:
        return CaseForm(data, attributes=attributes, prefix="new-case")
    initial = {"name": case.name, "description": case.description, "version": case.version}
    for attribute in attributes:
        initial[f"attr_{attribute.pk}"] = case.attributes.get(str(attribute.pk))
    return CaseForm(data, attributes=attributes, initial=initial, prefix=f"case-{case.pk}")


class OptionsField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 3})

    def clean(self, value):
        text = super().clean(value)
        options, seen = [], set()
        for line in text.splitlines():
            option = line.strip()
            if not option:
                continue
            if len(option) > 200:
                raise ValidationError(f"“{option[:30]}…” is longer than 200 characters.")
            if option.casefold() in seen:
                raise ValidationError(f"{option} is listed twice.")
            seen.add(option.casefold())
            options.append(option)
        return options


OPTIONS_HELP = "For single and multiple choice: one option per line."


class AttributeForm(forms.Form):
    target = forms.ChoiceField(choices=AttributeTarget.choices, widget=forms.HiddenInput)
    name = forms.CharField(max_length=100)
    kind = forms.ChoiceField(choices=AttributeKind.choices)
    options = OptionsField(required=False, help_text=OPTIONS_HELP)


class AttributeEditForm(VersionedForm):
    name = forms.CharField(max_length=100)
    options = OptionsField(
        required=False, help_text="One option per line. An option still in use cannot be removed."
    )

    def __init__(self, *args, attribute: Attribute, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "name": attribute.name,
                "options": "\n".join(attribute.options or []),
                "version": attribute.version,
            },
        )
        super().__init__(*args, **kwargs)
        if not attribute.is_choice:
            del self.fields["options"]


def _apply(form, operation, /, **kwargs):
    """Run a service; its ValidationError becomes form errors. Returns the result or None.

    Errors keyed by a field the form lacks (an attribute added meanwhile) go to the top.
    """
    try:
        return operation(**kwargs)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            form.add_error(None, exc)
        return None


# --- the case table ------------------------------------------------------------------------


def _natural(text: str) -> tuple:
    """Sort key in which I2 comes before I10 and case does not matter."""
    parts = re.split(r"(\d+)", text.casefold())
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    attribute: Attribute | None = None


@dataclass
class Cell:
    column: Column
    value: object  # typed: int/float for numbers, a date for dates, else text
    text: str
    sort_key: tuple | None  # None: empty, always sorted last


@dataclass
class Row:
    case: Case
    codes: list[str]
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Table:
    columns: list[Column]
    rows: list[Row]
    sort: str
    descending: bool

    @property
    def query(self) -> str:
        return urlencode({"sort": self.sort, "dir": "desc" if self.descending else "asc"})

    @property
    def sorted_by(self) -> Column:
        return next(column for column in self.columns if column.key == self.sort)

    def headers(self):
        """(column, link query, aria-sort) for each column header."""
        for column in self.columns:
            current = column.key == self.sort
            flip = "asc" if current and self.descending else "desc" if current else "asc"
            state = ("descending" if self.descending else "ascending") if current else ""
            yield column, urlencode({"sort": column.key, "dir": flip}), state


DEFAULT_SORT = "participants"


def _columns(attributes: list[Attribute]) -> list[Column]:
    return [
        Column("participants", "Participants"),
        Column("name", "Case"),
        *(Column(f"attr_{a.pk}", a.name, a) for a in attributes),
        Column("description", "Description"),
    ]


def _typed(attribute: Attribute, value):
    """(typed value, sort key) of a stored attribute value; a malformed one sorts after."""
    kind = attribute.kind
    if kind == AttributeKind.NUMBER:
        try:
            number = Decimal(str(value))
            if number.is_finite():
                return value, (0, number)
        except InvalidOperation:
            pass
    elif kind == AttributeKind.DATE:
        try:
            day = date.fromisoformat(str(value))
            return day, (0, day)
        except ValueError:
            pass
    elif attribute.is_choice:
        # Choices sort in the order the attribute lists them (an ordinal scale reads right).
        options = attribute.options or []
        items = value if isinstance(value, list) else [value]
        key = tuple(
            (0, options.index(item), "") if item in options else (1, 0, str(item).casefold())
            for item in items
        )
        return display(attribute, value), key
    else:
        return str(value), (0, _natural(str(value)))
    return str(value), (1, _natural(str(value)))


def _cell(column: Column, case: Case, codes: list[str]) -> Cell:
    if column.key == "participants":
        text = ", ".join(codes)
        return Cell(column, text, text, tuple(_natural(code) for code in codes) or None)
    if column.key == "name":
        return Cell(column, case.name, case.name, _natural(case.name))
    if column.key == "description":
        text = case.description
        return Cell(column, text, text, _natural(text) if text else None)
    value = case.attributes.get(str(column.attribute.pk))
    if value is None or value == "" or value == []:
        return Cell(column, None, "", None)
    typed, key = _typed(column.attribute, value)
    return Cell(column, typed, display(column.attribute, value), key)


def _case_attributes(study) -> list[Attribute]:
    return selectors.attributes_for(study, AttributeTarget.CASE)


def _case_queryset(study):
    # Only the code of each participant is read: contact details never leave the database here.
    members = Participant.objects.only("id", "code", "case_id").order_by()
    return study.cases.prefetch_related(Prefetch("participants", queryset=members))


def _table(study, params, *, cases=None, attributes=None) -> Table:
    """The case table, sorted as ``params`` (a QueryDict) asks.

    Queries: the case attributes, the cases, their participants' codes: three, however many.
    """
    if attributes is None:
        attributes = _case_attributes(study)
    columns = _columns(attributes)
    keys = {column.key for column in columns}
    sort = params.get("sort", DEFAULT_SORT)
    sort = sort if sort in keys else DEFAULT_SORT
    descending = params.get("dir") == "desc"
    rows = []
    for case in cases if cases is not None else _case_queryset(study):
        codes = sorted((p.code for p in case.participants.all()), key=_natural)
        rows.append(Row(case=case, codes=codes, cells=[_cell(c, case, codes) for c in columns]))
    # Ties (and the empty values, always last) stay in case-name order.
    rows.sort(key=lambda row: _natural(row.case.name))
    position = [column.key for column in columns].index(sort)
    filled = [row for row in rows if row.cells[position].sort_key is not None]
    empty = [row for row in rows if row.cells[position].sort_key is None]
    filled.sort(key=lambda row: row.cells[position].sort_key, reverse=descending)
    return Table(columns=columns, rows=filled + empty, sort=sort, descending=descending)


def _case_of(study, pk: int) -> Case:
    case = _case_queryset(study).filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def _cases_page(request, access, *, add_form=None, editing=None, focus="", fragment="cases"):
    study = access.study
    table = _table(study, request.GET)
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
    table = _table(access.study, request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-cases.csv"'
    writer = csv.writer(response)
    writer.writerow([_csv_safe(column.label) for column in table.columns])
    for row in table.rows:
        writer.writerow([_csv_text(cell) for cell in row.cells])
    return response


def _csv_text(cell: Cell) -> str:
    # A validated number such as -5 is data, not a formula; every text is neutralised.
    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
        return cell.text
    return _csv_safe(cell.text)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@require_GET
@login_required
def case_table_xlsx(request, study_slug):
    access = study_for(request, study_slug)
    table = _table(access.study, request.GET)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Cases"
    widths = [len(column.label) for column in table.columns]
    for index, column in enumerate(table.columns, start=1):
        cell = _xlsx_cell(sheet, 1, index, column.label)
        cell.font = Font(bold=True)
    for row_number, row in enumerate(table.rows, start=2):
        for index, cell in enumerate(row.cells, start=1):
            target = _xlsx_cell(sheet, row_number, index, cell.value)
            if isinstance(cell.value, date):
                target.number_format = "yyyy-mm-dd"
            if cell.column.key == "description":
                target.alignment = Alignment(wrap_text=True, vertical="top")
            widths[index - 1] = max(widths[index - 1], len(cell.text))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 6), 60) + 2
    sheet.freeze_panes = "A2"
    last = f"{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    sheet.auto_filter.ref = f"A1:{last}"
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-cases.xlsx"'
    return response


def _xlsx_cell(sheet, row: int, column: int, value):
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        # openpyxl would store "=..." as a formula; text stays text, so nothing can run.
        cell.data_type = "s"
    return cell


# --- case writes ---------------------------------------------------------------------------


@require_POST
@login_required
def case_create(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    study = access.study
    form = _case_form(_case_attributes(study), request.POST)
    if form.is_valid():
        case = _apply(
            form,
            services.case_create,
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
    table = _table(access.study, request.GET, cases=[case])
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
    attributes = _case_attributes(study)
    form = _case_form(attributes, request.POST if request.method == "POST" else None, case)
    if request.method == "POST" and form.is_valid():
        saved = _apply(
            form,
            services.case_update,
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
        table = _table(study, request.GET, cases=[], attributes=attributes)
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
    try:
        version = int(request.POST.get("version", ""))
        services.case_delete(actor=request.user, case=case, version=version)
    except (ValueError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else "Reload and retry."
        messages.error(request, f"Not deleted: {message}")
        return _after_case_write(request, access, focus=f"case-{pk}")
    messages.success(request, f"Deleted case “{case.name}”.")
    return _after_case_write(request, access, focus="case-table")


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
        attribute = _apply(
            form,
            services.attribute_create,
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
        saved = _apply(
            form,
            services.attribute_update,
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
    try:
        version = int(request.POST.get("version", ""))
        services.attribute_delete(actor=request.user, attribute=attribute, version=version)
    except (ValueError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else "Reload and retry."
        messages.error(request, f"Not deleted: {message}")
        return _after_attribute_write(request, access, focus=f"attribute-{pk}")
    messages.success(request, f"Deleted attribute “{attribute.name}” and its values.")
    return _after_attribute_write(request, access, focus=f"{attribute.target}-attributes")


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
