from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from workbench.models import (
    AuditEvent,
    Dimension,
    DimensionValue,
    GuideQuestion,
    Invitation,
    Membership,
    ResearchQuestion,
    Study,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    readonly_fields = ("granted_at", "granted_by")


@admin.register(Study)
class StudyAdmin(GuardedModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("created_at", "created_by", "version")
    inlines = [MembershipInline]


@admin.register(ResearchQuestion)
class ResearchQuestionAdmin(admin.ModelAdmin):
    list_display = ("label", "study", "position")
    list_filter = ("study",)


@admin.register(GuideQuestion)
class GuideQuestionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "study", "position")
    list_filter = ("study",)


class DimensionValueInline(admin.TabularInline):
    model = DimensionValue
    extra = 0


@admin.register(Dimension)
class DimensionAdmin(admin.ModelAdmin):
    list_display = ("name", "study", "position")
    list_filter = ("study",)
    inlines = [DimensionValueInline]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only, even for superusers."""

    list_display = ("at", "study", "actor_name", "verb", "object_type", "object_repr")
    list_filter = ("study", "verb", "object_type")
    search_fields = ("actor_name", "object_repr")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """For site staff: who was invited where (the link's secret is never stored)."""

    list_display = ("identifier", "study", "invited_by", "created_at", "expires_at", "mail")
    list_filter = ("study", "mail")
    search_fields = ("identifier",)
    exclude = ("token_hash",)
    readonly_fields = ("public_id", "accepted_at", "declined_at", "mailed_at")
