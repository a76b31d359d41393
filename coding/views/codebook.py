"""The codebook pages: browse, edit inline, history, seeding, import and export.

Every view calls ``study_for`` first: every member reads the codebook, ``manage_codebook``
(admins) changes it. htmx requests get a fragment of the same template (``template#fragment``);
plain POSTs redirect, so every form works without JavaScript.
"""

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget

from coding.formats import codebook as interchange
from coding.forms import (
    CodebookFilterForm,
    CodebookImportForm,
    CodebookSettingsForm,
    CodeForm,
    DimensionPickForm,
    SuggestionFormSet,
)
from coding.selectors import codebook as codebook_selectors
from coding.selectors.blindness import viewer_of
from coding.services import codebook as codebook_services
from workbench import uploads as upload_limits
from workbench.access import study_for
from workbench.forms import apply_service, posted

MANAGE = "manage_codebook"
CODE_FIELDS = ("name", "definition", "when_to_use", "when_not_to_use", "example", "colour")


def _usage_layers(request, access):
    """The layers whose codings the codebook's usage counts may include for this viewer: the
    layers they may see, and for those who manage the codebook also the submitted layers of
    transcripts they do not code (``countable_layers_in_study`` says why)."""
    viewer = viewer_of(request, access)
    return viewer.countable_layers() if access.can(MANAGE) else viewer.layers()


def _hidden(request, access):
    """The codes this viewer may not know of (a blind colleague's inductive codes)."""
    return viewer_of(request, access).hidden_codes


def _code_of(request, access, ref: str):
    code = codebook_selectors.code(
        access.study, ref, _usage_layers(request, access), _hidden(request, access)
    )
    if code is None:
        raise Http404
    return code


def _code_form(study, data=None, code=None, hidden=None) -> CodeForm:
    if code is None:
        # A colour input always posts a colour (black when it has none): start it on the
        # study's next unused palette colour, so a code added without a choice gets that.
        initial = {"colour": codebook_selectors.next_colour(study, hidden)}
        return CodeForm(data, study=study, prefix="new-code", initial=initial)
    initial = {key: getattr(code, key) for key in CODE_FIELDS} | {
        "parent": code.parent.public_id if code.parent_id else None,
        "guide_questions": [gq.pk for gq in code.guide_questions.all()],
        "dimension_values": [value.pk for value in code.dimension_values.all()],
        "version": code.version,
    }
    return CodeForm(data, study=study, code=code, initial=initial, prefix=f"code-{code.public_id}")


def _filters(request, study):
    form = CodebookFilterForm(request.GET or None, study=study)
    return form, (form.cleaned_data if form.is_bound and form.is_valid() else {})


def _context(access, **extra):
    study = access.study
    return {
        "access": access,
        "study": study,
        "can_edit": access.can(MANAGE),
        "nav_section": "codebook",
    } | extra


def _codebook_page(request, access, *, add_form=None, editing=None, focus="", fragment="codebook"):
    study = access.study
    filter_form, filters = _filters(request, study)
    context = _context(
        access,
        codes=codebook_selectors.codebook(
            study, filters, _usage_layers(request, access), _hidden(request, access)
        ),
        filter_form=filter_form,
        filtered=bool(filters and any(filters.values())),
        query=request.GET.urlencode(),
        editing=editing,
        focus=focus,
    )
    if context["can_edit"]:
        settings = codebook_services.codebook_settings(study)
        context |= {
            "add_form": add_form or _code_form(study, hidden=_hidden(request, access)),
            "settings_form": CodebookSettingsForm(
                initial={"inductive_codes": settings.inductive_codes, "version": settings.version}
            ),
        }
    template = "coding/codebook.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += f"#{fragment}"
    return render(request, template, context)


def _codebook_url(study, anchor=""):
    return reverse("codebook", kwargs={"study_slug": study.slug}) + (f"#{anchor}" if anchor else "")


def _after_write(request, access, focus):
    if request.htmx:
        return retarget(_codebook_page(request, access, focus=focus), "#codebook")
    return redirect(_codebook_url(access.study, focus))


@require_GET
@login_required
@vary_on_headers("HX-Request")
def codebook(request, study_slug):
    access = study_for(request, study_slug)
    # Search and filters swap just the table.
    return _codebook_page(request, access, fragment="code-table")


def _save_args(form) -> dict:
    data = form.cleaned_data
    return {key: data[key] for key in CODE_FIELDS} | {
        "parent": data.get("parent"),
        "guide_questions": data["guide_questions"],
        "dimension_values": data["dimension_values"],
    }


@require_POST
@login_required
def code_create(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    form = _code_form(access.study, request.POST)
    if form.is_valid():
        code = apply_service(
            form,
            codebook_services.code_create,
            actor=request.user,
            study=access.study,
            origin=form.cleaned_data["origin"],
            kind=form.cleaned_data["kind"],
            **_save_args(form),
        )
        if code is not None:
            messages.success(request, f"Code “{code.name}” added.")
            return _after_write(request, access, focus=f"code-{code.public_id}")
    return _codebook_page(request, access, add_form=form, focus="add-new-code")


@require_GET
@login_required
def code_row(request, study_slug, ref):
    """One code as a table row: what an inline form's Cancel puts back."""
    access = study_for(request, study_slug)
    code = _code_of(request, access, ref)
    if not request.htmx:
        return redirect(_codebook_url(access.study, f"code-{ref}"))
    context = _context(access, code=code, standalone=True)
    return retarget(render(request, "coding/codebook.html#code-row", context), f"#code-{ref}")


@require_http_methods(["GET", "POST"])
@login_required
def code_edit(request, study_slug, ref):
    access = study_for(request, study_slug, need=MANAGE)
    code = _code_of(request, access, ref)
    form = _code_form(access.study, posted(request), code)
    if request.method == "POST" and form.is_valid():
        result = apply_service(
            form,
            codebook_services.code_update,
            actor=request.user,
            code=code,
            version=form.cleaned_data["version"],
            flag_codings=form.cleaned_data.get("flag_codings", False),
            during=form.cleaned_data.get("during"),
            **_save_args(form),
        )
        if result is not None:
            if result.changes:
                done = ", ".join(result.changes)
                flagged = (
                    f" {result.flagged} coding{pluralize(result.flagged)} flagged to re-check."
                    if result.flagged
                    else ""
                )
                messages.success(request, f"Code “{result.code.name}” saved ({done}).{flagged}")
            else:
                messages.info(request, "Nothing changed.")
            return _after_write(request, access, focus=f"code-{ref}")
    if request.htmx:
        context = _context(access, code=code, form=form)
        return render(request, "coding/codebook.html#code-form-row", context)
    return _codebook_page(request, access, editing=(ref, form), focus=f"code-{ref}")


def _status_change(request, study_slug, ref, operation, done: str):
    access = study_for(request, study_slug, need=MANAGE)
    code = _code_of(request, access, ref)
    try:
        version = int(request.POST.get("version", ""))
        operation(actor=request.user, code=code, version=version)
    except (ValueError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else "Reload and retry."
        messages.error(request, f"Not changed: {message}")
    else:
        messages.success(request, f"Code “{code.name}” {done}.")
    return _after_write(request, access, focus=f"code-{ref}")


@require_POST
@login_required
def code_retire(request, study_slug, ref):
    return _status_change(
        request, study_slug, ref, codebook_services.code_retire, "retired; its codings are kept"
    )


@require_POST
@login_required
def code_reactivate(request, study_slug, ref):
    return _status_change(
        request, study_slug, ref, codebook_services.code_reactivate, "reactivated"
    )


@require_POST
@login_required
def code_approve(request, study_slug, ref):
    return _status_change(request, study_slug, ref, codebook_services.code_approve, "approved")


@require_GET
@login_required
def code_history(request, study_slug, ref):
    access = study_for(request, study_slug)
    code = _code_of(request, access, ref)
    context = _context(access, code=code, history=codebook_selectors.code_history(code))
    if request.htmx:
        template = (
            "coding/code_history.html#history-closed"
            if "close" in request.GET
            else ("coding/code_history.html#history-row")
        )
        return render(request, template, context)
    return render(request, "coding/code_history.html", context)


@require_POST
@login_required
def codebook_settings(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    form = CodebookSettingsForm(request.POST)
    if form.is_valid():
        try:
            codebook_services.codebook_settings_update(
                actor=request.user,
                study=access.study,
                version=form.cleaned_data["version"],
                inductive_codes=form.cleaned_data["inductive_codes"],
            )
        except ValidationError as exc:
            messages.error(request, f"Not saved: {exc.messages[0]}")
        else:
            messages.success(request, "Codebook settings saved.")
    else:
        messages.error(request, "Not saved: choose one of the options.")
    return _after_write(request, access, focus="codebook-settings")


# --- seeding -------------------------------------------------------------------------------


def _suggestion_initial(suggestions):
    return [
        {
            "include": not s.exists,
            "name": s.name,
            "definition": s.definition,
            "when_to_use": s.when_to_use,
            "guide_questions": ",".join(map(str, s.guide_question_ids)),
            "dimension_values": ",".join(map(str, s.dimension_value_ids)),
        }
        for s in suggestions
    ]


def _create_from_formset(request, access, formset, note):
    chosen = [
        codebook_services.Suggestion(
            name=f.cleaned_data["name"],
            definition=f.cleaned_data["definition"],
            when_to_use=f.cleaned_data["when_to_use"],
            guide_question_ids=f.cleaned_data["guide_questions"],
            dimension_value_ids=f.cleaned_data["dimension_values"],
        )
        for f in formset
        if f.cleaned_data.get("include")
    ]
    if not chosen:
        messages.error(request, "Nothing was ticked, so no code was created.")
        return None
    report = codebook_services.codes_create_bulk(
        actor=request.user, study=access.study, suggestions=chosen, note=note
    )
    text = f"{len(report.created)} code{'s' if len(report.created) != 1 else ''} created."
    if report.skipped:
        text += " Skipped: " + "; ".join(f"“{n}” ({why})" for n, why in report.skipped) + "."
    messages.success(request, text)
    return redirect(_codebook_url(access.study, "code-table"))


@require_http_methods(["GET", "POST"])
@login_required
def codebook_seed_guide(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    suggestions = codebook_services.suggest_codes_from_guide(access.study)
    formset = SuggestionFormSet(posted(request), initial=_suggestion_initial(suggestions))
    if request.method == "POST" and formset.is_valid():
        done = _create_from_formset(request, access, formset, note="seeded from the guide")
        if done is not None:
            return done
    rows = list(zip(formset, suggestions, strict=False))
    context = _context(access, formset=formset, rows=rows, source="guide")
    return render(request, "coding/seed.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def codebook_seed_dimensions(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    pick = DimensionPickForm(request.GET or None, study=access.study)
    suggestions, formset = [], None
    if pick.is_bound and pick.is_valid():
        try:
            suggestions = codebook_services.suggest_codes_from_dimensions(
                access.study, [d.pk for d in pick.cleaned_data["dimensions"]]
            )
        except ValidationError as exc:
            pick.add_error("dimensions", exc.messages[0])
        else:
            formset = SuggestionFormSet(posted(request), initial=_suggestion_initial(suggestions))
            if request.method == "POST" and formset.is_valid():
                done = _create_from_formset(
                    request, access, formset, note="seeded from dimension combinations"
                )
                if done is not None:
                    return done
    elif request.method == "POST":
        messages.error(request, "Choose the dimensions first.")
    rows = list(zip(formset, suggestions, strict=False)) if formset else []
    context = _context(access, pick=pick, formset=formset, rows=rows, source="dimensions")
    return render(request, "coding/seed.html", context)


# --- import and export ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def codebook_import(request, study_slug):
    access = study_for(request, study_slug, need=MANAGE)
    form = CodebookImportForm(request.POST or None, request.FILES or None)
    parsed, report = None, None
    if refused := upload_limits.refusal(request):
        form = CodebookImportForm()  # the file was not kept: the report says why
        parsed = interchange.ParsedCodebook(errors=[refused])
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read(interchange.MAX_BYTES * 10 + 1)
        name = upload.name.lower()
        if name.endswith((".qdc", ".qdpx", ".qde", ".xml")):
            parsed = interchange.parse_qdc(data, access.study)
        else:
            parsed = interchange.parse_csv(data, access.study)
        if parsed.valid:
            try:
                report = codebook_services.codes_import(
                    actor=request.user, study=access.study, parsed=parsed, source=upload.name
                )
            except ValidationError as exc:
                # A rule the parser could not foresee (or a concurrent edit): nothing written.
                parsed.errors.extend(exc.messages)
        if report is not None:
            messages.success(
                request,
                f"{len(report.created)} code{'s' if len(report.created) != 1 else ''} imported"
                f" from {upload.name}; {len(report.skipped)} skipped.",
            )
    context = _context(access, form=form, parsed=parsed, report=report)
    return render(request, "coding/import.html", context, status=200)


@require_GET
@login_required
def codebook_csv(request, study_slug):
    access = study_for(request, study_slug)
    codes = codebook_selectors.codes(access.study, hidden=_hidden(request, access))
    codes = codebook_selectors.tree_order(list(codes))
    out = io.StringIO()
    interchange.write_csv(codes, out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-codebook.csv"'
    return response


@require_GET
@login_required
def codebook_qdc(request, study_slug):
    access = study_for(request, study_slug)
    codes = codebook_selectors.codes(access.study, hidden=_hidden(request, access))
    codes = codebook_selectors.tree_order(list(codes))
    body = interchange.qdc_bytes(codes, origin=f"Qualitative workbench: {access.study.name}")
    response = HttpResponse(body, content_type="application/xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-codebook.qdc"'
    return response
