"""Merging and splitting codes, and undoing either (admins: ``manage_codebook``).

A merge is two steps: choose the code to merge into (or name a new one), then a preview with
the codings per layer the admin may see and the draft definition to edit, and confirm. Layers
the admin is blind to move too, but are never listed or counted on these pages.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from coding.forms import DefinitionDraftForm, MergeTargetForm, SplitForm
from coding.selectors import codebook_evolution as selectors
from coding.selectors.blindness import viewer_of
from coding.services import codebook_evolution as services
from workbench.access import study_for

MANAGE = "manage_codebook"


def _code(viewer, ref):
    code = viewer.codes().filter(public_id=ref).select_related("parent").first()
    if code is None:
        raise Http404
    return code


def _done(request, access, op, text):
    messages.success(request, text)
    return redirect("code_operation", study_slug=access.study.slug, ref=op.public_id)


@require_http_methods(["GET", "POST"])
@login_required
def code_merge(request, study_slug, ref):
    access = study_for(request, study_slug, need=MANAGE)
    viewer = viewer_of(request, access)
    code = _code(viewer, ref)
    choices = list(selectors.merge_choices(viewer, code))
    pick = MergeTargetForm(request.GET or None, choices=choices)
    context = {"access": access, "study": access.study, "code": code, "pick": pick}
    context["nav_section"], context["blind"] = "codebook", bool(viewer.pairs)
    if not pick.is_bound or not pick.is_valid():
        return render(request, "coding/code_merge.html", context)
    other = next(c for c in choices if c.public_id == pick.cleaned_data["into"])
    new_name = pick.cleaned_data["new_name"].strip()
    # Into the other code, or both into a new one.
    sources, target = ([code, other], None) if new_name else ([code], other)
    plan = selectors.merge_plan(
        access.study, [c.pk for c in sources], target.pk if target else None
    )
    draft = DefinitionDraftForm(
        request.POST or None, initial=selectors.merge_draft(sources, target)
    )
    if request.method == "POST" and draft.is_valid():
        # Versions are posted per code's public id; the service keys them by code.
        by_ref = {c.public_id: c.pk for c in [*sources, *([target] if target else [])]}
        versions = {
            by_ref[k[2:]]: int(v)
            for k, v in request.POST.items()
            if k.startswith("v-") and k[2:] in by_ref and v.isdigit()
        }
        try:
            op = services.codes_merge(
                actor=request.user, sources=sources, target=target, versions=versions,
                new_name=new_name, definitions=draft.cleaned_data,
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, f"Not merged: {' '.join(exc.messages)}")
        else:
            names = " and ".join(f"“{c.name}”" for c in sources)
            return _done(request, access, op, f"{names} merged into “{op.target.name}”.")
    context |= {
        "target": target,
        "new_name": new_name,
        "draft": draft,
        "rows": selectors.merge_preview(viewer, sources, target, plan),
        "sources": sources,
        "other": other,
    }
    return render(request, "coding/code_merge.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def code_split(request, study_slug, ref):
    access = study_for(request, study_slug, need=MANAGE)
    viewer = viewer_of(request, access)
    code = _code(viewer, ref)
    form = SplitForm(request.POST or None, initial={"version": code.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            op = services.code_split(
                actor=request.user, code=code, version=data["version"], name=data["name"],
                definitions=data, codings=request.POST.getlist("coding"),
                consensus=[int(pk) for pk in request.POST.getlist("consensus") if pk.isdigit()],
                transcripts=[int(pk) for pk in request.POST.getlist("transcript") if pk.isdigit()],
                perms_layers=viewer.layers(),
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, f"Not split: {' '.join(exc.messages)}")
        else:
            return _done(request, access, op, f"“{op.target.name}” split from “{code.name}”.")
    context = {
        "access": access,
        "study": access.study,
        "code": code,
        "form": form,
        "groups": selectors.split_candidates(viewer, code),
        "picked": set(request.POST.getlist("coding")),
        "nav_section": "codebook",
        "blind": bool(viewer.pairs),
    }
    return render(request, "coding/code_split.html", context)


def _operation(access, ref):
    op = selectors.operation(access.study, ref)
    if op is None:
        raise Http404
    return op


@require_http_methods(["GET"])
@login_required
def code_operation(request, study_slug, ref):
    access = study_for(request, study_slug, need=MANAGE)
    viewer = viewer_of(request, access)
    op = _operation(access, ref)
    context = {
        "access": access,
        "study": access.study,
        "op": op,
        "rows": selectors.operation_rows(viewer, op),
        "nav_section": "codebook",
        "blind": bool(viewer.pairs),
    }
    return render(request, "coding/code_operation.html", context)


@require_POST
@login_required
def code_operation_undo(request, study_slug, ref):
    access = study_for(request, study_slug, need=MANAGE)
    op = _operation(access, ref)
    try:
        services.codebook_operation_undo(actor=request.user, operation=op)
    except ValidationError as exc:
        messages.error(request, f"Not undone: {' '.join(exc.messages)}")
        return redirect("code_operation", study_slug=access.study.slug, ref=op.public_id)
    messages.success(request, f"{op.get_kind_display()} undone: the codings are back.")
    return redirect(reverse("codebook", kwargs={"study_slug": access.study.slug}))
