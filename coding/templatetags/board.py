"""The theme board's choice lists and counts, written here rather than as template loops.

A node's "Move…" menu (``coding/theme_menu.html``, read when it is opened) lists every theme or
category, several times over; looping in the template cost more than the rest of the menu
(when every node on the board carried its menu, more than the rest of the board). The output
is the same ``<option>`` markup, escaped the same way.
"""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


def _escaped(context, codes) -> list[tuple[int, str, str]]:
    """Each code's pk, escaped public id and escaped name, worked out once per page."""
    # The render context's outermost level lasts for the whole page (inner levels come and go
    # with each partial).
    cache = context.render_context.dicts[0].setdefault("board_code_options", {})
    key = id(codes)
    if key not in cache:
        cache[key] = (
            codes,  # kept, so that the id is not reused while the page renders
            [(c.pk, conditional_escape(c.public_id), conditional_escape(c.name)) for c in codes],
        )
    return cache[key][1]


@register.simple_tag(takes_context=True)
def code_options(context, codes, selected=None, skip=None, chosen=()):
    """``<option>``s for ``codes`` (themes or categories): the one whose pk is ``selected`` and
    those in ``chosen`` marked selected, the one whose pk is ``skip`` left out."""
    picked = {code.pk for code in chosen}
    if selected is not None:
        picked.add(selected)
    return mark_safe(
        "".join(
            f'<option value="{ref}"{" selected" if pk in picked else ""}>{name}</option>'
            for pk, ref, name in _escaped(context, codes)
            if skip is None or pk != skip
        )
    )


@register.simple_tag
def counts(tally):
    """A node's counts (a ``Tally``: codings, interviews, participants, cases). Written here
    because the board shows a few hundred of them and, as a template, each cost eight lookups,
    four ``pluralize`` and four localisations: a fifth of the board's rendering. All numbers."""
    numbers = (tally.codings, tally.interviews, tally.n_participants, tally.n_cases)
    words = ("coding", "interview", "participant", "case")
    each = [f"{n} {word}{'' if n == 1 else 's'}" for n, word in zip(numbers, words, strict=True)]
    label = f"{each[0]} in {each[1]}, {each[2]}, {each[3]}"
    if tally.codings:
        inner = "".join(f"<span>{text}</span>" for text in each)
    else:
        inner = "<span>no codings yet</span>"
    return mark_safe(f'<span class="counts" aria-label="{label}">{inner}</span>')
