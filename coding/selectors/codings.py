"""Reads for the coding view: the codes beside a transcript with their counts in the visible
layers, pins and recent use, and the order the picker offers them in."""

from django.db.models import Count, Max, OuterRef, Q, Subquery

from coding.models import Code, CodeKind, CodeStatus, PinnedCode

RECENT = 5  # recently used codes listed first in the picker


def side_panel_codes(study, coder_id: int | None, layer_ids, hidden) -> list[Code]:
    """Codes for the side panel and picker, in one query: active first-level ones (and any
    with visible codings), their counts in the visible layers of this transcript, whether the
    reader pinned them and when the reader last used them anywhere in the study. Codes
    matching ``hidden`` (a blind colleague's inductive codes) are left out."""
    user = coder_id  # pins and recent use are a coder's (None for an overseer)
    return list(
        Code.objects.filter(study=study)
        .exclude(hidden)
        .filter(
            # First-level codes are what text is coded with; themes and categories group them
            # (the theme board) and appear here only where this transcript already holds one.
            Q(kind=CodeKind.CODE)
            & (Q(status=CodeStatus.ACTIVE) | Q(status=CodeStatus.PENDING, created_by_id=user))
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


def picker_codes(codes: list[Code]) -> list[Code]:
    """The picker's order and its number keys.

    A number key means the same code until the coder changes their pins: keys 1–9 go to the
    pinned codes in the order they were pinned or, without pins, to the first nine codes of the
    codebook — never by recency, which would re-map the keys after every apply. The keyed codes
    lead (in key order), then the few most recently used of the others, then the codebook.
    """
    usable = [c for c in codes if c.status != CodeStatus.RETIRED]
    pinned = sorted((c for c in usable if c.pin), key=lambda c: c.pin)  # in the order pinned
    keyed = (pinned if pinned else usable)[:9]
    recent = sorted(
        (c for c in usable if c.last_used and not c.pin), key=lambda c: c.last_used, reverse=True
    )[:RECENT]
    for c in usable:
        c.key = ""
        c.recent = c in recent
    for n, c in enumerate(keyed, start=1):
        c.key = str(n)
    taken = {c.pk for c in keyed}
    recent = [c for c in recent if c.pk not in taken]
    taken |= {c.pk for c in recent}
    return keyed + recent + [c for c in usable if c.pk not in taken]
