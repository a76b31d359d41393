"""The coding page's turns, highlights, margin labels and code lists, built as HTML in Python.

A large transcript has thousands of highlight pieces and margin labels and this is the hot
path, so the page is built with plain string joins rather than template tags. Everything that
comes from users goes through ``esc``.
"""

import bisect
import html
from dataclasses import dataclass, field

from django.utils.safestring import mark_safe

from coding.models import CodeStatus
from transcripts.selectors.transcripts import clock


@dataclass(slots=True)
class Mark:
    """A coding as the page draws it: plain values, cheap to build by the thousand (a model
    instance per coding, and one per coding's code, cost more than the rest of the page)."""

    pk: int
    public_id: str
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


MARK_FIELDS = (
    "pk",
    "public_id",
    "layer_id",
    "code_id",
    "start",
    "end",
    "memo",
    "exemplar",
    "needs_recheck",
)


@dataclass
class Turn:
    utterance: object
    time: str
    html: str = ""
    codings: list = field(default_factory=list)
    markup: str = ""


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
    """A coding's label in the margin: a button that opens it in the editor. ``data-start``
    lets coding.js place it beside the line where the coding starts."""
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
        f'<li data-start="{m.start}"><button type="button" class="{css}" data-coding="{m.ref}" '
        f'style="--code: {m.code.colour}" aria-label="{esc(aria)}">{name}{by}{flags}</button></li>'
    )


def turn_markup(turn: Turn, several_layers: bool, oob: bool = False) -> str:
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


def count_markup(code, oob: bool = False) -> str:
    n = code.count
    swap = ' hx-swap-oob="true"' if oob else ""
    return (
        f'<span class="count" id="count-{code.public_id}" '
        f'aria-label="{n} coding{"" if n == 1 else "s"} in this transcript"{swap}>{n}</span>'
    )


def code_item(code, view_url: str, writable: bool) -> str:
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
            f'<button type="submit" form="pin-form" name="code" value="{code.public_id}" '
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
        f'aria-hidden="true"></span><a class="name" href="?code={code.public_id}" '
        f'hx-get="{view_url}?code={code.public_id}" hx-target="#coding-workspace" '
        f'hx-swap="outerHTML" '
        f'hx-push-url="true" aria-describedby="def-{code.public_id}" aria-label="Show only {name}">'
        f"{name}</a>{status} {count_markup(code)} {pin}"
        f'<div class="code-def" role="tooltip" id="def-{code.public_id}"><strong>{name}</strong>'
        f"{definition}</div></li>"
    )


def picker_option(code) -> str:
    # The number key is shown beside the name and announced as the option's shortcut.
    key = f' data-key="{code.key}" aria-keyshortcuts="{code.key}"' if code.key else ""
    pinned = " data-pinned" if code.pin else ""
    if code.pin:
        tag = '<span class="tag" aria-label="pinned">★</span>'
    elif code.recent:
        tag = '<span class="tag recent">recent</span>'
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
        f'<li role="option" id="pick-{code.public_id}" data-search="{search}" aria-selected="false"'
        f'{key}{pinned}><label><input type="checkbox" name="code" value="{code.public_id}" '
        f'tabindex="-1"><span class="swatch" style="--code: {code.colour}" aria-hidden="true">'
        f'</span><kbd class="key" aria-hidden="true">{code.key}</kbd>'
        f'<span class="name">{esc(code.name)}</span>{tag}</label>{described}</li>'
    )


def build_turns(transcript, utterances, codings, several_layers=False, oob=False) -> list[Turn]:
    """Each turn's text split at coding boundaries, every piece escaped, codings per turn."""
    text = transcript.text
    starts = [u.start for u in utterances]
    turns = [Turn(utterance=u, time=clock(u.start_ms)) for u in utterances]
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
        turn.markup = mark_safe(turn_markup(turn, several_layers, oob))  # all parts escaped
    return turns
