"""The theme board's choice lists, written here rather than as template loops.

Every node on the board carries a "Move…" menu whose lists name every theme or category (80
codes × ~45 options at full size); looping in the template cost more than everything else on
the page together. The output is the same ``<option>`` markup, escaped the same way.
"""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def code_options(codes, selected=None, skip=None, chosen=()):
    """``<option>``s for ``codes`` (themes or categories): the one whose pk is ``selected`` and
    those in ``chosen`` marked selected, the one whose pk is ``skip`` left out."""
    picked = {code.pk for code in chosen}
    if selected is not None:
        picked.add(selected)
    return mark_safe(
        "".join(
            f'<option value="{conditional_escape(code.public_id)}"'
            f"{' selected' if code.pk in picked else ''}>{conditional_escape(code.name)}</option>"
            for code in codes
            if skip is None or code.pk != skip
        )
    )
