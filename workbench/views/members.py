"""Members, roles and invitations: the admin's side (the members page)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget

from workbench.access import study_for
from workbench.forms import (
    MemberInviteForm,
    MemberRolesForm,
    apply_service,
    posted,
)
from workbench.roles import permissions_for
from workbench.selectors import invitations as invitation_selectors
from workbench.selectors import members as member_selectors
from workbench.services import invitations as invitation_services
from workbench.services import members as member_services

User = get_user_model()


def _members_page(request, access, *, invite_form=None, editing=None, status=200):
    context = {
        "access": access,
        "study": access.study,
        "members": member_selectors.study_members(access.study),
        "invitations": invitation_selectors.study_invitations(access.study),
        "invite_form": invite_form or MemberInviteForm(),
        "editing": editing,
    }
    template = "workbench/members.html"
    if request.htmx:
        template += "#members"
    return render(request, template, context, status=status)


@require_GET
@login_required
def members(request, study_slug):
    access = study_for(request, study_slug, need="manage_members")
    return _members_page(request, access)


@require_POST
@login_required
def member_invite(request, study_slug):
    """Invite by e-mail or username: the answer is the same whether or not an account matches."""
    access = study_for(request, study_slug, need="manage_members")
    form = MemberInviteForm(request.POST)
    if form.is_valid():
        issued = apply_service(
            form,
            invitation_services.invitation_create,
            actor=request.user,
            study=access.study,
            identifier=form.cleaned_data["identifier"],
            roles=form.cleaned_data["roles"],
        )
        if issued is not None:
            _send(request, issued, again=False)
            return _done(request, access)
    return _members_page(request, access, invite_form=form)


def _send(request, issued, *, again: bool) -> None:
    """Mail the link (when there is an address) and say what happened."""
    sent = invitation_services.invitation_send(
        actor=request.user, issued=issued, base_url=request.build_absolute_uri("/")
    )
    who = issued.invitation.identifier
    if sent is None:
        until = date_format(timezone.localtime(issued.invitation.expires_at), "j F Y")
        messages.success(
            request,
            f"Invitation for “{who}” saved until {until}. A username gets no e-mail: if the "
            "account exists, its owner finds the invitation on their study list after signing "
            "in, so tell them to look there.",
        )
    elif sent:
        messages.success(
            request,
            f"Invitation {'sent again' if again else 'sent'} to {who}"
            f"{'; the earlier link no longer works' if again else ''}. "
            "They join once they accept; until then you see only the address you typed.",
        )
    else:
        messages.error(
            request,
            f"The invitation for {who} is saved, but the e-mail could not be sent (the mail "
            "server refused it or did not answer). Once mail works, use “Resend invitation” "
            "below.",
        )


def _done(request, access):
    if not request.htmx:
        return redirect("members", study_slug=access.study.slug)
    return _members_page(request, access)


@require_POST
@login_required
def invitation_resend(request, study_slug, invitation_id):
    """A new link and a new week for an unanswered invitation, also an expired one."""
    access = study_for(request, study_slug, need="manage_members")
    if invitation_selectors.invitation_of(access.study, invitation_id) is None:
        raise Http404
    try:
        issued = invitation_services.invitation_renew(
            actor=request.user, study=access.study, public_id=invitation_id
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        _send(request, issued, again=True)
    return _done(request, access)


@require_POST
@login_required
def invitation_withdraw(request, study_slug, invitation_id):
    access = study_for(request, study_slug, need="manage_members")
    if invitation_selectors.invitation_of(access.study, invitation_id) is None:
        raise Http404
    try:
        who = invitation_services.invitation_withdraw(
            actor=request.user, study=access.study, public_id=invitation_id
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Invitation for {who} withdrawn.")
    return _done(request, access)


@require_POST
@login_required
def member_link_resend(request, study_slug, user_id):
    """A new set-your-password link for a member invited before invitations were accepted."""
    access = study_for(request, study_slug, need="manage_members")
    member = member_selectors.member_of(access.study, user_id)
    if member is None:
        raise Http404
    try:
        sent = member_services.member_link_send(
            actor=request.user,
            study=access.study,
            user=member.user,
            base_url=request.build_absolute_uri("/"),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        name = member.user.get_username()
        if sent:
            messages.success(request, f"A new link to set a password went to {name}.")
        else:
            messages.error(request, f"The e-mail to {name} could not be sent; try again later.")
    return _done(request, access)


@require_http_methods(["GET", "POST"])
@login_required
def member_roles(request, study_slug, user_id):
    access = study_for(request, study_slug, need="manage_members")
    member = member_selectors.member_of(access.study, user_id)
    if member is None:
        raise Http404
    form = MemberRolesForm(posted(request), initial={"roles": member.roles})
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            member_services.member_set_roles,
            actor=request.user,
            study=access.study,
            user=member.user,
            roles=form.cleaned_data["roles"],
        )
        if done:
            name = member.user.get_username()
            if form.cleaned_data["roles"]:
                messages.success(request, f"Roles of {name} saved.")
            else:
                messages.success(request, f"{name} removed from the study.")
            if member.user == request.user and "manage_members" not in permissions_for(
                form.cleaned_data["roles"]
            ):
                # You just gave up managing members (or the study): go where you still belong.
                if form.cleaned_data["roles"]:
                    return _go(request, reverse("study_dashboard", args=[study_slug]))
                return _go(request, reverse("study_list"))
            if not request.htmx:
                return redirect("members", study_slug=study_slug)
            return retarget(_members_page(request, access), "#members")
    if request.htmx:
        return render(
            request,
            "workbench/members.html#roles-form",
            {"access": access, "study": access.study, "member": member, "form": form},
        )
    return _members_page(request, access, editing=(member.user.pk, form))


def _go(request, url):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """Setting a password from a link of the former invitation flow (see ``member_link_send``)."""

    template_name = "registration/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Sign in to start.")
        return response
