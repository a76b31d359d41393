"""The coding view: a transcript's turns with the visible layers' codings, and the actions on them.

Who may use it: the transcript's two assigned coders (each writes in their own layer) and
overseers — leads and reviewers — who read the visible layers without writing. Everyone else in
the study gets 403, non-members 404 (``study_for`` first). Blindness: every page, fragment and
count is built from ``visible_layers`` only, and a coding outside them answers 404, exactly as
if it did not exist.

Writes go through ``coding.coding_services``; htmx requests get the ``workspace`` fragment of
the page template, plain POSTs redirect back to the page (POST/redirect/GET). Every write
answers with an undo token for its inverse, so the last action can always be taken back.
"""

import bisect
import html
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap

from coding.models import Code, CodeStatus, Coding, CodingReview, LayerRole, LayerStatus, PinnedCode
from coding.selectors.blindness import OVERSEERS, visible_layers
from coding.services import codings as coding_services
from transcripts.selectors import consent as consent_selectors
from workbench.access import study_for

TEMPLATE = "coding/coding.html"
UNDO_SALT = "coding.undo"
UNDO_MAX_AGE = 60 * 60  # an hour: undo is for the last action, not for archaeology
RECENT = 5  # recently used codes listed first in the picker


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
    consent = consent_selectors.current_consent(transcript.participant)
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


def _visible_coding(request, study_slug, pk, *, write=True):
    """A coding the user can see, and their seat at its transcript; 404 if hidden from them.

    With ``write`` the coding must also be in the user's own layer (403 otherwise).
    """
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
    if write and (seat.own is None or coding.layer_id != seat.own.pk):
        raise PermissionDenied
    return coding, seat


# --- what the page shows ---------------------------------------------------------------------


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class ViewState:
    """The reader's filters: one code, only their own layer, only codings to re-check.

    They live in the page's query string; an htmx write re-renders with the filters of the
    page it came from (``HX-Current-URL``), so coding under a filter keeps the filter.
    """

    code: int | None = None
    mine: bool = False
    recheck: bool = False

    @classmethod
    def of(cls, request) -> "ViewState":
        params = request.GET
        if request.method != "GET" and request.htmx and request.htmx.current_url:
            params = QueryDict(urlsplit(request.htmx.current_url).query)
        return cls(
            code=_int(params.get("code")),
            mine=params.get("mine") == "1",
            recheck=params.get("recheck") == "1",
        )

    @property
    def filtered(self) -> bool:
        return self.code is not None or self.mine or self.recheck

    def keeps(self, coding, own) -> bool:
        return (
            (self.code is None or coding.code_id == self.code)
            and (not self.mine or (own is not None and coding.layer_id == own.pk))
            and (not self.recheck or coding.needs_recheck)
        )


@dataclass(slots=True)
class Mark:
    """A coding as the page draws it: plain values, cheap to build by the thousand (a model
    instance per coding, and one per coding's code, cost more than the rest of the page)."""

    pk: int
    layer_id: int
    code_id: int
    start: int
    end: int
    memo: str
    exemplar: bool
    needs_recheck: bool
    code: object = None
    coder_name: str = ""
    mine: bool = False
    verdict: str = ""
    ref: str = ""  # the pk as text, for data attributes
    tip: str = ""  # "code — coder: memo", escaped: the same on every piece of the coding


MARK_FIELDS = ("pk", "layer_id", "code_id", "start", "end", "memo", "exemplar", "needs_recheck")


@dataclass
class Turn:
    utterance: object
    time: str
    html: str = ""
    codings: list = field(default_factory=list)
    markup: str = ""


def _ms(value):
    if value is None:
        return ""
    seconds = value // 1000
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


# The page is built in Python with plain string joins rather than template tags: a large
# transcript has thousands of highlight pieces and margin labels, and this is the hot path.
# Everything that comes from users goes through ``esc``.


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def _piece(text: str, start: int, covering: list) -> str:
    """One stretch of a turn with the same codings over it."""
    if not covering:
        return esc(text)
    ids = " ".join([c.ref for c in covering])
    # Hover or focus shows code, coder and memo of each coding on the piece (coding.js).
    tip = "\n".join([c.tip for c in covering])
    # Stacked underlines, one per coding (box-shadows stack, the first on top), and a light
    # wash of the first code's colour. Colours are validated #rrggbb, safe in a style.
    shadows = ", ".join(
        [f"inset 0 -{3 * (n + 1)}px 0 {c.code.colour}" for n, c in enumerate(covering[:4])]
    )
    # Where codings begin: the stops of "next / previous coding".
    starts = " ".join([c.ref for c in covering if c.start == start])
    first = f' first" data-starts="{starts}' if starts else ""
    return (
        f'<span class="hl{first}" tabindex="-1" data-codings="{ids}" '
        f'style="background-color: {covering[0].code.colour}22; box-shadow: {shadows}" '
        f'data-tip="{tip}">{esc(text)}</span>'
    )


def _label(m: Mark, several_layers: bool) -> str:
    """A coding's label in the margin: a button that opens it in the editor."""
    name = esc(m.code.name)
    by = f'<span class="by"> · {esc(m.coder_name)}</span>' if several_layers else ""
    flags = "".join(
        flag
        for wanted, flag in (
            (m.needs_recheck, '<span class="flag" title="To re-check"> ⚑</span>'),
            (m.exemplar, '<span class="flag" title="Exemplar quote"> ❝</span>'),
            (m.memo, '<span class="flag" title="Has a memo"> ✎</span>'),
            (m.verdict == "confirm", '<span class="flag ok" title="You confirmed it"> ✓</span>'),
            (m.verdict == "challenge", '<span class="flag" title="You challenged it"> ✗</span>'),
        )
        if wanted
    )
    aria = (
        f"{m.code.name} by {m.coder_name}"
        + (", to re-check" if m.needs_recheck else "")
        + (", exemplar" if m.exemplar else "")
        + ": open"
    )
    css = "mlabel flagged" if m.needs_recheck else "mlabel"
    return (
        f'<li><button type="button" class="{css}" data-coding="{m.pk}" '
        f'style="--code: {m.code.colour}" aria-label="{esc(aria)}">{name}{by}{flags}</button></li>'
    )


def _turn_markup(turn: Turn, several_layers: bool, oob: bool = False) -> str:
    u = turn.utterance
    time = f" · <time>{turn.time}</time>" if turn.time else ""
    labels = "".join(_label(m, several_layers) for m in turn.codings)
    swap = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<li class="cturn role-{u.role}" id="t{u.index}"{swap}>'
        f'<div class="who"><strong>{esc(u.speaker or "—")}</strong>'
        f'<span class="muted small">{esc(u.get_role_display())}{time}</span></div>'
        f'<p class="said" tabindex="0" aria-describedby="turn-keys" data-start="{u.start}" '
        f'data-end="{u.end}">{turn.html}</p>'
        f'<ul class="margin" aria-label="Codings in this turn">{labels}</ul></li>'
    )


def _count_markup(code, oob: bool = False) -> str:
    n = code.count
    swap = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<span class="count" id="count-{code.pk}" aria-label="{n} coding{"" if n == 1 else "s"} '
        f'in this transcript"{swap}>{n}</span>'
    )


def _code_item(code, view_url: str, writable: bool) -> str:
    """One code in the side panel: filter link, count in this transcript, pin, definition."""
    name = esc(code.name)
    status = (
        f' <span class="muted small">({esc(code.get_status_display().lower())})</span>'
        if code.status != CodeStatus.ACTIVE
        else ""
    )
    pin = ""
    if writable and code.status != CodeStatus.RETIRED:
        on = bool(code.pin)
        title = "Unpin" if on else "Pin: pinned codes lead the picker, keys 1–9"
        pin = (
            f'<button type="submit" form="pin-form" name="code" value="{code.pk}" '
            f'class="pin quiet{" on" if on else ""}" aria-pressed="{"true" if on else "false"}" '
            f'aria-label="Pin {name}" title="{title}">{"★" if on else "☆"}</button>'
        )
    definition = (
        f"<p>{esc(code.definition)}</p>"
        if code.definition
        else '<p class="muted">No definition yet.</p>'
    )
    if code.when_to_use:
        definition += f"<p><em>Use when:</em> {esc(code.when_to_use)}</p>"
    if code.when_not_to_use:
        definition += f"<p><em>Not when:</em> {esc(code.when_not_to_use)}</p>"
    return (
        f'<li class="code-item"><span class="swatch" style="--code: {code.colour}" '
        f'aria-hidden="true"></span><a class="name" href="?code={code.pk}" '
        f'hx-get="{view_url}?code={code.pk}" hx-target="#coding-workspace" hx-swap="outerHTML" '
        f'hx-push-url="true" aria-describedby="def-{code.pk}" aria-label="Show only {name}">'
        f"{name}</a>{status} {_count_markup(code)} {pin}"
        f'<div class="code-def" role="tooltip" id="def-{code.pk}"><strong>{name}</strong>'
        f"{definition}</div></li>"
    )


def _picker_option(code) -> str:
    key = f' data-key="{code.key}"' if code.key else ""
    pinned = " data-pinned" if code.pin else ""
    if code.pin:
        tag = '<span class="tag" aria-label="pinned">★</span>'
    elif code.recent:
        tag = '<span class="tag">recent</span>'
    else:
        tag = ""
    if code.status == CodeStatus.PENDING:
        tag += '<span class="tag">pending</span>'
    definition = code.definition
    if len(definition) > 90:
        definition = definition[:89] + "…"
    described = f'<span class="def small muted">{esc(definition)}</span>' if code.definition else ""
    search = esc(f"{code.name.lower()} {code.definition.lower()}")
    return (
        f'<li role="option" id="pick-{code.pk}" data-search="{search}" aria-selected="false"'
        f'{key}{pinned}><label><input type="checkbox" name="code" value="{code.pk}" '
        f'tabindex="-1"><span class="swatch" style="--code: {code.colour}" aria-hidden="true">'
        f'</span><kbd class="key" aria-hidden="true">{code.key}</kbd>'
        f'<span class="name">{esc(code.name)}</span>{tag}</label>{described}</li>'
    )


def _turns(transcript, utterances, codings, several_layers=False, oob=False) -> list[Turn]:
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
            pieces.append(_piece(text[a:b], a, covering))
        turn.html = "".join(pieces)
        turn.markup = mark_safe(_turn_markup(turn, several_layers, oob))  # all parts escaped
    return turns


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
        m.ref = str(m.pk)
        m.tip = esc(f"{m.code.name} — {m.coder_name}" + (f": {m.memo[:120]}" if m.memo else ""))
    if own is not None and _reviewing(seat):
        verdicts = dict(
            CodingReview.objects.filter(layer=seat.own).values_list("coding_id", "verdict")
        )
        for m in marks:
            m.verdict = verdicts.get(m.pk, "")
    return marks


def _codes(seat: Seat, layer_ids) -> list[Code]:
    """Codes for the side panel and picker, in one query: active ones (and any with visible
    codings), their counts in the visible layers of this transcript, whether the reader pinned
    them and when the reader last used them anywhere in the study."""
    user = seat.own.coder_id if seat.own else None  # pins and recent use are a coder's
    return list(
        Code.objects.filter(study=seat.access.study)
        .filter(
            Q(status=CodeStatus.ACTIVE)
            | Q(status=CodeStatus.PENDING, created_by_id=user)
            | Q(codings__layer_id__in=layer_ids)
        )
        .annotate(
            count=Count("codings", filter=Q(codings__layer_id__in=layer_ids), distinct=True),
            last_used=Max("codings__created_at", filter=Q(codings__layer__coder_id=user)),
            pin=Subquery(
                PinnedCode.objects.filter(user_id=user, code=OuterRef("pk")).values("pk")[:1]
            ),
        )
        .order_by("position", "id")
    )


def _picker_codes(codes: list[Code]) -> list[Code]:
    """Pinned codes first (keys 1–9), then the few most recently used, then the codebook."""
    usable = [c for c in codes if c.status != CodeStatus.RETIRED]
    pinned = sorted((c for c in usable if c.pin), key=lambda c: c.pin)  # in the order pinned
    recent = sorted(
        (c for c in usable if c.last_used and not c.pin), key=lambda c: c.last_used, reverse=True
    )[:RECENT]
    taken = {c.pk for c in pinned} | {c.pk for c in recent}
    ordered = pinned + recent + [c for c in usable if c.pk not in taken]
    keyed = pinned if pinned else ordered  # without pins, keys go to the first nine listed
    for c in ordered:
        c.key = ""
        c.recent = c in recent
    for n, c in enumerate(keyed[:9], start=1):
        c.key = str(n)
    return ordered


def _workspace_context(
    request, seat: Seat, *, error="", undo=None, selected=None, picker=None
) -> dict:
    access, transcript = seat.access, seat.transcript
    view = ViewState.of(request)
    layer_ids = [layer.pk for layer in seat.layers]
    codes = _codes(seat, layer_ids)
    view_url = reverse("coding_view", args=[access.study.slug, transcript.pk])
    codings = _marks(seat, {code.pk: code for code in codes})
    shown = [c for c in codings if view.keeps(c, seat.own)] if view.filtered else codings
    utterances = list(transcript.utterances.all())
    turns = _turns(transcript, utterances, shown, several_layers=len(seat.layers) > 1)
    hidden_turns = 0
    if view.code is not None or view.recheck:
        # A filter on codes shows the turns holding such codings, not pages of uncoded text.
        kept = [turn for turn in turns if turn.codings]
        hidden_turns, turns = len(turns) - len(kept), kept
    by_pk = {code.pk: code for code in codes}
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
        "total": len(codings),
        "shown": len(shown),
        "recheck": sum(1 for c in codings if c.needs_recheck),
        "view": view,
        "view_code": by_pk.get(view.code),
        "codes": codes,
        "code_items": mark_safe(
            "".join(_code_item(code, view_url, seat.writable) for code in codes)
        ),
        "picker_options": mark_safe(
            "".join(_picker_option(code) for code in _picker_codes(codes)) if seat.writable else ""
        ),
        "editor_base": reverse("coding_editor", args=[access.study.slug, 0])[:-2],
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


def _respond(request, seat, *, error="", undo=None, selected=None, picker=None, status=200):
    """The workspace fragment for htmx; otherwise a message and a redirect back to the page."""
    if request.htmx:
        context = _workspace_context(
            request, seat, error=error, undo=undo, selected=selected, picker=picker
        )
        return render(request, f"{TEMPLATE}#workspace", context, status=status)
    if error:
        messages.error(request, error)
    url = reverse(
        "coding_view", kwargs={"study_slug": seat.access.study.slug, "pk": seat.transcript.pk}
    )
    params = {}
    if undo:
        params["undo"] = undo["token"]
    if selected:
        params["coding"] = selected.pk
    return redirect(url + ("?" + urlencode(params) if params else ""))


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


# --- undo: every write returns a signed description of its inverse ----------------------------


def _undo(seat: Seat, label: str, **inverse) -> dict:
    token = signing.dumps(
        {"t": seat.transcript.pk, "layer": seat.own.pk, "label": label, **inverse},
        salt=UNDO_SALT,
        compress=True,
    )
    return {"token": token, "label": label}


def _undo_data(token: str) -> dict | None:
    try:
        return signing.loads(token, salt=UNDO_SALT, max_age=UNDO_MAX_AGE)
    except signing.BadSignature:
        return None


def _undo_of_created(seat, created: list[Coding]) -> dict:
    names = ", ".join(f"“{c.code.name}”" for c in created)
    return _undo(seat, f"Applied {names}.", op="delete", ids=[[c.pk, c.version] for c in created])


def _fields(coding: Coding) -> dict:
    return {
        "code": coding.code_id,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo,
        "exemplar": coding.exemplar,
        "needs_recheck": coding.needs_recheck,
    }


def _own_coding(seat, pk):
    return Coding.objects.filter(pk=pk, layer=seat.own).select_related("code").first()


@transaction.atomic
def _run_undo(actor, seat: Seat, data: dict) -> Coding | None:
    """Carry out an undo; returns the coding to show in the editor, if one remains."""
    op = data.get("op", "create")
    if op == "delete":
        for pk, version in data["ids"]:
            coding = _own_coding(seat, pk)
            if coding is None:
                continue  # already gone: nothing to take back
            if coding.version != version:
                raise ValidationError("That coding was changed since; undo would lose the change.")
            coding_services.coding_delete(actor=actor, coding=coding)
        return None
    before = data["before"]
    code = Code.objects.filter(study=seat.access.study, pk=before["code"]).first()
    if code is None:
        raise ValidationError("That code no longer exists.")
    if op == "restore":
        coding = _own_coding(seat, data["id"])
        if coding is None:
            raise ValidationError("That coding no longer exists.")
        return coding_services.coding_update(
            actor=actor, coding=coding, version=data["version"], **(before | {"code": code})
        )
    coding = coding_services.coding_create(
        actor=actor,
        layer=seat.own,
        code=code,
        start=before["start"],
        end=before["end"],
        memo=before["memo"],
        exemplar=before["exemplar"],
    )
    if before.get("needs_recheck"):
        coding = coding_services.coding_update(
            actor=actor, coding=coding, version=coding.version, needs_recheck=True
        )
    return coding


# --- views -----------------------------------------------------------------------------------


@require_GET
@login_required
@vary_on_headers("HX-Request")
def coding_view(request, study_slug, pk):
    seat = _seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    undo = None
    data = _undo_data(request.GET.get("undo", ""))
    if data and data.get("t") == seat.transcript.pk:
        undo = {"token": request.GET["undo"], "label": data.get("label", "")}
    selected = None
    coding_pk = _int(request.GET.get("coding"))
    if coding_pk is not None:
        visible = [layer.pk for layer in seat.layers]
        selected = Coding.objects.filter(pk=coding_pk, layer_id__in=visible).first()
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
    start, end = _int(request.POST.get("start")), _int(request.POST.get("end"))
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


def _posted_codes(request, seat) -> tuple[list[Code], str]:
    code_ids = [_int(v) for v in request.POST.getlist("code") if v.strip()]
    if None in code_ids:
        return [], "That code does not exist in this study."
    codes = {c.pk: c for c in Code.objects.filter(study=seat.access.study, pk__in=code_ids)}
    if len(codes) != len(set(code_ids)):
        return [], "That code does not exist in this study."
    return [codes[pk] for pk in dict.fromkeys(code_ids)], ""


@require_POST
@login_required
def coding_apply(request, study_slug, pk):
    seat = _writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    start, end, error = _span(request, seat)
    codes, code_error = _posted_codes(request, seat)
    error = error or code_error or ("" if codes else "Choose a code to apply.")
    if error:
        return _respond(request, seat, error=error)
    try:
        with transaction.atomic():  # several codes at once: all or nothing
            created = [
                coding_services.coding_create(
                    actor=request.user, layer=seat.own, code=code, start=start, end=end
                )
                for code in codes
            ]
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    undo = _undo_of_created(seat, created)
    if request.htmx and not ViewState.of(request).filtered:
        return _changed(request, seat, (start, end), undo)
    seat.own.refresh_from_db()
    return _respond(request, seat, undo=undo)


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
        "turns": _turns(transcript, utterances, marks, len(seat.layers) > 1, oob=True),
        "total": total,
        "shown": total,
        "view": ViewState(),
        "writable": seat.writable,
        "layers": seat.layers,
        "counts": mark_safe("".join(_count_markup(code, oob=True) for code in codes)),
        "undo": undo,
    }
    return reswap(render(request, f"{TEMPLATE}#changed", context), "none")


@require_POST
@login_required
def coding_new_code(request, study_slug, pk):
    """Create an inductive code from the picker and apply it to the selection at once."""
    seat = _writer_seat(request, study_slug, pk)
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
        created = coding_services.coding_create_with_new_code(
            actor=request.user,
            layer=seat.own,
            name=name,
            definition=definition,
            start=start,
            end=end,
            also=also,
        )
    except ValidationError as exc:
        # Keep what was typed: the picker opens again with the message beside the fields.
        return _respond(request, seat, picker=picker | {"error": _message(exc)})
    seat.own.refresh_from_db()
    code = created[0].code
    undo = _undo_of_created(seat, created)
    if code.status == CodeStatus.PENDING:
        undo["label"] += f" “{code.name}” waits for an admin's approval."
    return _respond(request, seat, undo=undo)


@require_POST
@login_required
def coding_pin(request, study_slug, pk):
    seat = _writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    code = Code.objects.filter(study=seat.access.study, pk=_int(request.POST.get("code"))).first()
    if code is None:
        return _respond(request, seat, error="That code does not exist in this study.")
    try:
        coding_services.code_pin_toggle(actor=request.user, code=code)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    return _respond(request, seat)


@require_GET
@login_required
def coding_editor(request, study_slug, pk):
    """One coding's details (and, in its own coder's open layer, the form to change it)."""
    coding, seat = _visible_coding(request, study_slug, pk, write=False)
    if not isinstance(seat, Seat):
        return seat
    if not request.htmx:
        url = reverse("coding_view", args=[study_slug, seat.transcript.pk])
        return redirect(f"{url}?coding={coding.pk}")
    layer_ids = [layer.pk for layer in seat.layers]
    context = {
        "access": seat.access,
        "study": seat.access.study,
        "transcript": seat.transcript,
        "text_version": seat.transcript.text_sha256[:16],
        "selected": _editor_context(seat, coding, _codes(seat, layer_ids)),
    }
    return render(request, f"{TEMPLATE}#editor", context)


@require_POST
@login_required
def coding_edit(request, study_slug, pk):
    """Save a coding's code, memo, exemplar mark and re-check flag, or move an edge of its span.

    ``nudge`` (``start-back``, ``start-forward``, ``end-back``, ``end-forward``) moves one edge
    a word; ``span=selection`` takes the posted start/end (a new selection in the browser).
    """
    coding, seat = _visible_coding(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    version = _int(request.POST.get("version"))
    before = _fields(coding)
    changes = {}
    if request.POST.get("fields") == "all":
        # The editor's form: its checkboxes say "off" by being absent.
        changes = {
            "memo": request.POST.get("memo", ""),
            "exemplar": request.POST.get("exemplar") == "on",
            "needs_recheck": request.POST.get("needs_recheck") == "on",
        }
    code_pk = _int(request.POST.get("code"))
    if code_pk is not None and code_pk != coding.code_id:
        code = Code.objects.filter(study=seat.access.study, pk=code_pk).first()
        if code is None:
            return _respond(request, seat, error="That code does not exist in this study.")
        changes["code"] = code
    text = seat.transcript.text
    nudge = request.POST.get("nudge", "")
    if nudge in {"start-back", "start-forward", "end-back", "end-forward"}:
        edge, direction = nudge.split("-")
        changes["start"], changes["end"] = coding_services.nudged(
            text, coding.start, coding.end, edge, direction == "forward"
        )
    elif request.POST.get("span") == "selection":
        start, end, error = _span(request, seat)
        if error:
            return _respond(request, seat, error=error, selected=coding)
        changes["start"], changes["end"] = start, end
    try:
        updated = coding_services.coding_update(
            actor=request.user,
            coding=coding,
            version=coding.version if version is None else version,
            **changes,
        )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc), selected=coding)
    undo = _undo(
        seat,
        f"Changed a “{updated.code.name}” coding.",
        op="restore",
        id=updated.pk,
        version=updated.version,
        before=before,
    )
    return _respond(request, seat, undo=undo, selected=updated)


@require_POST
@login_required
def coding_review(request, study_slug, pk):
    """Review mode: the second coder confirms or challenges a primary coding."""
    coding, seat = _visible_coding(request, study_slug, pk, write=False)
    if not isinstance(seat, Seat):
        return seat
    if seat.own is None:
        raise PermissionDenied
    start = end = None
    if request.POST.get("start") and request.POST.get("end"):
        start, end, error = _span(request, seat)
        if error:
            return _respond(request, seat, error=error, selected=coding)
    alt_code = None
    if _int(request.POST.get("code")) is not None:
        alt_code = Code.objects.filter(
            study=seat.access.study, pk=_int(request.POST.get("code"))
        ).first()
    try:
        coding_services.coding_review(
            actor=request.user,
            coding=coding,
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
            alt_code=alt_code,
            alt_start=start,
            alt_end=end,
        )
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc), selected=coding)
    return _respond(request, seat, selected=coding)


@require_POST
@login_required
def coding_delete(request, study_slug, pk):
    coding, seat = _visible_coding(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    before = _fields(coding)
    try:
        coding_services.coding_delete(actor=request.user, coding=coding)
    except ValidationError as exc:
        return _respond(request, seat, error=_message(exc))
    undo = _undo(seat, f"Deleted a “{coding.code.name}” coding.", op="create", before=before)
    return _respond(request, seat, undo=undo)


@require_POST
@login_required
def coding_undo(request, study_slug, pk):
    seat = _writer_seat(request, study_slug, pk)
    if not isinstance(seat, Seat):
        return seat
    data = _undo_data(request.POST.get("token", ""))
    # The token is signed by us, but it must also be for this transcript and this person's layer.
    if data is None or data.get("t") != seat.transcript.pk or data.get("layer") != seat.own.pk:
        return _respond(request, seat, error="That undo has expired or is not yours.")
    try:
        restored = _run_undo(request.user, seat, data)
    except ValidationError as exc:
        return _respond(request, seat, error=f"Could not undo: {_message(exc)}")
    return _respond(request, seat, selected=restored)


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
    path("transcripts/<int:pk>/code/new-code/", coding_new_code, name="coding_new_code"),
    path("transcripts/<int:pk>/code/pin/", coding_pin, name="coding_pin"),
    path("transcripts/<int:pk>/code/undo/", coding_undo, name="coding_undo"),
    path("transcripts/<int:pk>/code/submit/", coding_submit, name="coding_submit"),
    path("codings/<int:pk>/", coding_editor, name="coding_editor"),
    path("codings/<int:pk>/edit/", coding_edit, name="coding_edit"),
    path("codings/<int:pk>/delete/", coding_delete, name="coding_delete"),
    path("codings/<int:pk>/review/", coding_review, name="coding_review"),
]
