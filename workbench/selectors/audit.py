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


# --- how the workbench's own events read (``workbench.audit.register_describer``) -------------


def people(usernames: set[str]) -> dict[str, str]:
    """Usernames → full names (the username where none is recorded), in one query."""
    from django.contrib.auth import get_user_model

    rows = get_user_model().objects.filter(username__in=usernames)
    return {user.get_username(): user.get_full_name() or user.get_username() for user in rows}


def _role_label(role: str) -> str:
    from workbench.roles import Role

    return Role(role).label.lower() if role in Role.values else role


def _person(refs, username) -> str:
    return refs.get("user", username, username or "someone")


def _membership(event, refs) -> str:
    data = (event.after if event.verb == "role.grant" else event.before) or {}
    who, role = _person(refs, data.get("user")), _role_label(data.get("role", ""))
    if event.verb == "role.grant":
        return f"made {who} {role}"
    return f"took the {role} role from {who}"


def _people_in(event):
    for side in (event.before or {}, event.after or {}):
        yield "user", side.get("user")


def _study(event, refs) -> str:
    if event.verb == "study.create":
        return f"created the study “{(event.after or {}).get('name', event.object_repr)}”"
    return f"changed the study's {', '.join(key for key in (event.after or {}))}"


def _member(event, refs) -> str:
    who = _person(refs, (event.before or {}).get("user", event.object_repr))
    if event.verb == "member.remove":
        return f"removed {who} from the study"
    return f"sent {who} a new sign-in link"


def _invitation(event, refs) -> str:
    action = event.verb.rpartition(".")[2]
    sentences = {
        "create": "invited {}",
        "resend": "sent the invitation to {} again",
        "withdraw": "withdrew the invitation to {}",
        "accept": "accepted the invitation ({})",
        "decline": "declined the invitation ({})",
        "mail_failed": "could not send the invitation to {}: the mail was not delivered",
    }
    return sentences.get(action, f"{action.replace('_', ' ')}: invitation to {{}}").format(
        event.object_repr
    )


def _lockout(event, refs) -> str:
    return f"sign-in locked after repeated failed attempts for “{event.object_repr}”"


def _moved(event, refs) -> str:
    before, after = (event.before or {}).get("position"), (event.after or {}).get("position")
    return f"moved {audit.type_label(event)} “{event.object_repr}” from {before} to {after}"


def register_describers() -> None:
    audit.register_reference("user", people)
    audit.register_describer(["role.grant", "role.revoke"], _membership, refers=_people_in)
    audit.register_describer("study.*", _study)
    audit.register_describer("member.*", _member, refers=_people_in)
    audit.register_describer("invitation.*", _invitation)
    audit.register_describer("signin.lockout", _lockout)
    for kind in ("research_question", "guide_question", "dimension", "dimension_value"):
        audit.register_describer(f"{kind}.move", _moved)
