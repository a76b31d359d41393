"""Reads about sign-in: how long a lockout lasts (django-axes keeps the counters)."""

import math
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone


def lockout_ends(*, username: str | None, ip_address: str | None) -> datetime | None:
    """When the current lockout for this typed username or address ends at the latest.

    axes keeps one counter row per (username, address, browser) with the time of its last
    failure; a row stops counting once that time is older than the lockout period, so the
    lock is over at the newest such time plus the period.
    """
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    match = Q()
    if username:
        match |= Q(username=username)
    if ip_address:
        match |= Q(ip_address=ip_address)
    if not match:
        return None
    last = AccessAttempt.objects.filter(match, attempt_time__gte=since).aggregate(
        last=Max("attempt_time")
    )["last"]
    return last + settings.AXES_COOLOFF_TIME if last else None


def minutes_left(ends: datetime | None) -> int:
    """Whole minutes until ``ends``, rounded up (a lock never reads "0 minutes")."""
    if ends is None:
        return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return max(1, math.ceil((ends - timezone.now()).total_seconds() / 60))
