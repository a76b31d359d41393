"""Leads assign transcripts to two coders and follow the coding progress."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from coding.forms import AssignmentForm
from coding.models import Layer
from coding.selectors.assignments import transcript_progress
from coding.selectors.blindness import blind_layer_ids
from coding.services import assignments as assignment_services
from workbench.access import study_for
from workbench.forms import apply_service

User = get_user_model()
NEED = "manage_assignments"


def _coders(study):
    """Members who may hold a layer: coders and reviewers."""
    return list(
        User.objects.filter(memberships__study=study, memberships__role__in=["coder", "reviewer"])
        .distinct()
        .order_by("username")
    )


def _page(request, access, forms=None, status=200):
    study = access.study
    rows = transcript_progress(study, blind_layer_ids(request.user, access.perms, study))
    coders = _coders(study)
    forms = forms or {}
    for row in rows:
        assignment = row.assignment
        row.form = forms.get(row.transcript.pk) or AssignmentForm(
            coders=coders,
            prefix=f"t{row.transcript.pk}",
            initial={
                "primary_coder": assignment.primary_coder_id if assignment else None,
                "second_coder": assignment.second_coder_id if assignment else None,
                "mode": assignment.mode if assignment else "independent",
            },
        )
    context = {"access": access, "study": study, "rows": rows}
    template = "coding/assignments.html"
    if request.htmx:
        template += "#assignments"
    return render(request, template, context, status=status)


@require_GET
@login_required
def assignments(request, study_slug):
    access = study_for(request, study_slug, need=NEED)
    return _page(request, access)


@require_POST
@login_required
def assignment_set(request, study_slug, pk):
    access = study_for(request, study_slug, need=NEED)
    transcript = access.study.transcripts.filter(pk=pk).first()
    if transcript is None:
        raise Http404
    form = AssignmentForm(request.POST, coders=_coders(access.study), prefix=f"t{pk}")
    if form.is_valid():
        data = form.cleaned_data
        done = apply_service(
            form,
            assignment_services.assignment_set,
            actor=request.user,
            transcript=transcript,
            primary=data["primary_coder"],
            second=data["second_coder"],
            mode=data["mode"],
        )
        if done is not None:
            messages.success(request, f"“{transcript.title}” assigned.")
            if not request.htmx:
                return redirect("assignments", study_slug=study_slug)
            return _page(request, access)
    return _page(request, access, forms={pk: form})


@require_POST
@login_required
def layer_reopen(request, study_slug, pk):
    access = study_for(request, study_slug, need=NEED)
    layer = Layer.objects.filter(pk=pk, transcript__study=access.study).first()
    if layer is None:
        raise Http404
    try:
        assignment_services.layer_reopen(
            actor=request.user,
            layer=layer,
            # htmx asks for the reason in a prompt and sends it as a header.
            reason=request.headers.get("HX-Prompt") or request.POST.get("reason", ""),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{layer.coder.get_username()}'s layer of “{layer.transcript.title}” reopened."
        )
    if request.htmx:
        return _page(request, access)
    return redirect("assignments", study_slug=study_slug)


urlpatterns = [
    path("assignments/", assignments, name="assignments"),
    path("assignments/<int:pk>/", assignment_set, name="assignment_set"),
    path("layers/<int:pk>/reopen/", layer_reopen, name="layer_reopen"),
]
