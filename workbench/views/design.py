"""The research design page: research questions, the interview guide, dimensions, edited inline."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import retarget

from workbench.access import study_for
from workbench.forms import (
    DimensionEditForm,
    DimensionForm,
    DimensionValueForm,
    GuideQuestionForm,
    ResearchQuestionForm,
    apply_service,
)
from workbench.models import Dimension, GuideQuestion, ResearchQuestion
from workbench.selectors import design as design_selectors
from workbench.services import design as design_services
from workbench.views.shared import delete_versioned

DESIGN_FORMS = {
    "rq": ResearchQuestionForm,
    "guide": GuideQuestionForm,
    "dimension": DimensionForm,
    "value": DimensionValueForm,
}


def _form_for(kind, study, data=None, obj=None, prefix=None):
    form_class = DimensionEditForm if kind == "dimension" and obj else DESIGN_FORMS[kind]
    kwargs = {"prefix": prefix}
    if form_class is GuideQuestionForm:
        kwargs["study"] = study
    if obj is not None:
        kwargs["initial"] = _initial(obj)
    return form_class(data, **kwargs)


def _initial(obj) -> dict:
    if isinstance(obj, ResearchQuestion):
        values = {"label": obj.label, "text": obj.text}
    elif isinstance(obj, GuideQuestion):
        values = {
            "text": obj.text,
            "probes": obj.probes,
            "research_questions": [rq.pk for rq in obj.research_questions.all()],
        }
    elif isinstance(obj, Dimension):
        values = {"name": obj.name, "description": obj.description}
    else:
        values = {"label": obj.label}
    return values | {"version": obj.version}


def _design_page(request, access, *, add_forms=None, editing=None, focus=""):
    study = access.study
    add_forms = add_forms or {}
    can_edit = access.can("manage_design")
    design = design_selectors.study_design(study)
    if editing:
        kind, pk, form = editing
        for item in _design_items(design, kind):
            if item.pk == pk:
                item.edit_form = form
    if can_edit:
        value_forms = add_forms.get("value", {})
        for dimension in design.dimensions:
            dimension.value_form = value_forms.get(dimension.pk) or _form_for(
                "value", study, prefix=f"new-value-{dimension.pk}"
            )
    context = {
        "access": access,
        "study": study,
        "design": design,
        "can_edit": can_edit,
        "editing": editing,
        "focus": focus,
    }
    if can_edit:
        context |= {
            "rq_form": add_forms.get("rq") or _form_for("rq", study, prefix="new-rq"),
            "guide_form": add_forms.get("guide") or _form_for("guide", study, prefix="new-guide"),
            "dimension_form": add_forms.get("dimension")
            or _form_for("dimension", study, prefix="new-dimension"),
        }
    template = "workbench/design.html"
    if request.htmx:
        template += "#design"
    return render(request, template, context)


def _design_items(design, kind):
    if kind == "rq":
        return design.research_questions
    if kind == "guide":
        return design.guide_questions
    if kind == "dimension":
        return design.dimensions
    return [value for dimension in design.dimensions for value in dimension.values.all()]


def _after_design_write(request, access, focus):
    if request.htmx:
        return retarget(_design_page(request, access, focus=focus), "#design")
    return redirect(reverse("design", kwargs={"study_slug": access.study.slug}) + f"#{focus}")


@require_GET
@login_required
def design(request, study_slug):
    access = study_for(request, study_slug)
    return _design_page(request, access)


def _create(kind, request, study, form, parent=None):
    data = form.cleaned_data
    actor = request.user
    if kind == "rq":
        return design_services.research_question_create(
            actor=actor, study=study, label=data["label"], text=data["text"]
        )
    if kind == "guide":
        return design_services.guide_question_create(
            actor=actor,
            study=study,
            text=data["text"],
            probes=data["probes"],
            research_questions=data["research_questions"],
        )
    if kind == "dimension":
        return design_services.dimension_create(
            actor=actor,
            study=study,
            name=data["name"],
            description=data["description"],
            values=data["values"],
        )
    return design_services.dimension_value_create(
        actor=actor, dimension=parent, label=data["label"]
    )


def _update(kind, request, obj, form):
    data = form.cleaned_data
    common = {"actor": request.user, "version": data["version"]}
    if kind == "rq":
        return design_services.research_question_update(
            rq=obj, label=data["label"], text=data["text"], **common
        )
    if kind == "guide":
        return design_services.guide_question_update(
            gq=obj,
            text=data["text"],
            probes=data["probes"],
            research_questions=data["research_questions"],
            **common,
        )
    if kind == "dimension":
        return design_services.dimension_update(
            dimension=obj, name=data["name"], description=data["description"], **common
        )
    return design_services.dimension_value_update(value=obj, label=data["label"], **common)


@require_POST
@login_required
def design_item_create(request, study_slug, kind, parent_id=None):
    access = study_for(request, study_slug, need="manage_design")
    if kind not in DESIGN_FORMS or (kind == "value") != (parent_id is not None):
        raise Http404
    parent = None
    prefix = f"new-{kind}"
    if kind == "value":
        parent = design_selectors.design_item(access.study, "dimension", parent_id)
        if parent is None:
            raise Http404
        prefix = f"new-value-{parent.pk}"
    form = _form_for(kind, access.study, request.POST, prefix=prefix)
    if form.is_valid():
        obj = apply_service(
            form, _create, kind=kind, request=request, study=access.study, form=form, parent=parent
        )
        if obj is not None:
            return _after_design_write(request, access, focus=f"{kind}-{obj.pk}")
    add_forms = {"value": {parent.pk: form}} if parent else {kind: form}
    return _design_page(request, access, add_forms=add_forms, focus=f"add-{prefix}")


@require_GET
@login_required
def design_item(request, study_slug, kind, pk):
    """One design item as a row: what an inline form's Cancel puts back."""
    access = study_for(request, study_slug)
    obj = design_selectors.design_item(access.study, kind, pk)
    if obj is None:
        raise Http404
    if not request.htmx:
        return redirect(reverse("design", kwargs={"study_slug": study_slug}) + f"#{kind}-{pk}")
    context = {
        "access": access,
        "study": access.study,
        "kind": kind,
        "item": obj,
        "can_edit": access.can("manage_design"),
        "standalone": True,
    }
    if kind == "guide":
        context["number"] = design_selectors.guide_question_number(obj)
    return render(request, "workbench/design.html#item-row", context)


@require_http_methods(["GET", "POST"])
@login_required
def design_item_edit(request, study_slug, kind, pk):
    access = study_for(request, study_slug, need="manage_design")
    obj = design_selectors.design_item(access.study, kind, pk)
    if obj is None:
        raise Http404
    if request.method == "POST":
        form = _form_for(kind, access.study, request.POST, obj=obj, prefix=f"{kind}-{pk}")
        if form.is_valid():
            saved = apply_service(form, _update, kind=kind, request=request, obj=obj, form=form)
            if saved is not None:
                return _after_design_write(request, access, focus=f"{kind}-{pk}")
    else:
        form = _form_for(kind, access.study, obj=obj, prefix=f"{kind}-{pk}")
    if request.htmx:
        return render(
            request,
            "workbench/design.html#item-form",
            {"access": access, "study": access.study, "kind": kind, "item": obj, "form": form},
        )
    return _design_page(request, access, editing=(kind, pk, form), focus=f"{kind}-{pk}")


@require_POST
@login_required
def design_item_delete(request, study_slug, kind, pk):
    access = study_for(request, study_slug, need="manage_design")
    obj = design_selectors.design_item(access.study, kind, pk)
    if obj is None:
        raise Http404
    delete_versioned(
        request,
        design_services.design_item_delete,
        study=access.study,
        obj=obj,
        done=f"Deleted {obj}.",
    )
    return _after_design_write(request, access, focus=f"{kind}-section")


@require_POST
@login_required
def design_item_move(request, study_slug, kind, pk):
    access = study_for(request, study_slug, need="manage_design")
    obj = design_selectors.design_item(access.study, kind, pk)
    if obj is None:
        raise Http404
    try:
        design_services.design_item_move(
            actor=request.user,
            study=access.study,
            obj=obj,
            direction=request.POST.get("direction", ""),
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return _after_design_write(request, access, focus=f"{kind}-{pk}")
