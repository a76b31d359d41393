"""The consensus layer beside a coder's layer in the coding view (a toggle, ``?consensus=1``).

Shown read-only in a column of its own, turn by turn, to whoever sees both layers submitted in
their seat: as on the reconciliation page, a coder only once both layers are submitted (never
while a layer is reopened), leads and reviewers who do not code the transcript likewise. The
seat's layers already went through blindness (``visible_layers``), so the rule costs no query.
For anyone else the toggle is not offered and the parameter does nothing.
"""

import bisect
from urllib.parse import urlsplit

from django.http import QueryDict
from django.utils.safestring import mark_safe

from coding.models import ConsensusCoding, LayerStatus
from coding.rendering.coding_page import esc


def _wanted(request) -> bool:
    params = request.GET
    if request.method != "GET" and request.htmx and request.htmx.current_url:
        params = QueryDict(urlsplit(request.htmx.current_url).query)
    return params.get("consensus") == "1"


def _item(coding) -> str:
    words = coding.snippet if len(coding.snippet) <= 80 else coding.snippet[:79] + "…"
    flag = ' <span class="flag" title="Exemplar quote">❝</span>' if coding.exemplar else ""
    return (
        f'<li><span class="swatch" style="--code: {coding.code.colour}" aria-hidden="true"></span> '
        f"<strong>{esc(coding.code.name)}</strong>{flag}"
        f'<span class="cwords">“{esc(words)}”</span></li>'
    )


def consensus_beside(request, seat, turns) -> dict:
    """Whether the toggle is offered and on; when on, each turn gets a consensus column."""
    transcript = seat.transcript
    layers = seat.layers
    available = len(layers) == 2 and all(x.status == LayerStatus.SUBMITTED for x in layers)
    shown = available and _wanted(request)
    if shown:
        rows = ConsensusCoding.objects.filter(transcript=transcript).select_related("code")
        starts = [turn.utterance.start for turn in turns]
        per_turn: list[list[str]] = [[] for _ in turns]
        for coding in rows.order_by("start", "end", "id"):
            index = bisect.bisect_right(starts, coding.start) - 1
            if 0 <= index < len(turns) and coding.start < turns[index].utterance.end:
                per_turn[index].append(_item(coding))
        for turn, items in zip(turns, per_turn, strict=True):
            column = (
                f'<ul class="consensus-beside" aria-label="Consensus codings in this turn">'
                f"{''.join(items)}</ul>"
            )
            # The turn's markup ends with its closing tag: the column goes in as its last cell.
            turn.markup = mark_safe(turn.markup[: -len("</li>")] + column + "</li>")
    return {"available": available, "shown": shown}
