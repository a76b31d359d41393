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
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from guardian.shortcuts import assign_perm, remove_perm

from workbench import audit
from workbench.models import (
    Membership,
    Study,
)
from workbench.roles import PERMISSION_CODENAMES, Role, permissions_for

User = get_user_model()


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


def grant_roles(*, actor, study: Study, user, roles: Iterable[str]) -> None:
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
    grant_roles(actor=actor, study=study, user=user, roles=sorted(granted))
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
