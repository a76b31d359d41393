"""Invitations: the invited person's side (the e-mailed link, accepting and declining)."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from workbench.forms import InvitationAccountForm, apply_service, posted
from workbench.selectors import invitations as invitation_selectors
from workbench.services import invitations as invitation_services


def _welcome(request, study, invitation) -> None:
    roles = ", ".join(invitation.role_labels)
    messages.success(request, f"Welcome to “{study.name}”. You joined as {roles}.")


@require_http_methods(["GET", "POST"])
def invitation_open(request, token):
    """The e-mailed link: accept or decline; a new person first chooses a password."""
    invitation = invitation_selectors.invitation_by_token(token)
    if invitation is None:
        return render(request, "registration/invitation.html", {"gone": True}, status=404)
    context = {"invitation": invitation}
    user = request.user
    if user.is_authenticated:
        context["mine"] = invitation_selectors.addressed_to(invitation, user)
        return render(request, "registration/invitation.html", context)
    if not invitation_selectors.needs_account(invitation):
        return render(request, "registration/invitation.html", context | {"sign_in": True})
    form = InvitationAccountForm(posted(request))
    if request.method == "POST" and form.is_valid():
        new_user = apply_service(
            form,
            invitation_services.invitation_accept_new_account,
            public_id=invitation.public_id,
            name=form.cleaned_data["name"],
            password=form.cleaned_data["new_password1"],
        )
        if new_user is not None:
            login(request, new_user, backend="django.contrib.auth.backends.ModelBackend")
            _welcome(request, invitation.study, invitation)
            return redirect("study_dashboard", study_slug=invitation.study.slug)
    return render(request, "registration/invitation.html", context | {"form": form})


@require_POST
@login_required
def invitation_accept(request, invitation_id):
    try:
        study = invitation_services.invitation_accept(user=request.user, public_id=invitation_id)
    except ValidationError as exc:
        return _refused(request, invitation_id, exc)
    invitation = invitation_selectors.invitation_for(request.user, invitation_id)
    _welcome(request, study, invitation)
    return redirect("study_dashboard", study_slug=study.slug)


@require_POST
@login_required
def invitation_decline(request, invitation_id):
    try:
        study = invitation_services.invitation_decline(user=request.user, public_id=invitation_id)
    except ValidationError as exc:
        return _refused(request, invitation_id, exc)
    messages.success(request, f"You declined the invitation to “{study.name}”.")
    return redirect("study_list")


def _refused(request, invitation_id, exc):
    """Not for this person: 404, as if it did not exist. Answered already (a double click):
    where the first answer led. Expired: say so."""
    invitation = invitation_selectors.invitation_for(request.user, invitation_id)
    if invitation is None:
        raise Http404
    if invitation.accepted_at:
        return redirect("study_dashboard", study_slug=invitation.study.slug)
    if not invitation.declined_at:
        messages.error(request, " ".join(exc.messages))
    return redirect("study_list")
