"""The one gate every study view and fragment passes first.

Non-members get 404, exactly as if the study did not exist; members lacking the permission a
view needs get 403. Permissions come from django-guardian, mirrored from memberships by
``workbench.services``; nothing else in the views reads guardian.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
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


def study_for(request, study_slug: str, need: str = "view_study") -> StudyAccess:
    if need not in PERMISSION_CODENAMES:
        raise ValueError(f"Unknown study permission {need!r}")
    user = request.user
    if not user.is_authenticated:
        raise Http404
    study = Study.objects.filter(slug=study_slug).first()
    if study is None:
        raise Http404
    # get_user_perms reads the user's own grants only: superusers get no silent back door
    # into studies they are not members of.
    perms = frozenset(get_user_perms(user, study))
    if "view_study" not in perms:
        raise Http404
    if need not in perms:
        raise PermissionDenied
    access = StudyAccess(study=study, perms=perms)
    request.study_access = access
    return access
