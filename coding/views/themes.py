"""The theme board: research questions → categories → themes → codes, with counts.

Every member reads the board (blindness holds: see ``coding/selectors/themes.py``); leads and
admins arrange it. Each arrangement is a plain POST form that redirects back to the board (so
it works without JavaScript); htmx requests (drag and drop, keyboard moves) get the board
fragment back instead, with the outcome in its message area. A node's "Move…" menu (those
forms) is read only when it is opened: a fragment swapped in place on the board, or without
JavaScript a small page of its own.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from coding.forms import ThemeCreateForm, ThemeForm
from coding.models import CodeKind, ThemeStatus
from coding.selectors import themes as selectors
from coding.selectors.blindness import viewer_of
from coding.services import themes as services
from workbench.access import study_for
from workbench.forms import apply_service, posted
from workbench.views.shared import int_or_none

FILTER_KEYS = ("status", "rq", "value", "source")


def _arranger(request, study_slug):
    access = study_for(request, study_slug)
    if not any(access.can(perm) for perm in services.BOARD_PERMS):
        raise PermissionDenied
    return access


def _can_arrange(access) -> bool:
    return any(access.can(perm) for perm in services.BOARD_PERMS)


def _filters(query) -> dict:
    status = query.get("status", "")
    return {
        "status": status if status in ThemeStatus.values else "",
        "rq": int_or_none(query.get("rq")),
        "values": [v for v in (int_or_none(x) for x in query.getlist("value")) if v is not None],
    }


def _query(data) -> str:
    """The board's filters, to come back to the same view after a change."""
    return urlencode([(key, value) for key in FILTER_KEYS for value in data.getlist(key) if value])


def _board_page(request, access, *, create_form=None, query=None):
    query = request.GET if query is None else query
    viewer = viewer_of(request, access)
    filters = _filters(query)
    board = selectors.board(
        access.study, viewer, source=query.get("source") or selectors.CONSENSUS, filters=filters
    )
    can_arrange = _can_arrange(access)
    context = {
        "access": access,
        "study": access.study,
        "nav_section": "themes",
        "board": board,
        "filters": filters,
        "query": _query(query),
        "can_arrange": can_arrange,
        "statuses": ThemeStatus.choices,
    }
    if can_arrange:
        context["last_move"] = selectors.last_move(access.study)
        context["create_form"] = create_form or ThemeCreateForm(study=access.study)
    template = "coding/themes.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#board"
    return render(request, template, context)


def _board_url(study, query: str = "") -> str:
    url = reverse("themes", kwargs={"study_slug": study.slug})
    return f"{url}?{query}" if query else url


def _after(request, access, operation, **kwargs):
    """Run a board operation; say what happened; show the board again."""
    try:
        move = operation(actor=request.user, **kwargs)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        summary = getattr(move, "summary", "")
        if summary:
            messages.success(request, f"{summary}.")
    if request.htmx:
        return _board_page(request, access, query=request.GET)
    return redirect(_board_url(access.study, _query(request.GET)))


def _code(request, access, ref):
    code = selectors.board_code(viewer_of(request, access), ref)
    if code is None:
        raise Http404
    return code


def _target(request, access, name):
    """The code named by a POSTed public id; "" or missing: none (out of any theme)."""
    ref = request.POST.get(name, "")
    if not ref:
        return None
    target = selectors.board_code(viewer_of(request, access), ref)
    if target is None:
        raise ValidationError("That place is no longer on the board; reload the board.")
    return target


@require_GET
@login_required
@vary_on_headers("HX-Request")
def themes(request, study_slug):
    access = study_for(request, study_slug)
    return _board_page(request, access)


def _with_target(operation, request, access, name):
    """``operation`` with its ``name`` argument: the code the form posted under that name."""

    def run(**kwargs):
        return operation(**kwargs, **{name: _target(request, access, name)})

    return run


@require_GET
@login_required
@vary_on_headers("HX-Request")
def theme_menu(request, study_slug, ref):
    """One node's "Move…" menu: for htmx the fragment that opens in place on the board, without
    JavaScript a page with the same forms (they post and redirect back to the board)."""
    access = _arranger(request, study_slug)
    code = _code(request, access, ref)
    context = {
        "access": access,
        "study": access.study,
        "nav_section": "themes",
        "menu": selectors.node_menu(viewer_of(request, access), code),
        "query": _query(request.GET),
        "fragment": bool(request.htmx),
    }
    template = "coding/theme_menu.html" + ("#menu" if request.htmx else "")
    return render(request, template, context)


@require_POST
@login_required
def theme_move(request, study_slug, ref):
    access = _arranger(request, study_slug)
    code = _code(request, access, ref)
    return _after(
        request,
        access,
        _with_target(services.board_move, request, access, "parent"),
        code=code,
        version=int_or_none(request.POST.get("version")),
        position=int_or_none(request.POST.get("position")),
    )


@require_POST
@login_required
def theme_promote(request, study_slug, ref):
    access = _arranger(request, study_slug)
    code = _code(request, access, ref)
    return _after(
        request,
        access,
        _with_target(services.code_promote, request, access, "category"),
        code=code,
        version=int_or_none(request.POST.get("version")),
    )


@require_POST
@login_required
def theme_demote(request, study_slug, ref):
    access = _arranger(request, study_slug)
    theme = _code(request, access, ref)
    return _after(
        request,
        access,
        _with_target(services.theme_demote, request, access, "into"),
        theme=theme,
        version=int_or_none(request.POST.get("version")),
    )


@require_POST
@login_required
def theme_status(request, study_slug, ref):
    access = _arranger(request, study_slug)
    code = _code(request, access, ref)
    return _after(
        request,
        access,
        services.theme_status_set,
        code=code,
        version=int_or_none(request.POST.get("version")),
        status=request.POST.get("status", ""),
    )


@require_POST
@login_required
def theme_links(request, study_slug, ref):
    access = _arranger(request, study_slug)
    code = _code(request, access, ref)
    viewer = viewer_of(request, access)
    refs = request.POST.getlist("also_in")
    themes = list(viewer.codes().filter(public_id__in=refs, kind=CodeKind.THEME))
    if len(themes) != len(set(refs)):
        messages.error(request, "Choose themes that are on the board.")
        return redirect(_board_url(access.study, _query(request.GET)))
    return _after(
        request,
        access,
        services.code_also_in_set,
        code=code,
        version=int_or_none(request.POST.get("version")),
        themes=themes,
    )


@require_POST
@login_required
def theme_undo(request, study_slug):
    access = _arranger(request, study_slug)
    return _after(request, access, services.board_undo, study=access.study)


@require_POST
@login_required
def theme_create(request, study_slug):
    access = _arranger(request, study_slug)
    form = ThemeCreateForm(posted(request), study=access.study)
    if form.is_valid():
        data = form.cleaned_data
        code = apply_service(
            form,
            services.theme_create,
            actor=request.user,
            study=access.study,
            kind=data["kind"],
            name=data["name"],
            definition=data["definition"],
            parent=data["parent"],
            research_questions=data["research_questions"],
            dimension_values=data["dimension_values"],
            theme_status=data["theme_status"],
        )
        if code is not None:
            messages.success(request, f"Created the {code.get_kind_display().lower()} “{code}”.")
            return redirect(_board_url(access.study, _query(request.GET)))
    return _board_page(request, access, create_form=form, query=request.GET)


@require_http_methods(["GET", "POST"])
@login_required
def theme_edit(request, study_slug, ref):
    access = _arranger(request, study_slug)
    code = _code(request, access, ref)
    if code.kind == CodeKind.CODE:
        messages.error(request, "Edit first-level codes in the codebook.")
        return redirect(_board_url(access.study))
    initial = {
        "name": code.name,
        "definition": code.definition,
        "research_questions": list(code.research_questions.all()),
        "dimension_values": list(code.dimension_values.all()),
        "theme_status": code.theme_status,
        "version": code.version,
    }
    form = ThemeForm(posted(request), study=access.study, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = apply_service(
            form,
            services.theme_update,
            actor=request.user,
            code=code,
            version=data["version"],
            name=data["name"],
            definition=data["definition"],
            research_questions=data["research_questions"],
            dimension_values=data["dimension_values"],
            theme_status=data["theme_status"],
        )
        if saved is not None:
            messages.success(request, f"Saved “{saved}”.")
            return redirect(_board_url(access.study))
    context = {
        "access": access,
        "study": access.study,
        "nav_section": "themes",
        "code": code,
        "form": form,
    }
    return render(request, "coding/theme_edit.html", context)


urlpatterns = [
    path("themes/", themes, name="themes"),
    path("themes/new/", theme_create, name="theme_create"),
    path("themes/undo/", theme_undo, name="theme_undo"),
    path("themes/<str:ref>/menu/", theme_menu, name="theme_menu"),
    path("themes/<str:ref>/move/", theme_move, name="theme_move"),
    path("themes/<str:ref>/promote/", theme_promote, name="theme_promote"),
    path("themes/<str:ref>/demote/", theme_demote, name="theme_demote"),
    path("themes/<str:ref>/status/", theme_status, name="theme_status"),
    path("themes/<str:ref>/links/", theme_links, name="theme_links"),
    path("themes/<str:ref>/edit/", theme_edit, name="theme_edit"),
]
