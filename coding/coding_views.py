"""The coding view: a transcript's turns with the visible layers' codings, and the actions on them.

Who may use it: the transcript's two assigned coders (each writes in their own layer) and
overseers — leads and reviewers — who read the visible layers without writing. Everyone else in
the study gets 403, non-members 404 (``study_for`` first). Blindness: every page, fragment and
count is built from ``visible_layers`` only, and a coding outside them answers 404, exactly as
if it did not exist.

Writes go through ``coding.coding_services``; htmx requests get the ``workspace`` fragment of
the page template, plain POSTs redirect back to the page (POST/redirect/GET).
"""

import bisect
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from coding import coding_services
from coding.models import Code, CodeStatus, Coding, LayerStatus
from coding.visibility import OVERSEERS, visible_layers
from transcripts import services as transcript_services
from workbench.access import study_for

TEMPLATE = "coding/coding.html"
UNDO_SALT = "coding.undo"
UNDO_MAX_AGE = 60 * 60  # an hour: undo is for the last action, not for archaeology


# --- who is looking --------------------------------------------------------------------------


@dataclass
class Seat:
    """One person's place at one transcript: what they see and where (if anywhere) they write."""

    access: object
    transcript: object
    layers: list  # visible layers only
    own: object | None  # the layer this person codes in, if assigned

    @property
    def writable(self) -> bool:
        return self.own is not None and self.own.status != LayerStatus.SUBMITTED


def _transcript(study, pk):
    transcript = study.transcripts.select_related("participant").filter(pk=pk).first()
    if transcript is None:
        raise Http404
    return transcript


def _locked(request, access, transcript, consent):
    return render(
        request,
        "transcripts/transcript_locked.html",
        {"access": access, "study": access.study, "transcript": transcript, "consent": consent},
        status=403,
    )


def _seat(request, study_slug, pk, access=None):
    """The seat of ``request.user`` at transcript ``pk``, or a locked page (a response)."""
    access = access or study_for(request, study_slug)
    transcript = _transcript(access.study, pk)
    layers = visible_layers(request.user, access.perms, transcript)
    own = next((layer for layer in layers if layer.coder_id == request.user.pk), None)
    if own is None and not OVERSEERS & access.perms:
        raise PermissionDenied
    consent = transcript_services.current_consent(transcript.participant)
    if consent is None or not consent.allows("analyse"):
        return _locked(request, access, transcript, consent)
    return Seat(access=access, transcript=transcript, layers=layers, own=own)


def _writer_seat(request, study_slug, pk):
    seat = _seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if seat.own is None:
        # Overseers read; only the layer's own coder writes.
        raise PermissionDenied
    return seat


def _visible_coding(request, study_slug, pk):
    """A coding the user can see, and their seat at its transcript; 404 if hidden from them."""
    access = study_for(request, study_slug)
    coding = (
        Coding.objects.select_related("layer", "code")
        .filter(pk=pk, layer__transcript__study=access.study)
        .first()
    )
    if coding is None:
        raise Http404
    seat = _seat(request, study_slug, coding.layer.transcript_id, access)
    if not isinstance(seat, Seat):
        return coding, seat
    if coding.layer_id not in {layer.pk for layer in seat.layers}:
        raise Http404  # blindness: another coder's coding does not exist for you
    if seat.own is None or coding.layer_id != seat.own.pk:
        raise PermissionDenied
    return coding, seat


# --- rendering -------------------------------------------------------------------------------


@dataclass
class Turn:
    utterance: object
    time: str
    html: str = ""
    codings: list = field(default_factory=list)


def _ms(value):
    if value is None:
        return ""
    seconds = value // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _piece(text: str, start: int, end: int, covering: list) -> str:
    if not covering:
        return escape(text)
    ids = " ".join(str(c.pk) for c in covering)
    names = ", ".join(dict.fromkeys(c.code.name for c in covering))
    # Hover shows code, coder and memo of each coding on the piece.
    tip = "\n".join(
        f"{c.code.name} — {c.coder.get_username()}" + (f": {c.memo[:80]}" if c.memo else "")
        for c in covering
    )
    # Stacked underlines, one per coding (box-shadows stack, the first on top), and a light
    # wash of the first code's colour. Colours are validated #rrggbb, safe in a style.
    shadows = ", ".join(
        f"inset 0 -{3 * (n + 1)}px 0 {c.code.colour}" for n, c in enumerate(covering[:4])
    )
    style = f"background-color: {covering[0].code.colour}22; box-shadow: {shadows}"
    return format_html(
        '<span class="hl" tabindex="0" role="button" data-codings="{}" data-start="{}" '
        'data-end="{}" style="{}" title="{}" aria-label="Coded: {}">{}</span>',
        ids,
        start,
        end,
        style,
        tip,
        names,
        text,
    )


def _turns(transcript, utterances, codings) -> list[Turn]:
    """Each turn's text split at coding boundaries, every piece escaped, codings per turn."""
    text = transcript.text
    starts = [u.start for u in utterances]
    turns = [Turn(utterance=u, time=_ms(u.start_ms)) for u in utterances]
    for coding in codings:
        # The turns a coding touches: from the last turn starting at or before its start.
        first = max(bisect.bisect_right(starts, coding.start) - 1, 0)
        for index in range(first, len(turns)):
            u = utterances[index]
            if u.start >= coding.end:
                break
            if u.end > coding.start:
                turns[index].codings.append(coding)
    for turn in turns:
        u = turn.utterance
        cuts = {u.start, u.end}
        for c in turn.codings:
            cuts.update(p for p in (c.start, c.end) if u.start < p < u.end)
        bounds = sorted(cuts)
        pieces = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            covering = [c for c in turn.codings if c.start <= a and c.end >= b]
            pieces.append(_piece(text[a:b], a, b, covering))
        turn.html = mark_safe("".join(pieces))  # every piece escaped in _piece
    return turns


def _workspace_context(request, seat: Seat, *, error="", undo_token="") -> dict:
    access, transcript = seat.access, seat.transcript
    layer_ids = [layer.pk for layer in seat.layers]
    codings = list(
        Coding.objects.filter(layer_id__in=layer_ids)
        .select_related("code")
        .order_by("start", "end", "id")
    )
    coders = {layer.pk: layer.coder for layer in seat.layers}
    for coding in codings:
        coding.coder = coders[coding.layer_id]
        coding.mine = seat.own is not None and coding.layer_id == seat.own.pk
    utterances = list(transcript.utterances.all())
    # Active codes, with their counts in the visible layers of this transcript only.
    codes = list(
        Code.objects.filter(study=access.study)
        .filter(Q(status=CodeStatus.ACTIVE) | Q(codings__layer_id__in=layer_ids))
        .annotate(count=Count("codings", filter=Q(codings__layer_id__in=layer_ids)))
        .order_by("position", "id")
    )
    return {
        "access": access,
        "study": access.study,
        "transcript": transcript,
        "nav_section": "transcripts",
        "layers": seat.layers,
        "own": seat.own,
        "writable": seat.writable,
        "turns": _turns(transcript, utterances, codings),
        "total": len(codings),
        "codes": codes,
        "active_codes": [c for c in codes if c.status == CodeStatus.ACTIVE],
        "error": error,
        "undo_token": undo_token,
    }


def _respond(request, seat, *, error="", undo_token="", status=200):
    """The workspace fragment for htmx; otherwise a message and a redirect back to the page."""
    if request.htmx:
        context = _workspace_context(request, seat, error=error, undo_token=undo_token)
        return render(request, f"{TEMPLATE}#workspace", context, status=status)
    if error:
        messages.error(request, error)
    url = reverse(
        "coding_view", kwargs={"study_slug": seat.access.study.slug, "pk": seat.transcript.pk}
    )
    if undo_token:
        url += "?" + _query(undo=undo_token)
    return redirect(url)


def _query(**params) -> str:
    return urlencode(params)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- views -----------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def coding_view(request, study_slug, pk):
    seat = _seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    undo = request.GET.get("undo", "")
    if undo and _undo_data(undo) is None:
        undo = ""
    context = _workspace_context(request, seat, undo_token=undo)
    template = TEMPLATE
    if request.htmx and not request.htmx.history_restore_request:
        template += "#workspace"
    return render(request, template, context)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_POST
@login_required
def coding_apply(request, study_slug, pk):
    seat = _writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    start, end = _int(request.POST.get("start")), _int(request.POST.get("end"))
    code_ids = [_int(v) for v in request.POST.getlist("code")]
    if start is None or end is None:
        return _respond(request, seat, error="Select some text first: the span is missing.")
    if not code_ids or None in code_ids:
        return _respond(request, seat, error="Choose a code to apply.")
    codes = {c.pk: c for c in Code.objects.filter(study=seat.access.study, pk__in=code_ids)}
    if len(codes) != len(set(code_ids)):
        return _respond(request, seat, error="That code does not exist in this study.")
    # Trim white space at the ends, as the browser does, so a sloppy drag still lands on words.
    text = seat.transcript.text
    if 0 <= start < end <= len(text):
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
    try:
        with transaction.atomic():  # several codes at once: all or nothing
            for code_id in dict.fromkeys(code_ids):
                coding_services.coding_create(
                    actor=request.user, layer=seat.own, code=codes[code_id], start=start, end=end
                )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    seat.own.refresh_from_db()
    return _respond(request, seat)


def _undo_token(undo: dict, transcript_pk: int) -> str:
    return signing.dumps(
        {
            "t": transcript_pk,
            "layer": undo["layer"].pk,
            "code": undo["code"].pk,
            "start": undo["start"],
            "end": undo["end"],
            "memo": undo["memo"],
            "exemplar": undo["exemplar"],
        },
        salt=UNDO_SALT,
        compress=True,
    )


def _undo_data(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=UNDO_SALT, max_age=UNDO_MAX_AGE)
    except signing.BadSignature:
        return None


@require_POST
@login_required
def coding_delete(request, study_slug, pk):
    coding, seat = _visible_coding(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    try:
        undo = coding_services.coding_delete(actor=request.user, coding=coding)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    return _respond(request, seat, undo_token=_undo_token(undo, seat.transcript.pk))


@require_POST
@login_required
def coding_undo(request, study_slug, pk):
    seat = _writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    data = _undo_data(request.POST.get("token", ""))
    # The token is signed by us, but it must also be for this transcript and this person's layer.
    if data is None or data["t"] != seat.transcript.pk or data["layer"] != seat.own.pk:
        return _respond(request, seat, error="That undo has expired or is not yours.")
    code = Code.objects.filter(study=seat.access.study, pk=data["code"]).first()
    if code is None:
        return _respond(request, seat, error="That code no longer exists.")
    try:
        coding_services.coding_create(
            actor=request.user,
            layer=seat.own,
            code=code,
            start=data["start"],
            end=data["end"],
            memo=data["memo"],
            exemplar=data["exemplar"],
        )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    return _respond(request, seat)


@require_POST
@login_required
def coding_memo(request, study_slug, pk):
    coding, seat = _visible_coding(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    version = _int(request.POST.get("version"))
    try:
        coding_services.coding_update(
            actor=request.user,
            coding=coding,
            version=coding.version if version is None else version,
            memo=request.POST.get("memo", ""),
        )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    return _respond(request, seat)


@require_POST
@login_required
def coding_submit(request, study_slug, pk):
    seat = _writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    if request.POST.get("confirm") != "yes":
        return _respond(request, seat, error="Tick the box to confirm that your layer is finished.")
    try:
        seat.own = coding_services.layer_submit(actor=request.user, layer=seat.own)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    if not request.htmx:
        messages.success(request, "Your layer is submitted.")
    # What this person may see can change once both layers are in: recompute the seat.
    return _respond(request, _seat(request, study_slug, pk))


urlpatterns = [
    path("transcripts/<int:pk>/code/", coding_view, name="coding_view"),
    path("transcripts/<int:pk>/code/apply/", coding_apply, name="coding_apply"),
    path("transcripts/<int:pk>/code/undo/", coding_undo, name="coding_undo"),
    path("transcripts/<int:pk>/code/submit/", coding_submit, name="coding_submit"),
    path("codings/<int:pk>/delete/", coding_delete, name="coding_delete"),
    path("codings/<int:pk>/memo/", coding_memo, name="coding_memo"),
]
