"""Panels other apps show above the study's transcript list, so this app knows none of them
(as ``workbench.dashboard`` does for the dashboard; coding adds the transcripts waiting for
reconciliation). A panel is a ``workbench.dashboard.Panel``: a name, an order, a template and a
function ``(request, access) -> dict``; each app registers its panels in ``AppConfig.ready``."""

from django.core.exceptions import ImproperlyConfigured

from workbench.dashboard import Panel

_panels: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Add ``panel`` (again: an app's ``ready`` may run twice; the newer one replaces it)."""
    _panels[panel.name] = panel


def unregister(name: str) -> None:
    _panels.pop(name, None)


def page_context(request, access, context: dict) -> dict:
    """What the list's panels show, merged into the page's ``context``; their templates, in
    order, as ``list_panels``."""
    shown = sorted(_panels.values(), key=lambda panel: (panel.order, panel.name))
    extra: dict = {}
    for panel in shown:
        own = panel.context(request, access)
        clash = sorted(set(own) & (set(context) | set(extra) | {"list_panels"}))
        if clash:
            raise ImproperlyConfigured(
                f"Transcript list panel {panel.name!r} reuses {', '.join(clash)}."
            )
        extra |= own
    return extra | {"list_panels": [panel.template for panel in shown]}
