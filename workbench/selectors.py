"""Reads that shape querysets for the workbench pages. Query counts here do not grow with data."""

from dataclasses import dataclass, field
from datetime import datetime, time

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from workbench.models import (
    AuditEvent,
    Dimension,
    DimensionValue,
    GuideQuestion,
    Membership,
    ResearchQuestion,
    Study,
)
from workbench.roles import Role

User = get_user_model()


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


@dataclass
class Design:
    research_questions: list[ResearchQuestion]
    guide_questions: list[GuideQuestion]
    dimensions: list[Dimension]


def study_design(study: Study) -> Design:
    """The research design in four queries, whatever its size."""
    research_questions = list(study.research_questions.all())
    guide_questions = list(
        study.guide_questions.prefetch_related(
            Prefetch(
                "research_questions",
                queryset=ResearchQuestion.objects.order_by("position", "id"),
            )
        )
    )
    dimensions = list(
        study.dimensions.prefetch_related(
            Prefetch("values", queryset=DimensionValue.objects.order_by("position", "id"))
        )
    )
    return Design(research_questions, guide_questions, dimensions)


DESIGN_MODELS = {
    "rq": ResearchQuestion,
    "guide": GuideQuestion,
    "dimension": Dimension,
    "value": DimensionValue,
}


def design_item(study: Study, kind: str, pk: int):
    """A design item of this study, or None (so another study's ids look like missing ones)."""
    model = DESIGN_MODELS.get(kind)
    if model is None:
        return None
    scope = {"dimension__study": study} if model is DimensionValue else {"study": study}
    return model.objects.filter(pk=pk, **scope).first()


def guide_question_number(gq: GuideQuestion) -> int:
    """Its number in the guide as shown (Q1, Q2, ...), counted in display order."""
    order = gq.study.guide_questions.values_list("pk", flat=True)
    return list(order).index(gq.pk) + 1


def audit_events(study: Study, filters: dict) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(study=study)
    if filters.get("actor"):
        events = events.filter(actor_name__icontains=filters["actor"])
    if filters.get("verb"):
        events = events.filter(verb=filters["verb"])
    if filters.get("object_type"):
        events = events.filter(object_type=filters["object_type"])
    tz = timezone.get_current_timezone()
    if filters.get("since"):
        events = events.filter(at__gte=datetime.combine(filters["since"], time.min, tzinfo=tz))
    if filters.get("until"):
        events = events.filter(at__lte=datetime.combine(filters["until"], time.max, tzinfo=tz))
    return events.order_by("-at", "-id")


def audit_vocabulary(study: Study) -> tuple[list[str], list[str]]:
    """The verbs and object types that occur in this study's trail, for the filter menus."""
    rows = (
        AuditEvent.objects.filter(study=study)
        .values_list("verb", "object_type")
        .order_by()
        .distinct()
    )
    verbs = sorted({verb for verb, _ in rows})
    types = sorted({object_type for _, object_type in rows})
    return verbs, types
