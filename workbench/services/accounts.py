"""Site-level account events: a sign-in lockout.

A lockout concerns an account (or an address), not a study, and is often about an account that
does not exist, so it goes to the site-level audit trail (``AuditEvent`` with no study: append-only
like every event, seen by site staff in the Django admin) and never to a study's trail, where it
would tell a study's admins and leads who is being attacked or mistyping. django-axes keeps its own
records beside it (Access attempts, Access failures, Access logs in the admin); those are counters
that expire and can be reset, which is why the lockout itself is also written here.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from workbench import audit

User = get_user_model()


@transaction.atomic
def lockout_record(*, username: str | None, ip_address: str | None, failures: int):
    """Write the audit event for a sign-in lockout that has just begun."""
    # Only an existing account is named; a typed string that is no account (often a password
    # typed into the wrong field) is not kept forever in an append-only table.
    account = (
        User.objects.filter(username__iexact=username).order_by("pk").first() if username else None
    )
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return audit.record(
        actor=None,
        study=None,
        verb="signin.lockout",
        object_type="account",
        object_id=str(account.pk) if account else "",
        object_repr=account.get_username() if account else "(no such account)",
        after={
            "ip_address": ip_address,
            "failures": failures,
            "locked_minutes": minutes,
            "account_exists": account is not None,
        },
    )
