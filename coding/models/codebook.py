"""The codebook: codes form a tree (code → theme → category) and every change to a code writes a
``CodeVersion`` beside its audit event. Codes are never deleted, only retired, so codings
reference them with ``on_delete=PROTECT`` and nothing coded is ever lost.
"""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from workbench.models import DimensionValue, GuideQuestion, ResearchQuestion, Study
from workbench.public_ids import public_id_field

COLOUR_RE = r"^#[0-9a-f]{6}$"

# The colours handed to new codes, in order; a new code gets the first one no code of its study
# uses yet (``coding.selectors.codebook.next_colour``), so colours repeat only after all 26.
# Choice: the first seven are Okabe & Ito's colour-blind-safe set ("Color Universal Design",
# 2008) without black, the hues kept and only lightness lowered where needed; the rest extend it
# with Glasbey's method (the ``glasbey`` package's extend_palette, maximum perceptual distance
# from every colour before it, lightness 25-50 and chroma 30-75 in CAM02-UCS) so each new colour
# is as far as possible from those already given. Why this set: codes show as a swatch, an
# underline or a left border on white and as a 13 % wash behind dark text, so every colour has
# at least 3:1 contrast with white (WCAG's figure for non-text marks) while its wash stays light
# enough for body text to keep AAA contrast (tests/coding/test_code_colours.py checks both);
# pale palettes (Tableau 20's light halves, Kelly's buff and yellow) would vanish as underlines.
CODE_PALETTE = (
    "#0072b2",
    "#bd8300",
    "#009e73",
    "#d55e00",
    "#c972a2",
    "#1d96db",
    "#9c920c",
    "#7d00ba",
    "#694918",
    "#aa75e7",
    "#006500",
    "#a20075",
    "#006159",
    "#4935d7",
    "#6d6192",
    "#319a00",
    "#ba39ce",
    "#65753d",
    "#49868e",
    "#8e5575",
    "#9e6945",
    "#868eba",
    "#5971ff",
    "#964100",
    "#759e5d",
    "#8641ef",
)


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


class ThemeStatus(models.TextChoices):
    """How settled a theme or category is: a claim the team is still testing, or one it holds."""

    TENTATIVE = "tentative", "Tentative"
    ESTABLISHED = "established", "Established"


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
    """A first-level code, a theme (second-level code, named as a claim) or a category.

    ``parent`` is a code's home in the hierarchy (the theme it is counted under); ``also_in``
    lists further themes it belongs to where the analysis calls for it (a passage about shared
    training logs may support both an on-ramp and a challenge theme). One home keeps totals per
    category honest (a coding is counted once), the extra links keep the analysis faithful.
    """

    public_id = public_id_field()
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
    also_in = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="secondary_members"
    )
    # Themes and categories: the research questions they answer, and how settled they are.
    research_questions = models.ManyToManyField(ResearchQuestion, blank=True, related_name="codes")
    theme_status = models.CharField(
        max_length=12, choices=ThemeStatus.choices, default=ThemeStatus.TENTATIVE
    )
    # A code merged into another is retired and points at the code that took its codings.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
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
        "also_in",
        "research_questions",
        "theme_status",
        "merged_into",
        "guide_questions",
        "dimension_values",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # Names are unique in a study, except that two coders working blind may each
            # create the same inductive code while coding (neither may learn of the other's):
            # those are unique per creator, and merged once both can see them.
            models.UniqueConstraint(
                Lower("name"),
                "study",
                condition=~Q(origin="inductive"),
                name="code_unique_name_per_study",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "study",
                "created_by",
                condition=Q(origin="inductive"),
                name="code_unique_inductive_name_per_creator",
            ),
            models.UniqueConstraint(fields=["study", "guid"], name="code_unique_guid_per_study"),
            models.CheckConstraint(
                condition=Q(status__in=CodeStatus.values), name="code_known_status"
            ),
            models.CheckConstraint(
                condition=Q(origin__in=CodeOrigin.values), name="code_known_origin"
            ),
            models.CheckConstraint(condition=Q(kind__in=CodeKind.values), name="code_known_kind"),
            models.CheckConstraint(
                condition=Q(theme_status__in=ThemeStatus.values), name="code_known_theme_status"
            ),
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
    MERGE = "merge", "Merged"
    SPLIT = "split", "Split"
    PROMOTE = "promote", "Promoted"
    DEMOTE = "demote", "Demoted"
    STATUS = "status", "Status changed"


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
    # The interview being coded when the change was made (saturation counts codebook changes
    # per interview): given by the caller, else the editor's most recently coded open layer;
    # empty for changes made away from coding (a team meeting, a merge on the codebook page).
    during = models.ForeignKey(
        "transcripts.Transcript",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["code", "number"]
        constraints = [
            models.UniqueConstraint(fields=["code", "number"], name="code_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.number} ({self.change})"
