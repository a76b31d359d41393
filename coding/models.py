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


# --- reconciliation: disagreements, their resolution, the consensus layer ---------------------


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

    def __str__(self) -> str:
        return f"{self.code} [{self.start}:{self.end}] (consensus)"


# --- agreement over time, peer debriefing, analytic memos ------------------------------------


class RoundKind(models.TextChoices):
    BEFORE_RECONCILIATION = "before", "Before reconciliation"
    AFTER_CODEBOOK_CHANGE = "codebook", "After codebook changes"
    OTHER = "other", "Other"


class AgreementRound(models.Model):
    """The study's agreement figures at one moment, kept so reliability can be followed."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="agreement_rounds")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=RoundKind.choices, default=RoundKind.OTHER)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    transcripts = models.PositiveIntegerField()
    # {"overall": {...}, "codes": {"<code id>": {"name": ..., "alpha_u": ..., "kappa": ...}}}
    figures = models.JSONField()

    audit_type = "agreement_round"

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="agreement_round_number"),
        ]

    def __str__(self) -> str:
        return f"Round {self.number} of {self.study}"


class NoteKind(models.TextChoices):
    DEBRIEF = "debrief", "Peer debriefing"
    SYNTHESIS = "synthesis", "Tentative synthesis"


class DebriefNote(models.Model):
    """A dated record of a peer-debriefing session, or a tentative synthesis of the analysis."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="debrief_notes")
    kind = models.CharField(max_length=10, choices=NoteKind.choices, default=NoteKind.DEBRIEF)
    held_on = models.DateField()
    title = models.CharField(max_length=200)
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    other_attendees = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    transcripts = models.ManyToManyField("transcripts.Transcript", blank=True, related_name="+")
    codes = models.ManyToManyField(Code, blank=True, related_name="debrief_notes")
    disagreements = models.ManyToManyField(Disagreement, blank=True, related_name="debrief_notes")
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "debrief_note"
    audit_fields = ("kind", "held_on", "title", "other_attendees", "decisions")

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NoteKind.values), name="note_known_kind"),
        ]

    def __str__(self) -> str:
        return self.title


class AnalyticMemo(models.Model):
    """An analyst's memo on a code (or on the analysis at large, without a code)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memos")
    code = models.ForeignKey(
        Code, on_delete=models.PROTECT, null=True, blank=True, related_name="memos"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    transcripts = models.ManyToManyField("transcripts.Transcript", blank=True, related_name="+")
    written_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "memo"
    audit_fields = ("title", "code")

    class Meta:
        ordering = ["-updated_at", "-id"]

    def __str__(self) -> str:
        return self.title


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
