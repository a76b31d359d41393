"""Codebook evolution: a merge or a split of codes, kept as one record that can be undone.

An operation records what it changed (which codings moved, which coalesced into which, every
reference it re-pointed) so that ``codebook_operation_undo`` can put each back while nothing
depends on it. The record keeps offsets into transcripts (spans of codings it coalesced away)
but no transcript text; those offsets are only valid against the text version recorded with
them, and undo is refused once any of those texts was corrected. That is why this model is not
a ``transcripts.spans`` holder: a correction never needs to move its spans, it retires the undo.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coding.models.codebook import Code
from workbench.models import Study
from workbench.public_ids import public_id_field


class OperationKind(models.TextChoices):
    MERGE = "merge", "Merge"
    SPLIT = "split", "Split"


class CodebookOperation(models.Model):
    """One merge (``sources`` → ``target``) or split (``sources`` = the code split, ``target``
    = the new code), with what undo needs in ``record`` and per-layer counts in ``counts``.

    ``counts`` maps ``"layer:<id>"`` and ``"consensus:<transcript id>"`` to the codings moved
    there; pages show only the keys the viewer may see (blind layers are never shown).
    """

    public_id = public_id_field()
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codebook_operations")
    kind = models.CharField(max_length=8, choices=OperationKind.choices)
    sources = models.ManyToManyField(Code, related_name="operations_as_source")
    target = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="operations_as_target")
    record = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    done_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    audit_type = "codebook_operation"

    class Meta:
        ordering = ["-done_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OperationKind.values), name="codebook_operation_known_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} into {self.target}"
