"""Reading the audit trail."""

from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from workbench import audit
from workbench.models import (
    AuditEvent,
    Study,
)


def _readable(study: Study, user, perms) -> QuerySet[AuditEvent]:
    """The study's events that ``user`` may read (``audit.hidden_from``)."""
    return AuditEvent.objects.filter(study=study).exclude(audit.hidden_from(user, perms, study))


def audit_events(study: Study, filters: dict, *, user, perms) -> QuerySet[AuditEvent]:
    events = _readable(study, user, perms)
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


def audit_vocabulary(study: Study, *, user, perms) -> tuple[list[str], list[str]]:
    """The verbs and object types that occur in this study's trail, for the filter menus."""
    rows = _readable(study, user, perms).values_list("verb", "object_type").order_by().distinct()
    verbs = sorted({verb for verb, _ in rows})
    types = sorted({object_type for _, object_type in rows})
    return verbs, types
