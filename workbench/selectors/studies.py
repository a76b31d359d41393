"""Which studies a user sees."""

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from workbench.models import (
    Membership,
    Study,
)
from workbench.roles import Role


def studies_for_user(user) -> QuerySet[Study]:
    return get_objects_for_user(
        user,
        "workbench.view_study",
        klass=Study,
        with_superuser=False,
        accept_global_perms=False,
    ).order_by("name")


def studies_with_my_roles(user) -> list[Study]:
    """The user's studies, each with ``my_roles``, in two queries."""
    studies = list(studies_for_user(user))
    roles: dict[int, list[str]] = {}
    order = {role: i for i, role in enumerate(Role.values)}
    for study_id, role in Membership.objects.filter(user=user).values_list("study_id", "role"):
        roles.setdefault(study_id, []).append(role)
    for study in studies:
        study.my_roles = sorted(roles.get(study.pk, []), key=order.__getitem__)
    return studies
