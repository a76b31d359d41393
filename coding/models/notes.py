"""Peer debriefing notes, analytic memos and recorded agreement rounds."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from coding.models.codebook import Code
from coding.models.reconciliation import Disagreement
from workbench.models import Study
from workbench.public_ids import public_id_field


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
    # {"overall": {...}, "codes": {"<code id>": {"name": ..., "alpha_u": ..., "kappa": ...}},
    #  "transcripts": {"<transcript id>": {"title": ..., "kappa": ..., "alpha_nominal": ...}}}
    # Every figure on 0–1 (see coding/selectors/agreement.py).
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

    public_id = public_id_field()
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

    public_id = public_id_field()
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
