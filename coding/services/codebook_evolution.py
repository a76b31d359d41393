"""Merging and splitting codes without losing a coded character; undoing either.

**What moves.** A merge of codes A (and more) into B moves every coding of A to B, in every
layer (layers still coded blind included, never shown or counted to anyone in the messages or
the audit event) and in the consensus layer, and coalesces overlapping codings of B within a
layer (the rule: ``coding.selectors.codebook_evolution``). It re-points what names A: the
snapshots of disagreements, reviewers' alternative codes, analytic memos, debrief notes, pinned
codes, the themes A is also in (and codes also in A), A's children (re-parented to B); B gains
A's research questions, dimension values and guide questions. B takes the definition the admin
edited from the draft; A is retired with ``merged_into`` = B. Merging into a new code does the
same with A and B as sources. A split moves chosen codings of A (or all of A's codings in chosen
transcripts, in every layer and the consensus) to a new code beside A.

**Locks** (the order in ``coding.services.codings``): every layer of the study, by primary key;
its disagreements; its transcripts; then the codes involved, by primary key; then codings. A
coding written in A meanwhile either committed first (it is read after the locks, and moves) or
waits for its layer and is then refused, A being retired. A layer created meanwhile (an
assignment, which locks the transcript) is seen after the transcript locks and refused with a
message, so nothing can be written where the merge does not hold the layer.

**Record and undo.** Each operation writes one ``CodeVersion`` per code touched, one audit
event, and a ``CodebookOperation`` holding what undo needs. Undo puts codings back on their
former codes and spans (recreating coalesced ones with their ids), restores every reference and
un-retires the sources, but only while nothing depends on the operation: no moved coding,
reference or code changed since, and no transcript text corrected since.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from coding.models import (
    ChangeKind,
    Code,
    CodebookOperation,
    CodeStatus,
    CodeVersion,
    Coding,
    ConsensusCoding,
    Disagreement,
    Layer,
    OperationKind,
)
from coding.selectors.codebook import next_colour
from coding.selectors.codebook_evolution import DEFINITION_FIELDS, merge_plan
from coding.selectors.saturation import transcript_being_coded
from coding.services.codebook import code_name_free
from coding.services.codebook_restore import (
    SIDES,
    check_undoable,
    move_references,
    restore,
    retarget_snapshots,
    update_rows,
)
from transcripts.models import Transcript
from workbench import audit
from workbench.access import require

MANAGE = "manage_codebook"
NOT_ALLOWED = "Only a codebook admin can merge or split codes."


def lock_study(study) -> dict[int, int]:
    """Take the operation's locks in the documented order; returns {layer id: transcript id}.

    Every layer of the study: a coding in any of them could use the codes involved."""
    layers = dict(
        Layer.objects.select_for_update(of=("self",))
        .filter(transcript__study=study)
        .order_by("pk")
        .values_list("pk", "transcript_id")
    )
    list(
        Disagreement.objects.select_for_update(of=("self",))
        .filter(reconciliation__transcript__study=study)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    list(
        Transcript.objects.select_for_update(of=("self",))
        .filter(study=study)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if set(Layer.objects.filter(transcript__study=study).values_list("pk", flat=True)) - set(
        layers
    ):
        raise ValidationError(
            "A transcript was assigned to a coder while this ran; nothing was changed. Try again.",
            code="busy",
        )
    return layers


def lock_codes(study, pks, versions: dict[int, int | None]) -> dict[int, Code]:
    codes = {
        code.pk: code
        for code in Code.objects.select_for_update(of=("self",))
        .filter(study=study, pk__in=pks)
        .order_by("pk")
    }
    if len(codes) != len(set(pks)):
        raise ValidationError("One of these codes no longer exists, or is in another study.")
    for pk, version in versions.items():
        if version is not None and codes[pk].version != version:
            raise ValidationError(
                f"“{codes[pk].name}” was changed by someone else meanwhile. Nothing was "
                "changed; review the codes and try again.",
                code="stale",
            )
    return codes


def write_versions(actor, codes, change, note: str) -> None:
    """One ``CodeVersion`` per code (with its state now), in two queries."""
    codes = list({code.pk: code for code in codes}.values())
    latest = dict(
        CodeVersion.objects.filter(code__in=codes)
        .values("code")
        .annotate(m=Max("number"))
        .values_list("code", "m")
    )
    now = timezone.now()
    during = transcript_being_coded(actor, codes[0].study_id) if codes else None
    CodeVersion.objects.bulk_create(
        CodeVersion(
            code=code,
            number=latest.get(code.pk, 0) + 1,
            change=change(code) if callable(change) else change,
            changes=[change(code) if callable(change) else change],
            snapshot=audit.snapshot(code),
            note=note[:300],
            changed_by=actor,
            changed_at=now,
            during=during,
        )
        for code in codes
    )


def _text_versions(transcript_ids) -> dict[str, str]:
    rows = Transcript.objects.filter(pk__in=set(transcript_ids)).values_list("pk", "text_sha256")
    return {str(pk): sha for pk, sha in rows}


def _check_mergeable(sources: list[Code], target: Code | None) -> None:
    codes = sources + ([target] if target else [])
    if len({code.pk for code in codes}) != len(codes):
        raise ValidationError("Choose two different codes.")
    if len({code.kind for code in codes}) != 1:
        raise ValidationError(
            "Merge codes with codes, themes with themes and categories with categories."
        )
    for code in codes:
        if code.status == CodeStatus.RETIRED or code.merged_into_id:
            raise ValidationError(f"“{code.name}” is retired; reactivate it before merging.")


def _new_code(*, actor, study, name: str, like: Code, definitions: dict) -> Code:
    name = code_name_free(study, name, actor=actor)
    position = (Code.objects.filter(study=study).aggregate(m=Max("position"))["m"] or 0) + 1
    try:
        with transaction.atomic():
            return Code.objects.create(
                study=study,
                name=name,
                **definitions,
                colour=next_colour(study),
                origin=like.origin,
                kind=like.kind,
                parent=like.parent,
                created_by=actor,
                position=position,
            )
    except IntegrityError as exc:
        raise ValidationError({"name": f"The codebook already has a code named “{name}”."}) from exc


# --- moving codings -----------------------------------------------------------------------


def _move_codings(plan, layers, source_ids, target, now) -> tuple[dict, dict]:
    """Coalesce, then move; returns the undo record's part and the per-layer counts."""
    clusters = [c for found in plan.clusters.values() for c in found]
    survivors = {c.survivor["pk"]: c for c in clusters}
    removed_pks = {row["pk"] for c in clusters for row in c.removed}
    full_removed = list(
        Coding.objects.filter(pk__in=removed_pks).values(
            "pk", "public_id", "layer_id", "code_id", "start", "end", "memo", "exemplar",
            "needs_recheck", "created_at", "version",
        )
    )  # fmt: skip
    for row in full_removed:
        row["created_at"] = row["created_at"].isoformat()
    Coding.objects.filter(pk__in=removed_pks).delete()
    coalesced = removed_pks | set(survivors)  # once: not per row
    moved = [
        row for row in plan.codings if row["code_id"] in source_ids and row["pk"] not in coalesced
    ]
    Coding.objects.filter(pk__in=[row["pk"] for row in moved]).update(
        code=target, version=F("version") + 1, updated_at=now
    )
    texts = dict(
        Transcript.objects.filter(
            pk__in={layers[c.survivor["layer_id"]] for c in clusters}
        ).values_list("pk", "text")
    )
    grown = []
    for pk, cluster in survivors.items():
        text = texts[layers[cluster.survivor["layer_id"]]]
        grown.append(
            Coding(
                pk=pk,
                code=target,
                start=cluster.start,
                end=cluster.end,
                snippet=text[cluster.start : cluster.end],
                memo=cluster.memo,
                exemplar=cluster.exemplar,
                needs_recheck=cluster.needs_recheck,
                version=cluster.survivor["version"] + 1,
                updated_at=now,
            )
        )
    fields = ["code", "start", "end", "snippet", "memo", "exemplar", "needs_recheck", "version"]
    update_rows(Coding, [*fields, "updated_at"], grown)
    record = {
        # pk → [former code, start, end, memo, exemplar, needs_recheck, version now]
        "codings": {
            str(row["pk"]): [row["code_id"], row["start"], row["end"], None, None, None,
                             row["version"] + 1]
            for row in moved
        }
        | {
            str(pk): [c.survivor["code_id"], c.survivor["start"], c.survivor["end"],
                      c.survivor["memo"], c.survivor["exemplar"], c.survivor["needs_recheck"],
                      c.survivor["version"] + 1]
            for pk, c in survivors.items()
        },
        "removed_codings": full_removed,
    }  # fmt: skip
    counts: dict[str, int] = {}
    for row in plan.codings:
        if row["code_id"] in source_ids:
            key = f"layer:{row['layer_id']}"
            counts[key] = counts.get(key, 0) + 1
    return record, counts


def _move_consensus(plan, source_ids, target) -> tuple[dict, dict]:
    clusters = [c for found in plan.consensus_clusters.values() for c in found]
    survivors = {c.survivor["pk"]: c for c in clusters}
    removed_pks = {row["pk"] for c in clusters for row in c.removed}
    full_removed = list(
        ConsensusCoding.objects.filter(pk__in=removed_pks).values(
            "pk", "transcript_id", "code_id", "start", "end", "memo", "exemplar", "source",
            "disagreement_id", "created_by_id", "created_at",
        )
    )  # fmt: skip
    for row in full_removed:
        row["created_at"] = row["created_at"].isoformat()
    ConsensusCoding.objects.filter(pk__in=removed_pks).delete()
    coalesced = removed_pks | set(survivors)
    moved = [
        row for row in plan.consensus if row["code_id"] in source_ids and row["pk"] not in coalesced
    ]
    ConsensusCoding.objects.filter(pk__in=[row["pk"] for row in moved]).update(code=target)
    texts = dict(
        Transcript.objects.filter(
            pk__in={c.survivor["transcript_id"] for c in clusters}
        ).values_list("pk", "text")
    )
    update_rows(
        ConsensusCoding,
        ["code", "start", "end", "snippet", "memo", "exemplar"],
        [
            ConsensusCoding(
                pk=pk,
                code=target,
                start=c.start,
                end=c.end,
                snippet=texts[c.survivor["transcript_id"]][c.start : c.end],
                memo=c.memo,
                exemplar=c.exemplar,
            )
            for pk, c in survivors.items()
        ],
    )
    record = {
        "consensus": {
            str(row["pk"]): [row["code_id"], row["start"], row["end"], None, None]
            for row in moved
        }
        | {
            str(pk): [c.survivor["code_id"], c.survivor["start"], c.survivor["end"],
                      c.survivor["memo"], c.survivor["exemplar"]]
            for pk, c in survivors.items()
        },
        "consensus_after": {str(pk): [c.start, c.end] for pk, c in survivors.items()},
        "removed_consensus": full_removed,
    }  # fmt: skip
    counts: dict[str, int] = {}
    for row in plan.consensus:
        if row["code_id"] in source_ids:
            key = f"consensus:{row['transcript_id']}"
            counts[key] = counts.get(key, 0) + 1
    return record, counts


# --- the operations ----------------------------------------------------------------------


@transaction.atomic
def codes_merge(
    *,
    actor,
    sources: list[Code],
    target: Code | None,
    versions: dict[int, int | None] | None = None,
    new_name: str = "",
    definitions: dict | None = None,
) -> CodebookOperation:
    """Merge ``sources`` into ``target`` (an existing code) or, with ``target`` None, into a
    new code named ``new_name``. ``definitions`` (the admin's edit of ``merge_draft``) become
    the target's; ``versions`` ({pk: version} as the admin saw them) refuse a stale merge."""
    study = sources[0].study
    require(actor, study, MANAGE, message=NOT_ALLOWED)
    layers = lock_study(study)
    pks = [code.pk for code in sources] + ([target.pk] if target else [])
    codes = lock_codes(study, pks, versions or {})
    sources = [codes[code.pk] for code in sources]
    target = codes[target.pk] if target else None
    _check_mergeable(sources, target)
    definitions = {key: (definitions or {}).get(key, "").strip() for key in DEFINITION_FIELDS}
    source_ids = {code.pk for code in sources}
    plan = merge_plan(study, sorted(source_ids), target.pk if target else None)
    new = target is None
    if new:
        if not new_name.strip():
            raise ValidationError({"name": "Give the new code a name."})
        target = _new_code(
            actor=actor, study=study, name=new_name, like=sources[0], definitions=definitions
        )
    record = {
        "target_before": {key: getattr(target, key) for key in DEFINITION_FIELDS},
        "new_target": new,
        "source_status": {str(code.pk): code.status for code in sources},
    }
    now = timezone.now()
    moved, counts = _move_codings(plan, layers, source_ids, target, now)
    consensus, consensus_counts = _move_consensus(plan, source_ids, target)
    record |= moved | consensus
    record["disagreements"] = retarget_snapshots(study, lambda s: s.get("code") in source_ids,
                                                 target)  # fmt: skip
    references, others = move_references(study, sources, target)
    record |= references
    for key, value in definitions.items():
        setattr(target, key, value)
    target.version += 1
    target.save()
    for code in sources:
        code.status, code.merged_into, code.version = CodeStatus.RETIRED, target, code.version + 1
    Code.objects.bulk_update(sources, ["status", "merged_into", "version"])
    record["text_versions"] = _text_versions(
        [layers[int(key.split(":")[1])] for key in counts]
        + [int(key.split(":")[1]) for key in consensus_counts]
    )
    record["code_versions"] = {str(code.pk): code.version for code in [*sources, target]}
    op = CodebookOperation.objects.create(
        study=study,
        kind=OperationKind.MERGE,
        target=target,
        record=record,
        counts=counts | consensus_counts,
        done_by=actor,
    )
    op.sources.set(sources)
    names = " and ".join(f"“{code.name}”" for code in sources)
    write_versions(actor, [*sources, target], ChangeKind.MERGE, f"{names} merged into “{target}”")
    write_versions(
        actor,
        others,
        lambda code: ChangeKind.MOVE if code.parent_id == target.pk else ChangeKind.RELINK,
        f"{names} merged into “{target}”",
    )
    # One event, on the first source; no per-layer counts (a blind coder reads the trail).
    audit.record(
        actor=actor,
        study=study,
        verb="code.merge",
        obj=sources[0] if not new else target,
        object_repr=f"{names} → {target.name}",
        after={
            "operation": op.public_id,
            "sources": [code.public_id for code in sources],
            "into": target.public_id,
            "new code": new,
            "consensus codings moved": sum(consensus_counts.values()),
            "children moved": len(record["children"]),
        },
    )
    return op


@transaction.atomic
def code_split(
    *,
    actor,
    code: Code,
    version: int | None,
    name: str,
    definitions: dict | None = None,
    codings=(),
    consensus=(),
    transcripts=(),
    perms_layers=None,
) -> CodebookOperation:
    """Move chosen codings of ``code`` to a new code ``name`` beside it.

    ``codings`` (public ids) and ``consensus`` (pks) are single codings the admin ticked; they
    must lie in ``perms_layers`` (the layers the admin may see; None: any). ``transcripts``
    moves every coding of the code in those transcripts, in every layer (blind ones too, never
    shown) and in the consensus."""
    study = code.study
    require(actor, study, MANAGE, message=NOT_ALLOWED)
    layers = lock_study(study)
    code = lock_codes(study, [code.pk], {code.pk: version})[code.pk]
    if code.status == CodeStatus.RETIRED:
        raise ValidationError(f"“{code.name}” is retired; reactivate it before splitting.")
    if not name.strip():
        raise ValidationError({"name": "Give the new code a name."})
    transcript_ids = set(
        Transcript.objects.filter(study=study, pk__in=list(transcripts)).values_list("pk", flat=1)
    )
    picked = Coding.objects.filter(code=code, layer_id__in=list(layers))
    chosen = picked.filter(public_id__in=list(codings))
    if perms_layers is not None:
        chosen = chosen.filter(layer__in=perms_layers)
    if chosen.count() != len(set(codings)):
        raise ValidationError("Some ticked codings are no longer there; reload and choose again.")
    rows = list(
        (chosen | picked.filter(layer__transcript_id__in=transcript_ids)).values(
            "pk", "layer_id", "version"
        )
    )
    consensus_rows = list(
        ConsensusCoding.objects.filter(code=code, transcript__study=study)
        .filter(Q(pk__in=[int(pk) for pk in consensus]) | Q(transcript_id__in=transcript_ids))
        .order_by("pk")
        .values_list("pk", "transcript_id")
    )
    if not rows and not consensus_rows:
        raise ValidationError("Choose the codings that go to the new code.")
    definitions = {key: (definitions or {}).get(key, "").strip() for key in DEFINITION_FIELDS}
    new = _new_code(actor=actor, study=study, name=name, like=code, definitions=definitions)
    for field in ("research_questions", "dimension_values", "guide_questions"):
        getattr(new, field).set(getattr(code, field).all())
    now = timezone.now()
    Coding.objects.filter(pk__in=[row["pk"] for row in rows]).update(
        code=new, version=F("version") + 1, updated_at=now
    )
    ConsensusCoding.objects.filter(pk__in=[pk for pk, _ in consensus_rows]).update(code=new)
    moved_ids = {row["pk"] for row in rows}
    record = {
        "split": True,
        "codings": {
            str(row["pk"]): [code.pk, None, None, None, None, None, row["version"] + 1]
            for row in rows
        },
        "consensus": {str(pk): [code.pk, None, None, None, None] for pk, _ in consensus_rows},
        "disagreements": retarget_snapshots(study, lambda s: s.get("id") in moved_ids, new),
    }
    counts: dict[str, int] = {}
    for key in [f"layer:{r['layer_id']}" for r in rows] + [
        f"consensus:{t}" for _, t in consensus_rows
    ]:
        counts[key] = counts.get(key, 0) + 1
    code.version += 1
    code.save(update_fields=["version"])
    record["text_versions"] = _text_versions(
        [layers[r["layer_id"]] for r in rows] + [t for _, t in consensus_rows]
    )
    record["code_versions"] = {str(code.pk): code.version, str(new.pk): new.version}
    op = CodebookOperation.objects.create(
        study=study,
        kind=OperationKind.SPLIT,
        target=new,
        record=record,
        counts=counts,
        done_by=actor,
    )
    op.sources.set([code])
    write_versions(actor, [code, new], ChangeKind.SPLIT, f"“{new}” split from “{code}”")
    audit.record(
        actor=actor,
        study=study,
        verb="code.split",
        obj=code,
        object_repr=f"{code.name} → {new.name}",
        after={
            "operation": op.public_id,
            "new code": new.public_id,
            "consensus codings moved": len(consensus_rows),
        },
    )
    return op


@transaction.atomic
def codebook_operation_undo(*, actor, operation: CodebookOperation) -> CodebookOperation:
    """Put everything the operation moved back, while nothing depends on it (else refused)."""
    study = operation.study
    require(actor, study, MANAGE, message=NOT_ALLOWED)
    lock_study(study)
    op = CodebookOperation.objects.select_for_update().get(pk=operation.pk)
    if op.undone_at is not None:
        raise ValidationError("This operation was already undone.")
    sources = list(op.sources.all())
    codes = lock_codes(study, [c.pk for c in sources] + [op.target_id], {})
    check_undoable(op, codes)
    touched = restore(op, codes)
    op.undone_by, op.undone_at = actor, timezone.now()
    op.save(update_fields=["undone_by", "undone_at"])
    what = f"{op.get_kind_display().lower()} undone"
    write_versions(actor, touched, ChangeKind(op.kind), what)
    audit.record(
        actor=actor,
        study=study,
        verb=f"code.{op.kind}.undo",
        obj=sources[0],
        object_repr=f"{op.get_kind_display()} into {op.target.name} undone",
        after={"operation": op.public_id},
    )
    return op


__all__ = ["SIDES", "codebook_operation_undo", "code_split", "codes_merge", "lock_study"]
