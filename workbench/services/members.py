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
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from workbench import audit, mailing
from workbench.access import require
from workbench.models import (
    Membership,
    Study,
    StudyUserObjectPermission,
)
from workbench.roles import PERMISSION_CODENAMES, Role, permissions_for

User = get_user_model()


def permissions_sync_all() -> int:
    """Bring every member's guardian permissions in line with their roles; returns changes.

    Runs after every ``migrate`` so that a role that gains a permission (a new feature)
    takes effect for existing members without a hand-written data migration.
    """
    return _sync(Membership.objects.all(), StudyUserObjectPermission.objects.all())


def _sync_permissions(study: Study, user) -> None:
    """Mirror the user's roles in this study into guardian object permissions."""
    _sync(
        Membership.objects.filter(study=study, user=user),
        StudyUserObjectPermission.objects.filter(content_object=study, user=user),
    )


def _sync(memberships, grants) -> int:
    """Make ``grants`` (object permissions) exactly what ``memberships`` call for, for the
    (study, user) pairs they cover, in a few queries whatever their number: one comparison
    and bulk writes, not guardian's ``assign_perm`` / ``remove_perm`` once per permission."""
    from django.contrib.auth.models import Permission

    permissions = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type__app_label="workbench", codename__in=PERMISSION_CODENAMES
        )
    }
    roles: dict[tuple[int, int], set[str]] = {}
    for study_id, user_id, role in memberships.values_list("study_id", "user_id", "role"):
        roles.setdefault((study_id, user_id), set()).add(role)
    held: dict[tuple[int, int], set[str]] = {}
    for study_id, user_id, codename in grants.values_list(
        "content_object_id", "user_id", "permission__codename"
    ):
        held.setdefault((study_id, user_id), set()).add(codename)
    missing, surplus = [], Q(pk__in=[])
    for key in roles.keys() | held.keys():
        wanted = permissions_for(roles.get(key, ())) & permissions.keys()
        have = held.get(key, set())
        study_id, user_id = key
        missing += [
            StudyUserObjectPermission(
                content_object_id=study_id, user_id=user_id, permission=permissions[codename]
            )
            for codename in wanted - have
        ]
        if have - wanted:
            surplus |= Q(
                content_object_id=study_id,
                user_id=user_id,
                permission__codename__in=have - wanted,
            )
    with transaction.atomic():
        StudyUserObjectPermission.objects.bulk_create(missing)
        _, deleted = StudyUserObjectPermission.objects.filter(surplus).delete()
    return len(missing) + sum(deleted.values())


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


def clean_roles(roles: Iterable[str]) -> set[str]:
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
    roles = clean_roles(roles)
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
    """The active account with this username or e-mail (case-insensitive), or None."""
    identifier = identifier.strip()
    if not identifier:
        return None
    active = User.objects.filter(is_active=True)
    return (
        active.filter(username__iexact=identifier).order_by("pk").first()
        or active.filter(email__iexact=identifier).order_by("pk").first()
    )


def invitation_path(user) -> str:
    """A one-time link that lets an account without a password set one.

    Only for accounts the former invitation flow created (no password yet): new invitations
    create the account when the person accepts (``workbench.services.invitations``).
    """
    return reverse(
        "account_activate",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@transaction.atomic
def member_link_renew(*, actor, study: Study, user) -> str:
    """Check that ``user`` is a member still without a password; returns a fresh link path.

    Accounts that the former invitation flow created and whose e-mail never arrived (or whose
    link expired) could otherwise never sign in.
    """
    require(actor, study, "manage_members", message="Only admins manage members.")
    if not Membership.objects.filter(study=study, user=user).exists():
        raise ValidationError("This person is not a member of the study.")
    if user.has_usable_password() or user.last_login is not None:
        raise ValidationError(f"{user.get_username()} has set a password already.")
    if not user.email:
        raise ValidationError(f"{user.get_username()} has no e-mail address to send a link to.")
    audit.record(
        actor=actor,
        study=study,
        verb="member.link_resend",
        object_type="membership",
        object_id=str(user.pk),
        object_repr=user.get_username(),
    )
    return invitation_path(user)


def member_link_send(*, actor, study: Study, user, base_url: str) -> bool:
    """E-mail a member without a password a new link to set one; False when mail failed."""
    link = base_url.rstrip("/") + member_link_renew(actor=actor, study=study, user=user)
    inviter = actor.get_full_name() or actor.get_username()
    return mailing.send(
        subject=f"Your invitation to the study “{study.name}”",
        body=(
            f"{inviter} sent you a new link for the study “{study.name}” on the qualitative "
            f"research workbench.\n\nSet your password with this one-time link:\n{link}\n\n"
            f"The link works once and expires in {settings.PASSWORD_RESET_TIMEOUT // 86400} days."
        ),
        to=user.email,
    )
