"""How the coding app's audit events read (``workbench.audit.register_describer``).

Each function gives the predicate of a sentence whose subject is the event's actor, e.g.
"coded a passage of Interview with I1 as Entry path". Transcripts are named by title, looked up
once per page of events through the row the event points at (an assignment, a reconciliation,
a disagreement) or the transcript id the event holds.

Blindness: only events the reader may see are described (``audit_hider`` filters the trail
first), and a description says nothing but what its event holds (the code names it recorded)
and the title of its transcript, which every member of the study sees. No describer looks up
codings, codes or layers beyond the event's own.
"""

from coding.models import Assignment, Decision, Disagreement, Reconciliation, ReviewVerdict
from workbench import audit

DECISIONS = {
    Decision.A: "accepted A's coding",
    Decision.B: "accepted B's coding",
    Decision.BOTH: "kept both codings",
    Decision.NEITHER: "accepted neither coding",
    Decision.EDIT: "recorded an edited coding",
}
LAYER_ROLES = {"primary": "primary coder's", "second": "second coder's"}


def _titles(model, path: str):
    def resolve(ids: set[str]) -> dict[str, str]:
        numbers = [int(key) for key in ids if key.isdigit()]
        rows = model.objects.filter(pk__in=numbers).values_list("pk", path)
        return {str(pk): title for pk, title in rows}

    return resolve


def _fact(event, key):
    """A value the event recorded, after the change or (for a deletion) before it."""
    for side in (event.after or {}, event.before or {}):
        if key in side:
            return side[key]
    return None


def _transcript_in_facts(event):
    yield "transcript", _fact(event, "transcript")


def _of(event, refs) -> str:
    """The transcript an event of a layer or coding belongs to."""
    return refs.get("transcript", _fact(event, "transcript"), "a transcript")


def _code_of(event) -> str:
    return _fact(event, "code") or event.object_repr.rpartition(" [")[0] or "a code"


def _coding(event, refs) -> str:
    action = event.verb.rpartition(".")[2]
    code, title = _code_of(event), _of(event, refs)
    if action == "create":
        return f"coded a passage of {title} as {code}"
    if action == "delete":
        return f"removed the coding {code} from {title}"
    if action == "review":
        verdict = _fact(event, "verdict")
        said = "confirmed" if verdict == ReviewVerdict.CONFIRM else "challenged"
        alternative = _fact(event, "alternative code")
        other = f", suggesting {alternative}" if alternative and verdict != "confirm" else ""
        return f"{said} the primary coder's coding {code} in {title}{other}"
    if action == "merge":
        return f"merged duplicate codings of {title}"
    changed = []
    for key in event.after or {}:
        if key in ("start", "end"):
            key = "span"
        elif key.startswith("memo"):
            key = "memo"
        elif key == "needs_recheck":
            key = "re-check flag"
        if key not in changed:
            changed.append(key)
    what = ", ".join(changed)
    return f"changed the coding {code} in {title}" + (f" ({what})" if what else "")


def _layer(event, refs) -> str:
    role = LAYER_ROLES.get(_fact(event, "layer"), "")
    coder = refs.get("user", _fact(event, "coder"), _fact(event, "coder") or "")
    whose = f"{coder}'s" if coder else f"the {role}"
    title = _of(event, refs)
    if event.verb == "layer.submit":
        count = _fact(event, "codings")
        return f"submitted {whose} coding of {title}" + (
            f" ({count} coding{'s' if count != 1 else ''})" if count is not None else ""
        )
    reason = _fact(event, "reason")
    return f"reopened {whose} coding of {title}" + (f": “{reason}”" if reason else "")


def _coder_and_transcript(event):
    yield "transcript", _fact(event, "transcript")
    yield "user", _fact(event, "coder")


def _assignment(event, refs) -> str:
    title = refs.get("assignment", event.object_id, event.object_repr)
    after = event.after or {}
    names = [
        refs.get("user", after[key], after[key]) for key in ("primary", "second") if after.get(key)
    ]
    if not names:
        return f"changed who codes {title}"
    mode = f", {after['mode']}" if after.get("mode") else ""
    return f"assigned {title} to {' and '.join(names)}{mode}"


def _assignment_refs(event):
    yield "assignment", event.object_id
    for key in ("primary", "second"):
        yield "user", (event.after or {}).get(key)


def _reconciliation(event, refs) -> str:
    title = refs.get("reconciliation", event.object_id, event.object_repr)
    found = (event.after or {}).get("disagreements")
    return f"started reconciling {title}" + (
        f" ({found} disagreement{'s' if found != 1 else ''})" if found is not None else ""
    )


def _disagreement(event, refs) -> str:
    number = event.object_repr.rpartition("disagreement ")[2]
    where = f"disagreement {number} of " if number.isdigit() else "a disagreement in "
    title = refs.get("disagreement", event.object_id, event.object_repr)
    if event.verb == "disagreement.reopen":
        return f"reopened {where}{title}"
    after = event.after or {}
    said = DECISIONS.get(after.get("decision"), f"decided “{after.get('decision')}”")
    kept = after.get("kept")
    consensus = f" (consensus: {', '.join(kept)})" if kept else " (nothing kept)"
    return f"{said} in {where}{title}{consensus}"


def _round(event, refs) -> str:
    after = event.after or {}
    label = f" (“{after['label']}”)" if after.get("label") else ""
    return f"recorded agreement round {after.get('number', '')}{label}".replace("  ", " ")


def _code(event, refs) -> str:
    action = event.verb.rpartition(".")[2]
    name = f"“{event.object_repr}”"
    if action == "create":
        if (event.after or {}).get("origin") == "inductive":
            return f"created the inductive code {name}"
        return f"added the code {name} to the codebook"
    if action == "update":
        after, before = event.after or {}, event.before or {}
        if list(after) == ["name"]:
            return f"renamed the code “{before.get('name')}” to “{after['name']}”"
        changed = ", ".join(key.replace("_", " ") for key in after if key != "codings flagged")
        return f"changed the code {name}" + (f" ({changed})" if changed else "")
    verbs = {"retire": "retired", "reactivate": "reactivated", "approve": "approved"}
    return f"{verbs.get(action, action)} the code {name}"


def _codebook(event, refs) -> str:
    after = event.after or {}
    created = after.get("created")
    count = len(created) if isinstance(created, list) else None
    codes = f"{count} code{'s' if count != 1 else ''}" if count is not None else "codes"
    if event.verb == "codebook.import":
        return f"imported {codes} from {after.get('source') or 'a file'}"
    return f"added {codes} to the codebook from the research design"


def _note(event, refs) -> str:
    action = event.verb.rpartition(".")[2]
    kind = "memo" if event.object_type == "memo" else "note"
    done = {"create": "wrote", "update": "edited", "delete": "deleted"}.get(action, action)
    return f"{done} the {kind} “{event.object_repr}”"


def _saturation(event, refs) -> str:
    after = event.after or {}
    verdict = {"continue": "continue sampling", "reached": "saturation reached"}.get(
        after.get("verdict"), "a decision"
    )
    count = after.get("interviews")
    return f"recorded a saturation decision: {verdict}" + (
        f" after {count} interview{'s' if count != 1 else ''}" if isinstance(count, int) else ""
    )


def register_describers() -> None:
    audit.register_reference("assignment", _titles(Assignment, "transcript__title"))
    audit.register_reference("reconciliation", _titles(Reconciliation, "transcript__title"))
    audit.register_reference(
        "disagreement", _titles(Disagreement, "reconciliation__transcript__title")
    )
    audit.register_describer("coding.*", _coding, refers=_transcript_in_facts)
    audit.register_describer("layer.*", _layer, refers=_coder_and_transcript)
    audit.register_describer("assignment.set", _assignment, refers=_assignment_refs)
    audit.register_describer(
        "reconciliation.start", _reconciliation, refers=lambda e: [("reconciliation", e.object_id)]
    )
    audit.register_describer(
        "disagreement.*", _disagreement, refers=lambda e: [("disagreement", e.object_id)]
    )
    audit.register_describer("agreement_round.record", _round)
    audit.register_describer("code.*", _code)
    audit.register_describer(["codebook.import", "codebook.seed"], _codebook)
    audit.register_describer(
        "codebook_settings.update", lambda e, refs: "changed the codebook settings"
    )
    audit.register_describer(["memo.*", "debrief_note.*"], _note)
    audit.register_describer("saturation.decide", _saturation)
