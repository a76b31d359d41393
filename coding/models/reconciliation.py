"""Reconciliation: disagreements between two submitted layers, settled into the consensus."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coding.models.codebook import Code


class Tolerance(models.TextChoices):
    EXACT = "exact", "Exact boundaries"
    CHARACTERS = "characters", "Boundaries within N characters"
    UTTERANCE = "utterance", "Boundaries within the same speaker turn"


class Reconciliation(models.Model):
    """The settling of one transcript's two submitted layers into its consensus layer."""

    transcript = models.OneToOneField(
        "transcripts.Transcript", on_delete=models.CASCADE, related_name="reconciliation"
    )
    tolerance = models.CharField(
        max_length=12, choices=Tolerance.choices, default=Tolerance.CHARACTERS
    )
    tolerance_chars = models.PositiveSmallIntegerField(default=10)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "reconciliation"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(tolerance__in=Tolerance.values), name="reconciliation_known_tolerance"
            ),
        ]

    def __str__(self) -> str:
        return f"Reconciliation of {self.transcript}"


class DisagreementKind(models.TextChoices):
    MISSING_IN_A = "missing_in_a", "Only B coded it"
    MISSING_IN_B = "missing_in_b", "Only A coded it"
    DIFFERENT_CODE = "different_code", "Different codes"
    BOUNDARY = "boundary", "Different boundaries"


class Decision(models.TextChoices):
    A = "a", "Accept A"
    B = "b", "Accept B"
    BOTH = "both", "Keep both"
    NEITHER = "neither", "Neither"
    EDIT = "edit", "Edited"


class Disagreement(models.Model):
    """Where the two layers differ, as found when reconciliation started.

    ``a_codings`` / ``b_codings`` keep what each coder said (code, span, memo, text) at that
    moment, so the history reads the same even if a layer is later reopened and changed.
    """

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.CASCADE, related_name="disagreements"
    )
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=DisagreementKind.choices)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    a_codings = models.JSONField(default=list)
    b_codings = models.JSONField(default=list)
    decision = models.CharField(max_length=8, choices=Decision.choices, blank=True)
    rationale = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "disagreement"

    class Meta:
        ordering = ["reconciliation", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "number"], name="disagreement_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=DisagreementKind.values), name="disagreement_known_kind"
            ),
            models.CheckConstraint(
                condition=Q(decision="") | Q(decision__in=Decision.values),
                name="disagreement_known_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"Disagreement {self.number} of {self.reconciliation.transcript}"

    @property
    def resolved(self) -> bool:
        return bool(self.decision)


class ConsensusSource(models.TextChoices):
    AGREED = "agreed", "Both coders agreed"
    A = "a", "From A"
    B = "b", "From B"
    EDITED = "edited", "Edited by the reviewer"


class ConsensusCoding(models.Model):
    """A coding of the transcript's consensus layer: what themes, saturation and exports use."""

    transcript = models.ForeignKey(
        "transcripts.Transcript", on_delete=models.CASCADE, related_name="consensus_codings"
    )
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="consensus_codings")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    snippet = models.TextField()
    memo = models.TextField(blank=True)
    exemplar = models.BooleanField(default=False)
    source = models.CharField(max_length=8, choices=ConsensusSource.choices)
    disagreement = models.ForeignKey(
        Disagreement,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="consensus_codings",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["transcript", "start", "end", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="consensus_span"),
            models.CheckConstraint(
                condition=Q(source__in=ConsensusSource.values), name="consensus_known_source"
            ),
        ]
        # Counting codings per code and transcript (the theme board, the matrices) reads this
        # index alone, not 100,000 rows of text.
        indexes = [models.Index(fields=["transcript", "code"], name="consensus_transcript_code")]

    def __str__(self) -> str:
        return f"{self.code} [{self.start}:{self.end}] (consensus)"
