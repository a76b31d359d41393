"""Codebook, codings, agreement, themes, saturation and findings export live here.

The codebook: codes form a tree (code → theme → category) and every change to a code writes a
``CodeVersion`` beside its audit event. Codes are never deleted — only retired — so codings
(next issue) can reference them with ``on_delete=PROTECT`` and nothing coded is ever lost.
"""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from workbench.models import DimensionValue, GuideQuestion, Study

COLOUR_RE = r"^#[0-9a-f]{6}$"
colour_validator = RegexValidator(COLOUR_RE, "Give a colour as #rrggbb, e.g. #2f5d8a.")


class CodeStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PENDING = "pending", "Pending approval"
    RETIRED = "retired", "Retired"


class CodeOrigin(models.TextChoices):
    DEDUCTIVE = "deductive", "Deductive"
    INDUCTIVE = "inductive", "Inductive"


class CodeKind(models.TextChoices):
    CODE = "code", "Code"
    THEME = "theme", "Theme"
    CATEGORY = "category", "Category"


# The kind a parent must have: first-level codes group into themes, themes into categories.
PARENT_KIND = {CodeKind.CODE: CodeKind.THEME, CodeKind.THEME: CodeKind.CATEGORY}


class InductivePolicy(models.TextChoices):
    ALLOWED = "allowed", "Coders may create inductive codes"
    PENDING = "pending", "Coders may create inductive codes, pending admin approval"


class CodebookSettings(models.Model):
    """Per-study codebook settings; a study without a row uses the defaults."""

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="codebook_settings")
    inductive_codes = models.CharField(
        max_length=10, choices=InductivePolicy.choices, default=InductivePolicy.ALLOWED
    )
    version = models.PositiveIntegerField(default=1)

    audit_type = "codebook_settings"
    audit_fields = ("inductive_codes",)

    class Meta:
        verbose_name_plural = "codebook settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(inductive_codes__in=InductivePolicy.values),
                name="codebook_settings_known_policy",
            ),
        ]

    def __str__(self) -> str:
        return f"Codebook settings of {self.study}"


class Code(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codes")
    # Stable identity for REFI-QDA round trips (the GUID of a .qdc/.qdpx code).
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    when_to_use = models.TextField(blank=True)
    when_not_to_use = models.TextField(blank=True)
    example = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default="#5b7db1", validators=[colour_validator])
    status = models.CharField(max_length=10, choices=CodeStatus.choices, default=CodeStatus.ACTIVE)
    origin = models.CharField(
        max_length=10, choices=CodeOrigin.choices, default=CodeOrigin.DEDUCTIVE
    )
    kind = models.CharField(max_length=10, choices=CodeKind.choices, default=CodeKind.CODE)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    guide_questions = models.ManyToManyField(GuideQuestion, blank=True, related_name="codes")
    dimension_values = models.ManyToManyField(DimensionValue, blank=True, related_name="codes")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # For inductive codes: the transcript being coded when the code was created.
    first_seen_transcript = models.ForeignKey(
        "transcripts.Transcript",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    audit_type = "code"
    audit_fields = (
        "name",
        "definition",
        "when_to_use",
        "when_not_to_use",
        "example",
        "colour",
        "status",
        "origin",
        "kind",
        "parent",
        "guide_questions",
        "dimension_values",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "study", name="code_unique_name_per_study"),
            models.UniqueConstraint(fields=["study", "guid"], name="code_unique_guid_per_study"),
            models.CheckConstraint(
                condition=Q(status__in=CodeStatus.values), name="code_known_status"
            ),
            models.CheckConstraint(
                condition=Q(origin__in=CodeOrigin.values), name="code_known_origin"
            ),
            models.CheckConstraint(condition=Q(kind__in=CodeKind.values), name="code_known_kind"),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="code_not_its_own_parent"
            ),
        ]
        indexes = [models.Index(fields=["study", "status"], name="code_study_status")]

    def __str__(self) -> str:
        return self.name


class ChangeKind(models.TextChoices):
    CREATE = "create", "Created"
    RENAME = "rename", "Renamed"
    REDEFINE = "redefine", "Redefined"
    RECOLOUR = "recolour", "Recoloured"
    RELINK = "relink", "Links changed"
    MOVE = "move", "Moved"
    RETIRE = "retire", "Retired"
    REACTIVATE = "reactivate", "Reactivated"
    APPROVE = "approve", "Approved"


class CodeVersion(models.Model):
    """The state of a code after one change: who, when, what kind of change, full snapshot."""

    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The main kind of change; ``changes`` lists all of them (a save may rename and redefine).
    change = models.CharField(max_length=12, choices=ChangeKind.choices)
    changes = models.JSONField(default=list)
    snapshot = models.JSONField()
    # The editor asked for this code's existing codings to be flagged "to re-check".
    flag_codings = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["code", "number"]
        constraints = [
            models.UniqueConstraint(fields=["code", "number"], name="code_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.number} ({self.change})"


# --- dual coding: assignments, layers, codings ---------------------------------------------


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
