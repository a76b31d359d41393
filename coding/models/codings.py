"""Dual coding: assignments, each coder's layer of codings, pinned codes, review verdicts."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coding.models.codebook import Code
from workbench.public_ids import public_id_field


class CodingMode(models.TextChoices):
    INDEPENDENT = "independent", "Independent (both code blind)"
    REVIEW = "review", "Review (second coder reviews the primary's coding)"


class Assignment(models.Model):
    """Who codes a transcript: a primary and a second coder, and how they work together."""

    transcript = models.OneToOneField(
        "transcripts.Transcript", on_delete=models.CASCADE, related_name="assignment"
    )
    primary_coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    second_coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=12, choices=CodingMode.choices)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "assignment"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(primary_coder=models.F("second_coder")),
                name="assignment_two_different_coders",
            ),
            models.CheckConstraint(
                condition=Q(mode__in=CodingMode.values), name="assignment_known_mode"
            ),
        ]

    def __str__(self) -> str:
        return f"Assignment of {self.transcript}"


class LayerRole(models.TextChoices):
    PRIMARY = "primary", "Primary coder"
    SECOND = "second", "Second coder"


class LayerStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"


class Layer(models.Model):
    """One coder's codings of one transcript; submitting locks it until a lead reopens it."""

    transcript = models.ForeignKey(
        "transcripts.Transcript", on_delete=models.CASCADE, related_name="layers"
    )
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=10, choices=LayerRole.choices)
    status = models.CharField(
        max_length=12, choices=LayerStatus.choices, default=LayerStatus.NOT_STARTED
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "layer"

    class Meta:
        ordering = ["transcript", "role"]
        constraints = [
            models.UniqueConstraint(fields=["transcript", "role"], name="layer_one_per_role"),
            models.UniqueConstraint(fields=["transcript", "coder"], name="layer_one_per_coder"),
            models.CheckConstraint(
                condition=Q(status__in=LayerStatus.values), name="layer_known_status"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} layer of {self.transcript}"


class Coding(models.Model):
    """A code applied to a span of a transcript's text, in one coder's layer.

    Offsets are Unicode code points into the canonical text, 0-based, end exclusive (REFI-QDA);
    ``snippet`` keeps a copy of the coded text for exports and integrity checks.
    """

    public_id = public_id_field()
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="codings")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    snippet = models.TextField()
    memo = models.TextField(blank=True)
    exemplar = models.BooleanField(default=False, help_text="Candidate exemplar quote")
    needs_recheck = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "coding"
    audit_fields = ("code", "start", "end", "memo", "exemplar")

    class Meta:
        ordering = ["layer", "start", "end", "id"]
        indexes = [models.Index(fields=["layer", "start"], name="coding_layer_start")]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="coding_span"),
            # Applying a code to a span twice (a double click, two tabs, a retry) is one coding:
            # ``coding_apply`` answers with the one already there, and this backs it up.
            models.UniqueConstraint(
                fields=["layer", "code", "start", "end"], name="coding_once_per_span"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} [{self.start}:{self.end}]"


class PinnedCode(models.Model):
    """A code a coder keeps at hand: pinned codes lead the picker and answer number keys 1–9."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="pins")
    pinned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pinned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "code"], name="pinned_code_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.code} pinned by {self.user}"


class ReviewVerdict(models.TextChoices):
    CONFIRM = "confirm", "Confirmed"
    CHALLENGE = "challenge", "Challenged"


class CodingReview(models.Model):
    """Review mode: the second coder's verdict on one of the primary coder's codings.

    A challenge carries a comment and, optionally, the code or span the reviewer would use
    instead; at reconciliation every challenge becomes a disagreement.
    """

    coding = models.OneToOneField(Coding, on_delete=models.CASCADE, related_name="review")
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="reviews")
    verdict = models.CharField(max_length=10, choices=ReviewVerdict.choices)
    comment = models.TextField(blank=True)
    alt_code = models.ForeignKey(
        Code, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    alt_start = models.PositiveIntegerField(null=True, blank=True)
    alt_end = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "coding_review"

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(verdict__in=ReviewVerdict.values), name="review_known_verdict"
            ),
            models.CheckConstraint(
                condition=Q(alt_start__isnull=True, alt_end__isnull=True)
                | Q(alt_start__isnull=False, alt_end__gt=models.F("alt_start")),
                name="review_alternative_span",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()}: {self.coding}"
