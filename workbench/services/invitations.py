"""Invitations: offering roles in a study to a person, who accepts or declines.

Privacy is the point of this module. The inviter types an e-mail address or a username and gets
the same answer whether or not an account matches; nothing is granted and no name or address of
the person is shown to the study until they accept. An e-mail address always gets the same
message (one link: the page behind it asks an existing account to sign in and a new person to
choose a password); a username gets no e-mail at all (its address is not the inviter's to know, and
a mail failure would tell them one exists): that person finds the invitation on their study list.

Writes are atomic and audited like every service. Sending the e-mail happens after the invitation
is saved, and a mail failure is recorded and reported, never raised (``workbench.mailing``).
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as format_date

from workbench import audit, mailing
from workbench.access import require
from workbench.models import Invitation, Membership, Study
from workbench.roles import Role
from workbench.selectors.invitations import addressed_to, token_digest
from workbench.services.members import clean_roles, find_user, member_set_roles

User = get_user_model()


@dataclass(frozen=True)
class Issued:
    """A saved invitation and the secret of its link (kept in memory only, to be mailed)."""

    invitation: Invitation
    token: str


def _new_secret() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def _expiry():
    return timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def _event(invitation: Invitation, **kwargs):
    # The object is the invitation, named by what the inviter typed: never by the account.
    return audit.record(
        study=invitation.study,
        object_type="invitation",
        object_id=str(invitation.public_id),
        object_repr=invitation.identifier,
        **kwargs,
    )


def _parse_identifier(identifier: str) -> tuple[str, str]:
    """(identifier, e-mail or "") with an e-mail address normalised."""
    identifier = identifier.strip()
    if not identifier:
        raise ValidationError({"identifier": "Type an e-mail address or a username."})
    if "@" not in identifier:
        return identifier, ""
    try:
        validate_email(identifier)
    except ValidationError as exc:
        raise ValidationError(
            {"identifier": "This is not a valid e-mail address (nor a username)."}
        ) from exc
    email = User.objects.normalize_email(identifier)
    return email, email


@transaction.atomic
def invitation_create(*, actor, study: Study, identifier: str, roles) -> Issued:
    """Save an invitation; the answer does not depend on whether an account matches."""
    require(actor, study, "manage_members", message="Only admins invite people.")
    roles = clean_roles(roles)
    if not roles:
        raise ValidationError({"roles": "Choose at least one role."})
    identifier, email = _parse_identifier(identifier)
    user = find_user(identifier)
    # Members are already listed with their name and e-mail on the members page: saying so
    # tells the inviter nothing new.
    if user is not None and Membership.objects.filter(study=study, user=user).exists():
        raise ValidationError(
            {"identifier": "This person is already a member; change their roles in the table."}
        )
    duplicate = ValidationError(
        {"identifier": f"{identifier} is already invited; resend that invitation instead."}
    )
    if Invitation.objects.open().filter(study=study, identifier__iexact=identifier).exists():
        raise duplicate
    token, digest = _new_secret()
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                study=study,
                identifier=identifier,
                email=email,
                user=user,
                roles=sorted(roles),
                invited_by=actor,
                expires_at=_expiry(),
                token_hash=digest,
            )
    except IntegrityError as exc:  # the same invitation submitted twice at once
        raise duplicate from exc
    _event(
        invitation,
        actor=actor,
        verb="invitation.create",
        after={"identifier": identifier, "roles": sorted(roles)},
    )
    return Issued(invitation=invitation, token=token)


def link_path(token: str) -> str:
    return reverse("invitation_open", kwargs={"token": token})


def invitation_send(*, actor, issued: Issued, base_url: str) -> bool | None:
    """E-mail the link; None for a username (nothing to send), else whether it went.

    The outcome is saved on the invitation so the members page can offer to resend.
    """
    invitation = issued.invitation
    if not invitation.email:
        return None
    study = invitation.study
    inviter = actor.get_full_name() or actor.get_username()
    roles = ", ".join(Role(role).label for role in invitation.roles)
    link = base_url.rstrip("/") + link_path(issued.token)
    sent = mailing.send(
        subject=f"You are invited to the study “{study.name}”",
        body=(
            f"{inviter} invites you to the study “{study.name}” on the qualitative research "
            f"workbench, as {roles}.\n\nOpen this link to accept or decline:\n{link}\n\n"
            f"It works until {format_date(timezone.localtime(invitation.expires_at), 'j F Y')}."
            "\nIf you did not expect this, ignore this e-mail: nothing happens unless you accept."
        ),
        to=invitation.email,
    )
    _record_mail(actor=actor, invitation=invitation, sent=sent)
    return sent


@transaction.atomic
def _record_mail(*, actor, invitation: Invitation, sent: bool) -> None:
    invitation.mail = Invitation.Mail.SENT if sent else Invitation.Mail.FAILED
    invitation.mailed_at = timezone.now() if sent else None
    Invitation.objects.filter(pk=invitation.pk).update(
        mail=invitation.mail, mailed_at=invitation.mailed_at
    )
    if not sent:
        _event(invitation, actor=actor, verb="invitation.mail_failed")


def _locked(study: Study, public_id) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("study")
        .filter(study=study, public_id=public_id)
        .first()
    )
    if invitation is None:
        raise ValidationError("This invitation no longer exists.")
    return invitation


@transaction.atomic
def invitation_renew(*, actor, study: Study, public_id) -> Issued:
    """A new link and a new expiry for an unanswered invitation (expired ones too).

    The old link stops working: only the newest e-mail is good.
    """
    require(actor, study, "manage_members", message="Only admins invite people.")
    invitation = _locked(study, public_id)
    if invitation.accepted_at or invitation.declined_at:
        raise ValidationError("This invitation has been answered; it cannot be resent.")
    token, invitation.token_hash = _new_secret()
    invitation.expires_at = _expiry()
    invitation.mail, invitation.mailed_at = Invitation.Mail.NONE, None
    invitation.save(update_fields=["token_hash", "expires_at", "mail", "mailed_at"])
    _event(invitation, actor=actor, verb="invitation.resend")
    return Issued(invitation=invitation, token=token)


@transaction.atomic
def invitation_withdraw(*, actor, study: Study, public_id) -> str:
    """Take back an unanswered invitation (or clear a declined one); returns its identifier."""
    require(actor, study, "manage_members", message="Only admins invite people.")
    invitation = _locked(study, public_id)
    if invitation.accepted_at:
        raise ValidationError("This invitation was accepted; change the person's roles instead.")
    _event(
        invitation,
        actor=actor,
        verb="invitation.withdraw",
        before={"identifier": invitation.identifier, "roles": invitation.roles},
    )
    invitation.delete()
    return invitation.identifier


def _answerable(public_id, user) -> Invitation:
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("study", "invited_by")
        .filter(public_id=public_id)
        .first()
    )
    if invitation is None or not addressed_to(invitation, user):
        raise ValidationError("This invitation is not for your account.")
    if invitation.accepted_at or invitation.declined_at:
        raise ValidationError("You have already answered this invitation.")
    if invitation.expires_at <= timezone.now():
        raise ValidationError("This invitation has expired. Ask the study's admin to resend it.")
    return invitation


@transaction.atomic
def invitation_accept(*, user, public_id) -> Study:
    """The invited person accepts: they get the roles (added to any they hold already)."""
    invitation = _answerable(public_id, user)
    invitation.user = user
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["user", "accepted_at"])
    study = invitation.study
    current = Membership.objects.filter(study=study, user=user).values_list("role", flat=True)
    inviter = invitation.invited_by
    _event(
        invitation,
        actor=user,
        verb="invitation.accept",
        after={
            "user": user.get_username(),
            "roles": invitation.roles,
            "invited_by": inviter.get_username() if inviter else "",
        },
    )
    member_set_roles(actor=user, study=study, user=user, roles=set(current) | set(invitation.roles))
    return study


@transaction.atomic
def invitation_decline(*, user, public_id) -> Study:
    invitation = _answerable(public_id, user)
    invitation.declined_at = timezone.now()
    invitation.save(update_fields=["declined_at"])
    # No actor: the trail (read by the study's admins and leads) must not name someone who
    # never joined.
    _event(invitation, actor=None, verb="invitation.decline")
    return invitation.study


@transaction.atomic
def invitation_accept_new_account(*, public_id, name: str, password: str):
    """Create the account an e-mailed invitation is for, then accept it; returns the user.

    Only the holder of the link gets here (the view checks its secret). The account is named by
    the invited address, which the link proves they read.
    """
    invitation = Invitation.objects.select_for_update().filter(public_id=public_id).first()
    if invitation is None or not invitation.email or invitation.user_id is not None:
        raise ValidationError("This invitation is for an existing account: sign in to accept.")
    email = invitation.email
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise ValidationError("An account with this e-mail exists already: sign in to accept.")
    first, _, last = name.strip().partition(" ")
    user = User(username=email, email=email, first_name=first[:150], last_name=last[:150])
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise ValidationError("An account with this e-mail exists already: sign in.") from exc
    # Other studies' invitations to the same address now reach this account too.
    Invitation.objects.open().filter(user__isnull=True, email__iexact=email).update(user=user)
    invitation_accept(user=user, public_id=public_id)
    return user
