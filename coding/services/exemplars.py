"""Marking exemplar quotes: the passages the findings export quotes for a code or theme.

A coding in a coder's own open layer is marked through ``coding_update`` (the coder's own
work); a consensus coding here, by a reviewer or lead who did not code the transcript (those
who settle its consensus, ``reconciliation.can_resolve``).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from coding.models import ConsensusCoding
from coding.services.reconciliation import can_resolve
from workbench import audit


@transaction.atomic
def consensus_exemplar_set(*, actor, consensus_coding: ConsensusCoding, exemplar: bool):
    """Mark (or unmark) a consensus coding as an exemplar quote; one audit event if it changed."""
    row = (
        ConsensusCoding.objects.select_for_update()
        .select_related("transcript__study", "code")
        .filter(pk=consensus_coding.pk)
        .first()
    )
    if row is None:
        raise ValidationError("That segment no longer exists: reload the page.")
    if not can_resolve(actor, row.transcript):
        raise ValidationError(
            "Only a reviewer or a lead who did not code this transcript can mark its "
            "consensus quotes."
        )
    if row.exemplar == bool(exemplar):
        return row
    row.exemplar = bool(exemplar)
    row.save(update_fields=["exemplar"])
    audit.record(
        actor=actor,
        study=row.transcript.study,
        verb="consensus_coding.update",
        obj=row,
        object_type="consensus_coding",
        before={"exemplar": not row.exemplar, "code": row.code.public_id},
        after={"exemplar": row.exemplar, "code": row.code.public_id},
    )
    return row
