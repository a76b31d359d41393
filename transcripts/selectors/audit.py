"""How the transcripts app's audit events read (``workbench.audit.register_describer``).

Each function gives the predicate of a sentence whose subject is the event's actor. A transcript
is named by its current title (looked up once for a page of events); a purged transcript keeps
its title, and one that no longer exists is named as the event recorded it.
"""

from transcripts.models import Transcript, TranscriptStatus
from workbench import audit


def titles(ids: set[str]) -> dict[str, str]:
    numbers = [int(key) for key in ids if key.isdigit()]
    return {
        str(pk): title
        for pk, title in Transcript.objects.filter(pk__in=numbers).values_list("pk", "title")
    }


def _this_transcript(event):
    yield "transcript", event.object_id


def _title(event, refs) -> str:
    return refs.get("transcript", event.object_id, event.object_repr or "a transcript")


def _transcript(event, refs) -> str:
    title = _title(event, refs)
    after = event.after or {}
    action = event.verb.rpartition(".")[2]
    if action == "import":
        turns = after.get("turns")
        return f"imported {title}" + (f" ({turns} turns)" if turns else "")
    if action == "update":
        if after.get("status") == TranscriptStatus.READY:
            return f"marked {title} ready for coding"
        if after.get("status") == TranscriptStatus.DRAFT:
            return f"put {title} back to draft"
        changed = [key.replace("_", " ") for key in after]
        return f"changed the {', '.join(changed) or 'details'} of {title}"
    if action == "correct":
        return f"corrected the text of {title}"
    if action == "pseudonymise":
        replaced = after.get("total")
        if isinstance(replaced, int):
            return f"pseudonymised {title} ({replaced} replacement{'s' if replaced != 1 else ''})"
        return f"pseudonymised {title}"
    if action == "purge":
        return f"deleted the text of {title} for good"
    if action == "reorder":
        order = (event.after or {}).get("order") or []
        return "set the interview order: " + ", ".join(str(t) for t in order)
    return audit.generic_description(event)


def _participant(event, refs) -> str:
    if event.verb == "participant.create":
        return f"added participant {event.object_repr}"
    changed = ", ".join(key.replace("_", " ") for key in (event.after or {}))
    return (
        f"changed participant {event.object_repr}: {changed}"
        if changed
        else (f"changed participant {event.object_repr}")
    )


def _consent(event, refs) -> str:
    code = event.object_repr.rpartition(" of ")[2] or event.object_repr
    if event.verb == "consent.withdraw":
        return f"recorded that {code} withdrew consent"
    return f"recorded the consent of {code}"


def _rule(event, refs) -> str:
    # The trail never keeps the listed name itself (a real name), only what replaces it.
    data = (event.after if event.verb.endswith(".create") else event.before) or {}
    replacement = data.get("replace_with", "")
    if event.verb.endswith(".create"):
        return f"added a name to the replacement list (replaced by {replacement})"
    return f"removed a name from the replacement list (was replaced by {replacement})"


def register_describers() -> None:
    audit.register_reference("transcript", titles)
    audit.register_describer("transcript.*", _transcript, refers=_this_transcript)
    audit.register_describer("participant.*", _participant)
    audit.register_describer("consent.*", _consent)
    audit.register_describer("pseudonym_rule.*", _rule)
