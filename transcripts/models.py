"""Cases, participants, consent, transcripts and their speaker turns.

A transcript's text is canonical once imported: Unicode NFC, LF line ends, and every offset
(utterances now, codings later) counts Unicode code points, 0-based, end exclusive — the
REFI-QDA convention.
"""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from workbench.models import Study


class AttributeTarget(models.TextChoices):
    CASE = "case", "Case"
    PARTICIPANT = "participant", "Participant"


class AttributeKind(models.TextChoices):
    TEXT = "text", "Text"
    NUMBER = "number", "Number"
    DATE = "date", "Date"
    CHOICE = "choice", "Single choice"
    MULTI = "multi", "Multiple choice"


class Attribute(models.Model):
    """A study-defined attribute of its cases or participants, e.g. organisation type."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="attributes")
    target = models.CharField(max_length=20, choices=AttributeTarget.choices)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=AttributeKind.choices)
    options = models.JSONField(default=list, blank=True, help_text="Choices, for choice kinds")
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    audit_type = "attribute"
    audit_fields = ("target", "name", "kind", "options", "position")

    class Meta:
        ordering = ["target", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"), "study", "target", name="attribute_unique_name_per_target"
            ),
            models.CheckConstraint(
                condition=Q(target__in=AttributeTarget.values), name="attribute_known_target"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=AttributeKind.values), name="attribute_known_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_choice(self) -> bool:
        return self.kind in {AttributeKind.CHOICE, AttributeKind.MULTI}


class Case(models.Model):
    """The unit the study samples, e.g. one open LLM project and its organisation."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="cases")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # {attribute id (as text): value}; values are validated by the attribute's kind.
    attributes = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "case"
    audit_fields = ("name", "description", "attributes")

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "study", name="case_unique_name_per_study"),
        ]

    def __str__(self) -> str:
        return self.name


class Participant(models.Model):
    """An interviewee, known in the study only by a pseudonym code such as I7."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="participants")
    code = models.CharField(max_length=30, help_text="Pseudonym code, e.g. I7")
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="participants"
    )
    attributes = models.JSONField(default=dict, blank=True)
    # Only admins and leads ever see these; no export includes them.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    audit_type = "participant"
    # Contact details are audited as "changed", never by value (see services).
    audit_fields = ("code", "case", "attributes")

    class Meta:
        ordering = ["code", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("code"), "study", name="participant_unique_code_per_study"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class ConsentUse(models.TextChoices):
    """What a participant may allow; ``ConsentRecord.allows(use)`` answers for each."""

    RECORD = "record", "Audio recording"
    TRANSCRIBE = "transcribe", "Transcription"
    ANALYSE = "analyse", "Analysis (coding)"
    QUOTE = "quote", "Verbatim quotation in outputs"
    ATTRIBUTE = "attribute", "Attribution to their organisation"
    RECONTACT = "recontact", "Re-contact for member checking"
    ARCHIVE = "archive", "Archiving and sharing"


class ConsentKind(models.TextChoices):
    CONSENT = "consent", "Consent"
    WITHDRAWAL = "withdrawal", "Withdrawal"


class ConsentRecord(models.Model):
    """One consent (or withdrawal) as recorded; the participant's latest record is current.

    Records are never edited: a change of consent is a new record, so the history stays.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="consent_records"
    )
    kind = models.CharField(max_length=12, choices=ConsentKind.choices, default=ConsentKind.CONSENT)
    form_version = models.CharField(max_length=50, blank=True)
    effective_on = models.DateField(help_text="Date consent was given (or withdrawn)")
    allow_record = models.BooleanField(default=False)
    allow_transcribe = models.BooleanField(default=False)
    allow_analyse = models.BooleanField(default=False)
    allow_quote = models.BooleanField(default=False)
    allow_attribute = models.BooleanField(default=False)
    allow_recontact = models.BooleanField(default=False)
    allow_archive = models.BooleanField(default=False)
    retain_until = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why consent was withdrawn")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    audit_type = "consent"

    class Meta:
        ordering = ["-effective_on", "-id"]
        get_latest_by = ["effective_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ConsentKind.values), name="consent_known_kind"
            ),
            # A withdrawal allows nothing, whatever a caller passes.
            models.CheckConstraint(
                condition=~Q(kind=ConsentKind.WITHDRAWAL)
                | Q(
                    allow_record=False,
                    allow_transcribe=False,
                    allow_analyse=False,
                    allow_quote=False,
                    allow_attribute=False,
                    allow_recontact=False,
                    allow_archive=False,
                ),
                name="withdrawal_allows_nothing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.participant} on {self.effective_on}"

    @property
    def is_withdrawal(self) -> bool:
        return self.kind == ConsentKind.WITHDRAWAL

    def allows(self, use: str, *, on: date | None = None) -> bool:
        """Whether this consent covers ``use`` (a ``ConsentUse``) on the given day (today).

        Past the retention date nothing is allowed any more: the data is due for purging.
        """
        if use not in ConsentUse.values:
            raise ValueError(f"Unknown use of data: {use!r}")
        if self.is_withdrawal:
            return False
        if self.retain_until is not None and (on or date.today()) > self.retain_until:
            return False
        return getattr(self, f"allow_{use}")

    def scope(self) -> dict[str, bool]:
        return {use: getattr(self, f"allow_{use}") for use in ConsentUse.values}


class TranscriptStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready for coding"


class InterviewMode(models.TextChoices):
    ONLINE = "online", "Online"
    IN_PERSON = "in_person", "In person"
    PHONE = "phone", "Phone"


class Transcript(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="transcripts")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="transcripts"
    )
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_sha256 = models.CharField(max_length=64)
    source_format = models.CharField(max_length=20)
    original_filename = models.CharField(max_length=255, blank=True)
    original_sha256 = models.CharField(max_length=64)
    original_size = models.PositiveBigIntegerField(default=0)
    interview_date = models.DateField(null=True, blank=True)
    # The lead's order among interviews of the same day (or without a date): saturation reads
    # interviews by date, then by this (``transcripts.selectors.transcripts.interview_order``).
    interview_order = models.PositiveIntegerField(null=True, blank=True)
    interviewers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="interviews"
    )
    mode = models.CharField(max_length=20, choices=InterviewMode.choices, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    language = models.CharField(max_length=35, blank=True, help_text="e.g. en, pl, th, yo")
    status = models.CharField(
        max_length=20, choices=TranscriptStatus.choices, default=TranscriptStatus.DRAFT
    )
    pseudonymised_at = models.DateTimeField(null=True, blank=True)
    replacements_made = models.PositiveIntegerField(default=0)
    # How many names of the study's replacement list the text still contains (each name once,
    # however often it occurs). Kept current whenever the text or the list changes
    # (transcripts.selectors.transcripts.listed_names_in), so lists can flag it cheaply.
    listed_names = models.PositiveIntegerField(default=0)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    audit_type = "transcript"
    audit_fields = (
        "title",
        "status",
        "interview_date",
        "interview_order",
        "mode",
        "duration_minutes",
        "language",
        "interviewers",
    )

    class Meta:
        ordering = ["participant__code", "interview_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "original_sha256"],
                name="transcript_no_duplicate_upload",
            ),
            models.CheckConstraint(
                condition=Q(status__in=TranscriptStatus.values), name="transcript_known_status"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SpeakerRole(models.TextChoices):
    INTERVIEWER = "interviewer", "Interviewer"
    PARTICIPANT = "participant", "Participant"
    OTHER = "other", "Other"


class Utterance(models.Model):
    """One speaker turn: a span of the transcript's text."""

    transcript = models.ForeignKey(Transcript, on_delete=models.CASCADE, related_name="utterances")
    index = models.PositiveIntegerField()
    speaker = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=20, choices=SpeakerRole.choices)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    start_ms = models.PositiveBigIntegerField(null=True, blank=True)
    end_ms = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["transcript", "index"]
        constraints = [
            models.UniqueConstraint(fields=["transcript", "index"], name="utterance_unique_index"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="utterance_span"),
            models.CheckConstraint(
                condition=Q(role__in=SpeakerRole.values), name="utterance_known_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.speaker or '—'} [{self.start}:{self.end}]"


class PseudonymRule(models.Model):
    """One entry of a study's replacement list: a real name and what replaces it."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="pseudonym_rules")
    find = models.CharField(max_length=200)
    replace_with = models.CharField(max_length=100)
    whole_word = models.BooleanField(default=True)
    case_sensitive = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    audit_type = "pseudonym_rule"

    class Meta:
        ordering = ["-created_at", "id"]
        constraints = [
            models.UniqueConstraint(Lower("find"), "study", name="pseudonym_unique_find"),
        ]

    def __str__(self) -> str:
        return f"→ {self.replace_with}"
