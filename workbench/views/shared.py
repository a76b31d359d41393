"""Small helpers every app's views share."""

from django.contrib import messages
from django.core.exceptions import ValidationError


def int_or_none(value) -> int | None:
    """A query or form parameter as an int, or None when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def delete_versioned(request, operation, /, *, done: str, **kwargs) -> bool:
    """Run a delete service with the version the form was rendered from, and tell the user how
    it went (a stale version or a rule refusing the delete changes nothing). True if deleted."""
    version = int_or_none(request.POST.get("version"))
    try:
        if version is None:
            raise ValidationError("Reload and retry.")
        operation(actor=request.user, version=version, **kwargs)
    except ValidationError as exc:
        messages.error(request, f"Not deleted: {exc.messages[0]}")
        return False
    messages.success(request, done)
    return True
