"""Study-defined attributes of cases and participants (text, number, date, choices)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from transcripts.models import (
    Attribute,
    AttributeKind,
    AttributeTarget,
    Case,
    Participant,
)
from workbench import audit
from workbench.locking import lock_row
from workbench.models import Study


def save_unique(obj, field: str, message: str) -> None:
    try:
        with transaction.atomic():
            obj.save()
    except IntegrityError as exc:
        raise ValidationError({field: message}) from exc


def _clean_options(kind: str, options) -> list[str]:
    if kind not in {AttributeKind.CHOICE, AttributeKind.MULTI}:
        return []
    cleaned, seen = [], set()
    for option in options or []:
        option = str(option).strip()
        if option and option.lower() not in seen:
            seen.add(option.lower())
            cleaned.append(option)
    if not cleaned:
        raise ValidationError({"options": "A choice attribute needs at least one option."})
    return cleaned


@transaction.atomic
def attribute_create(
    *, actor, study: Study, target: str, name: str, kind: str, options=()
) -> Attribute:
    if target not in AttributeTarget.values:
        raise ValidationError({"target": "Attributes describe cases or participants."})
    if kind not in AttributeKind.values:
        raise ValidationError({"kind": "Unknown kind of attribute."})
    name = required_text(name, "name", "attribute a name", 100)
    message = f"{name} already exists for {AttributeTarget(target).label.lower()}s."
    if study.attributes.filter(target=target, name__iexact=name).exists():
        raise ValidationError({"name": message})
    position = (study.attributes.filter(target=target).aggregate(m=Max("position"))["m"] or 0) + 1
    attribute = Attribute(
        study=study,
        target=target,
        name=name,
        kind=kind,
        options=_clean_options(kind, options),
        position=position,
    )
    save_unique(attribute, "name", message)
    audit.record(
        actor=actor,
        study=study,
        verb="attribute.create",
        obj=attribute,
        after=audit.snapshot(attribute),
    )
    return attribute


@transaction.atomic
def attribute_update(*, actor, attribute: Attribute, version: int, name: str, options=()):
    """Rename an attribute or change its options; a removed option must not be in use."""
    attribute = lock_row(Attribute, attribute.pk, version=version)
    before = audit.snapshot(attribute)
    name = required_text(name, "name", "attribute a name", 100)
    if (
        Attribute.objects.filter(
            study_id=attribute.study_id, target=attribute.target, name__iexact=name
        )
        .exclude(pk=attribute.pk)
        .exists()
    ):
        raise ValidationError({"name": f"{name} already exists."})
    options = _clean_options(attribute.kind, options)
    removed = set(attribute.options) - set(options)
    if removed:
        in_use = sorted(removed & _values_in_use(attribute))
        if in_use:
            raise ValidationError({"options": f"Still used, so it cannot go: {', '.join(in_use)}."})
    attribute.name, attribute.options = name, options
    attribute.version += 1
    save_unique(attribute, "name", f"{name} already exists.")
    audit.record_changes(actor=actor, study=attribute.study, obj=attribute, before=before)
    return attribute


def _holders(attribute: Attribute):
    model = Case if attribute.target == AttributeTarget.CASE else Participant
    return model.objects.filter(study_id=attribute.study_id)


def _values_in_use(attribute: Attribute) -> set[str]:
    key = str(attribute.pk)
    used: set[str] = set()
    for values in _holders(attribute).values_list("attributes", flat=True):
        value = values.get(key)
        used.update(value if isinstance(value, list) else [value] if value else [])
    return used


@transaction.atomic
def attribute_delete(*, actor, attribute: Attribute, version: int) -> None:
    """Delete an attribute and every value recorded for it (the audit keeps a count)."""
    attribute = lock_row(Attribute, attribute.pk, version=version)
    key = str(attribute.pk)
    holders = list(_holders(attribute).select_for_update())
    cleared = 0
    for holder in holders:
        if key in holder.attributes:
            del holder.attributes[key]
            holder.save(update_fields=["attributes"])
            cleared += 1
    audit.record(
        actor=actor,
        study=attribute.study,
        verb="attribute.delete",
        obj=attribute,
        before=audit.snapshot(attribute) | {"values_cleared": cleared},
    )
    attribute.delete()


def attributes_of(study: Study, target: str) -> list[Attribute]:
    """The target's attributes, locked: an option removed meanwhile cannot slip in.

    Writers lock attributes before cases or participants, as attribute_delete does, so the
    two never wait on each other in opposite orders.
    """
    return list(study.attributes.filter(target=target).select_for_update())


def required_text(value: str, field: str, label: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: f"Give the {label}."})
    if len(value) > max_length:
        raise ValidationError({field: f"Keep the {label} under {max_length} characters."})
    return value


def attributes_snapshot(study: Study, target: str, values: dict) -> dict:
    """Attribute values by name, which reads better in the audit trail than ids."""
    names = {str(a.pk): a.name for a in attributes_of(study, target)}
    return {names.get(key, key): value for key, value in values.items()}
