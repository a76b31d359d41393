"""Roles a person can hold in a study and what each role may do.

Roles live on ``Membership`` rows; the permissions below are mirrored into django-guardian
object permissions on the study, and ``workbench.access`` is the only reader of those.
"""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    LEAD = "lead", "Lead"
    CODER = "coder", "Coder"
    REVIEWER = "reviewer", "Reviewer"


# Every study permission: (codename, description). ``view_study`` is what membership means.
STUDY_PERMISSIONS = [
    ("view_study", "See the study (any member)"),
    ("edit_study", "Edit the study's name and description"),
    ("manage_members", "Invite members and give or remove roles"),
    ("manage_codebook", "Manage the codebook"),
    ("manage_consent", "Manage consent and data retention"),
    ("manage_participants", "Manage cases, participants and their attributes"),
    ("view_contacts", "See participants' contact details"),
    ("import_transcripts", "Import and prepare transcripts"),
    ("manage_design", "Edit research questions, interview guide and dimensions"),
    ("manage_assignments", "Assign transcripts to coders"),
    ("manage_analysis", "Run saturation analysis and member checking"),
    ("export_findings", "Export findings"),
    ("code_transcripts", "Code transcripts"),
    ("review_codings", "Review codings and resolve disagreements"),
    ("view_audit", "Browse and download the audit trail"),
]
PERMISSION_CODENAMES = frozenset(codename for codename, _ in STUDY_PERMISSIONS)

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            "view_study",
            "edit_study",
            "manage_members",
            "manage_codebook",
            "manage_consent",
            "manage_participants",
            "view_contacts",
            "import_transcripts",
            "view_audit",
        }
    ),
    Role.LEAD: frozenset(
        {
            "view_study",
            "manage_design",
            "manage_assignments",
            "manage_analysis",
            "export_findings",
            "manage_participants",
            "view_contacts",
            "import_transcripts",
            "view_audit",
        }
    ),
    Role.CODER: frozenset({"view_study", "code_transcripts"}),
    Role.REVIEWER: frozenset({"view_study", "review_codings"}),
}


def permissions_for(roles) -> frozenset[str]:
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)
