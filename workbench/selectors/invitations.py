"""Invitations as the inviter sees them (only what they typed) and as the invited person does."""

import hashlib
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from workbench.models import Invitation, Study


def token_digest(token: str) -> str:
    """What is stored of a link's secret: its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def addressed_to(invitation: Invitation, user) -> bool:
    """Whether ``user`` is the person the invitation is for."""
    if invitation.user_id is not None:
        return invitation.user_id == user.pk
    return bool(invitation.email) and user.email.lower() == invitation.email.lower()


@dataclass(frozen=True)
class PendingInvitation:
    """An unaccepted invitation on the members page: never the account it matched."""

    invitation: Invitation
    status: str  # waiting, expired, mail_failed, declined

    @property
    def can_resend(self) -> bool:
        return self.status != "declined"


def _status(invitation: Invitation, now) -> str:
    if invitation.declined_at:
        return "declined"
    if invitation.expires_at <= now:
        return "expired"
    if invitation.mail == Invitation.Mail.FAILED:
        return "mail_failed"
    return "waiting"


def study_invitations(study: Study) -> list[PendingInvitation]:
    """Unaccepted invitations of ``study``, newest first, one query."""
    now = timezone.now()
    invitations = Invitation.objects.filter(study=study, accepted_at__isnull=True).select_related(
        "invited_by"
    )
    return [PendingInvitation(invitation, _status(invitation, now)) for invitation in invitations]


def invitations_for(user) -> list[Invitation]:
    """Open, unexpired invitations addressed to ``user`` (their study list shows them)."""
    addressed = Q(user=user)
    if user.email:
        addressed |= Q(user__isnull=True, email__iexact=user.email)
    return list(
        Invitation.objects.open()
        .filter(addressed, expires_at__gt=timezone.now())
        .select_related("study", "invited_by")
        .order_by("created_at")
    )


def invitation_by_token(token: str) -> Invitation | None:
    """The invitation a link names, if it is still open and unexpired."""
    return (
        Invitation.objects.open()
        .filter(token_hash=token_digest(token), expires_at__gt=timezone.now())
        .select_related("study", "invited_by", "user")
        .first()
    )


def invitation_of(study: Study, public_id) -> Invitation | None:
    return Invitation.objects.filter(study=study, public_id=public_id).first()


def needs_account(invitation: Invitation) -> bool:
    """Whether the link's holder must first create the account (no account has the address)."""
    from django.contrib.auth import get_user_model

    if invitation.user_id is not None or not invitation.email:
        return False
    email = invitation.email
    users = get_user_model().objects
    return not users.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists()


def invitation_for(user, public_id) -> Invitation | None:
    """The invitation with this id if it is addressed to ``user`` (in any state), else None."""
    invitation = (
        Invitation.objects.filter(public_id=public_id).select_related("study", "user").first()
    )
    return invitation if invitation is not None and addressed_to(invitation, user) else None
