"""Members, roles and invitations."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget

from workbench.access import study_for
from workbench.forms import (
    MemberAddForm,
    MemberInviteForm,
    MemberRolesForm,
    apply_service,
    posted,
)
from workbench.roles import permissions_for
from workbench.selectors import members as member_selectors
from workbench.services import members as member_services

User = get_user_model()


def _members_page(request, access, *, add_form=None, invite_form=None, editing=None, status=200):
    context = {
        "access": access,
        "study": access.study,
        "members": member_selectors.study_members(access.study),
        "add_form": add_form or MemberAddForm(),
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
def member_add(request, study_slug):
    access = study_for(request, study_slug, need="manage_members")
    form = MemberAddForm(request.POST)
    if form.is_valid():
        user = apply_service(
            form,
            member_services.member_add,
            actor=request.user,
            study=access.study,
            identifier=form.cleaned_data["identifier"],
            roles=form.cleaned_data["roles"],
        )
        if user is not None:
            messages.success(request, f"{user.get_username()} added.")
            if not request.htmx:
                return redirect("members", study_slug=study_slug)
            return _members_page(request, access)
    return _members_page(request, access, add_form=form)


@require_POST
@login_required
def member_invite(request, study_slug):
    access = study_for(request, study_slug, need="manage_members")
    form = MemberInviteForm(request.POST)
    if form.is_valid():
        user = apply_service(
            form,
            member_services.member_invite,
            actor=request.user,
            study=access.study,
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            roles=form.cleaned_data["roles"],
            base_url=request.build_absolute_uri("/"),
        )
        if user is not None:
            messages.success(
                request, f"Invitation sent to {user.email}. The link in it works once."
            )
            if not request.htmx:
                return redirect("members", study_slug=study_slug)
            return _members_page(request, access)
    return _members_page(request, access, invite_form=form)


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
    template_name = "registration/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Sign in to start.")
        return response
