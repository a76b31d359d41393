"""The one place that answers "may this member do X in this study".

Views and fragments pass ``study_for`` first: non-members get 404, exactly as if the study did
not exist; members lacking the permission a view needs get 403. Services ask ``member_perms``
(or ``require``). Permissions come from django-guardian, mirrored from memberships by
``workbench.services.members``; nothing else reads guardian.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from guardian.shortcuts import get_user_perms

from workbench.models import Study
from workbench.roles import PERMISSION_CODENAMES


@dataclass(frozen=True)
class StudyAccess:
    study: Study
    perms: frozenset[str]

    def can(self, codename: str) -> bool:
        return codename in self.perms

    def __getattr__(self, name: str):
        # Templates ask ``access.can_manage_members`` and the like.
        if name.startswith("can_"):
            return name[4:] in self.perms
        raise AttributeError(name)


def member_perms(user, study: Study) -> frozenset[str]:
    """The study permissions ``user`` holds (empty for non-members)."""
    # get_user_perms reads the user's own grants only: superusers get no silent back door
    # into studies they are not members of.
    return frozenset(get_user_perms(user, study))


def require(user, study: Study, *codenames: str, message: str) -> frozenset[str]:
    """Refuse a write (ValidationError, nothing changed) unless ``user`` holds one of
    ``codenames`` in ``study``; returns their permissions."""
    perms = member_perms(user, study)
    if not perms & set(codenames):
        raise ValidationError(message, code="forbidden")
    return perms


def study_for(request, study_slug: str, need: str = "view_study") -> StudyAccess:
    if need not in PERMISSION_CODENAMES:
        raise ValueError(f"Unknown study permission {need!r}")
    user = request.user
    if not user.is_authenticated:
        raise Http404
    study = Study.objects.filter(slug=study_slug).first()
    if study is None:
        raise Http404
    perms = member_perms(user, study)
    if "view_study" not in perms:
        raise Http404
    access = StudyAccess(study=study, perms=perms)
    # Kept on the request before a refusal too: the 403 page shows the member the study's
    # navigation (workbench.views.errors).
    request.study_access = access
    if need not in perms:
        raise PermissionDenied
    return access


def can_create_studies(user) -> bool:
    """Whether ``user`` may create a study: the site setting ``STUDY_CREATORS`` decides
    (any active account, or staff accounts only)."""
    from django.conf import settings

    if not (user.is_authenticated and user.is_active):
        return False
    return settings.STUDY_CREATORS == "any" or user.is_staff
