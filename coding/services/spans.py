"""How coding's rows follow a rewrite of a transcript's text (a correction, a pseudonymisation).

Codings, consensus codings, disagreements (their span and their snapshots of what each coder
coded, quoted text included) and the alternative spans of reviews all point into a transcript's
text. ``HOLDERS`` describes each to ``transcripts.spans``, which the rewrite goes through; the
coding app registers them at start-up (``coding/apps.py``), so transcripts never imports coding.
"""

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from coding.models import Coding, CodingReview, ConsensusCoding, Disagreement, Layer
from coding.selectors.blindness import visible_layers
from transcripts.spans import Held, SpanHolder, Visible
from workbench.access import member_perms

LOST = "cover{s} only text this correction deletes"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _refusal(n: int, noun: str, names, advice: str) -> str:
    """The refusal of a correction that leaves ``n`` spans without text, naming them."""
    names = ", ".join(dict.fromkeys(str(name) for name in names))
    return f"{_plural(n, noun)} ({names}) {LOST.format(s='s' if n == 1 else '')}: {advice}"


# --- codings, in every coder's layer ----------------------------------------------------------


def _lock_layers(transcript) -> list[int]:
    """Every write to codings or reviews holds its layer, and a layer is locked before the
    transcript (the lock order in ``coding.services.codings``): the same order here. While the
    rewrite holds them no coding can be made, changed or reviewed on the old text."""

    return list(
        Layer.objects.select_for_update(of=("self",))
        .filter(transcript_id=transcript.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _codings(transcript):
    # Again, now that the transcript is locked: a layer assigned since ``_lock_layers`` is held
    # too (with the transcript locked, no other layer can appear).
    layer_ids = _lock_layers(transcript)
    codings = (
        Coding.objects.select_for_update(of=("self",))
        .filter(layer_id__in=layer_ids)
        .select_related("code")
        .order_by("pk")
    )
    return [Held(coding, coding.start, coding.end) for coding in codings]


def _refuse_codings(lost, actor) -> str:
    """Names the codes of the codings the actor may see; a blind colleague's are only
    counted (their codes would give that layer away)."""
    one = len(lost) == 1
    advice = f"adjust or delete {'it' if one else 'them'} first."
    transcript = lost[0].row.layer.transcript
    seen = {
        layer.pk
        for layer in visible_layers(actor, member_perms(actor, transcript.study), transcript)
    }
    names = [held.row.code.name for held in lost if held.row.layer_id in seen]
    unseen = len(lost) - len(names)
    if unseen:
        names.append(f"{unseen} in a layer you cannot see")
    return _refusal(len(lost), "coding", names, advice)


# Out of the way of every real span: TRANSCRIPT_MAX_BYTES is far below a billion characters.
PARKED = 1 << 30


def _check_no_twins(moves) -> None:
    """Refuse a rewrite after which two codings of one code in one layer would cover exactly
    the same words (``coding_once_per_span``): which of the two to keep is their coder's call."""
    moved = {move.held.row.pk: (move.start, move.end) for move in moves}
    layers = {move.held.row.layer_id for move in moves}
    seen = set()
    rows = Coding.objects.filter(layer_id__in=layers).values_list(
        "pk", "layer_id", "code_id", "start", "end"
    )
    for pk, layer_id, code_id, start, end in rows:
        key = (layer_id, code_id, *moved.get(pk, (start, end)))
        if key in seen:
            raise ValidationError(
                "This correction would leave two codings of the same code in one layer on "
                "exactly the same words; their coder should adjust or delete one of them first.",
                code="twins",
            )
        seen.add(key)


def _move_codings(moves) -> None:

    _check_no_twins(moves)
    now, touched = timezone.now(), []
    for move in moves:
        coding = move.held.row
        coding.start, coding.end, coding.snippet = move.start, move.end, move.text
        coding.needs_recheck = coding.needs_recheck or move.changed
        # A newer version makes an edit started from the old offsets stale (coding_update).
        coding.version += 1
        coding.updated_at = now
        touched.append(coding)
    # The database checks each row as it is written: a coding moving onto the old span of
    # another that moves on too (the same code, in one layer) would collide half-way. Park the
    # moving ones beyond the text first; from there each lands on its (checked) new span.
    Coding.objects.filter(pk__in=[c.pk for c in touched]).update(end=F("end") + PARKED)
    Coding.objects.bulk_update(
        touched, ["start", "end", "snippet", "needs_recheck", "version", "updated_at"]
    )


def _visible_codings(user, perms, transcript):
    """Only the codings of the layers ``user`` may see: a lead coding blind learns nothing of
    the other coder's layer from the correction pages either."""

    layer_ids = [layer.pk for layer in visible_layers(user, perms, transcript)]
    spans = Coding.objects.filter(layer_id__in=layer_ids).values_list("start", "needs_recheck")
    hidden = Layer.objects.filter(transcript=transcript).exclude(pk__in=layer_ids).exists()
    return Visible(tuple(spans), hidden=hidden)


# --- the consensus layer ----------------------------------------------------------------------


def _consensus_codings(transcript):
    """Written only with the transcript locked (reconciliation), so locked after it."""

    codings = (
        ConsensusCoding.objects.select_for_update(of=("self",))
        .filter(transcript_id=transcript.pk)
        .select_related("code")
        .order_by("pk")
    )
    return [Held(coding, coding.start, coding.end) for coding in codings]


def _refuse_consensus(lost, actor) -> str:
    names = (held.row.code.name for held in lost)
    return _refusal(len(lost), "consensus coding", names, "keep at least a word of each.")


def _move_consensus(moves) -> None:

    touched = []
    for move in moves:
        coding = move.held.row
        coding.start, coding.end, coding.snippet = move.start, move.end, move.text
        touched.append(coding)
    ConsensusCoding.objects.bulk_update(touched, ["start", "end", "snippet"])


# --- disagreements: their span and their snapshots of each side -------------------------------

SIDES = ("a_codings", "b_codings")


def _disagreements_query(transcript):

    return (
        Disagreement.objects.select_for_update(of=("self",))
        .filter(reconciliation__transcript_id=transcript.pk)
        .order_by("pk")
    )


def _lock_disagreements(transcript) -> None:
    """Settling or reopening a disagreement locks it, then the transcript: the same order."""
    list(_disagreements_query(transcript).values_list("pk", flat=True))


def _disagreements(transcript):
    """Each disagreement's span, and the span of every coding it keeps a snapshot of (with the
    quoted text, which must follow a correction or lose a pseudonymised name too). Any made
    since ``_lock_disagreements`` (a reconciliation started meanwhile) are locked here."""

    held = []
    for d in _disagreements_query(transcript):
        held.append(Held(d, d.start, d.end))
        for side in SIDES:
            for i, snapshot in enumerate(getattr(d, side)):
                start, end = snapshot.get("start"), snapshot.get("end")
                if isinstance(start, int) and isinstance(end, int):
                    held.append(Held(d, start, end, (side, i)))
    return held


def _refuse_disagreements(lost, actor) -> str:
    numbers = sorted({held.row.number for held in lost})
    return _refusal(
        len(numbers),
        "disagreement",
        (f"number {n}" for n in numbers),
        "keep at least a word of each.",
    )


def _move_disagreements(moves) -> None:

    touched = {}
    for move in moves:
        d = move.held.row
        if move.held.part is None:
            d.start, d.end = move.start, move.end
        else:
            side, i = move.held.part
            snapshot = getattr(d, side)[i]
            snapshot["start"], snapshot["end"] = move.start, move.end
            snapshot["snippet"] = move.text
        touched[d.pk] = d
    for d in touched.values():
        # A decision started from the old offsets ("edited" gives a span) is now stale.
        d.version += 1
    Disagreement.objects.bulk_update(list(touched.values()), ["start", "end", *SIDES, "version"])


# --- reviews: the span a reviewer would use instead -------------------------------------------


def _reviews(transcript):
    """Written under their reviewer's layer lock, which ``_lock_layers`` took first."""

    reviews = (
        CodingReview.objects.select_for_update(of=("self",))
        .filter(layer__transcript_id=transcript.pk, alt_start__isnull=False)
        .select_related("coding__code")
        .order_by("pk")
    )
    return [Held(review, review.alt_start, review.alt_end) for review in reviews]


def _refuse_reviews(lost, actor) -> str:
    names = (f"on {held.row.coding.code.name}" for held in lost)
    advice = "keep at least a word of each."
    return _refusal(len(lost), "reviewer's alternative span", names, advice)


def _move_reviews(moves) -> None:

    touched = []
    for move in moves:
        review = move.held.row
        review.alt_start, review.alt_end = move.start, move.end
        review.version += 1
        touched.append(review)
    CodingReview.objects.bulk_update(touched, ["alt_start", "alt_end", "version"])


# In this order they are locked and moved: layers (codings, then reviews written under them)
# and disagreements before the transcript, as their own writers lock them.
HOLDERS = (
    SpanHolder(
        "codings",
        spans=_codings,
        move=_move_codings,
        refuse=_refuse_codings,
        lock=_lock_layers,
        visible=_visible_codings,
        summarised=True,
    ),
    SpanHolder(
        "consensus codings",
        spans=_consensus_codings,
        move=_move_consensus,
        refuse=_refuse_consensus,
    ),
    SpanHolder(
        "disagreements",
        spans=_disagreements,
        move=_move_disagreements,
        refuse=_refuse_disagreements,
        lock=_lock_disagreements,
    ),
    SpanHolder(
        "review alternatives",
        spans=_reviews,
        move=_move_reviews,
        refuse=_refuse_reviews,
    ),
)
