"""Every state change of studies, memberships and research design.

Each function is atomic and writes its audit event in the same transaction as the change.
Business rules raise ``django.core.exceptions.ValidationError`` (field-keyed where a form field
is to blame) and leave the database untouched.
"""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.text import slugify
from guardian.shortcuts import assign_perm, remove_perm

from workbench import audit
from workbench.models import (
    Dimension,
    DimensionValue,
    GuideQuestion,
    Membership,
    ResearchQuestion,
    Study,
)
from workbench.roles import PERMISSION_CODENAMES, Role, permissions_for

User = get_user_model()


class StaleEdit(ValidationError):
    def __init__(self, what: str = "This item"):
        super().__init__(
            f"{what} was changed by someone else while you were editing. "
            "Nothing was saved; review the current version and try again.",
            code="stale",
        )


def _lock(model: type[models.Model], pk: int, *, version: int | None, **scope):
    """Lock the row for this transaction and refuse an edit made from an older version."""
    obj = model.objects.select_for_update().filter(pk=pk, **scope).first()
    if obj is None:
        raise ValidationError(
            f"This {model._meta.verbose_name} no longer exists; it may have been deleted.",
            code="gone",
        )
    if version is not None and obj.version != version:
        raise StaleEdit(f"This {model._meta.verbose_name}")
    return obj


def _next_position(queryset) -> int:
    return (queryset.aggregate(m=Max("position"))["m"] or 0) + 1


# --- studies -------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "study"
    slug, n = base, 2
    while Study.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def study_create(*, actor, name: str, description: str = "", slug: str = "") -> Study:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the study a name."})
    slug = slugify(slug) if slug else _unique_slug(name)
    if Study.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": "Another study already uses this address."})
    study = Study.objects.create(
        name=name, slug=slug, description=description.strip(), created_by=actor
    )
    audit.record(
        actor=actor,
        study=study,
        verb="study.create",
        obj=study,
        after={"name": study.name, "slug": study.slug, "description": study.description},
    )
    _grant_roles(actor=actor, study=study, user=actor, roles={Role.ADMIN})
    return study


@transaction.atomic
def study_update(*, actor, study: Study, version: int, name: str, description: str) -> Study:
    study = _lock(Study, study.pk, version=version)
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the study a name."})
    before = {"name": study.name, "description": study.description}
    study.name, study.description = name, description.strip()
    study.version += 1
    study.save(update_fields=["name", "description", "version"])
    after = {"name": study.name, "description": study.description}
    audit.record_changes(
        actor=actor, study=study, obj=study, before=before, after=after, verb="study.update"
    )
    return study


# --- members and roles ---------------------------------------------------------------------


def permissions_sync_all() -> int:
    """Bring every member's guardian permissions in line with their roles; returns changes.

    Runs after every ``migrate`` so that a role that gains a permission (a new feature)
    takes effect for existing members without a hand-written data migration.
    """
    from django.contrib.auth.models import Permission

    from workbench.models import StudyUserObjectPermission

    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="workbench", codename__in=PERMISSION_CODENAMES
        )
    }
    roles: dict[tuple[int, int], set[str]] = {}
    for study_id, user_id, role in Membership.objects.values_list("study_id", "user_id", "role"):
        roles.setdefault((study_id, user_id), set()).add(role)
    held: dict[tuple[int, int], set[str]] = {}
    for study_id, user_id, codename in StudyUserObjectPermission.objects.values_list(
        "content_object_id", "user_id", "permission__codename"
    ):
        held.setdefault((study_id, user_id), set()).add(codename)
    changes = 0
    with transaction.atomic():
        for key in roles.keys() | held.keys():
            wanted = permissions_for(roles.get(key, ())) & permissions.keys()
            have = held.get(key, set())
            study_id, user_id = key
            StudyUserObjectPermission.objects.bulk_create(
                StudyUserObjectPermission(
                    content_object_id=study_id, user_id=user_id, permission=permissions[c]
                )
                for c in wanted - have
            )
            if have - wanted:
                StudyUserObjectPermission.objects.filter(
                    content_object_id=study_id,
                    user_id=user_id,
                    permission__codename__in=have - wanted,
                ).delete()
            changes += len(wanted ^ have)
    return changes


def _sync_permissions(study: Study, user) -> None:
    """Mirror the user's roles in this study into guardian object permissions."""
    roles = set(Membership.objects.filter(study=study, user=user).values_list("role", flat=True))
    wanted = permissions_for(roles)
    for codename in PERMISSION_CODENAMES:
        if codename in wanted:
            assign_perm(f"workbench.{codename}", user, study)
        else:
            remove_perm(f"workbench.{codename}", user, study)


def _grant_roles(*, actor, study: Study, user, roles: Iterable[str]) -> None:
    for role in roles:
        Membership.objects.create(study=study, user=user, role=role, granted_by=actor)
        audit.record(
            actor=actor,
            study=study,
            verb="role.grant",
            object_type="membership",
            object_id=str(user.pk),
            object_repr=f"{user.get_username()} as {Role(role).label}",
            after={"user": user.get_username(), "role": role},
        )
    _sync_permissions(study, user)


def _clean_roles(roles: Iterable[str]) -> set[str]:
    roles = set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        raise ValidationError({"roles": f"Unknown role: {', '.join(sorted(unknown))}."})
    return roles


@transaction.atomic
def member_set_roles(*, actor, study: Study, user, roles: Iterable[str]):
    """Give ``user`` exactly ``roles`` in ``study``; an empty set removes them from it.

    Returns the user.
    """
    roles = _clean_roles(roles)
    # Serialise role changes per study so two admins cannot each remove the other.
    Study.objects.select_for_update().get(pk=study.pk)
    current = set(Membership.objects.filter(study=study, user=user).values_list("role", flat=True))
    if not current and not roles:
        return user
    revoked, granted = current - roles, roles - current
    if Role.ADMIN in revoked:
        other_admins = (
            Membership.objects.filter(study=study, role=Role.ADMIN).exclude(user=user).exists()
        )
        if not other_admins:
            raise ValidationError(
                {
                    "roles": "A study must keep at least one admin. "
                    "Make someone else admin before removing this one."
                }
            )
    for role in sorted(revoked):
        Membership.objects.filter(study=study, user=user, role=role).delete()
        audit.record(
            actor=actor,
            study=study,
            verb="role.revoke",
            object_type="membership",
            object_id=str(user.pk),
            object_repr=f"{user.get_username()} as {Role(role).label}",
            before={"user": user.get_username(), "role": role},
        )
    _grant_roles(actor=actor, study=study, user=user, roles=sorted(granted))
    if not roles:
        audit.record(
            actor=actor,
            study=study,
            verb="member.remove",
            object_type="membership",
            object_id=str(user.pk),
            object_repr=user.get_username(),
            before={"user": user.get_username(), "roles": sorted(current)},
        )
    return user


def find_user(identifier: str):
    identifier = identifier.strip()
    if not identifier:
        return None
    return (
        User.objects.filter(username__iexact=identifier).first()
        or User.objects.filter(email__iexact=identifier).order_by("pk").first()
    )


@transaction.atomic
def member_add(*, actor, study: Study, identifier: str, roles: Iterable[str]):
    roles = _clean_roles(roles)
    if not roles:
        raise ValidationError({"roles": "Choose at least one role."})
    user = find_user(identifier)
    if user is None or not user.is_active:
        raise ValidationError(
            {"identifier": "No active account has this username or e-mail. Invite them instead."}
        )
    if Membership.objects.filter(study=study, user=user).exists():
        raise ValidationError(
            {"identifier": f"{user.get_username()} is already a member; change their roles below."}
        )
    audit.record(
        actor=actor,
        study=study,
        verb="member.add",
        object_type="membership",
        object_id=str(user.pk),
        object_repr=user.get_username(),
        after={"user": user.get_username(), "roles": sorted(roles)},
    )
    member_set_roles(actor=actor, study=study, user=user, roles=roles)
    return user


def invitation_path(user) -> str:
    return reverse(
        "invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@transaction.atomic
def member_invite(
    *, actor, study: Study, email: str, name: str, roles: Iterable[str], base_url: str
):
    """Create an account without a password, give it roles and e-mail a one-time link.

    The link is Django's password-reset token: it stops working once the password is set.
    """
    roles = _clean_roles(roles)
    if not roles:
        raise ValidationError({"roles": "Choose at least one role."})
    email = User.objects.normalize_email(email.strip())
    if (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    ):
        raise ValidationError(
            {"email": "Someone with this e-mail already has an account; add them instead."}
        )
    first, _, last = name.strip().partition(" ")
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=email, email=email, first_name=first, last_name=last
            )
    except IntegrityError as exc:
        raise ValidationError({"email": "This e-mail was just taken; add them instead."}) from exc
    user.set_unusable_password()
    user.save(update_fields=["password"])
    audit.record(
        actor=actor,
        study=study,
        verb="member.invite",
        object_type="membership",
        object_id=str(user.pk),
        object_repr=email,
        after={"user": email, "roles": sorted(roles)},
    )
    member_set_roles(actor=actor, study=study, user=user, roles=roles)
    link = base_url.rstrip("/") + invitation_path(user)
    inviter = actor.get_full_name() or actor.get_username()
    transaction.on_commit(
        lambda: send_mail(
            subject=f"You are invited to the study “{study.name}”",
            message=(
                f"{inviter} invited you to the study “{study.name}” on the qualitative research "
                f"workbench.\n\nSet your password with this one-time link:\n{link}\n\n"
                "The link works once and expires in "
                f"{settings.PASSWORD_RESET_TIMEOUT // 86400} days."
            ),
            from_email=None,
            recipient_list=[email],
        )
    )
    return user


# --- research design -----------------------------------------------------------------------


def _dup(queryset, field: str, value: str, exclude_pk=None) -> bool:
    qs = queryset.filter(**{f"{field}__iexact": value})
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _save_or_explain(obj, field: str, message: str) -> None:
    """Save; a unique constraint lost to a concurrent insert becomes a field error."""
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError({field: message}) from exc


@transaction.atomic
def research_question_create(*, actor, study: Study, label: str, text: str) -> ResearchQuestion:
    label, text = label.strip(), text.strip()
    if _dup(study.research_questions, "label", label):
        raise ValidationError({"label": f"{label} is already used by another research question."})
    rq = ResearchQuestion(
        study=study, label=label, text=text, position=_next_position(study.research_questions)
    )
    _save_or_explain(rq, "label", f"{label} is already used by another research question.")
    audit.record(
        actor=actor,
        study=study,
        verb="research_question.create",
        obj=rq,
        after=audit.snapshot(rq),
    )
    return rq


@transaction.atomic
def research_question_update(
    *, actor, rq: ResearchQuestion, version: int, label: str, text: str
) -> ResearchQuestion:
    rq = _lock(ResearchQuestion, rq.pk, version=version)
    label, text = label.strip(), text.strip()
    if _dup(rq.study.research_questions, "label", label, exclude_pk=rq.pk):
        raise ValidationError({"label": f"{label} is already used by another research question."})
    before = audit.snapshot(rq)
    rq.label, rq.text = label, text
    rq.version += 1
    _save_or_explain(rq, "label", f"{label} is already used by another research question.")
    audit.record_changes(actor=actor, study=rq.study, obj=rq, before=before)
    return rq


@transaction.atomic
def guide_question_create(
    *, actor, study: Study, text: str, probes: str = "", research_questions=()
) -> GuideQuestion:
    rqs = _own_research_questions(study, research_questions)
    gq = GuideQuestion.objects.create(
        study=study,
        text=text.strip(),
        probes=probes.strip(),
        position=_next_position(study.guide_questions),
    )
    gq.research_questions.set(rqs)
    audit.record(
        actor=actor,
        study=study,
        verb="guide_question.create",
        obj=gq,
        after=audit.snapshot(gq),
    )
    return gq


@transaction.atomic
def guide_question_update(
    *, actor, gq: GuideQuestion, version: int, text: str, probes: str, research_questions
) -> GuideQuestion:
    gq = _lock(GuideQuestion, gq.pk, version=version)
    rqs = _own_research_questions(gq.study, research_questions)
    before = audit.snapshot(gq)
    gq.text, gq.probes = text.strip(), probes.strip()
    gq.version += 1
    gq.save()
    gq.research_questions.set(rqs)
    audit.record_changes(actor=actor, study=gq.study, obj=gq, before=before)
    return gq


def _own_research_questions(study: Study, research_questions) -> list[ResearchQuestion]:
    rqs = list(research_questions)
    if any(rq.study_id != study.pk for rq in rqs):
        raise ValidationError(
            {"research_questions": "A guide question can only serve this study's questions."}
        )
    return rqs


@transaction.atomic
def dimension_create(*, actor, study: Study, name: str, description: str = "", values=()):
    name = name.strip()
    if _dup(study.dimensions, "name", name):
        raise ValidationError({"name": f"This study already has a dimension named {name}."})
    dimension = Dimension(
        study=study,
        name=name,
        description=description.strip(),
        position=_next_position(study.dimensions),
    )
    _save_or_explain(dimension, "name", f"This study already has a dimension named {name}.")
    audit.record(
        actor=actor,
        study=study,
        verb="dimension.create",
        obj=dimension,
        after=audit.snapshot(dimension),
    )
    for label in values:
        dimension_value_create(actor=actor, dimension=dimension, label=label)
    return dimension


@transaction.atomic
def dimension_update(*, actor, dimension: Dimension, version: int, name: str, description: str):
    dimension = _lock(Dimension, dimension.pk, version=version)
    name = name.strip()
    if _dup(dimension.study.dimensions, "name", name, exclude_pk=dimension.pk):
        raise ValidationError({"name": f"This study already has a dimension named {name}."})
    before = audit.snapshot(dimension)
    dimension.name, dimension.description = name, description.strip()
    dimension.version += 1
    _save_or_explain(dimension, "name", f"This study already has a dimension named {name}.")
    audit.record_changes(actor=actor, study=dimension.study, obj=dimension, before=before)
    return dimension


@transaction.atomic
def dimension_value_create(*, actor, dimension: Dimension, label: str) -> DimensionValue:
    label = label.strip()
    if _dup(dimension.values, "label", label):
        raise ValidationError({"label": f"{dimension.name} already has the value {label}."})
    value = DimensionValue(
        dimension=dimension, label=label, position=_next_position(dimension.values)
    )
    _save_or_explain(value, "label", f"{dimension.name} already has the value {label}.")
    audit.record(
        actor=actor,
        study=dimension.study,
        verb="dimension_value.create",
        obj=value,
        after=audit.snapshot(value),
    )
    return value


@transaction.atomic
def dimension_value_update(*, actor, value: DimensionValue, version: int, label: str):
    value = _lock(DimensionValue, value.pk, version=version)
    label = label.strip()
    if _dup(value.dimension.values, "label", label, exclude_pk=value.pk):
        raise ValidationError({"label": f"{value.dimension.name} already has the value {label}."})
    before = audit.snapshot(value)
    value.label = label
    value.version += 1
    _save_or_explain(value, "label", f"{value.dimension.name} already has the value {label}.")
    audit.record_changes(actor=actor, study=value.dimension.study, obj=value, before=before)
    return value


def _siblings(obj):
    if isinstance(obj, DimensionValue):
        return DimensionValue.objects.filter(dimension_id=obj.dimension_id)
    return type(obj).objects.filter(study_id=obj.study_id)


@transaction.atomic
def design_item_delete(*, actor, study: Study, obj, version: int) -> None:
    """Delete a research question, guide question, dimension or dimension value."""
    obj = _lock(type(obj), obj.pk, version=version)
    before = audit.snapshot(obj)
    if isinstance(obj, Dimension):
        before["values"] = [value.label for value in obj.values.all()]
    if isinstance(obj, ResearchQuestion):
        before["guide_questions"] = [str(gq) for gq in obj.guide_questions.all()]
    audit.record(actor=actor, study=study, verb=f"{obj.audit_type}.delete", obj=obj, before=before)
    obj.delete()


@transaction.atomic
def design_item_move(*, actor, study: Study, obj, direction: str) -> None:
    """Swap an item with its neighbour above ("up") or below ("down")."""
    if direction not in {"up", "down"}:
        raise ValidationError("Move items up or down.")
    siblings = list(_siblings(obj).select_for_update().order_by("position", "id"))
    # Renumber first so that positions are dense and distinct whatever history left behind.
    index = next((i for i, item in enumerate(siblings) if item.pk == obj.pk), None)
    if index is None:
        raise ValidationError("This item no longer exists; it may have been deleted.")
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(siblings):
        return
    siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, item in enumerate(siblings, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    audit.record(
        actor=actor,
        study=study,
        verb=f"{obj.audit_type}.move",
        obj=obj,
        before={"position": index + 1},
        after={"position": target + 1},
    )
