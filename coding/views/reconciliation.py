"""The reconciliation page: walk a transcript's disagreements, settle each, see the consensus.

Readers: whoever may see both layers (leads, reviewers, and the two coders once both layers
are submitted — ``coding.views.seats.seat_for`` decides, blindness included). Writers: reviewers and
leads who did not code the transcript (``reconciliation.can_resolve``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from coding.models import (
    Code,
    Decision,
    Disagreement,
    LayerStatus,
    Tolerance,
)
from coding.selectors import reconciliation as reconciliation_selectors
from coding.services import reconciliation as reconciliation_services
from coding.services.codings import text_version_of
from coding.views.seats import Seat, seat_for
from workbench.access import study_for
from workbench.views.shared import int_or_none

TEMPLATE = "coding/reconcile.html"


def _both_submitted(seat) -> bool:
    return len(seat.layers) == 2 and all(
        layer.status == LayerStatus.SUBMITTED for layer in seat.layers
    )


def _context(request, seat: Seat, *, number=None, error="", form=None, change=False) -> dict:
    transcript, access = seat.transcript, seat.access
    reconciliation = reconciliation_selectors.reconciliation_of(transcript)
    if reconciliation and seat.own is not None and not _both_submitted(seat):
        reconciliation = None  # a layer was reopened: its coder codes blind again
    can_resolve = reconciliation_services.can_resolve(request.user, transcript, access.perms)
    context = {
        "access": access,
        "study": access.study,
        "transcript": transcript,
        "nav_section": "transcripts",
        "layers": {layer.role: layer for layer in seat.layers},
        "ready": _both_submitted(seat),
        "can_resolve": can_resolve,
        "can_reopen": "manage_assignments" in access.perms,
        "reconciliation": reconciliation,
        "tolerances": Tolerance.choices,
        "decisions": Decision.choices,
        "decision_labels": dict(Decision.choices),
        "error": error,
        "form": form or {},
    }
    if reconciliation is None:
        return context
    context["paused"] = reconciliation_selectors.out_of_date(seat.layers)
    context |= reconciliation_selectors.progress(
        reconciliation, transcript, number, hidden=seat.hidden_codes
    )
    current = context["current"]
    if current is not None:
        context |= reconciliation_selectors.around(transcript.text, current, context["total"])
        context |= reconciliation_selectors.edit_choices(current, context["codes"])
        context["history"] = reconciliation_selectors.history(access.study, current)
        # A decided disagreement shows its decision; the form only once "Change decision" is
        # chosen (or comes back with an error), with no decision and no rationale carried over.
        context["changing"] = bool(current.decision) and (change or bool(form))
        context["show_form"] = (
            can_resolve and not context["paused"] and (not current.decision or context["changing"])
        )
        context["text_version"] = text_version_of(transcript)
    elif can_resolve and context["complete"]:
        waiting = reconciliation_selectors.waiting_for_reconciliation(
            request.user, access.perms, access.study
        )
        context["next_waiting"] = next((t for t in waiting if t.pk != transcript.pk), None)
    return context


def _render(request, seat, *, number=None, error="", form=None, change=False, status=200):
    context = _context(request, seat, number=number, error=error, form=form, change=change)
    template = TEMPLATE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#reconcile"
    return render(request, template, context, status=status)


def _page(seat, number=None):
    url = reverse("reconcile", args=[seat.access.study.slug, seat.transcript.pk])
    return f"{url}?d={number}" if number else url


@require_GET
@login_required
@vary_on_headers("HX-Request")
def reconcile(request, study_slug, pk):
    seat = seat_for(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    return _render(
        request,
        seat,
        number=int_or_none(request.GET.get("d")),
        change=request.GET.get("change") == "1",
    )


@require_POST
@login_required
def reconcile_start(request, study_slug, pk):
    seat = seat_for(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if not reconciliation_services.can_resolve(request.user, seat.transcript, seat.access.perms):
        raise PermissionDenied
    chars = int_or_none(request.POST.get("tolerance_chars"))
    try:
        reconciliation_services.reconciliation_start(
            actor=request.user,
            transcript=seat.transcript,
            tolerance=request.POST.get("tolerance", ""),
            tolerance_chars=10 if chars is None else chars,
        )
    except ValidationError as exc:
        return _respond(request, seat, error=" ".join(exc.messages))
    return _respond(request, seat)


def _respond(request, seat, *, number=None, error="", form=None):
    if request.htmx:
        return _render(request, seat, number=number, error=error, form=form)
    if error:
        messages.error(request, error)
    return redirect(_page(seat, number))


def _disagreement(request, study_slug, pk):
    access = study_for(request, study_slug)
    d = (
        Disagreement.objects.select_related("reconciliation__transcript")
        .filter(pk=pk, reconciliation__transcript__study=access.study)
        .first()
    )
    if d is None:
        raise Http404
    seat = seat_for(request, study_slug, d.reconciliation.transcript_id, access)
    if isinstance(seat, Seat) and seat.own is not None and not _both_submitted(seat):
        raise Http404  # a coder still coding blind: the disagreement does not exist for them
    return d, seat


@require_POST
@login_required
def disagreement_resolve(request, study_slug, pk):
    d, seat = _disagreement(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if not reconciliation_services.can_resolve(request.user, seat.transcript, seat.access.perms):
        raise PermissionDenied
    decision = request.POST.get("decision", "")
    code, added = None, False
    if decision == Decision.EDIT:
        # A code in dispute, or "other" with a code from the rest of the codebook: an addition
        # the reviewer chose on purpose (the service refuses any other code).
        added = request.POST.get("code") == "other"
        chosen = request.POST.get("other_code" if added else "code")
        code = (
            Code.objects.filter(study=seat.access.study, public_id=chosen).first()
            if chosen
            else None
        )
    try:
        reconciliation_services.disagreement_resolve(
            actor=request.user,
            disagreement=d,
            version=int_or_none(request.POST.get("version")),
            decision=decision,
            rationale=request.POST.get("rationale", ""),
            code=code,
            start=int_or_none(request.POST.get("start")),
            end=int_or_none(request.POST.get("end")),
            code_added=added,
            changing=request.POST.get("change") == "1",
            text_version=request.POST.get("text_version") or None,
        )
    except ValidationError as exc:
        # Keep what was typed; the same disagreement stays on screen with the message.
        return _respond(
            request,
            seat,
            number=d.number,
            error=" ".join(exc.messages),
            form=request.POST.dict(),
        )
    # On to the next open disagreement (the page picks it when no number is given).
    return _respond(request, seat)


@require_POST
@login_required
def disagreement_reopen(request, study_slug, pk):
    d, seat = _disagreement(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if "manage_assignments" not in seat.access.perms:
        raise PermissionDenied
    try:
        reconciliation_services.disagreement_reopen(
            actor=request.user, disagreement=d, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        return _respond(request, seat, number=d.number, error=" ".join(exc.messages))
    return _respond(request, seat, number=d.number)


urlpatterns = [
    path("transcripts/<int:pk>/reconcile/", reconcile, name="reconcile"),
    path("transcripts/<int:pk>/reconcile/start/", reconcile_start, name="reconcile_start"),
    path("disagreements/<int:pk>/resolve/", disagreement_resolve, name="disagreement_resolve"),
    path("disagreements/<int:pk>/reopen/", disagreement_reopen, name="disagreement_reopen"),
]
