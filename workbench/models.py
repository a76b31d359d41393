import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from workbench.roles import STUDY_PERMISSIONS, Role


class Study(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # A transcript may be marked ready for coding only once no name on the study's
    # replacement list is left in it (transcripts.services.transcripts.transcript_update).
    requires_pseudonymisation = models.BooleanField(
        "Require pseudonymisation before coding", default=True
    )
    # Optimistic concurrency: every edit form carries the version it was made from.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "studies"
        default_permissions = ()
        permissions = STUDY_PERMISSIONS

    def __str__(self) -> str:
        return self.name


class StudyUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign key for guardian: faster and keeps referential integrity."""

    content_object = models.ForeignKey(Study, on_delete=models.CASCADE)


class StudyGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Study, on_delete=models.CASCADE)


class Membership(models.Model):
    """One role held by one person in one study; a person may hold several."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["study", "user__username", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "user", "role"], name="membership_unique_role"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_known_role"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.study}"


class InvitationQuerySet(models.QuerySet):
    def open(self):
        """Not yet answered (it may have expired: then it can be resent)."""
        return self.filter(accepted_at__isnull=True, declined_at__isnull=True)


class Invitation(models.Model):
    """An offer of roles in a study; nothing is granted until the invited person accepts.

    The inviter only ever sees what they typed (``identifier``). Which account it matched
    (``user``) stays hidden from them until the person accepts, so inviting cannot be used to
    find out whether an account exists or whose it is.
    """

    class Mail(models.TextChoices):
        NONE = "none", "not e-mailed"  # a username: they see it when they sign in
        SENT = "sent", "e-mailed"
        FAILED = "failed", "e-mail not sent"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="invitations")
    identifier = models.CharField(max_length=254, help_text="What the inviter typed")
    # Where the link goes: the typed address (empty for a username).
    email = models.EmailField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="invitations",
        help_text="The account it is addressed to; empty until one exists for the e-mail",
    )
    roles = models.JSONField(default=list)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # SHA-256 of the secret in the e-mailed link; the secret itself is never stored.
    token_hash = models.CharField(max_length=64, unique=True)
    mail = models.CharField(max_length=10, choices=Mail.choices, default=Mail.NONE)
    mailed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    audit_type = "invitation"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per typed name and study, also under concurrent submits.
            models.UniqueConstraint(
                Lower("identifier"),
                "study",
                condition=models.Q(accepted_at__isnull=True, declined_at__isnull=True),
                name="invitation_one_open_per_identifier",
            ),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.identifier} to {self.study}"

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles]


class ResearchQuestion(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="research_questions")
    label = models.CharField(max_length=20, help_text="Short label, e.g. RQ1")
    text = models.TextField()
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    audit_type = "research_question"
    audit_fields = ("label", "text", "position")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("label"), "study", name="rq_unique_label_per_study"),
        ]

    def __str__(self) -> str:
        return self.label


class GuideQuestion(models.Model):
    """A question of the interview guide, linked to the research questions it serves."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="guide_questions")
    text = models.TextField()
    probes = models.TextField(blank=True, help_text="Follow-up prompts for the interviewer")
    research_questions = models.ManyToManyField(
        ResearchQuestion, related_name="guide_questions", blank=True
    )
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    audit_type = "guide_question"
    audit_fields = ("text", "probes", "position", "research_questions")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 60 else self.text[:59] + "…"


class Dimension(models.Model):
    """An analysis dimension, e.g. lifecycle stage; its values tag codes later."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="dimensions")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    audit_type = "dimension"
    audit_fields = ("name", "description", "position")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "study", name="dimension_unique_name_per_study"),
        ]

    def __str__(self) -> str:
        return self.name


class DimensionValue(models.Model):
    dimension = models.ForeignKey(Dimension, on_delete=models.CASCADE, related_name="values")
    label = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    audit_type = "dimension_value"
    audit_fields = ("label", "position")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("label"), "dimension", name="dimension_value_unique_label"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dimension.name}: {self.label}"

    @property
    def study(self) -> Study:
        return self.dimension.study


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")


class AuditEvent(models.Model):
    """One state change: who did what to which object, with values before and after.

    Append-only in the app (this model refuses updates and deletes) and, on PostgreSQL, in the
    database too (a trigger installed by migration 0002 rejects UPDATE and DELETE).
    """

    study = models.ForeignKey(
        Study, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    # Kept as text so the record reads the same even if the account is renamed later.
    actor_name = models.CharField(max_length=150)
    verb = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # The coding layer the change happened in, if any. A coder working blind must not learn of
    # the other layer from the trail either: readers hide events of layers the viewer may not
    # see (the coding app registers that rule, ``workbench.audit.register_hider``).
    layer_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["study", "-at"], name="audit_study_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.verb} {self.object_repr}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field the event mentions, in a stable order."""
        before, after = self.before or {}, self.after or {}
        keys = list(before) + [key for key in after if key not in before]

        def shown(side, key):
            if key not in side:
                return None
            value = side[key]
            if isinstance(value, list):
                value = ", ".join(str(item) for item in value)
            return "(empty)" if value in ("", None) else value

        return [(key.replace("_", " "), shown(before, key), shown(after, key)) for key in keys]

    @property
    def object_type_label(self) -> str:
        return self.object_type.replace("_", " ").capitalize()
