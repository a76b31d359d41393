"""Study pages: the list, creating and editing a study, and its dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from coding.selectors.assignments import my_layers, study_percent, transcript_progress
from transcripts.selectors import transcripts as transcript_selectors
from workbench.access import study_for
from workbench.forms import (
    StudyForm,
    apply_service,
    posted,
)
from workbench.selectors import audit as audit_selectors
from workbench.selectors import design as design_selectors
from workbench.selectors import members as member_selectors
from workbench.selectors import studies as study_selectors
from workbench.services import studies as study_services


@require_GET
@login_required
def study_list(request):
    studies = study_selectors.studies_with_my_roles(request.user)
    return render(request, "workbench/study_list.html", {"studies": studies})


@require_http_methods(["GET", "POST"])
@login_required
def study_create(request):
    form = StudyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        study = apply_service(
            form,
            study_services.study_create,
            actor=request.user,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
        if study is not None:
            messages.success(request, f"Study “{study.name}” created. You are its admin.")
            return redirect("study_dashboard", study_slug=study.slug)
    return render(request, "workbench/study_form.html", {"form": form})


@require_GET
@login_required
def study_dashboard(request, study_slug):
    access = study_for(request, study_slug)
    progress_rows = transcript_progress(access.study)
    context = {
        "access": access,
        "study": access.study,
        "design": design_selectors.study_design(access.study),
        "members": member_selectors.study_members(access.study),
        "overview": transcript_selectors.study_overview(access.study),
        "progress": progress_rows,
        "study_percent": study_percent(progress_rows),
        "my_layers": my_layers(access.study, request.user),
        "recent_events": (
            audit_selectors.audit_events(access.study, {})[:8] if access.can("view_audit") else []
        ),
    }
    return render(request, "workbench/dashboard.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def study_edit(request, study_slug):
    access = study_for(request, study_slug, need="edit_study")
    study = access.study
    initial = {"name": study.name, "description": study.description, "version": study.version}
    form = StudyForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        updated = apply_service(
            form,
            study_services.study_update,
            actor=request.user,
            study=study,
            version=form.cleaned_data["version"],
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
        )
        if updated is not None:
            messages.success(request, "Study details saved.")
            return redirect("study_dashboard", study_slug=study.slug)
    return render(
        request, "workbench/study_form.html", {"form": form, "study": study, "access": access}
    )
