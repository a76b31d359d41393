"""Undoing a merge or a split (``coding.services.codebook_evolution``): the checks that nothing
depends on the operation, and the writes that put everything back. Called with the operation's
locks held (``lock_study``, then the codes)."""

from collections import defaultdict
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from coding.models import (
    AnalyticMemo,
    Code,
    CodeStatus,
    Coding,
    CodingReview,
    ConsensusCoding,
    DebriefNote,
    Disagreement,
    Layer,
    PinnedCode,
)
from transcripts.models import Transcript

SIDES = ("a_codings", "b_codings")


def update_rows(model, fields: list[str], rows: list) -> None:
    """Write ``fields`` of each of ``rows`` (instances with a pk) in one batched statement.

    ``bulk_update`` builds a CASE per field over every row, which costs seconds in Python for
    thousands of rows; one parametrised UPDATE sent with ``executemany`` does not."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = [model._meta.get_field(name) for name in fields]
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET "
        + ", ".join(f"{quote(column.column)} = %s" for column in columns)
        + f" WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = [
        [column.get_db_prep_save(getattr(row, column.attname), connection) for column in columns]
        + [row.pk]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def retarget_snapshots(study, match, target: Code) -> dict:
    """Point the disagreement snapshots that ``match`` at ``target`` (they are what a decision
    copies into the consensus: a retired code there would fall out of every count)."""
    rows, touched = [], []
    for d in Disagreement.objects.filter(reconciliation__transcript__study=study).order_by("pk"):
        changed = False
        for side in SIDES:
            for i, snapshot in enumerate(getattr(d, side)):
                if match(snapshot):
                    rows.append(
                        [d.pk, side, i, snapshot["code"], snapshot.get("code_name"),
                         snapshot.get("colour")]
                    )  # fmt: skip
                    snapshot |= {"code": target.pk, "code_name": target.name}
                    snapshot["colour"] = target.colour
                    changed = True
        if changed:
            d.version += 1
            touched.append(d)
    Disagreement.objects.bulk_update(touched, [*SIDES, "version"])
    return {"rows": rows, "versions": {str(d.pk): d.version for d in touched}}


def move_references(study, sources: list[Code], target: Code) -> tuple[dict, list[Code]]:
    """Re-point what names a source at ``target``; returns the undo record's part and the
    other codes touched (children re-parented, codes whose extra themes changed)."""
    ids = [code.pk for code in sources]
    record: dict = {}
    reviews = CodingReview.objects.filter(alt_code_id__in=ids, layer__transcript__study=study)
    record["reviews"] = [list(row) for row in reviews.values_list("pk", "alt_code_id", "version")]
    reviews.update(alt_code=target, version=F("version") + 1)
    memos = AnalyticMemo.objects.filter(study=study, code_id__in=ids)
    record["memos"] = [list(row) for row in memos.values_list("pk", "code_id")]
    memos.update(code=target)
    links = DebriefNote.codes.through.objects.filter(code_id__in=ids)
    record["notes"] = [list(row) for row in links.values_list("debriefnote_id", "code_id")]
    had_target = set(
        DebriefNote.codes.through.objects.filter(code=target).values_list("debriefnote_id", flat=1)
    )
    new_notes = {note for note, _ in record["notes"]} - had_target
    record["notes_added"] = sorted(new_notes)
    links.delete()
    DebriefNote.codes.through.objects.bulk_create(
        DebriefNote.codes.through(debriefnote_id=note, code=target) for note in new_notes
    )
    pins = list(PinnedCode.objects.filter(code_id__in=ids).order_by("pinned_at", "pk"))
    pinned = set(PinnedCode.objects.filter(code=target).values_list("user_id", flat=True))
    record["pins"] = [[p.pk, p.user_id, p.code_id, p.pinned_at.isoformat()] for p in pins]
    keep = []
    for pin in pins:
        if pin.user_id not in pinned:
            pinned.add(pin.user_id)
            keep.append(pin.pk)
    PinnedCode.objects.filter(code_id__in=ids).exclude(pk__in=keep).delete()
    PinnedCode.objects.filter(pk__in=keep).update(code=target)
    # The tree: children of a source now live under the target; the target gains the
    # sources' extra themes, research questions, dimension values and guide questions.
    children = list(Code.objects.filter(parent_id__in=ids).order_by("pk"))
    record["children"] = [[child.pk, child.parent_id, child.version + 1] for child in children]
    for child in children:
        child.parent, child.version = target, child.version + 1
    Code.objects.bulk_update(children, ["parent", "version"])
    also = Code.also_in.through
    members = [
        list(row)
        for row in also.objects.filter(to_code_id__in=ids).values_list("from_code_id", "to_code_id")
    ]
    record["also_in_members"] = members
    has_target = set(also.objects.filter(to_code=target).values_list("from_code_id", flat=True))
    added = {m for m, _ in members} - has_target - {target.pk}
    record["also_in_added"] = sorted(added)
    also.objects.filter(to_code_id__in=ids).delete()
    also.objects.bulk_create(also(from_code_id=member, to_code=target) for member in added)
    member_codes = list(Code.objects.filter(pk__in={m for m, _ in members}).exclude(pk=target.pk))
    for code in member_codes:
        code.version += 1
    Code.objects.bulk_update(member_codes, ["version"])
    record["member_versions"] = {str(code.pk): code.version for code in member_codes}
    for name in ("also_in", "research_questions", "dimension_values", "guide_questions"):
        manager = getattr(target, name)
        before = set(manager.values_list("pk", flat=True))
        record[f"target_{name}"] = sorted(before)
        gained = set(
            getattr(Code, name)
            .through.objects.filter(**{_from(name): ids})
            .values_list(_to(name), flat=True)
        )
        manager.add(*(gained - before - {target.pk, *ids}))
    return record, children + member_codes


def _from(name: str) -> str:
    return "from_code_id__in" if name == "also_in" else "code_id__in"


def _to(name: str) -> str:
    if name == "also_in":
        return "to_code_id"
    return getattr(Code, name).field.m2m_reverse_name()


def _refuse(what: str) -> ValidationError:
    return ValidationError(
        f"Undo is no longer possible: {what} since. Nothing was changed.", code="depends"
    )


def check_undoable(op, codes: dict[int, Code]) -> None:
    record = op.record
    for pk, version in record["code_versions"].items():
        if codes[int(pk)].version != version:
            raise _refuse(f"“{codes[int(pk)].name}” was edited, moved or merged again")
    texts = dict(
        Transcript.objects.filter(pk__in=[int(pk) for pk in record["text_versions"]]).values_list(
            "pk", "text_sha256"
        )
    )
    if any(texts.get(int(pk)) != sha for pk, sha in record["text_versions"].items()):
        raise _refuse("a transcript's text was corrected")
    now = dict(
        Coding.objects.filter(pk__in=[int(pk) for pk in record["codings"]]).values_list(
            "pk", "version"
        )
    )
    if any(now.get(int(pk)) != row[-1] for pk, row in record["codings"].items()):
        raise _refuse("codings it moved were changed or deleted")
    consensus = {
        pk: (code, start, end)
        for pk, code, start, end in ConsensusCoding.objects.filter(
            pk__in=[int(pk) for pk in record["consensus"]]
        ).values_list("pk", "code_id", "start", "end")
    }
    after = record.get("consensus_after", {})
    for pk, row in record["consensus"].items():
        found = consensus.get(int(pk))
        span = after.get(pk) or row[1:3]
        if (
            found is None
            or found[0] != op.target_id
            or (row[1] is not None and list(found[1:]) != list(span))
        ):
            raise _refuse("consensus codings it moved were changed")
    versions = record["disagreements"]["versions"]
    current = dict(
        Disagreement.objects.filter(pk__in=[int(pk) for pk in versions]).values_list(
            "pk", "version"
        )
    )
    if any(current.get(int(pk)) != version for pk, version in versions.items()):
        raise _refuse("a disagreement it touched was decided or reopened")
    reviews = record.get("reviews", [])
    current = dict(
        CodingReview.objects.filter(pk__in=[r[0] for r in reviews]).values_list("pk", "version")
    )
    if any(current.get(pk) != version + 1 for pk, _, version in reviews):
        raise _refuse("a review it touched was changed")
    children = record.get("children", [])
    current = dict(
        Code.objects.filter(pk__in=[c[0] for c in children]).values_list("pk", "version")
    )
    if any(current.get(pk) != version for pk, _, version in children):
        raise _refuse("a code it moved was edited or moved again")
    members = record.get("member_versions", {})
    current = dict(
        Code.objects.filter(pk__in=[int(pk) for pk in members]).values_list("pk", "version")
    )
    if any(current.get(int(pk)) != version for pk, version in members.items()):
        raise _refuse("a code it linked to the merged code was edited")
    if record.get("split") or record.get("new_target"):
        # The new code must hold nothing the operation did not put there.
        extra = Coding.objects.filter(code_id=op.target_id).exclude(
            pk__in=[int(pk) for pk in record["codings"]]
        )
        extra_consensus = ConsensusCoding.objects.filter(code_id=op.target_id).exclude(
            pk__in=[int(pk) for pk in record["consensus"]]
        )
        if extra.exists() or extra_consensus.exists():
            raise _refuse(f"“{op.target.name}” was applied to further passages")


def _texts(transcript_ids) -> dict[int, str]:
    return dict(Transcript.objects.filter(pk__in=set(transcript_ids)).values_list("pk", "text"))


def _restore_codings(record) -> None:
    now = timezone.now()
    by_code = defaultdict(list)
    grown = []
    for pk, (code, _start, _end, memo, *_rest) in record["codings"].items():
        if memo is None:
            by_code[code].append(int(pk))
        else:
            grown.append(int(pk))
    for code, pks in by_code.items():
        Coding.objects.filter(pk__in=pks).update(
            code_id=code, version=F("version") + 1, updated_at=now
        )
    removed = record.get("removed_codings", [])
    layer_of = dict(Coding.objects.filter(pk__in=grown).values_list("pk", "layer__transcript_id"))
    transcript_of_layer = dict(
        Layer.objects.filter(pk__in={row["layer_id"] for row in removed}).values_list(
            "pk", "transcript_id"
        )
    )
    texts = _texts([*layer_of.values(), *transcript_of_layer.values()])
    rows = []
    for pk in grown:
        code, start, end, memo, exemplar, recheck, version = record["codings"][str(pk)]
        rows.append(
            Coding(
                pk=pk,
                code_id=code,
                start=start,
                end=end,
                snippet=texts[layer_of[pk]][start:end],
                memo=memo,
                exemplar=exemplar,
                needs_recheck=recheck,
                version=version + 1,
                updated_at=now,
            )
        )
    fields = ["code", "start", "end", "snippet", "memo", "exemplar", "needs_recheck", "version"]
    update_rows(Coding, [*fields, "updated_at"], rows)
    Coding.objects.bulk_create(
        Coding(
            pk=row["pk"],
            public_id=row["public_id"],
            layer_id=row["layer_id"],
            code_id=row["code_id"],
            start=row["start"],
            end=row["end"],
            snippet=texts[transcript_of_layer[row["layer_id"]]][row["start"] : row["end"]],
            memo=row["memo"],
            exemplar=row["exemplar"],
            needs_recheck=row["needs_recheck"],
            created_at=datetime.fromisoformat(row["created_at"]),
            version=row["version"] + 1,
        )
        for row in removed
    )


def _restore_consensus(record) -> None:
    by_code = defaultdict(list)
    grown = []
    for pk, (code, _start, _end, memo, _exemplar) in record["consensus"].items():
        (by_code[code].append(int(pk)) if memo is None else grown.append(int(pk)))
    for code, pks in by_code.items():
        ConsensusCoding.objects.filter(pk__in=pks).update(code_id=code)
    removed = record.get("removed_consensus", [])
    transcript_of = dict(
        ConsensusCoding.objects.filter(pk__in=grown).values_list("pk", "transcript_id")
    )
    texts = _texts([*transcript_of.values(), *(row["transcript_id"] for row in removed)])
    rows = []
    for pk in grown:
        code, start, end, memo, exemplar = record["consensus"][str(pk)]
        text = texts[transcript_of[pk]]
        rows.append(
            ConsensusCoding(
                pk=pk, code_id=code, start=start, end=end, snippet=text[start:end], memo=memo,
                exemplar=exemplar,
            )
        )  # fmt: skip
    fields = ["code", "start", "end", "snippet", "memo", "exemplar"]
    update_rows(ConsensusCoding, fields, rows)
    for row in removed:
        row["created_at"] = datetime.fromisoformat(row["created_at"])
        row["snippet"] = texts[row["transcript_id"]][row["start"] : row["end"]]
    ConsensusCoding.objects.bulk_create(ConsensusCoding(**row) for row in removed)


def _restore_snapshots(record) -> None:
    rows = record["disagreements"]["rows"]
    found = {d.pk: d for d in Disagreement.objects.filter(pk__in={row[0] for row in rows})}
    for pk, side, i, code, name, colour in rows:
        getattr(found[pk], side)[i] |= {"code": code, "code_name": name, "colour": colour}
    for d in found.values():
        d.version += 1
    Disagreement.objects.bulk_update(list(found.values()), [*SIDES, "version"])


def _restore_references(record, target: Code) -> None:
    for pk, code, _version in record.get("reviews", []):
        CodingReview.objects.filter(pk=pk).update(alt_code_id=code, version=F("version") + 1)
    for pk, code in record.get("memos", []):
        AnalyticMemo.objects.filter(pk=pk).update(code_id=code)
    links = DebriefNote.codes.through
    links.objects.filter(code=target, debriefnote_id__in=record.get("notes_added", [])).delete()
    links.objects.bulk_create(
        (links(debriefnote_id=note, code_id=code) for note, code in record.get("notes", [])),
        ignore_conflicts=True,
    )
    pins = record.get("pins", [])
    PinnedCode.objects.filter(pk__in=[pin[0] for pin in pins]).delete()
    PinnedCode.objects.bulk_create(
        (
            PinnedCode(pk=pk, user_id=user, code_id=code, pinned_at=datetime.fromisoformat(at))
            for pk, user, code, at in pins
        ),
        ignore_conflicts=True,
    )
    also = Code.also_in.through
    also.objects.filter(to_code=target, from_code_id__in=record.get("also_in_added", [])).delete()
    also.objects.bulk_create(
        (also(from_code_id=m, to_code_id=c) for m, c in record.get("also_in_members", [])),
        ignore_conflicts=True,
    )
    for name in ("also_in", "research_questions", "dimension_values", "guide_questions"):
        if f"target_{name}" in record:
            getattr(target, name).set(record[f"target_{name}"])


def restore(op, codes: dict[int, Code]) -> list[Code]:
    """Put back what ``op`` changed (``check_undoable`` passed); returns the codes touched."""
    record = op.record
    target = codes[op.target_id]
    try:
        with transaction.atomic():
            _restore_codings(record)
            _restore_consensus(record)
    except IntegrityError as exc:
        raise _refuse("a coding was made on exactly the words of one it would restore") from exc
    _restore_snapshots(record)
    _restore_references(record, target)
    touched = [code for pk, code in codes.items() if pk != target.pk]
    for pk, parent, _version in record.get("children", []):
        Code.objects.filter(pk=pk).update(parent_id=parent, version=F("version") + 1)
    others = list(
        Code.objects.filter(
            pk__in=[c[0] for c in record.get("children", [])]
            + [int(pk) for pk in record.get("member_versions", {})]
        )
    )
    Code.objects.filter(pk__in=[int(pk) for pk in record.get("member_versions", {})]).update(
        version=F("version") + 1
    )
    for code in touched:
        status = record.get("source_status", {}).get(str(code.pk), code.status)
        code.status, code.merged_into, code.version = status, None, code.version + 1
    Code.objects.bulk_update(touched, ["status", "merged_into", "version"])
    if record.get("split") or record.get("new_target"):
        target.status = CodeStatus.RETIRED  # codes are never deleted; this one holds nothing
    else:
        for key, value in record["target_before"].items():
            setattr(target, key, value)
    target.version += 1
    target.save()
    return [*touched, target, *Code.objects.filter(pk__in=[c.pk for c in others])]
