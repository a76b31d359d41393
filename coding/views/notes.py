"""The Notes page: peer-debriefing notes, tentative syntheses and analytic memos.

Every member reads notes and memos. A note may link disagreements; those links are shown (and
offered in the form) only to the people who may see reconciliations — leads and reviewers
(``coding.selectors.blindness.OVERSEERS``). Who writes what is in ``coding.services.notes``;
the views check the same rules first and answer 403.

House pattern: htmx requests get a fragment of the same template (``template#fragment``);
plain POSTs redirect, so every form works without JavaScript. An inline edit form's Cancel
puts back one row. The current filters travel in each form's URL, so a save keeps them.
"""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import retarget

from coding.forms import DebriefNoteForm, MemoForm, NotesFilterForm
from coding.selectors.blindness import viewer_of
from coding.selectors.notes import (
    analytic_memos,
    debrief_notes,
)
from coding.services import notes as notes_services
from workbench.access import study_for
from workbench.forms import apply_service, posted
from workbench.views.shared import delete_versioned

# --- querysets: constant queries whatever the number of notes ------------------------------


# --- forms ---------------------------------------------------------------------------------


def _filters(request, access):
    codes = viewer_of(request, access).codes()
    form = NotesFilterForm(request.GET or None, study=access.study, codes=codes)
    return form, (form.cleaned_data if form.is_bound and form.is_valid() else {})


def _note_form(request, access, data=None, note=None):
    kwargs = {
        "study": access.study,
        "with_disagreements": notes_services.can_see_disagreements(access.perms),
        "codes": viewer_of(request, access).codes(),
    }
    if note is None:
        return DebriefNoteForm(
            data, prefix="new-note", initial={"held_on": datetime.date.today()}, **kwargs
        )
    initial = {
        "kind": note.kind,
        "held_on": note.held_on,
        "title": note.title,
        "attendees": [u.pk for u in note.attendees.all()],
        "other_attendees": note.other_attendees,
        "body": note.body,
        "decisions": note.decisions,
        "transcripts": [t.pk for t in note.transcripts.all()],
        "codes": [c.public_id for c in note.codes.all()],
        "version": note.version,
    }
    if kwargs["with_disagreements"]:
        initial["disagreements"] = [d.pk for d in note.disagreements.all()]
    return DebriefNoteForm(data, prefix=f"note-{note.public_id}", initial=initial, **kwargs)


def _note_args(form) -> dict:
    data = form.cleaned_data
    args = {
        key: data[key]
        for key in (
            "kind",
            "held_on",
            "title",
            "attendees",
            "other_attendees",
            "body",
            "decisions",
            "transcripts",
            "codes",
        )
    }
    if "disagreements" in form.fields:
        args["disagreements"] = data["disagreements"]
    return args


def _memo_form(request, access, data=None, memo=None):
    codes = viewer_of(request, access).codes()
    if memo is None:
        return MemoForm(data, study=access.study, codes=codes, prefix="new-memo")
    initial = {
        "title": memo.title,
        "code": memo.code.public_id if memo.code else None,
        "body": memo.body,
        "transcripts": [t.pk for t in memo.transcripts.all()],
        "version": memo.version,
    }
    return MemoForm(
        data, study=access.study, codes=codes, prefix=f"memo-{memo.public_id}", initial=initial
    )


def _memo_args(form) -> dict:
    return {key: form.cleaned_data[key] for key in ("title", "body", "code", "transcripts")}


# --- page ----------------------------------------------------------------------------------


def _mark_note(request, access, note):
    """What the row template needs: the viewer's rights and the links they may see."""
    perms = access.perms
    note.can_edit = notes_services.can_write_notes(perms)
    note.can_delete = notes_services.can_delete_note(request.user, perms, note)
    note.codes_list = list(note.codes.all())
    # Disagreements were not even fetched for someone who may not see reconciliations.
    note.shown_disagreements = (
        list(note.disagreements.all()) if notes_services.can_see_disagreements(perms) else []
    )
    note.decision_lines = [line.strip() for line in note.decisions.splitlines() if line.strip()]
    return note


def _mark_memo(request, access, memo):
    memo.can_change = notes_services.can_change_memo(request.user, access.perms, memo)
    memo.codes_list, memo.shown_disagreements = [], []
    return memo


def _context(request, access, **extra):
    perms = access.perms
    return {
        "access": access,
        "study": access.study,
        "nav_section": "notes",
        "can_write_notes": notes_services.can_write_notes(perms),
        "can_write_memos": notes_services.can_write_memos(perms),
        "see_disagreements": notes_services.can_see_disagreements(perms),
        "query": request.GET.urlencode(),
    } | extra


def _notes_page(
    request, access, *, note_form=None, memo_form=None, editing=None, focus="", fragment="notes"
):
    study = access.study
    filter_form, filters = _filters(request, access)
    see = notes_services.can_see_disagreements(access.perms)
    notes = [
        _mark_note(request, access, n)
        for n in debrief_notes(
            study, filters, with_disagreements=see, hidden=viewer_of(request, access).hidden_notes()
        )
    ]
    hidden = viewer_of(request, access).hidden_memos()
    memos = [_mark_memo(request, access, m) for m in analytic_memos(study, filters, hidden=hidden)]
    if editing:
        kind, ref, form = editing
        for item in notes if kind == "note" else memos:
            if item.public_id == ref:
                item.edit_form = form
    context = _context(
        request,
        access,
        notes=notes,
        memos=memos,
        filter_form=filter_form,
        filters=filters,
        filtered=any(filters.values()) if filters else False,
        focus=focus,
    )
    if context["can_write_notes"]:
        context["note_form"] = note_form or _note_form(request, access)
    if context["can_write_memos"]:
        context["memo_form"] = memo_form or _memo_form(request, access)
    template = "coding/notes.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += f"#{fragment}"
    return render(request, template, context)


def _notes_url(request, study, anchor=""):
    url = reverse("notes", kwargs={"study_slug": study.slug})
    query = request.GET.urlencode()
    return url + (f"?{query}" if query else "") + (f"#{anchor}" if anchor else "")


def _after_write(request, access, focus):
    if request.htmx:
        return retarget(_notes_page(request, access, focus=focus), "#notes")
    return redirect(_notes_url(request, access.study, focus))


def _need(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _note_of(request, access, ref):
    found = debrief_notes(
        access.study,
        {},
        with_disagreements=notes_services.can_see_disagreements(access.perms),
        ref=ref,
        hidden=viewer_of(request, access).hidden_notes(),
    )
    if not found:
        raise Http404
    return _mark_note(request, access, found[0])


def _memo_of(request, access, ref):
    found = analytic_memos(
        access.study, {}, ref=ref, hidden=viewer_of(request, access).hidden_memos()
    )
    if not found:
        raise Http404
    return _mark_memo(request, access, found[0])


@require_GET
@login_required
@vary_on_headers("HX-Request")
def notes(request, study_slug):
    access = study_for(request, study_slug)
    return _notes_page(request, access)


# --- debrief notes -------------------------------------------------------------------------


@require_POST
@login_required
def note_create(request, study_slug):
    access = study_for(request, study_slug)
    _need(notes_services.can_write_notes(access.perms))
    form = _note_form(request, access, request.POST)
    if form.is_valid():
        note = apply_service(
            form,
            notes_services.debrief_note_create,
            actor=request.user,
            study=access.study,
            **_note_args(form),
        )
        if note is not None:
            messages.success(request, f"{note.get_kind_display()} “{note.title}” added.")
            return _after_write(request, access, focus=f"note-{note.public_id}")
    return _notes_page(request, access, note_form=form, focus="add-new-note")


@require_GET
@login_required
def note_row(request, study_slug, ref):
    """One note as a row: what an inline form's Cancel puts back."""
    access = study_for(request, study_slug)
    note = _note_of(request, access, ref)
    if not request.htmx:
        return redirect(_notes_url(request, access.study, f"note-{ref}"))
    context = _context(request, access, note=note, standalone=True)
    return render(request, "coding/notes.html#note-row", context)


@require_http_methods(["GET", "POST"])
@login_required
def note_edit(request, study_slug, ref):
    access = study_for(request, study_slug)
    _need(notes_services.can_write_notes(access.perms))
    note = _note_of(request, access, ref)
    form = _note_form(request, access, posted(request), note)
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            notes_services.debrief_note_update,
            actor=request.user,
            note=note,
            version=form.cleaned_data["version"],
            **_note_args(form),
        )
        if saved is not None:
            messages.success(request, f"“{saved.title}” saved.")
            return _after_write(request, access, focus=f"note-{ref}")
    if request.htmx:
        context = _context(request, access, note=note, form=form)
        return render(request, "coding/notes.html#note-form", context)
    return _notes_page(request, access, editing=("note", ref, form), focus=f"note-{ref}")


@require_POST
@login_required
def note_delete(request, study_slug, ref):
    access = study_for(request, study_slug)
    _need(notes_services.can_write_notes(access.perms))
    note = _note_of(request, access, ref)
    _need(note.can_delete)
    done = f"Deleted “{note.title}”."
    if delete_versioned(request, notes_services.debrief_note_delete, note=note, done=done):
        return _after_write(request, access, focus="notes-section")
    return _after_write(request, access, focus=f"note-{ref}")


# --- analytic memos ------------------------------------------------------------------------


@require_POST
@login_required
def memo_create(request, study_slug):
    access = study_for(request, study_slug)
    _need(notes_services.can_write_memos(access.perms))
    form = _memo_form(request, access, request.POST)
    if form.is_valid():
        memo = apply_service(
            form,
            notes_services.memo_create,
            actor=request.user,
            study=access.study,
            **_memo_args(form),
        )
        if memo is not None:
            messages.success(request, f"Memo “{memo.title}” added.")
            return _after_write(request, access, focus=f"memo-{memo.public_id}")
    return _notes_page(request, access, memo_form=form, focus="add-new-memo")


@require_GET
@login_required
def memo_row(request, study_slug, ref):
    """One memo as a row: what an inline form's Cancel puts back."""
    access = study_for(request, study_slug)
    memo = _memo_of(request, access, ref)
    if not request.htmx:
        return redirect(_notes_url(request, access.study, f"memo-{ref}"))
    context = _context(request, access, memo=memo, standalone=True)
    return render(request, "coding/notes.html#memo-row", context)


@require_http_methods(["GET", "POST"])
@login_required
def memo_edit(request, study_slug, ref):
    access = study_for(request, study_slug)
    _need(notes_services.can_write_memos(access.perms))
    memo = _memo_of(request, access, ref)
    _need(memo.can_change)
    form = _memo_form(request, access, posted(request), memo)
    if request.method == "POST" and form.is_valid():
        saved = apply_service(
            form,
            notes_services.memo_update,
            actor=request.user,
            memo=memo,
            version=form.cleaned_data["version"],
            **_memo_args(form),
        )
        if saved is not None:
            messages.success(request, f"Memo “{saved.title}” saved.")
            return _after_write(request, access, focus=f"memo-{ref}")
    if request.htmx:
        context = _context(request, access, memo=memo, form=form)
        return render(request, "coding/notes.html#memo-form", context)
    return _notes_page(request, access, editing=("memo", ref, form), focus=f"memo-{ref}")


@require_POST
@login_required
def memo_delete(request, study_slug, ref):
    access = study_for(request, study_slug)
    _need(notes_services.can_write_memos(access.perms))
    memo = _memo_of(request, access, ref)
    _need(memo.can_change)
    done = f"Deleted memo “{memo.title}”."
    if delete_versioned(request, notes_services.memo_delete, memo=memo, done=done):
        return _after_write(request, access, focus="memos-section")
    return _after_write(request, access, focus=f"memo-{ref}")


urlpatterns = [
    path("notes/", notes, name="notes"),
    path("notes/debriefs/new/", note_create, name="notes_debrief_create"),
    path("notes/debriefs/<str:ref>/", note_row, name="notes_debrief_row"),
    path("notes/debriefs/<str:ref>/edit/", note_edit, name="notes_debrief_edit"),
    path("notes/debriefs/<str:ref>/delete/", note_delete, name="notes_debrief_delete"),
    path("notes/memos/new/", memo_create, name="notes_memo_create"),
    path("notes/memos/<str:ref>/", memo_row, name="notes_memo_row"),
    path("notes/memos/<str:ref>/edit/", memo_edit, name="notes_memo_edit"),
    path("notes/memos/<str:ref>/delete/", memo_delete, name="notes_memo_delete"),
]
