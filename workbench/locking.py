"""Row locks for writes: the stale-edit check every versioned edit goes through."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Max


class StaleEdit(ValidationError):
    def __init__(self, what: str = "This item"):
        super().__init__(
            f"{what} was changed by someone else while you were editing. "
            "Nothing was saved; review the current version and try again.",
            code="stale",
        )


def lock_row(model: type[models.Model], pk: int, *, version: int | None, **scope):
    """Lock the row for this transaction and refuse an edit made from an older version."""
    obj = model.objects.select_for_update().filter(pk=pk, **scope).first()
    if obj is None:
        raise ValidationError(
            f"This {model._meta.verbose_name} no longer exists; it may have been deleted.",
            code="gone",
        )
    if version is not None and obj.version != version:
        raise StaleEdit(f"This {model._meta.verbose_name}")
    return obj


def next_position(queryset) -> int:
    return (queryset.aggregate(m=Max("position"))["m"] or 0) + 1
