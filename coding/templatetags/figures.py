"""How agreement figures read on a page: data stays on 0–1, the page may say "98.47 %"."""

from django import template

register = template.Library()


@register.filter
def percent(proportion, digits=2):
    """A proportion (0–1) as a percentage with ``digits`` decimals; "—" when undefined."""
    if proportion in (None, ""):
        return "—"
    return f"{float(proportion) * 100:.{int(digits)}f}"
