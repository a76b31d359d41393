"""The study dashboard is made of panels that each app registers, so it knows none of them.

A panel is a name, an order (smaller first), a template to include and a function
``(request, access) -> dict`` giving that template what it shows. Each app registers its panels
in its ``AppConfig.ready``; ``study_dashboard`` includes them all, in order, inside the page's
grid. Their contexts are merged into the page's, so two panels must not use the same name for
different things (``page_context`` refuses it).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

from workbench import audit
from workbench.access import StudyAccess
from workbench.selectors import audit as audit_selectors
from workbench.selectors import design as design_selectors
from workbench.selectors import members as member_selectors


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    template: str
    context: Callable[[HttpRequest, StudyAccess], dict]


_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Add ``panel`` (again: an app's ``ready`` may run twice; the newer one replaces it)."""
    _panels[panel.name] = panel


def unregister(name: str) -> None:
    _panels.pop(name, None)


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))


def page_context(request: HttpRequest, access: StudyAccess) -> dict:
    """The dashboard's context: the study, the panels' templates in order, and what they show."""
    context = {"access": access, "study": access.study}
    shown = panels()
    for panel in shown:
        own = panel.context(request, access)
        clash = sorted(set(own) & (set(context) | {"panels"}))
        if clash:
            raise ImproperlyConfigured(
                f"Dashboard panel {panel.name!r} reuses {', '.join(clash)} of another panel."
            )
        context |= own
    context["panels"] = [panel.template for panel in shown]
    return context


# --- the workbench's own panels: the research design, the team, recent activity --------------


def _design(request, access) -> dict:
    return {"design": design_selectors.study_design(access.study)}


def _team(request, access) -> dict:
    return {"members": member_selectors.study_members(access.study)}


def _activity(request, access) -> dict:
    if not access.can("view_audit"):
        return {"recent_events": []}
    events = audit_selectors.audit_events(access.study, {}, user=request.user, perms=access.perms)
    return {"recent_events": audit.describe_events(events[:8])}


def register_workbench_panels() -> None:
    register(Panel("design", 30, "workbench/panels/design.html", _design))
    register(Panel("team", 50, "workbench/panels/team.html", _team))
    register(Panel("activity", 60, "workbench/panels/activity.html", _activity))
