"""Assignments, layers and codings: every write of the dual-coding workflow.

Atomic and audited like every service. Audit events never hold transcript text (the trail can
never be purged, transcripts can): a coding is recorded by its code, span and layer.

**Lock order.** Every write that touches a transcript's codings takes its row locks in this
order, so that two writes wait for each other instead of deadlocking (on PostgreSQL; SQLite
locks the whole database for each write):

1. layers, by primary key: a coding write locks the layer it writes in (a second layer's write
   also the primary layer, on which it depends in review mode); a rewrite of the text
   (``transcripts.services.corrections``) and a re-assignment lock every layer of the transcript;
2. disagreements (reconciliation);
3. the transcript;
4. codings, then reviews.

A rewrite holds every layer of its transcript until it commits. So a write that holds its layer
and *then* reads the text reads the current text, and no rewrite changes that text before the
write commits. Offsets a browser took from an older text are refused by their ``text_version``
(``text_version_of``: what the coding page carries).
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, Subquery

from coding.models import (
    Code,
    CodeOrigin,
    CodeStatus,
    Coding,
    CodingMode,
    CodingReview,
    Layer,
    LayerRole,
    LayerStatus,
    PinnedCode,
    ReviewVerdict,
)
from coding.selectors.assignments import coding_mode
from transcripts.models import Transcript
from transcripts.selectors.consent import allows
from workbench import audit
from workbench.access import member_perms
from workbench.locking import StaleEdit

CODING_PERMISSIONS = {"code_transcripts", "review_codings"}


def layer_facts(layer: Layer) -> dict:
    return {
        "transcript": layer.transcript_id,
        "layer": layer.role,
        "coder": layer.coder.get_username(),
    }


def can_code(user, study) -> bool:
    return bool(CODING_PERMISSIONS & member_perms(user, study))


def text_version_of(transcript) -> str:
    """The version of a transcript's text that the coding page sends back with a selection."""
    return transcript.text_sha256[:16]


def lock_layer(pk: int) -> Layer:
    """Lock layer ``pk`` for a write in it, in the lock order (module docstring), and return it
    with its transcript as it is now. Every write in a layer calls it first (again is free).

    A second layer's write also locks the primary layer (in review mode the second coder works
    on it), both in one statement in primary-key order. The transcript is read after the lock,
    in its own query: read in the locking query's join it could be older than the lock. A layer
    deleted while we waited for it is not found: refused with a message.
    """
    # One statement: the layer and its transcript's primary layer (the same row for a primary
    # layer). The coder is read in the join: a layer never changes coder (it is replaced).
    transcript_id = Layer.objects.filter(pk=pk).values("transcript_id")
    locked = (
        Layer.objects.select_for_update(of=("self",))
        .select_related("coder")
        .filter(Q(pk=pk) | Q(transcript_id=Subquery(transcript_id), role=LayerRole.PRIMARY))
        .order_by("pk")
    )
    layer = next((row for row in locked if row.pk == pk), None)
    if layer is None:
        raise ValidationError(
            "This layer no longer exists: the transcript was assigned to someone else "
            "meanwhile. Reload the page.",
            code="gone",
        )
    layer.transcript = Transcript.objects.select_related("participant", "study").get(
        pk=layer.transcript_id
    )
    return layer


def _gone(what: str) -> ValidationError:
    return ValidationError(f"This {what} no longer exists; it may have been deleted.", code="gone")


def _transcript_of(coding: Coding) -> int:
    found = Coding.objects.filter(pk=coding.pk).values_list("layer__transcript_id", flat=True)
    if not found:
        raise _gone("coding")
    return found[0]


def _lock_coding(pk: int, version: int | None) -> tuple[Coding, Layer]:
    """Lock a coding's layer, then the coding (the lock order); refuse a stale ``version``."""
    layer_id = Coding.objects.filter(pk=pk).values_list("layer_id", flat=True).first()
    if layer_id is None:
        raise _gone("coding")
    layer = lock_layer(layer_id)
    # A coding never changes layer, and every write to it holds its layer: current now.
    coding = Coding.objects.select_for_update(of=("self",)).filter(pk=pk).order_by().first()
    if coding is None:
        raise _gone("coding")
    if version is not None and coding.version != version:
        raise StaleEdit("This coding")
    coding.layer = layer
    return coding, layer


def _check_text_version(transcript, seen: str | None) -> None:
    if seen is not None and seen != text_version_of(transcript):
        raise ValidationError(
            "The transcript's text was corrected since you opened this page, so your selection "
            "may point at other words. Reload the page and select again.",
            code="stale_text",
        )


def _check_can_write(actor, layer: Layer) -> None:
    """May ``actor`` write in ``layer`` now? Call with the layer locked (``lock_layer``)."""
    if layer.coder_id != actor.pk:
        raise ValidationError("You can only code in your own layer.")
    if layer.status == LayerStatus.SUBMITTED:
        raise ValidationError("This layer is submitted; ask a lead to reopen it to change it.")
    transcript = layer.transcript
    if not allows(transcript, "analyse"):
        raise ValidationError("The participant's consent does not cover analysis: no coding.")
    if layer.role == LayerRole.SECOND and coding_mode(transcript) == CodingMode.REVIEW:
        primary = transcript.layers.filter(role=LayerRole.PRIMARY).first()
        if primary is None or primary.status != LayerStatus.SUBMITTED:
            raise ValidationError(
                "In review mode the second coder starts once the primary coding is submitted."
            )


def _check_code(actor, layer: Layer, code: Code) -> Code:
    """The code as it stands now (a caller's copy may predate a retirement), if usable."""
    code = Code.objects.get(pk=code.pk)
    if code.study_id != layer.transcript.study_id:
        raise ValidationError({"code": "That code belongs to another study."})
    if code.status == CodeStatus.RETIRED:
        raise ValidationError({"code": f"“{code.name}” is retired; choose an active code."})
    if code.status == CodeStatus.PENDING and code.created_by_id != actor.pk:
        raise ValidationError({"code": f"“{code.name}” is still waiting for approval."})
    return code


def check_span(text: str, start: int, end: int) -> None:
    if not (isinstance(start, int) and isinstance(end, int)):
        raise ValidationError("Offsets must be whole numbers.")
    if start < 0 or end > len(text):
        raise ValidationError(
            f"The span {start}–{end} lies outside the transcript (0–{len(text)} characters)."
        )
    if end <= start:
        raise ValidationError("Select at least one character: the end must come after the start.")
    if not text[start:end].strip():
        raise ValidationError("The selection holds only white space.")


def _coding_facts(coding: Coding) -> dict:
    return {
        "code": coding.code.name,
        "start": coding.start,
        "end": coding.end,
        **audit.text_facts("memo", coding.memo),  # length and digest, never the text
        "exemplar": coding.exemplar,
        "needs_recheck": coding.needs_recheck,
    }


def _check_once_per_span(layer: Layer, code: Code, start: int, end: int, but=None) -> None:
    twin = Coding.objects.filter(layer=layer, code=code, start=start, end=end).exclude(pk=but)
    if twin.exists():
        raise ValidationError(
            f"Your layer already has a “{code.name}” coding on exactly these words: "
            "keep one of the two.",
            code="twin",
        )


@transaction.atomic
def coding_apply(
    *,
    actor,
    layer: Layer,
    code: Code,
    start: int,
    end: int,
    memo: str = "",
    exemplar=False,
    text_version: str | None = None,
) -> tuple[Coding, bool]:
    """Apply ``code`` to ``start``–``end`` in ``layer``; returns the coding and whether it is new.

    Idempotent: the same code on the same span of the same layer again (a double click, a second
    tab, a retried request) answers with the coding already there, unchanged (``memo`` and
    ``exemplar`` are for a new coding only). ``text_version`` (``text_version_of``) is the text
    the offsets were taken from; a text corrected since is refused.
    """
    layer = lock_layer(layer.pk)
    _check_can_write(actor, layer)
    code = _check_code(actor, layer, code)
    transcript = layer.transcript
    _check_text_version(transcript, text_version)
    check_span(transcript.text, start, end)
    existing = Coding.objects.filter(layer=layer, code=code, start=start, end=end).first()
    if existing is not None:
        return existing, False
    coding = Coding.objects.create(
        layer=layer,
        code=code,
        start=start,
        end=end,
        snippet=transcript.text[start:end],
        memo=memo.strip(),
        exemplar=bool(exemplar),
    )
    if layer.status == LayerStatus.NOT_STARTED:
        layer.status = LayerStatus.IN_PROGRESS
        layer.save(update_fields=["status"])
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="coding.create",
        obj=coding,
        layer_id=layer.pk,
        object_repr=f"{code.name} [{start}:{end}]",
        after=layer_facts(layer)
        | {
            "code": code.name,
            "start": start,
            "end": end,
            **audit.text_facts("memo", coding.memo),
            "exemplar": coding.exemplar,
        },
    )
    return coding, True


def coding_create(
    *,
    actor,
    layer: Layer,
    code: Code,
    start: int,
    end: int,
    memo: str = "",
    exemplar=False,
    text_version: str | None = None,
) -> Coding:
    """``coding_apply`` for callers that need only the coding (new, or the one already there)."""
    coding, _ = coding_apply(
        actor=actor,
        layer=layer,
        code=code,
        start=start,
        end=end,
        memo=memo,
        exemplar=exemplar,
        text_version=text_version,
    )
    return coding


@transaction.atomic
def coding_update(
    *,
    actor,
    coding: Coding,
    version: int,
    code: Code | None = None,
    start: int | None = None,
    end: int | None = None,
    memo: str | None = None,
    exemplar: bool | None = None,
    needs_recheck: bool | None = None,
    text_version: str | None = None,
) -> Coding:
    """Change a coding's code, span, memo, exemplar mark or re-check flag (stale edits refused).

    A new span is checked against ``text_version`` like ``coding_apply``'s.
    """
    coding, layer = _lock_coding(coding.pk, version)
    _check_can_write(actor, layer)
    text = layer.transcript.text
    before = _coding_facts(coding)
    if code is not None:
        coding.code = _check_code(actor, layer, code)
    if start is not None or end is not None:
        _check_text_version(layer.transcript, text_version)
    start = coding.start if start is None else start
    end = coding.end if end is None else end
    check_span(text, start, end)
    _check_once_per_span(layer, coding.code, start, end, but=coding.pk)
    coding.start, coding.end = start, end
    coding.snippet = text[start:end]
    if memo is not None:
        coding.memo = memo.strip()
    if exemplar is not None:
        coding.exemplar = bool(exemplar)
    if needs_recheck is not None:
        coding.needs_recheck = bool(needs_recheck)
    coding.version += 1
    coding.save()
    audit.record_changes(
        actor=actor,
        study=layer.transcript.study,
        obj=coding,
        before=before,
        after=_coding_facts(coding),
        layer_id=layer.pk,
    )
    return coding


@transaction.atomic
def coding_delete(*, actor, coding: Coding) -> dict:
    """Delete a coding; returns what is needed to undo it (``coding_create(**undo)``)."""
    coding, layer = _lock_coding(coding.pk, None)
    _check_can_write(actor, layer)
    undo = {
        "layer": layer,
        "code": coding.code,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo,
        "exemplar": coding.exemplar,
    }
    audit.record(
        actor=actor,
        study=layer.transcript.study,
        verb="coding.delete",
        obj=coding,
        layer_id=layer.pk,
        object_repr=f"{coding.code.name} [{coding.start}:{coding.end}]",
        before=layer_facts(layer)
        | {"code": coding.code.name, "start": coding.start, "end": coding.end},
    )
    coding.delete()
    return undo


@transaction.atomic
def coding_create_with_new_code(
    *,
    actor,
    layer: Layer,
    name: str,
    definition: str,
    start: int,
    end: int,
    also=(),
    text_version: str | None = None,
) -> list[Coding]:
    """Create an inductive code while coding and apply it (and any ``also`` codes) to a span.

    The code records who created it and in which transcript it first appeared; under a
    "pending approval" policy it is pending, usable by its creator until an admin decides.
    All or nothing: a refused coding leaves no orphan code behind. Returns the codings made
    (an ``also`` code already on the span is left as it is).
    """
    from coding.services.codebook import code_create

    locked = lock_layer(layer.pk)
    _check_can_write(actor, locked)
    _check_text_version(locked.transcript, text_version)
    check_span(locked.transcript.text, start, end)
    if not name.strip():
        raise ValidationError({"name": "Give the new code a name."})
    if not definition.strip():
        raise ValidationError({"definition": "Say in a sentence what the new code means."})
    code = code_create(
        actor=actor,
        study=locked.transcript.study,
        name=name,
        definition=definition,
        origin=CodeOrigin.INDUCTIVE,
        first_seen_transcript=locked.transcript,
        note="created while coding",
    )
    applied = [
        coding_apply(
            actor=actor, layer=locked, code=c, start=start, end=end, text_version=text_version
        )
        for c in dict.fromkeys([code, *also])
    ]
    return [coding for coding, new in applied if new]


MAX_PINS = 9  # number keys 1–9


@transaction.atomic
def code_pin_toggle(*, actor, code: Code) -> bool:
    """Pin or unpin a code for ``actor``; returns whether it is pinned now.

    Pins are a personal working preference, not part of the study's record: no audit event.
    """
    # One toggle at a time per person, so the limit below holds under double clicks.
    get_user_model().objects.select_for_update().get(pk=actor.pk)
    existing = PinnedCode.objects.filter(user=actor, code=code)
    if existing.exists():
        existing.delete()
        return False
    if code.status == CodeStatus.RETIRED:
        raise ValidationError(f"“{code.name}” is retired and cannot be pinned.")
    pinned = PinnedCode.objects.filter(user=actor, code__study_id=code.study_id).count()
    if pinned >= MAX_PINS:
        raise ValidationError(
            f"You have pinned {MAX_PINS} codes already (keys 1–9): unpin one first."
        )
    PinnedCode.objects.create(user=actor, code=code)
    return True


def nudged(text: str, start: int, end: int, edge: str, forward: bool) -> tuple[int, int]:
    """Move one edge of the span ``[start, end)`` to the next or previous word boundary.

    Words are runs of non-space characters, so a nudge never leaves an edge in the middle of
    a word; the span never becomes empty or leaves the text.
    """
    n = len(text)
    if edge == "start":
        i = start
        if forward:
            while i < n and not text[i].isspace():
                i += 1
            while i < n and text[i].isspace():
                i += 1
            return (start, end) if i >= end else (i, end)
        while i > 0 and text[i - 1].isspace():
            i -= 1
        while i > 0 and not text[i - 1].isspace():
            i -= 1
        return i, end
    i = end
    if forward:
        while i < n and text[i].isspace():
            i += 1
        while i < n and not text[i].isspace():
            i += 1
        return start, i
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    while i > 0 and text[i - 1].isspace():
        i -= 1
    return (start, end) if i <= start else (start, i)


@transaction.atomic
def coding_review(
    *,
    actor,
    coding: Coding,
    verdict: str,
    comment: str = "",
    alt_code: Code | None = None,
    alt_start: int | None = None,
    alt_end: int | None = None,
    text_version: str | None = None,
) -> CodingReview:
    """The second coder confirms or challenges one of the primary coder's codings (review
    mode). A challenge needs a comment and may offer another code and/or span (checked against
    ``text_version`` like ``coding_apply``'s).

    Written under the reviewer's layer lock and the primary layer's (``lock_layer``): a review
    never lands in a submitted layer, nor on a coding its coder is changing or deleting.
    """
    transcript_id = _transcript_of(coding)
    own = Layer.objects.filter(transcript_id=transcript_id, coder=actor).first()
    if own is not None:
        own = lock_layer(own.pk)
    # Read after the locks: the coding as its (locked) layer holds it now.
    coding = Coding.objects.select_related("layer", "code").filter(pk=coding.pk).first()
    if coding is None:
        raise _gone("coding")
    transcript = coding.layer.transcript
    if coding.layer.role != LayerRole.PRIMARY or coding_mode(transcript) != CodingMode.REVIEW:
        raise ValidationError("Only the primary coder's codings are reviewed, in review mode.")
    if own is None or own.role != LayerRole.SECOND:
        raise ValidationError("Only the second coder reviews the primary coding.")
    _check_can_write(actor, own)
    if verdict not in ReviewVerdict.values:
        raise ValidationError({"verdict": "Confirm or challenge the coding."})
    comment = comment.strip()
    if verdict == ReviewVerdict.CHALLENGE and not comment:
        raise ValidationError(
            {"comment": "Say what is wrong with it: a challenge needs a comment."}
        )
    if verdict == ReviewVerdict.CONFIRM:
        alt_code, alt_start, alt_end = None, None, None
    if alt_code is not None:
        alt_code = _check_code(actor, own, alt_code)
    if (alt_start is None) != (alt_end is None):
        raise ValidationError("Give both ends of the alternative span, or neither.")
    if alt_start is not None:
        _check_text_version(transcript, text_version)
        check_span(transcript.text, alt_start, alt_end)
    review, created = CodingReview.objects.update_or_create(
        coding=coding,
        defaults={
            "layer": own,
            "verdict": verdict,
            "comment": comment,
            "alt_code": alt_code,
            "alt_start": alt_start,
            "alt_end": alt_end,
        },
    )
    if not created:
        CodingReview.objects.filter(pk=review.pk).update(version=models.F("version") + 1)
    if own.status == LayerStatus.NOT_STARTED:
        own.status = LayerStatus.IN_PROGRESS
        own.save(update_fields=["status"])
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="coding.review",
        obj=review,
        layer_id=own.pk,
        object_repr=f"{coding.code.name} [{coding.start}:{coding.end}]",
        after=layer_facts(own)
        | {
            "coding": coding.public_id,
            "verdict": verdict,
            "alternative code": alt_code.name if alt_code else None,
            "alternative span": [alt_start, alt_end] if alt_start is not None else None,
            "comment": bool(comment),
        },
    )
    return review
