"""Study, member, research-design and audit pages.

Every study view calls ``study_for`` first. htmx requests get a fragment of the same template
(``template#fragment``); plain POSTs redirect, so every form works without JavaScript.
"""

import csv
import json

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget

from coding.progress import my_layers, study_percent, transcript_progress
from transcripts import selectors as transcript_selectors
from workbench import selectors, services
from workbench.access import study_for
from workbench.exports import csv_safe
from workbench.forms import (
    AuditFilterForm,
    DimensionEditForm,
    DimensionForm,
    DimensionValueForm,
    GuideQuestionForm,
    MemberAddForm,
    MemberInviteForm,
    MemberRolesForm,
    ResearchQuestionForm,
    StudyForm,
    apply_service,
    posted,
)
from workbench.models import Dimension, GuideQuestion, ResearchQuestion
from workbench.roles import permissions_for

User = get_user_model()


# --- studies -------------------------------------------------------------------------------


@require_GET
@login_required
def study_list(request):
    studies = selectors.studies_with_my_roles(request.user)
    return render(request, "workbench/study_list.html", {"studies": studies})


@require_http_methods(["GET", "POST"])
@login_required
def study_create(request):
    form = StudyForm(posted(request))
    if request.method == "POST" and form.is_valid():
        study = apply_service(
            form,
            services.study_create,
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
        "design": selectors.study_design(access.study),
        "members": selectors.study_members(access.study),
        "overview": transcript_selectors.study_overview(access.study),
        "progress": progress_rows,
        "study_percent": study_percent(progress_rows),
        "my_layers": my_layers(access.study, request.user),
        "recent_events": (
            selectors.audit_events(access.study, {})[:8] if access.can("view_audit") else []
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
            services.study_update,
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


# --- members -------------------------------------------------------------------------------


def _members_page(request, access, *, add_form=None, invite_form=None, editing=None, status=200):
    context = {
        "access": access,
        "study": access.study,
        "members": selectors.study_members(access.study),
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
            services.member_add,
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
            services.member_invite,
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
    member = selectors.member_of(access.study, user_id)
    if member is None:
        raise Http404
    form = MemberRolesForm(posted(request), initial={"roles": member.roles})
    if request.method == "POST" and form.is_valid():
        done = apply_service(
            form,
            services.member_set_roles,
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


# --- research design -----------------------------------------------------------------------


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
    design = selectors.study_design(study)
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
        return services.research_question_create(
            actor=actor, study=study, label=data["label"], text=data["text"]
        )
    if kind == "guide":
        return services.guide_question_create(
            actor=actor,
            study=study,
            text=data["text"],
            probes=data["probes"],
            research_questions=data["research_questions"],
        )
    if kind == "dimension":
        return services.dimension_create(
            actor=actor,
            study=study,
            name=data["name"],
            description=data["description"],
            values=data["values"],
        )
    return services.dimension_value_create(actor=actor, dimension=parent, label=data["label"])


def _update(kind, request, obj, form):
    data = form.cleaned_data
    common = {"actor": request.user, "version": data["version"]}
    if kind == "rq":
        return services.research_question_update(
            rq=obj, label=data["label"], text=data["text"], **common
        )
    if kind == "guide":
        return services.guide_question_update(
            gq=obj,
            text=data["text"],
            probes=data["probes"],
            research_questions=data["research_questions"],
            **common,
        )
    if kind == "dimension":
        return services.dimension_update(
            dimension=obj, name=data["name"], description=data["description"], **common
        )
    return services.dimension_value_update(value=obj, label=data["label"], **common)


@require_POST
@login_required
def design_item_create(request, study_slug, kind, parent_id=None):
    access = study_for(request, study_slug, need="manage_design")
    if kind not in DESIGN_FORMS or (kind == "value") != (parent_id is not None):
        raise Http404
    parent = None
    prefix = f"new-{kind}"
    if kind == "value":
        parent = selectors.design_item(access.study, "dimension", parent_id)
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
    obj = selectors.design_item(access.study, kind, pk)
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
        context["number"] = selectors.guide_question_number(obj)
    return render(request, "workbench/design.html#item-row", context)


@require_http_methods(["GET", "POST"])
@login_required
def design_item_edit(request, study_slug, kind, pk):
    access = study_for(request, study_slug, need="manage_design")
    obj = selectors.design_item(access.study, kind, pk)
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
    obj = selectors.design_item(access.study, kind, pk)
    if obj is None:
        raise Http404
    try:
        version = int(request.POST.get("version", ""))
        services.design_item_delete(
            actor=request.user, study=access.study, obj=obj, version=version
        )
    except (ValueError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else "Reload and retry."
        messages.error(request, f"Not deleted: {message}")
    else:
        messages.success(request, f"Deleted {obj}.")
    return _after_design_write(request, access, focus=f"{kind}-section")


@require_POST
@login_required
def design_item_move(request, study_slug, kind, pk):
    access = study_for(request, study_slug, need="manage_design")
    obj = selectors.design_item(access.study, kind, pk)
    if obj is None:
        raise Http404
    try:
        services.design_item_move(
            actor=request.user,
            study=access.study,
            obj=obj,
            direction=request.POST.get("direction", ""),
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return _after_design_write(request, access, focus=f"{kind}-{pk}")


# --- audit trail ---------------------------------------------------------------------------


def _audit_filters(request, study):
    verbs, object_types = selectors.audit_vocabulary(study)
    form = AuditFilterForm(request.GET or None, verbs=verbs, object_types=object_types)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, filters


@require_GET
@login_required
def audit_trail(request, study_slug):
    access = study_for(request, study_slug, need="view_audit")
    form, filters = _audit_filters(request, access.study)
    events = selectors.audit_events(access.study, filters)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "access": access,
        "study": access.study,
        "form": form,
        "page": page,
        "query": query.urlencode(),
    }
    template = "workbench/audit.html"
    if request.htmx:
        template += "#results"
    return render(request, template, context)


class _Echo:
    def write(self, value):
        return value


@require_GET
@login_required
def audit_csv(request, study_slug):
    access = study_for(request, study_slug, need="view_audit")
    form, filters = _audit_filters(request, access.study)
    events = selectors.audit_events(access.study, filters)
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(
            ["at", "actor", "verb", "object_type", "object_id", "object", "before", "after"]
        )
        for event in events.iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    event.at.isoformat(),
                    event.actor_name,
                    event.verb,
                    event.object_type,
                    event.object_id,
                    csv_safe(event.object_repr),
                    csv_safe(_json(event.before)),
                    csv_safe(_json(event.after)),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{access.study.slug}-audit.csv"'
    return response


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- invitations ---------------------------------------------------------------------------


class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    template_name = "registration/invitation_accept.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Sign in to start.")
        return response
