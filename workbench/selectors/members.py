"""A study's members and their roles."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from workbench.models import (
    Membership,
    Study,
)
from workbench.roles import Role

User = get_user_model()


@dataclass
class Member:
    user: object
    roles: list[str] = field(default_factory=list)

    @property
    def role_labels(self) -> list[str]:
        return [Role(role).label for role in self.roles]

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles


def study_members(study: Study) -> list[Member]:
    """Members with their roles, in role order (admin, lead, coder, reviewer), one query."""
    order = {role: i for i, role in enumerate(Role.values)}
    members: dict[int, Member] = {}
    for membership in (
        Membership.objects.filter(study=study).select_related("user").order_by("user__username")
    ):
        member = members.setdefault(membership.user_id, Member(user=membership.user))
        member.roles.append(membership.role)
    for member in members.values():
        member.roles.sort(key=order.__getitem__)
    return list(members.values())


def member_of(study: Study, user_id: int) -> Member | None:
    memberships = list(
        Membership.objects.filter(study=study, user_id=user_id).select_related("user")
    )
    if not memberships:
        return None
    order = {role: i for i, role in enumerate(Role.values)}
    roles = sorted((m.role for m in memberships), key=order.__getitem__)
    return Member(user=memberships[0].user, roles=roles)


def member_users(study: Study) -> QuerySet:
    """The users who hold any role in ``study``, by username (for choice fields)."""
    return User.objects.filter(
        pk__in=Membership.objects.filter(study=study).values("user")
    ).order_by("username")
