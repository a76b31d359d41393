"""The coding view: a transcript's turns with the visible layers' codings, and the actions on them.

Who may use it: the transcript's two assigned coders (each writes in their own layer) and
overseers — leads and reviewers — who read the visible layers without writing. Everyone else in
the study gets 403, non-members 404 (``study_for`` first). Blindness: every page, fragment and
count is built from ``visible_layers`` only, and a coding outside them answers 404, exactly as
if it did not exist.

Writes go through ``coding.services.codings`` (undo: ``coding.services.undo``); the page's HTML
is built in ``coding.rendering.coding_page``; htmx requests get the ``workspace`` fragment of
the page template, plain POSTs redirect back to the page (POST/redirect/GET). Every write
pushes a step on its author's undo stack, kept on the server (``coding.services.undo``): the
page carries only the random ids of the top steps, which its Undo and Redo buttons name.
"""

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap

from coding.models import Code, CodeStatus, Coding, CodingReview, LayerRole, LayerStatus
from coding.rendering.coding_page import (
    MARK_FIELDS,
    Mark,
    build_turns,
    code_item,
    count_markup,
    esc,
    picker_option,
)
from coding.selectors.codings import picker_codes, side_panel_codes
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services.codings import text_version_of
from coding.services.undo import (
    coding_fields,
    undo_bar,
    undo_of_applied,
    undo_of_delete,
    undo_of_edit,
    undo_step,
)
from coding.views.consensus import consensus_beside
from coding.views.seats import Seat, seat_for, visible_coding, writer_seat
from workbench.views.shared import int_or_none

TEMPLATE = "coding/coding.html"


@dataclass(frozen=True)
class ViewState:
    """The reader's filters: one code, only their own layer, only codings to re-check.

    They live in the page's query string; an htmx write re-renders with the filters of the
    page it came from (``HX-Current-URL``), so coding under a filter keeps the filter.
    """

    code: str | None = None  # a code's public id
    mine: bool = False
    recheck: bool = False

    @classmethod
    def of(cls, request) -> "ViewState":
        params = request.GET
        if request.method != "GET" and request.htmx and request.htmx.current_url:
            params = QueryDict(urlsplit(request.htmx.current_url).query)
        return cls(
            code=params.get("code") or None,
            mine=params.get("mine") == "1",
            recheck=params.get("recheck") == "1",
        )

    @property
    def filtered(self) -> bool:
        return self.code is not None or self.mine or self.recheck

    def keeps(self, coding, own) -> bool:
        return (
            (self.code is None or coding.code.public_id == self.code)
            and (not self.mine or (own is not None and coding.layer_id == own.pk))
            and (not self.recheck or coding.needs_recheck)
        )


def _marks(seat: Seat, codes_by_pk: dict, within=None) -> list[Mark]:
    """The visible codings (optionally only those overlapping ``within``) as marks."""
    rows = Coding.objects.filter(layer_id__in=[layer.pk for layer in seat.layers])
    if within is not None:
        rows = rows.filter(start__lt=within[1], end__gt=within[0])
    names = {
        layer.pk: layer.coder.get_full_name() or layer.coder.get_username() for layer in seat.layers
    }
    own = seat.own.pk if seat.own is not None else None
    marks = [Mark(*row) for row in rows.order_by("start", "end", "id").values_list(*MARK_FIELDS)]
    for m in marks:
        m.code, m.coder_name, m.mine = codes_by_pk[m.code_id], names[m.layer_id], m.layer_id == own
        m.ref = m.public_id
        m.tip = esc(f"{m.code.name} — {m.coder_name}" + (f": {m.memo[:120]}" if m.memo else ""))
    if own is not None and _reviewing(seat):
        verdicts = dict(
            CodingReview.objects.filter(layer=seat.own).values_list("coding_id", "verdict")
        )
        for m in marks:
            m.verdict = verdicts.get(m.pk, "")
    return marks


def _side_panel_codes(seat: Seat, layer_ids) -> list[Code]:
    coder_id = seat.own.coder_id if seat.own else None
    return side_panel_codes(seat.access.study, coder_id, layer_ids, seat.hidden_codes)


def _workspace_context(
    request, seat: Seat, *, error="", undo=None, selected=None, picker=None
) -> dict:
    access, transcript = seat.access, seat.transcript
    view = ViewState.of(request)
    layer_ids = [layer.pk for layer in seat.layers]
    codes = _side_panel_codes(seat, layer_ids)
    view_url = reverse("coding_view", args=[access.study.slug, transcript.pk])
    codings = _marks(seat, {code.pk: code for code in codes})
    shown = [c for c in codings if view.keeps(c, seat.own)] if view.filtered else codings
    utterances = list(transcript.utterances.all())
    turns = build_turns(transcript, utterances, shown, several_layers=len(seat.layers) > 1)
    hidden_turns = 0
    if view.code is not None or view.recheck:
        # A filter on codes shows the turns holding such codings, not pages of uncoded text.
        kept = [turn for turn in turns if turn.codings]
        hidden_turns, turns = len(turns) - len(kept), kept
    by_ref = {code.public_id: code for code in codes}
    return {
        "access": access,
        "study": access.study,
        "transcript": transcript,
        "text_version": transcript.text_sha256[:16],
        "nav_section": "transcripts",
        "layers": seat.layers,
        "reconcilable": len(seat.layers) == 2
        and all(layer.status == LayerStatus.SUBMITTED for layer in seat.layers),
        "own": seat.own,
        "writable": seat.writable,
        "turns": turns,
        "hidden_turns": hidden_turns,
        "consensus": consensus_beside(request, seat, turns),
        "total": len(codings),
        "shown": len(shown),
        "recheck": sum(1 for c in codings if c.needs_recheck),
        "view": view,
        "view_code": by_ref.get(view.code),
        "codes": codes,
        "code_items": mark_safe(
            "".join(code_item(code, view_url, seat.writable) for code in codes)
        ),
        "picker_options": mark_safe(
            "".join(picker_option(code) for code in picker_codes(codes)) if seat.writable else ""
        ),
        "editor_base": reverse("coding_editor", args=[access.study.slug, "_"])[:-2],
        "view_url": view_url,
        "pin_url": reverse("coding_pin", args=[access.study.slug, transcript.pk]),
        "error": error,
        "undo": undo,
        "selected": _editor_context(seat, selected, codes) if selected else None,
        "picker": picker,
    }


def _reviewing(seat: Seat) -> bool:
    """Review mode, second coder at work: the primary layer is visible while theirs is open."""
    return seat.writable and seat.own.role == LayerRole.SECOND and len(seat.layers) == 2


def _editor_context(seat: Seat, coding, codes) -> dict:
    coder = next(layer.coder for layer in seat.layers if layer.pk == coding.layer_id)
    mine = seat.own is not None and coding.layer_id == seat.own.pk
    reviewable = not mine and _reviewing(seat)
    return {
        "coding": coding,
        "coder_name": coder.get_full_name() or coder.get_username(),
        "editable": mine and seat.writable,
        "reviewable": reviewable,
        "review": CodingReview.objects.filter(coding=coding).first() if reviewable else None,
        "choices": [c for c in codes if c.status != CodeStatus.RETIRED or c.pk == coding.code_id],
    }


def _bar(request, seat: Seat, status="") -> dict:
    """The undo bar: what just happened and the top of the reader's undo and redo stacks."""
    return undo_bar(actor=request.user, layer=seat.own if seat.writable else None, status=status)


def _respond(request, seat, *, error="", done="", selected=None, picker=None):
    """The workspace fragment for htmx; otherwise a message and a redirect back to the page.
    ``done`` says what just happened (the undo bar's status line)."""
    if request.htmx:
        undo = _bar(request, seat, done)
        context = _workspace_context(
            request, seat, error=error, undo=undo, selected=selected, picker=picker
        )
        return render(request, f"{TEMPLATE}#workspace", context)
    if error:
        messages.error(request, error)
    elif done:
        messages.info(request, done)
    url = reverse(
        "coding_view", kwargs={"study_slug": seat.access.study.slug, "pk": seat.transcript.pk}
    )
    return redirect(url + (f"?{urlencode({'coding': selected.public_id})}" if selected else ""))


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@require_GET
@login_required
@vary_on_headers("HX-Request")
def coding_view(request, study_slug, pk):
    seat = seat_for(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    undo = _bar(request, seat)
    selected = None
    coding_ref = request.GET.get("coding")
    if coding_ref:
        visible = [layer.pk for layer in seat.layers]
        selected = Coding.objects.filter(public_id=coding_ref, layer_id__in=visible).first()
    context = _workspace_context(request, seat, undo=undo, selected=selected)
    template = TEMPLATE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#workspace"
    return render(request, template, context)


def _span(request, seat) -> tuple[int | None, int | None, str]:
    """The posted span, trimmed of white space at its ends, and an error if it is unusable.

    A span is only meaningful against the text it was selected in: a text correction made
    since the page was opened would make the offsets point elsewhere.
    """
    start, end = int_or_none(request.POST.get("start")), int_or_none(request.POST.get("end"))
    if start is None or end is None:
        return None, None, "Select some text first: the span is missing."
    posted = request.POST.get("text_version")
    if posted and posted != seat.transcript.text_sha256[:16]:
        return (
            None,
            None,
            (
                "The transcript's text was corrected since you opened this page, so your "
                "selection may point at other words. The page now shows the current text: "
                "select again."
            ),
        )
    # Trim white space at the ends, as the browser does, so a sloppy drag still lands on words.
    text = seat.transcript.text
    if 0 <= start < end <= len(text):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
    return start, end, ""


def _visible_code(seat, ref) -> Code | None:
    """The study's code with this public id, unless it is hidden from the reader."""
    visible = Code.objects.filter(study=seat.access.study).exclude(seat.hidden_codes)
    return visible.filter(public_id=ref).first() if ref else None


def _posted_codes(request, seat) -> tuple[list[Code], str]:
    refs = [v.strip() for v in request.POST.getlist("code") if v.strip()]
    visible = Code.objects.filter(study=seat.access.study).exclude(seat.hidden_codes)
    codes = {c.public_id: c for c in visible.filter(public_id__in=refs)}
    if len(codes) != len(set(refs)):
        return [], "That code does not exist in this study."
    return [codes[ref] for ref in dict.fromkeys(refs)], ""


@require_POST
@login_required
def coding_apply(request, study_slug, pk):
    seat = writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    start, end, error = _span(request, seat)
    codes, code_error = _posted_codes(request, seat)
    error = error or code_error or ("" if codes else "Choose a code to apply.")
    if error:
        return _respond(request, seat, error=error)
    try:
        # Several codes at once: all or nothing. The undo is kept in the same transaction (under
        # the layer's lock), so the second request of a double click finds it and offers it too.
        with transaction.atomic():
            applied = [
                coding_services.coding_apply(
                    actor=request.user,
                    layer=seat.own,
                    code=code,
                    start=start,
                    end=end,
                    text_version=text_version_of(seat.transcript),
                )
                for code in codes
            ]
            done = undo_of_applied(actor=request.user, layer=seat.own, applied=applied)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    if request.htmx and not ViewState.of(request).filtered:
        return _changed(request, seat, (start, end), _bar(request, seat, done))
    seat.own.refresh_from_db()
    return _respond(request, seat, done=done)


def _changed(request, seat: Seat, span, undo):
    """After codes are applied: only the turns the span touches, the counts of their codes and
    the undo bar, swapped in by id — not the whole transcript again."""
    transcript = seat.transcript
    utterances = list(transcript.utterances.filter(start__lt=span[1], end__gt=span[0]))
    if seat.own.status == LayerStatus.NOT_STARTED:
        seat.own.status = LayerStatus.IN_PROGRESS  # as the service just saved it
    layer_ids = [layer.pk for layer in seat.layers]
    within = (utterances[0].start, utterances[-1].end) if utterances else span
    in_turns = Coding.objects.filter(layer_id__in=layer_ids, start__lt=within[1], end__gt=within[0])
    # The codes drawn in those turns (the applied ones among them), with their counts.
    codes = list(
        Code.objects.filter(pk__in=in_turns.values("code_id")).annotate(
            count=Count("codings", filter=Q(codings__layer_id__in=layer_ids), distinct=True)
        )
    )
    marks = _marks(seat, {code.pk: code for code in codes}, within=within)
    total = Coding.objects.filter(layer_id__in=layer_ids).count()
    context = {
        "study": seat.access.study,
        "transcript": transcript,
        "turns": build_turns(transcript, utterances, marks, len(seat.layers) > 1, oob=True),
        "total": total,
        "shown": total,
        "view": ViewState(),
        "writable": seat.writable,
        "layers": seat.layers,
        "counts": mark_safe("".join(count_markup(code, oob=True) for code in codes)),
        "undo": undo,
    }
    return reswap(render(request, f"{TEMPLATE}#changed", context), "none")


@require_POST
@login_required
def coding_new_code(request, study_slug, pk):
    """Create an inductive code from the picker and apply it to the selection at once."""
    seat = writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    name = request.POST.get("name", "").strip()
    definition = request.POST.get("definition", "").strip()
    start, end, error = _span(request, seat)
    also, code_error = _posted_codes(request, seat)
    picker = {"start": start, "end": end, "name": name, "definition": definition}
    if error or code_error:
        return _respond(request, seat, error=error or code_error)
    try:
        with transaction.atomic():
            created = coding_services.coding_create_with_new_code(
                actor=request.user,
                layer=seat.own,
                name=name,
                definition=definition,
                start=start,
                end=end,
                also=also,
                text_version=text_version_of(seat.transcript),
            )
            done = undo_of_applied(
                actor=request.user, layer=seat.own, applied=[(c, True) for c in created]
            )
    except ValidationError as exc:
        # Keep what was typed: the picker opens again with the message beside the fields.
        return _respond(request, seat, picker=picker | {"error": _message(exc)})
    seat.own.refresh_from_db()
    code = created[0].code
    if code.status == CodeStatus.PENDING:
        done += f" “{code.name}” waits for an admin's approval."
    return _respond(request, seat, done=done)


@require_POST
@login_required
def coding_pin(request, study_slug, pk):
    seat = writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    code = _visible_code(seat, request.POST.get("code"))
    if code is None:
        return _respond(request, seat, error="That code does not exist in this study.")
    try:
        coding_services.code_pin_toggle(actor=request.user, code=code)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    return _respond(request, seat)


@require_GET
@login_required
def coding_editor(request, study_slug, ref):
    """One coding's details (and, in its own coder's open layer, the form to change it)."""
    coding, seat = visible_coding(request, study_slug, ref, write=False)
    if not isinstance(seat, Seat):
        return seat
    if not request.htmx:
        url = reverse("coding_view", args=[study_slug, seat.transcript.pk])
        return redirect(f"{url}?coding={coding.public_id}")
    layer_ids = [layer.pk for layer in seat.layers]
    context = {
        "access": seat.access,
        "study": seat.access.study,
        "transcript": seat.transcript,
        "text_version": seat.transcript.text_sha256[:16],
        "selected": _editor_context(seat, coding, _side_panel_codes(seat, layer_ids)),
    }
    return render(request, f"{TEMPLATE}#editor", context)


def _posted_changes(request, seat: Seat, coding) -> tuple[dict, str]:
    """The changes the editor posted for ``coding`` (as ``coding_update`` arguments), or an
    error. ``nudge`` (``start-back``, ``start-forward``, ``end-back``, ``end-forward``) moves one
    edge a word; ``span=selection`` takes the posted start/end (a new selection)."""
    changes = {}
    if request.POST.get("fields") == "all":
        # The editor's form: its checkboxes say "off" by being absent.
        changes = {
            "memo": request.POST.get("memo", ""),
            "exemplar": request.POST.get("exemplar") == "on",
            "needs_recheck": request.POST.get("needs_recheck") == "on",
        }
    code_ref = request.POST.get("code")
    if code_ref and code_ref != coding.code.public_id:
        code = _visible_code(seat, code_ref)
        if code is None:
            return {}, "That code does not exist in this study."
        changes["code"] = code
    nudge = request.POST.get("nudge", "")
    if nudge in {"start-back", "start-forward", "end-back", "end-forward"}:
        edge, direction = nudge.split("-")
        changes["start"], changes["end"] = coding_services.nudged(
            seat.transcript.text, coding.start, coding.end, edge, direction == "forward"
        )
    elif request.POST.get("span") == "selection":
        start, end, error = _span(request, seat)
        if error:
            return {}, error
        changes["start"], changes["end"] = start, end
    return changes, ""


@require_POST
@login_required
def coding_edit(request, study_slug, ref):
    """Save a coding's code, memo, exemplar mark and re-check flag, or move an edge of its span."""
    coding, seat = visible_coding(request, study_slug, ref)
    if not isinstance(seat, Seat):
        return seat
    version = int_or_none(request.POST.get("version"))
    before = coding_fields(coding)
    changes, error = _posted_changes(request, seat, coding)
    if error:
        return _respond(request, seat, error=error, selected=coding)
    try:
        with transaction.atomic():  # the write and its undo step, on the same text
            updated = coding_services.coding_update(
                actor=request.user,
                coding=coding,
                version=coding.version if version is None else version,
                text_version=text_version_of(seat.transcript),
                **changes,
            )
            done = undo_of_edit(
                actor=request.user, before=before, before_name=coding.code.name, updated=updated
            )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc), selected=coding)
    return _respond(request, seat, done=done, selected=updated)


@require_POST
@login_required
def coding_review(request, study_slug, ref):
    """Review mode: the second coder confirms or challenges a primary coding."""
    coding, seat = visible_coding(request, study_slug, ref, write=False)
    if not isinstance(seat, Seat):
        return seat
    if seat.own is None:
        raise PermissionDenied
    start = end = None
    if request.POST.get("start") and request.POST.get("end"):
        start, end, error = _span(request, seat)
        if error:
            return _respond(request, seat, error=error, selected=coding)
    alt_code = _visible_code(seat, request.POST.get("code"))
    try:
        coding_services.coding_review(
            actor=request.user,
            coding=coding,
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
            alt_code=alt_code,
            alt_start=start,
            alt_end=end,
            text_version=text_version_of(seat.transcript),
        )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc), selected=coding)
    return _respond(request, seat, selected=coding)


@require_POST
@login_required
def coding_delete(request, study_slug, ref):
    coding, seat = visible_coding(request, study_slug, ref)
    if not isinstance(seat, Seat):
        return seat
    before = coding_fields(coding)
    try:
        with transaction.atomic():  # the write and its undo step, on the same text
            deleted = coding_services.coding_delete(actor=request.user, coding=coding)
            done = undo_of_delete(actor=request.user, deleted=deleted, fields=before)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    return _respond(request, seat, done=done)


def _step(request, study_slug, pk, stack):
    seat = writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    token = request.POST.get("token", "")
    try:
        # Only the top step of this person's stack in their layer here is found (else a message).
        shown, done = undo_step(actor=request.user, layer=seat.own, token=token, stack=stack)
    except ValidationError as exc:
        return _respond(request, seat, error=f"Could not {stack}: {_message(exc)}")
    return _respond(request, seat, done=done, selected=shown)


@require_POST
@login_required
def coding_undo(request, study_slug, pk):
    return _step(request, study_slug, pk, "undo")


@require_POST
@login_required
def coding_redo(request, study_slug, pk):
    return _step(request, study_slug, pk, "redo")


@require_POST
@login_required
def coding_submit(request, study_slug, pk):
    seat = writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if request.POST.get("confirm") != "yes":
        return _respond(request, seat, error="Tick the box to confirm that your layer is finished.")
    try:
        seat.own = assignment_services.layer_submit(actor=request.user, layer=seat.own)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    if not request.htmx:
        messages.success(request, "Your layer is submitted.")
    # What this person may see can change once both layers are in: recompute the seat.
    return _respond(request, seat_for(request, study_slug, pk))


urlpatterns = [
    path("transcripts/<int:pk>/code/", coding_view, name="coding_view"),
    path("transcripts/<int:pk>/code/apply/", coding_apply, name="coding_apply"),
    path("transcripts/<int:pk>/code/new-code/", coding_new_code, name="coding_new_code"),
    path("transcripts/<int:pk>/code/pin/", coding_pin, name="coding_pin"),
    path("transcripts/<int:pk>/code/undo/", coding_undo, name="coding_undo"),
    path("transcripts/<int:pk>/code/redo/", coding_redo, name="coding_redo"),
    path("transcripts/<int:pk>/code/submit/", coding_submit, name="coding_submit"),
    path("codings/<str:ref>/", coding_editor, name="coding_editor"),
    path("codings/<str:ref>/edit/", coding_edit, name="coding_edit"),
    path("codings/<str:ref>/delete/", coding_delete, name="coding_delete"),
    path("codings/<str:ref>/review/", coding_review, name="coding_review"),
]
