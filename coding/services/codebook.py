"""Every state change of the codebook.

Each function is atomic and keyword-only; each change to a code writes its audit event and a
``CodeVersion`` in the same transaction. Business rules raise ``ValidationError`` (field-keyed
where a form field is to blame) and leave the database untouched. Codes are never deleted.
"""

import itertools
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from coding.models import (
    PARENT_KIND,
    ChangeKind,
    Code,
    CodebookSettings,
    CodeKind,
    CodeOrigin,
    CodeStatus,
    CodeVersion,
    Coding,
    InductivePolicy,
)
from coding.selectors.blindness import hidden_codes
from coding.selectors.codebook import next_colour
from coding.selectors.saturation import transcript_being_coded
from workbench import audit
from workbench.access import member_perms
from workbench.locking import lock_row
from workbench.models import Dimension, DimensionValue, GuideQuestion, Membership, Study
from workbench.roles import permissions_for

DEFINITION_FIELDS = ("definition", "when_to_use", "when_not_to_use", "example")
TEXT_FIELDS = ("name", *DEFINITION_FIELDS)
MAX_COMBINATIONS = 200


def normalise_colour(value: str, *, default: str = "") -> str:
    """``#RGB``/``#RRGGBB`` in any case → ``#rrggbb``; empty → ``default``."""
    value = (value or "").strip().lower()
    if not value:
        return default
    if re.fullmatch(r"#[0-9a-f]{3}", value):
        value = "#" + "".join(ch * 2 for ch in value[1:])
    if not re.fullmatch(r"#[0-9a-f]{6}", value):
        raise ValidationError({"colour": "Give a colour as #rrggbb, e.g. #2f5d8a."})
    return value


def codebook_settings(study: Study) -> CodebookSettings:
    """The study's settings, or unsaved defaults (reading never writes)."""
    return CodebookSettings.objects.filter(study=study).first() or CodebookSettings(study=study)


def _needs_approval(study: Study, actor, origin: str) -> bool:
    if origin != CodeOrigin.INDUCTIVE:
        return False
    if codebook_settings(study).inductive_codes != InductivePolicy.PENDING:
        return False
    roles = Membership.objects.filter(study=study, user=actor).values_list("role", flat=True)
    return "manage_codebook" not in permissions_for(roles)


def _existing_names(study: Study) -> set[str]:
    return {
        name.lower() for name in Code.objects.filter(study=study).values_list("name", flat=True)
    }


def _hidden_from(actor, study: Study):
    """The codes ``actor`` may not know of (a blind colleague's inductive codes), or None."""
    if actor is None or not actor.is_authenticated:
        return None
    return hidden_codes(actor, member_perms(actor, study), study)


def _name_taken(study: Study, name: str, exclude_pk=None, actor=None) -> bool:
    qs = Code.objects.filter(study=study, name__iexact=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if actor is not None and actor.is_authenticated:
        # A blind colleague's inductive code does not exist for the actor: refusing its name
        # would tell them it does. Both codes are kept; merging them is a codebook decision.
        qs = qs.exclude(_hidden_from(actor, study))
    return qs.exists()


def _clean_name(study: Study, name: str, exclude_pk=None, actor=None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the code a name."})
    if len(name) > 200:
        raise ValidationError({"name": "Keep the name under 200 characters."})
    if _name_taken(study, name, exclude_pk, actor):
        raise ValidationError({"name": f"The codebook already has a code named “{name}”."})
    return name


def code_name_free(study: Study, name: str, *, actor=None) -> str:
    """``name`` tidied, if no code of the study the actor may know of has it (else refused)."""
    return _clean_name(study, name, actor=actor)


def _check_parent(study: Study, kind: str, parent: Code | None) -> None:
    if parent is None:
        return
    if parent.study_id != study.pk:
        raise ValidationError({"parent": "A code can only be grouped under this study's codes."})
    wanted = PARENT_KIND.get(kind)
    if wanted is None:
        raise ValidationError({"parent": "A category is the top of the tree: it has no parent."})
    if parent.kind != wanted:
        raise ValidationError(
            {"parent": f"A {CodeKind(kind).label.lower()} can only be grouped under a {wanted}."}
        )


def _own(study: Study, guide_questions, dimension_values):
    gqs, values = list(guide_questions), list(dimension_values)
    if any(gq.study_id != study.pk for gq in gqs):
        raise ValidationError({"guide_questions": "Link only this study's guide questions."})
    if any(value.dimension.study_id != study.pk for value in values):
        raise ValidationError({"dimension_values": "Use only this study's dimension values."})
    return gqs, values


def _write_version(
    *, code: Code, actor, changes, snapshot: dict, flag_codings=False, note="", during=None
):
    number = (code.versions.aggregate(m=Max("number"))["m"] or 0) + 1
    return CodeVersion.objects.create(
        during=during or transcript_being_coded(actor, code.study_id),
        code=code,
        number=number,
        change=changes[0],
        changes=list(changes),
        snapshot=snapshot,
        flag_codings=flag_codings,
        note=note[:300],
        changed_by=actor if actor is not None and actor.is_authenticated else None,
        changed_at=timezone.now(),
    )


def _next_position(study: Study) -> int:
    return (Code.objects.filter(study=study).aggregate(m=Max("position"))["m"] or 0) + 1


@transaction.atomic
def code_create(
    *,
    actor,
    study: Study,
    name: str,
    definition: str = "",
    when_to_use: str = "",
    when_not_to_use: str = "",
    example: str = "",
    colour: str = "",
    origin: str = CodeOrigin.DEDUCTIVE,
    kind: str = CodeKind.CODE,
    parent: Code | None = None,
    guide_questions=(),
    dimension_values=(),
    first_seen_transcript=None,
    status: str = "",
    guid=None,
    note: str = "",
    research_questions=(),
    theme_status: str = "",
) -> Code:
    if origin not in CodeOrigin.values:
        raise ValidationError({"origin": "Origin is deductive or inductive."})
    if kind not in CodeKind.values:
        raise ValidationError({"kind": "Kind is code, theme or category."})
    if status and status not in CodeStatus.values:
        raise ValidationError({"status": "Status is active, pending or retired."})
    if first_seen_transcript is not None and first_seen_transcript.study_id != study.pk:
        raise ValidationError("The transcript belongs to another study.")
    name = _clean_name(study, name, actor=actor)
    _check_parent(study, kind, parent)
    gqs, values = _own(study, guide_questions, dimension_values)
    position = _next_position(study)
    code = Code(
        study=study,
        name=name,
        definition=definition.strip(),
        when_to_use=when_to_use.strip(),
        when_not_to_use=when_not_to_use.strip(),
        example=example.strip(),
        colour=normalise_colour(colour) or next_colour(study, _hidden_from(actor, study)),
        origin=origin,
        kind=kind,
        parent=parent,
        first_seen_transcript=first_seen_transcript,
        created_by=actor if actor is not None and actor.is_authenticated else None,
        position=position,
        status=status
        or (CodeStatus.PENDING if _needs_approval(study, actor, origin) else CodeStatus.ACTIVE),
    )
    if guid is not None:
        code.guid = guid
    if theme_status:  # themes and categories (coding/services/themes.py)
        code.theme_status = theme_status
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError as exc:
        # Two people creating the same name at once: the database constraint decides.
        raise ValidationError({"name": f"The codebook already has a code named “{name}”."}) from exc
    code.guide_questions.set(gqs)
    code.dimension_values.set(values)
    code.research_questions.set(research_questions)
    snapshot = audit.snapshot(code)
    audit.record(actor=actor, study=study, verb="code.create", obj=code, after=snapshot)
    _write_version(
        code=code,
        actor=actor,
        changes=[ChangeKind.CREATE],
        snapshot=snapshot,
        note=note,
        during=first_seen_transcript,
    )
    return code


@dataclass
class CodeUpdate:
    code: Code
    changes: list[str]
    flagged: int = 0  # codings flagged "to re-check"


@transaction.atomic
def code_update(
    *,
    actor,
    code: Code,
    version: int | None,
    name: str,
    definition: str,
    when_to_use: str,
    when_not_to_use: str,
    example: str,
    colour: str,
    parent: Code | None,
    guide_questions=(),
    dimension_values=(),
    flag_codings: bool = False,
    during=None,
) -> CodeUpdate:
    """Save an edited code. Returns the code and the kinds of change made (empty: none).

    ``flag_codings`` asks for the code's existing codings to be flagged "to re-check" (only
    when the definition changed); the flag is kept on the version and the audit event too.
    ``during`` names the interview whose coding prompted the change (default: the one the
    editor is coding, if any; saturation counts codebook changes per interview).
    """
    if during is not None and during.study_id != code.study_id:
        raise ValidationError("The transcript belongs to another study.")
    code = lock_row(Code, code.pk, version=version, study_id=code.study_id)
    study = code.study
    name = _clean_name(study, name, exclude_pk=code.pk, actor=actor)
    colour = normalise_colour(colour, default=code.colour)
    _check_parent(study, code.kind, parent)
    gqs, values = _own(study, guide_questions, dimension_values)
    before = audit.snapshot(code)
    new_text = {
        "definition": definition.strip(),
        "when_to_use": when_to_use.strip(),
        "when_not_to_use": when_not_to_use.strip(),
        "example": example.strip(),
    }
    changes = []
    if name != code.name:
        changes.append(ChangeKind.RENAME)
    if any(getattr(code, key) != value for key, value in new_text.items()):
        changes.append(ChangeKind.REDEFINE)
    if colour != code.colour:
        changes.append(ChangeKind.RECOLOUR)
    if (parent.pk if parent else None) != code.parent_id:
        changes.append(ChangeKind.MOVE)
    if {gq.pk for gq in gqs} != set(code.guide_questions.values_list("pk", flat=True)) or {
        v.pk for v in values
    } != set(code.dimension_values.values_list("pk", flat=True)):
        changes.append(ChangeKind.RELINK)
    if not changes:
        return CodeUpdate(code=code, changes=[])
    code.name, code.colour, code.parent = name, colour, parent
    for key, value in new_text.items():
        setattr(code, key, value)
    code.version += 1
    try:
        with transaction.atomic():
            code.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"The codebook already has a code named “{name}”."}) from exc
    code.guide_questions.set(gqs)
    code.dimension_values.set(values)
    flag = bool(flag_codings) and ChangeKind.REDEFINE in changes
    after = audit.snapshot(code)
    old, new = audit.changed(before, after)
    if flag:
        # Every layer, submitted or not: the flag tells coders and the reviewer that these
        # codings were made under the old definition. Bumping the version makes an edit
        # form opened before the redefinition stale instead of silently clearing the flag.
        flagged = Coding.objects.filter(code=code).update(
            needs_recheck=True, version=F("version") + 1
        )
        new["flag_codings"] = True
        new["codings flagged"] = flagged
    audit.record(actor=actor, study=study, verb="code.update", obj=code, before=old, after=new)
    _write_version(
        code=code,
        actor=actor,
        changes=changes,
        snapshot=after,
        flag_codings=flag,
        during=during,
    )
    return CodeUpdate(
        code=code, changes=[str(change) for change in changes], flagged=flagged if flag else 0
    )


def _set_status(*, actor, code: Code, version, status: str, allowed_from, change, verb) -> Code:
    code = lock_row(Code, code.pk, version=version, study_id=code.study_id)
    if code.status not in allowed_from:
        messages = {
            ChangeKind.RETIRE: f"“{code.name}” is already retired.",
            ChangeKind.REACTIVATE: f"“{code.name}” is not retired.",
            ChangeKind.APPROVE: f"“{code.name}” is not waiting for approval.",
        }
        raise ValidationError(messages[change], code="status")
    before = code.status
    code.status = status
    code.version += 1
    code.save(update_fields=["status", "version"])
    audit.record(
        actor=actor,
        study=code.study,
        verb=verb,
        obj=code,
        before={"status": before},
        after={"status": status},
    )
    _write_version(code=code, actor=actor, changes=[change], snapshot=audit.snapshot(code))
    return code


@transaction.atomic
def code_retire(*, actor, code: Code, version: int | None) -> Code:
    """Take a code out of use. The code and every coding that uses it stay."""
    return _set_status(
        actor=actor,
        code=code,
        version=version,
        status=CodeStatus.RETIRED,
        allowed_from={CodeStatus.ACTIVE, CodeStatus.PENDING},
        change=ChangeKind.RETIRE,
        verb="code.retire",
    )


@transaction.atomic
def code_reactivate(*, actor, code: Code, version: int | None) -> Code:
    return _set_status(
        actor=actor,
        code=code,
        version=version,
        status=CodeStatus.ACTIVE,
        allowed_from={CodeStatus.RETIRED},
        change=ChangeKind.REACTIVATE,
        verb="code.reactivate",
    )


@transaction.atomic
def code_approve(*, actor, code: Code, version: int | None) -> Code:
    """Accept an inductive code a coder created while approval was required."""
    return _set_status(
        actor=actor,
        code=code,
        version=version,
        status=CodeStatus.ACTIVE,
        allowed_from={CodeStatus.PENDING},
        change=ChangeKind.APPROVE,
        verb="code.approve",
    )


@transaction.atomic
def codebook_settings_update(*, actor, study: Study, version: int | None, inductive_codes: str):
    if inductive_codes not in InductivePolicy.values:
        raise ValidationError({"inductive_codes": "Choose one of the listed options."})
    current, _ = CodebookSettings.objects.get_or_create(study=study)
    current = lock_row(CodebookSettings, current.pk, version=version)
    before = audit.snapshot(current)
    current.inductive_codes = inductive_codes
    if before["inductive_codes"] != inductive_codes:
        current.version += 1
        current.save()
        audit.record_changes(
            actor=actor, study=study, obj=current, before=before, verb="codebook_settings.update"
        )
    return current


# --- seeding -------------------------------------------------------------------------------


@dataclass
class Suggestion:
    """A code proposed by seeding, editable before it is saved."""

    name: str
    definition: str = ""
    when_to_use: str = ""
    guide_question_ids: list[int] = field(default_factory=list)
    dimension_value_ids: list[int] = field(default_factory=list)
    exists: bool = False


def _short_name(text: str, limit: int = 60) -> str:
    text = " ".join(text.split()).rstrip("?.!: ")
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def suggest_codes_from_guide(study: Study) -> list[Suggestion]:
    """One suggested deductive code per guide question (skipped: questions that have one)."""
    existing = _existing_names(study)
    linked = set(
        Code.guide_questions.through.objects.filter(code__study=study).values_list(
            "guidequestion_id", flat=True
        )
    )
    suggestions = []
    for number, gq in enumerate(GuideQuestion.objects.filter(study=study), start=1):
        name = _short_name(gq.text)
        suggestions.append(
            Suggestion(
                name=name,
                definition=f"What participants say in answer to guide question Q{number}: "
                f"“{' '.join(gq.text.split())}”",
                when_to_use=f"Passages answering Q{number}"
                + (f" or its probes ({' '.join(gq.probes.split())})" if gq.probes else "")
                + ", wherever they occur in the interview.",
                guide_question_ids=[gq.pk],
                exists=gq.pk in linked or name.lower() in existing,
            )
        )
    return suggestions


def suggest_codes_from_dimensions(study: Study, dimension_ids) -> list[Suggestion]:
    """One suggestion per combination of values of the chosen dimensions (in guide order)."""
    ids = {int(pk) for pk in dimension_ids}
    dimensions = list(Dimension.objects.filter(study=study, pk__in=ids).prefetch_related("values"))
    if not dimensions or len(dimensions) != len(ids):
        raise ValidationError({"dimensions": "Choose one or more of this study's dimensions."})
    value_lists = [list(d.values.all()) for d in dimensions]
    if any(not values for values in value_lists):
        raise ValidationError({"dimensions": "Every chosen dimension needs at least one value."})
    total = 1
    for values in value_lists:
        total *= len(values)
    if total > MAX_COMBINATIONS:
        raise ValidationError(
            {"dimensions": f"That makes {total} combinations; choose at most {MAX_COMBINATIONS}."}
        )
    existing = _existing_names(study)
    suggestions = []
    for combo in itertools.product(*value_lists):
        name = " × ".join(value.label for value in combo)
        described = " and ".join(f"{v.dimension.name}: {v.label}" for v in combo)
        suggestions.append(
            Suggestion(
                name=name,
                definition=f"Passages about {described}.",
                dimension_value_ids=[value.pk for value in combo],
                exists=name.lower() in existing,
            )
        )
    return suggestions


@dataclass
class BulkReport:
    created: list[Code] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


@transaction.atomic
def codes_create_bulk(*, actor, study: Study, suggestions, note: str = "seeded") -> BulkReport:
    """Create deductive codes from (edited) suggestions; names already present are skipped."""
    report = BulkReport()
    gqs = {gq.pk: gq for gq in GuideQuestion.objects.filter(study=study)}
    values = {
        v.pk: v
        for v in DimensionValue.objects.filter(dimension__study=study).select_related("dimension")
    }
    seen = _existing_names(study)
    for suggestion in suggestions:
        name = " ".join(suggestion.name.split())
        if not name:
            report.skipped.append(("(no name)", "a code needs a name"))
            continue
        if name.lower() in seen:
            report.skipped.append((name, "already in the codebook"))
            continue
        seen.add(name.lower())
        report.created.append(
            code_create(
                actor=actor,
                study=study,
                name=name,
                definition=suggestion.definition,
                when_to_use=suggestion.when_to_use,
                origin=CodeOrigin.DEDUCTIVE,
                guide_questions=[gqs[pk] for pk in suggestion.guide_question_ids if pk in gqs],
                dimension_values=[
                    values[pk] for pk in suggestion.dimension_value_ids if pk in values
                ],
                note=note,
            )
        )
    if report.created:
        audit.record(
            actor=actor,
            study=study,
            verb="codebook.seed",
            object_type="codebook",
            object_repr=f"{len(report.created)} codes ({note})",
            after={
                "created": [code.name for code in report.created],
                "skipped": len(report.skipped),
            },
        )
    return report


@transaction.atomic
def codes_import(*, actor, study: Study, parsed, source: str) -> BulkReport:
    """Write a parsed codebook (CSV or REFI-QDA); refuses everything if any row is invalid.

    ``parsed`` is a ``coding.formats.codebook.ParsedCodebook``; rows come parents first.
    """
    if not parsed.valid:
        raise ValidationError("The file has errors; nothing was imported.")
    report = BulkReport()
    by_key: dict[str, Code] = {code.name.lower(): code for code in Code.objects.filter(study=study)}
    for row in parsed.rows:
        if row.skip:
            report.skipped.append((row.name, row.skip))
            continue
        parent = by_key.get(row.parent.lower()) if row.parent else None
        code = code_create(
            actor=actor,
            study=study,
            name=row.name,
            definition=row.definition,
            when_to_use=row.when_to_use,
            when_not_to_use=row.when_not_to_use,
            example=row.example,
            colour=row.colour,
            origin=row.origin,
            kind=row.kind,
            parent=parent,
            status=row.status,
            guid=row.guid,
            note=f"imported from {source}"[:300],
        )
        by_key[code.name.lower()] = code
        report.created.append(code)
    audit.record(
        actor=actor,
        study=study,
        verb="codebook.import",
        object_type="codebook",
        object_repr=f"{source}: {len(report.created)} codes",
        after={
            "source": source,
            "created": [code.name for code in report.created],
            "skipped": [name for name, _ in report.skipped],
        },
    )
    return report
