"""Matrices: the summary note a lead writes in one cell of the code × case matrix (NVivo's
framework matrix: per theme and case, what this case says about it)."""

from django.conf import settings
from django.db import models

from coding.models.codebook import Code
from workbench.models import Study


class MatrixCellNote(models.Model):
    """The note in the cell (row code or theme, case); one per cell, versioned like every
    edited text, its wording kept out of the audit trail (it may quote a participant)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="matrix_cell_notes")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="matrix_cell_notes")
    case = models.ForeignKey(
        "transcripts.Case", on_delete=models.CASCADE, related_name="matrix_cell_notes"
    )
    text = models.TextField()
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "matrix_cell_note"

    class Meta:
        ordering = ["study", "code", "case"]
        constraints = [
            models.UniqueConstraint(fields=["code", "case"], name="matrix_cell_note_once"),
        ]

    def __str__(self) -> str:
        return f"Note on {self.code} × {self.case}"
