"""Merge codings applied twice to the same span (same layer, code, start and end) into one,
before 0007 makes the database refuse such twins.

Nothing is lost: the kept coding (the oldest) takes every distinct memo of its twins (oldest
first, separated by a blank line), the exemplar and re-check marks if any twin had them, and the
reviewer's verdict on any of them (a challenge before a confirmation, since a challenge asks for
a decision; the comments of the verdicts not kept are appended to the one kept). Each merge is
recorded in the audit trail, with ids, code and span, never text.

Reversing keeps the merged codings merged: splitting them again would recreate the twins that
0007 forbids (reversing 0007 lifts the constraint), and no memo or verdict is lost either way.
"""

from django.db import migrations
from django.db.models import Count
from django.utils import timezone


def _merged_memo(rows) -> str:
    memos = [row.memo.strip() for row in rows if row.memo.strip()]
    return "\n\n".join(dict.fromkeys(memos))


def _merge_reviews(CodingReview, keep, rows) -> None:
    reviews = list(CodingReview.objects.filter(coding__in=rows).order_by("pk"))
    if not reviews:
        return
    chosen = next((r for r in reviews if r.verdict == "challenge"), reviews[0])
    comments = [r.comment.strip() for r in [chosen, *reviews] if r.comment.strip()]
    CodingReview.objects.filter(pk__in=[r.pk for r in reviews if r.pk != chosen.pk]).delete()
    chosen.coding_id = keep.pk
    chosen.comment = "\n\n".join(dict.fromkeys(comments))
    chosen.version += 1
    chosen.save()


def merge_duplicates(apps, schema_editor):
    Coding = apps.get_model("coding", "Coding")
    CodingReview = apps.get_model("coding", "CodingReview")
    AuditEvent = apps.get_model("workbench", "AuditEvent")
    groups = (
        Coding.objects.values("layer_id", "code_id", "start", "end")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .order_by()
    )
    for group in list(groups):
        rows = list(
            Coding.objects.filter(
                layer_id=group["layer_id"],
                code_id=group["code_id"],
                start=group["start"],
                end=group["end"],
            )
            .select_related("layer__transcript", "layer__coder", "code")
            .order_by("pk")
        )
        keep, twins = rows[0], rows[1:]
        keep.memo = _merged_memo(rows)
        keep.exemplar = any(row.exemplar for row in rows)
        keep.needs_recheck = any(row.needs_recheck for row in rows)
        keep.version += 1
        keep.save()
        _merge_reviews(CodingReview, keep, rows)
        Coding.objects.filter(pk__in=[twin.pk for twin in twins]).delete()
        layer = keep.layer
        AuditEvent.objects.create(
            study_id=layer.transcript.study_id,
            at=timezone.now(),
            actor=None,
            actor_name="system",
            verb="coding.merge",
            object_type="coding",
            object_id=str(keep.pk),
            object_repr=f"{keep.code.name} [{keep.start}:{keep.end}]"[:300],
            before={"codings": [row.pk for row in rows]},
            after={
                "transcript": layer.transcript_id,
                "layer": layer.role,
                "coder": layer.coder.username,
                "code": keep.code.name,
                "start": keep.start,
                "end": keep.end,
                "kept": keep.pk,
                "reason": "the same code applied twice to the same span",
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("coding", "0005_coding_review"),
        ("workbench", "0003_transcript_permissions"),
    ]

    operations = [
        migrations.RunPython(merge_duplicates, migrations.RunPython.noop),
    ]
