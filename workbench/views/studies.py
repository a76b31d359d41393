"""Study pages: the list, creating and editing a study, and its dashboard."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from workbench import dashboard
from workbench.access import can_create_studies, study_for
from workbench.forms import (
    StudyForm,
    apply_service,
    posted,
)
from workbench.selectors import invitations as invitation_selectors
from workbench.selectors import studies as study_selectors
from workbench.services import studies as study_services


@require_GET
@login_required
def study_list(request):
    context = {
        "studies": study_selectors.studies_with_my_roles(request.user),
        "invitations": invitation_selectors.invitations_for(request.user),
        "can_create": can_create_studies(request.user),
    }
    return render(request, "workbench/study_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def study_create(request):
    if not can_create_studies(request.user):
        # The site lets only staff create studies (STUDY_CREATORS=staff): say so, change nothing.
        return render(request, "workbench/study_form.html", {"not_allowed": True}, status=403)
    form = StudyForm(posted(request))
    del form.fields["requires_pseudonymisation"]  # on by default; changed on the study's page
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
    """The study at a glance: panels each app registers (``workbench.dashboard``)."""
    access = study_for(request, study_slug)
    return render(request, "workbench/dashboard.html", dashboard.page_context(request, access))


@require_http_methods(["GET", "POST"])
@login_required
def study_edit(request, study_slug):
    access = study_for(request, study_slug, need="edit_study")
    study = access.study
    initial = {
        "name": study.name,
        "description": study.description,
        "requires_pseudonymisation": study.requires_pseudonymisation,
        "version": study.version,
    }
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
            requires_pseudonymisation=form.cleaned_data["requires_pseudonymisation"],
        )
        if updated is not None:
            messages.success(request, "Study details saved.")
            return redirect("study_dashboard", study_slug=study.slug)
    return render(
        request, "workbench/study_form.html", {"form": form, "study": study, "access": access}
    )
