"""Reconciliation: from two submitted layers to a transcript's consensus layer.

Starting it compares the layers (``coding.agreement.find_disagreements``), stores every
disagreement with what each coder said, and copies what both agreed on into the consensus
layer. A reviewer (or a lead) then settles each disagreement — accept A, accept B, keep both,
neither, or an edited coding — with a rationale whenever a coding is set aside (``sets_aside``).
Only what the reviewer decided is recorded: a settled disagreement is decided again only as an
explicit change with a new rationale; an edited coding uses a code in dispute unless the
reviewer adds another on purpose; and no decision is taken while a compared layer is reopened
(its coder may be changing what was compared). A lead may reopen a settled disagreement. Every
step is an audit event, which is also the disagreement's history. Audit events name codes and
decisions, never transcript text.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from coding.agreement import SAME_UTTERANCE, find_disagreements
from coding.models import (
    Code,
    CodeStatus,
    Coding,
    CodingMode,
    CodingReview,
    ConsensusCoding,
    ConsensusSource,
    Decision,
    Disagreement,
    DisagreementKind,
    Layer,
    LayerRole,
    LayerStatus,
    Reconciliation,
    ReviewVerdict,
    Tolerance,
)
from coding.selectors.assignments import coding_mode
from coding.selectors.blindness import OVERSEERS
from coding.selectors.reconciliation import out_of_date
from coding.services.codings import check_span, text_version_of
from transcripts.models import Transcript
from transcripts.selectors.consent import allows
from workbench import audit
from workbench.access import member_perms
from workbench.locking import lock_row


def sets_aside(disagreement: Disagreement, decision: str) -> bool:
    """Does ``decision`` set aside something a coder said (a coding, or B's challenge of one)?
    Then the methods need a rationale. Keeping both sets nothing aside; nor does accepting the
    one side that coded when the other coded nothing (there is nothing to reject)."""
    a, b = disagreement.a_codings, disagreement.b_codings
    if decision == Decision.BOTH:
        return False
    if decision == Decision.A:
        return bool(b) or any(s.get("challenge") for s in a)
    if decision == Decision.B:
        return bool(a)
    return True  # neither drops every coding; an edited coding replaces them


def codes_in_dispute(disagreement: Disagreement) -> list[int]:
    """The codes A and B applied in this disagreement, A's first, each once."""
    return list(dict.fromkeys(s["code"] for s in disagreement.a_codings + disagreement.b_codings))


def can_resolve(user, transcript, perms=None) -> bool:
    """Reviewers and leads settle disagreements — but never on a transcript they coded."""
    perms = member_perms(user, transcript.study) if perms is None else perms
    coders = {layer.coder_id for layer in transcript.layers.all()}
    return bool(OVERSEERS & set(perms)) and user.pk not in coders


def _check_resolver(actor, transcript) -> None:
    if not can_resolve(actor, transcript):
        raise ValidationError(
            "Only a reviewer or a lead who did not code this transcript can reconcile it."
        )


def _snapshot(coding: Coding, codes: dict) -> dict:
    code = codes[coding.code_id]
    return {
        "id": coding.pk,
        "code": coding.code_id,
        "code_name": code.name,
        "colour": code.colour,
        "start": coding.start,
        "end": coding.end,
        "memo": coding.memo,
        "exemplar": coding.exemplar,
        "snippet": coding.snippet,
    }


def _tolerance(kind: str, chars: int):
    if kind == Tolerance.EXACT:
        return None
    if kind == Tolerance.UTTERANCE:
        return SAME_UTTERANCE
    return chars


@dataclass
class Found:
    """A disagreement to store: indexes into A's and B's codings, or ready snapshots."""

    kind: str
    start: int
    end: int
    a: tuple = ()
    b: tuple = ()
    a_snapshots: list | None = None
    b_snapshots: list | None = None


def _side(found, side: str, codings: list, codes: dict) -> list:
    ready = getattr(found, f"{side}_snapshots", None)  # review mode builds its own
    if ready is not None:
        return ready
    return [_snapshot(codings[i], codes) for i in getattr(found, side)]


def _review_disagreements(transcript, a: list, b: list, codes: dict) -> list:
    """Review mode: every challenge of a primary coding, and every coding the second coder
    added, is a disagreement; confirmed codings are agreements."""
    reviews = {
        r.coding_id: r for r in CodingReview.objects.filter(coding__in=a).select_related("alt_code")
    }
    found = []
    for i, coding in enumerate(a):
        review = reviews.get(coding.pk)
        if review is None or review.verdict == ReviewVerdict.CONFIRM:
            continue
        mine = _snapshot(coding, codes) | {"challenge": review.comment}
        theirs = []
        if review.alt_code_id or review.alt_start is not None:
            code = review.alt_code or codes[coding.code_id]
            start = coding.start if review.alt_start is None else review.alt_start
            end = coding.end if review.alt_end is None else review.alt_end
            theirs = [
                {
                    "id": None,
                    "code": code.pk,
                    "code_name": code.name,
                    "colour": code.colour,
                    "start": start,
                    "end": end,
                    "memo": review.comment,
                    "exemplar": False,
                    "snippet": transcript.text[start:end],
                }
            ]
        if not theirs:
            kind = DisagreementKind.MISSING_IN_B  # "not this code here"
        elif theirs[0]["code"] != coding.code_id:
            kind = DisagreementKind.DIFFERENT_CODE
        else:
            kind = DisagreementKind.BOUNDARY
        spans = [(coding.start, coding.end)] + [(t["start"], t["end"]) for t in theirs]
        found.append(
            Found(
                kind=kind,
                start=min(s for s, _ in spans),
                end=max(e for _, e in spans),
                a=(i,),
                a_snapshots=[mine],
                b_snapshots=theirs,
            )
        )
    for j, added in enumerate(b):
        found.append(
            Found(kind=DisagreementKind.MISSING_IN_A, start=added.start, end=added.end, b=(j,))
        )
    return sorted(found, key=lambda d: (d.start, d.end))


@transaction.atomic
def reconciliation_start(
    *, actor, transcript: Transcript, tolerance: str = Tolerance.CHARACTERS, tolerance_chars=10
) -> Reconciliation:
    transcript = Transcript.objects.select_for_update().get(pk=transcript.pk)
    study = transcript.study
    _check_resolver(actor, transcript)
    if tolerance not in Tolerance.values:
        raise ValidationError({"tolerance": "Choose how boundary differences are treated."})
    if not isinstance(tolerance_chars, int) or not 0 <= tolerance_chars <= 500:
        raise ValidationError({"tolerance_chars": "Give a tolerance of 0 to 500 characters."})
    if Reconciliation.objects.filter(transcript=transcript).exists():
        raise ValidationError("Reconciliation of this transcript has already started.")
    if not allows(transcript, "analyse"):
        raise ValidationError("The participant's consent does not cover analysis.")
    layers = {layer.role: layer for layer in transcript.layers.all()}
    if len(layers) != 2 or any(layer.status != LayerStatus.SUBMITTED for layer in layers.values()):
        raise ValidationError("Both layers must be submitted before reconciliation starts.")
    sides = [
        list(Coding.objects.filter(layer=layers[role]).order_by("start", "end", "id"))
        for role in (LayerRole.PRIMARY, LayerRole.SECOND)
    ]
    a, b = sides
    # The codebook once, rather than a copy of a code with every coding.
    codes = {code.pk: code for code in Code.objects.filter(study=study)}
    if coding_mode(transcript) == CodingMode.REVIEW:
        found = _review_disagreements(transcript, a, b, codes)
    else:
        utterances = list(transcript.utterances.values_list("start", "end", "role"))
        found = find_disagreements(
            [(c.code_id, c.start, c.end) for c in a],
            [(c.code_id, c.start, c.end) for c in b],
            utterances=utterances,
            tolerance=_tolerance(tolerance, tolerance_chars),
        )
    reconciliation = Reconciliation.objects.create(
        transcript=transcript,
        tolerance=tolerance,
        tolerance_chars=tolerance_chars,
        started_by=actor,
    )
    Disagreement.objects.bulk_create(
        Disagreement(
            reconciliation=reconciliation,
            number=n,
            kind=d.kind,
            start=d.start,
            end=d.end,
            a_codings=_side(d, "a", a, codes),
            b_codings=_side(d, "b", b, codes),
        )
        for n, d in enumerate(found, start=1)
    )
    # What both coders agreed on goes to the consensus layer at once, in A's wording (within
    # the tolerance the two spans are the same passage).
    disputed = {i for d in found for i in d.a}
    agreed = [c for i, c in enumerate(a) if i not in disputed]
    ConsensusCoding.objects.bulk_create(
        ConsensusCoding(
            transcript=transcript,
            code_id=c.code_id,
            start=c.start,
            end=c.end,
            snippet=c.snippet,
            exemplar=c.exemplar,
            source=ConsensusSource.AGREED,
            created_by=actor,
        )
        for c in agreed
    )
    kinds: dict[str, int] = {}
    for d in found:
        kinds[d.kind] = kinds.get(d.kind, 0) + 1
    audit.record(
        actor=actor,
        study=study,
        verb="reconciliation.start",
        obj=reconciliation,
        object_repr=f"{transcript.participant.code}: transcript {transcript.pk}",
        after={
            "tolerance": tolerance,
            "tolerance_chars": tolerance_chars,
            "codings A": len(a),
            "codings B": len(b),
            "agreed": len(agreed),
            "disagreements": len(found),
            "by kind": kinds,
        },
    )
    return reconciliation


def _consensus_from(snapshots, *, transcript, disagreement, source, actor) -> list:
    return [
        ConsensusCoding(
            transcript=transcript,
            code_id=s["code"],
            start=s["start"],
            end=s["end"],
            snippet=s["snippet"],
            memo=s["memo"],
            exemplar=s["exemplar"],
            source=source,
            disagreement=disagreement,
            created_by=actor,
        )
        for s in snapshots
    ]


def _codes(snapshots) -> list[str]:
    return sorted({s["code_name"] for s in snapshots})


def _lock_layers(disagreement_pk: int) -> list[Layer]:
    """Lock the layers of the disagreement's transcript: first, in the lock order
    (``coding.services.codings``), so a lead's reopening waits for a decision or comes first."""
    transcript = Disagreement.objects.filter(pk=disagreement_pk).values(
        "reconciliation__transcript_id"
    )
    return list(
        Layer.objects.select_for_update().filter(transcript_id__in=transcript).order_by("pk")
    )


def _check_decidable(layers: list[Layer]) -> None:
    """Decisions wait while a layer is reopened: its coder may be changing what was compared."""
    paused = out_of_date(layers)
    if paused:
        raise ValidationError(paused, code="paused")


def _check_change(d: Disagreement, *, changing: bool, rationale: str) -> None:
    """Deciding again is an explicit step with a rationale of its own: never a stray key, and
    never the earlier decision's reasons carried over to a different decision."""
    if not d.decision:
        return
    earlier = Decision(d.decision).label
    if not changing:
        raise ValidationError(
            f"This disagreement is already decided (“{earlier}”). "
            "Choose “Change decision” to decide it again.",
            code="decided",
        )
    if not rationale or rationale == d.rationale.strip():
        raise ValidationError(
            {"rationale": f"Give a new rationale: say why “{earlier}” no longer holds."}
        )


def _check_edit(d: Disagreement, transcript, *, code, start, end, code_added, text_version):
    if code is None or code.study_id != transcript.study_id:
        raise ValidationError({"code": "Choose the code for the edited coding."})
    if code.status == CodeStatus.RETIRED:
        raise ValidationError({"code": f"“{code.name}” is retired; choose an active code."})
    # A code neither coder used here enters the consensus only when the reviewer adds it on
    # purpose (the form's "another code"), never as a default.
    if code.pk not in codes_in_dispute(d) and not code_added:
        raise ValidationError(
            {
                "code": f"Neither coder applied “{code.name}” here. Choose a code in dispute, "
                "or add another code deliberately."
            }
        )
    if text_version is not None and text_version != text_version_of(transcript):
        raise ValidationError(
            "The transcript's text was corrected since you opened this page, so your selection "
            "may point at other words. Reload the page and select again.",
            code="stale_text",
        )
    check_span(transcript.text, start, end)


@transaction.atomic
def disagreement_resolve(
    *,
    actor,
    disagreement: Disagreement,
    version: int | None,
    decision: str,
    rationale: str = "",
    code: Code | None = None,
    start: int | None = None,
    end: int | None = None,
    code_added: bool = False,
    changing: bool = False,
    text_version: str | None = None,
) -> Disagreement:
    """Settle one disagreement (or, with ``changing`` and a new rationale, settle it again); its
    consensus codings follow the decision. ``code_added``: the reviewer deliberately chose, for
    an edited coding, a code neither coder applied here. ``text_version`` (``text_version_of``):
    the text an edited span was selected in."""
    layers = _lock_layers(disagreement.pk)
    d = lock_row(Disagreement, disagreement.pk, version=version)
    reconciliation = d.reconciliation
    transcript = Transcript.objects.select_for_update().get(pk=reconciliation.transcript_id)
    _check_resolver(actor, transcript)
    _check_decidable(layers)
    if decision not in Decision.values:
        raise ValidationError({"decision": "Choose A, B, both, neither or an edited coding."})
    rationale = rationale.strip()
    _check_change(d, changing=changing, rationale=rationale)
    if sets_aside(d, decision) and not rationale:
        raise ValidationError(
            {"rationale": "Say why: this decision rejects a coding, and the methods need it."}
        )
    if decision == Decision.A and not d.a_codings or decision == Decision.B and not d.b_codings:
        side = "A" if decision == Decision.A else "B"
        raise ValidationError(
            {"decision": f"{side} applied no code here; choose “neither” to keep nothing."}
        )
    added = False
    if decision == Decision.EDIT:
        _check_edit(
            d,
            transcript,
            code=code,
            start=start,
            end=end,
            code_added=code_added,
            text_version=text_version,
        )
        added = code.pk not in codes_in_dispute(d)
    before = {"decision": d.decision or None} | ({"rationale": d.rationale} if d.decision else {})
    d.consensus_codings.all().delete()
    if decision == Decision.EDIT:
        kept = [code.name]
        new = [
            ConsensusCoding(
                transcript=transcript,
                code=code,
                start=start,
                end=end,
                snippet=transcript.text[start:end],
                source=ConsensusSource.EDITED,
                disagreement=d,
                created_by=actor,
            )
        ]
    else:
        keep_a = decision in (Decision.A, Decision.BOTH)
        keep_b = decision in (Decision.B, Decision.BOTH)
        a = d.a_codings if keep_a else []
        seen = {(s["code"], s["start"], s["end"]) for s in a}
        # "Both" keeps B's codings too, unless one is the very same coding as one of A's.
        b = (
            [s for s in d.b_codings if (s["code"], s["start"], s["end"]) not in seen]
            if keep_b
            else []
        )
        kept = sorted(set(_codes(a)) | set(_codes(b)))
        new = _consensus_from(
            a, transcript=transcript, disagreement=d, source=ConsensusSource.A, actor=actor
        ) + _consensus_from(
            b, transcript=transcript, disagreement=d, source=ConsensusSource.B, actor=actor
        )
    ConsensusCoding.objects.bulk_create(new)
    d.decision, d.rationale = decision, rationale
    d.resolved_by, d.resolved_at = actor, timezone.now()
    d.version += 1
    d.save()
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="disagreement.resolve",
        obj=d,
        object_repr=f"{transcript.participant.code}: disagreement {d.number}",
        before=before,
        after={
            "kind": d.kind,
            "A said": _codes(d.a_codings),
            "B said": _codes(d.b_codings),
            "decision": decision,
            "kept": kept,
            "rationale": rationale,
        }
        | ({"code added by the reviewer": code.name} if added else {}),
    )
    return d


@transaction.atomic
def disagreement_reopen(*, actor, disagreement: Disagreement, reason: str) -> Disagreement:
    """A lead takes a settled disagreement back to open; its consensus codings go with it."""
    d = lock_row(Disagreement, disagreement.pk, version=None)
    transcript = Transcript.objects.select_for_update().get(pk=d.reconciliation.transcript_id)
    if "manage_assignments" not in member_perms(actor, transcript.study):
        raise ValidationError("Only a lead can reopen a settled disagreement.")
    if not d.decision:
        raise ValidationError("This disagreement is still open.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the disagreement is reopened."})
    before = {"decision": d.decision, "rationale": d.rationale}
    d.consensus_codings.all().delete()
    d.decision, d.rationale, d.resolved_by, d.resolved_at = "", "", None, None
    d.version += 1
    d.save()
    audit.record(
        actor=actor,
        study=transcript.study,
        verb="disagreement.reopen",
        obj=d,
        object_repr=f"{transcript.participant.code}: disagreement {d.number}",
        before=before,
        after={"reason": reason.strip()},
    )
    return d
