"""Writing the audit trail. Services call ``record`` inside their own transaction."""

from datetime import date, datetime
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from workbench.models import AuditEvent, Study


def _jsonable(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    return value


def snapshot(obj: models.Model, fields=None) -> dict:
    """The audited values of ``obj``: plain fields as values, many-to-many as sorted labels."""
    fields = fields or obj.audit_fields
    data = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            data[name] = sorted(str(related) for related in getattr(obj, name).all())
        else:
            data[name] = _jsonable(getattr(obj, name))
    return data


def record(
    *,
    actor,
    study: Study | None,
    verb: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    layer_id: int | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or getattr(obj, "audit_type", obj._meta.model_name)
        # A row with a random public id is named by it: its sequence number would tell readers
        # of the trail how many rows others made in between (workbench/public_ids.py).
        object_id = object_id or str(getattr(obj, "public_id", None) or obj.pk)
        object_repr = object_repr or str(obj)
    return AuditEvent.objects.create(
        study=study,
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_name=actor.get_username() if actor is not None else "system",
        verb=verb,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:300],
        before=before,
        after=after,
        layer_id=layer_id,
    )


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose value differs, so an event shows what actually changed."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record_changes(
    *, actor, study, obj, before: dict, after: dict | None = None, verb="", layer_id=None
):
    """Record an update with only the fields that changed; nothing when nothing did."""
    old, new = changed(before, snapshot(obj) if after is None else after)
    if not new:
        return None
    return record(
        actor=actor,
        study=study,
        verb=verb or f"{obj.audit_type}.update",
        obj=obj,
        before=old,
        after=new,
        layer_id=layer_id,
    )


def text_digest(text: str) -> str:
    """A fingerprint of a text that staff wrote (a memo, a note's body); "" for no text.

    The trail is never purged and such text may quote a participant, so an event keeps only
    the text's length and this digest: enough to show that (and when) the wording changed, and
    for the server to tell whether a given text is the one an event saw. Keyed (HMAC-SHA256
    under SECRET_KEY) rather than a bare SHA-256: memos are short, and anyone reading the trail
    or its CSV could otherwise confirm a guessed wording offline. A new SECRET_KEY gives new
    digests to the same text from then on; earlier events keep theirs.
    """
    if not text:
        return ""
    return salted_hmac("workbench.audit.text_digest", text, algorithm="sha256").hexdigest()[:32]


def text_facts(name: str, text: str) -> dict:
    """What an event keeps of a staff-written text: ``<name>_chars`` and ``<name>_hash``."""
    return {f"{name}_chars": len(text), f"{name}_hash": text_digest(text)}


# --- who may read which events -------------------------------------------------------------
#
# Apps whose rules hide some events from some readers (blind coding) register a function
# (user, perms, study) -> Q matching the events that reader may not see; every read of the
# trail (page, CSV, dashboard, filter menus) leaves those out.

_hiders: list = []


def register_hider(hider) -> None:
    if hider not in _hiders:
        _hiders.append(hider)


def hidden_from(user, perms, study) -> Q:
    hidden = Q(pk__in=[])
    for hider in _hiders:
        hidden |= hider(user, perms, study)
    return hidden


# --- how events read --------------------------------------------------------------------------
#
# An event is stored with a verb such as ``coding.create`` and the ids and values it touched.
# Each app registers, for the verbs it writes, a function that says the event as a researcher
# would: ``describe(event, refs) -> str``, the predicate of a sentence whose subject is the
# actor ("coded a passage of Interview with I1 as Entry path"). Names an event only refers to
# by id (a transcript's title, a person's full name) come from ``refs``: a describer declares
# them with ``refers(event) -> [(kind, key)]`` and ``describe_events`` looks each kind up once
# for all the events shown (a ``register_reference`` resolver per kind), so a page of events
# costs the same few queries whatever it holds.
#
# Descriptions only ever run on events the reader may see (``hidden_from`` filters first) and
# say nothing the event does not already hold, or the title or name of what it points at.

_describers: dict[str, tuple] = {}
_resolvers: dict[str, object] = {}
PAST = {"create": "added", "update": "changed", "delete": "deleted", "move": "moved"}


def register_describer(verbs, describe, *, refers=None) -> None:
    """``describe(event, refs)`` says events of ``verbs`` (a verb, ``"type.*"`` or a list)."""
    for verb in [verbs] if isinstance(verbs, str) else verbs:
        _describers[verb] = (describe, refers)


def register_reference(kind: str, resolve) -> None:
    """``resolve(keys: set[str]) -> {key: label}`` names the things of ``kind`` in one query."""
    _resolvers[kind] = resolve


class References:
    def __init__(self, labels: dict[tuple[str, str], str]):
        self._labels = labels

    def get(self, kind: str, key, default: str = "") -> str:
        return self._labels.get((kind, str(key)), default)


def _describer(verb: str):
    kind = verb.partition(".")[0]
    return _describers.get(verb) or _describers.get(f"{kind}.*") or (None, None)


def type_label(event: AuditEvent) -> str:
    return event.object_type.replace("_", " ")


def generic_description(event: AuditEvent) -> str:
    """What any event says when no app describes its verb: "added case “Community model”"."""
    action = event.verb.rpartition(".")[2]
    what = f"{type_label(event)} “{event.object_repr}”" if event.object_repr else type_label(event)
    if action in PAST:
        return f"{PAST[action]} {what}"
    return f"{action.replace('_', ' ')}: {what}"


def describe_events(events) -> list[AuditEvent]:
    """The events, each with ``actor_label`` (the actor's full name) and ``description``."""
    events = list(events)
    wanted: dict[str, set[str]] = {"user": {event.actor_name for event in events}}
    for event in events:
        refers = _describer(event.verb)[1]
        for kind, key in refers(event) if refers else ():
            if key not in (None, ""):
                wanted.setdefault(kind, set()).add(str(key))
    labels = {}
    for kind, keys in wanted.items():
        if kind in _resolvers and keys:
            labels |= {(kind, str(key)): label for key, label in _resolvers[kind](keys).items()}
    refs = References(labels)
    for event in events:
        event.actor_label = refs.get("user", event.actor_name, event.actor_name)
        describe = _describer(event.verb)[0]
        event.description = describe(event, refs) if describe else generic_description(event)
    return events
