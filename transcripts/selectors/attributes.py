"""Validating and displaying attribute values by their kind."""

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from transcripts.models import Attribute, AttributeKind


def clean_value(attribute: Attribute, raw):
    """The stored (JSON) form of ``raw`` for this attribute, or None when empty.

    Raises ValidationError with a message that names the attribute.
    """
    if raw is None or raw == "" or raw == []:
        return None
    kind = attribute.kind
    if kind == AttributeKind.TEXT:
        value = str(raw).strip()
        if len(value) > 1000:
            raise ValidationError(f"{attribute.name}: keep it under 1,000 characters.")
        return value or None
    if kind == AttributeKind.NUMBER:
        try:
            number = Decimal(str(raw).strip().replace(",", "."))
        except InvalidOperation:
            raise ValidationError(f"{attribute.name}: “{raw}” is not a number.") from None
        if not number.is_finite():
            raise ValidationError(f"{attribute.name}: “{raw}” is not a number.")
        # "1e999999999" would become an integer of a billion digits, and "1e5000" a value
        # JSON cannot hold: refuse absurd magnitudes before converting.
        if number and number.adjusted() > 15:
            raise ValidationError(f"{attribute.name}: “{raw}” is too large a number.")
        if number and number.adjusted() < -15:
            raise ValidationError(f"{attribute.name}: “{raw}” is too small a number.")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == AttributeKind.DATE:
        try:
            return (
                raw if isinstance(raw, date) else date.fromisoformat(str(raw).strip())
            ).isoformat()
        except ValueError:
            raise ValidationError(
                f"{attribute.name}: “{raw}” is not a date (use YYYY-MM-DD)."
            ) from None
    options = attribute.options or []
    if kind == AttributeKind.CHOICE:
        if isinstance(raw, list):
            if len(raw) > 1:
                raise ValidationError(f"{attribute.name}: choose one option.")
            raw = raw[0]
        if raw not in options:
            raise ValidationError(f"{attribute.name}: “{raw}” is not one of its options.")
        return raw
    values = raw if isinstance(raw, list) else [raw]
    unknown = [value for value in values if value not in options]
    if unknown:
        raise ValidationError(f"{attribute.name}: “{unknown[0]}” is not one of its options.")
    # Keep the options' own order, whatever order they were ticked in.
    return [option for option in options if option in values] or None


def clean_values(attributes: list[Attribute], raw_values: dict) -> dict[str, object]:
    """Validate every attribute's value; all errors at once, keyed ``attr_<id>``."""
    cleaned, errors = {}, {}
    for attribute in attributes:
        try:
            value = clean_value(attribute, raw_values.get(str(attribute.pk)))
        except ValidationError as exc:
            errors[f"attr_{attribute.pk}"] = exc.messages
            continue
        if value is not None:
            cleaned[str(attribute.pk)] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def display(attribute: Attribute, value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def attribute_rows(study, target: str, holder) -> list[tuple[str, str]]:
    """(name, displayed value) for each attribute the study defines for ``target``, as held by
    ``holder`` (a case or a participant; none gives no rows)."""
    if holder is None:
        return []
    attributes = study.attributes.filter(target=target)
    return [(a.name, display(a, holder.attributes.get(str(a.pk)))) for a in attributes]
