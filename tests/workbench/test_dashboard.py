"""The study dashboard is made of panels the apps register (``workbench.dashboard``)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from workbench import dashboard

HEADINGS = ["Interviews", "Coding progress", "Research questions", "Dimensions", "Team"]


def body(client, study):
    return client.get(
        reverse("study_dashboard", kwargs={"study_slug": study.slug})
    ).content.decode()


def test_every_apps_panel_is_drawn_in_order(client_for, study, lead):
    page = body(client_for(lead), study)
    places = [page.index(f">{heading}") for heading in [*HEADINGS, "Recent activity"]]
    assert places == sorted(places)


def test_a_panel_registered_later_takes_its_place(client_for, study, lead, tmp_path, settings):
    (tmp_path / "extra.html").write_text(
        '<section class="card"><h2>Extra: {{ extra }}</h2></section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}
    ]
    dashboard.register(dashboard.Panel("extra", 15, "extra.html", lambda r, a: {"extra": "yes"}))
    try:
        page = body(client_for(lead), study)
    finally:
        dashboard.unregister("extra")
    assert page.index(">Interviews") < page.index(">Extra: yes") < page.index(">Coding progress")


def test_two_panels_may_not_share_a_name_in_the_context(rf, study, lead):
    from workbench.access import StudyAccess

    request = rf.get("/")
    request.user = lead
    dashboard.register(dashboard.Panel("clash", 99, "x.html", lambda r, a: {"overview": 1}))
    try:
        with pytest.raises(ImproperlyConfigured, match="'clash' reuses overview"):
            dashboard.page_context(request, StudyAccess(study=study, perms=frozenset()))
    finally:
        dashboard.unregister("clash")
