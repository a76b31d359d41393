"""Refusals and errors look like the rest of the site, and a refusal is not logged as a crash."""

import io
import logging
import logging.handlers

from django.db import connection
from django.test import Client
from django.urls import reverse


def _server_log(client, url):
    """The request and what the configured console handler wrote, and whether anything also
    reached the loggers above ``django.request`` (which would print it a second time)."""
    [console] = logging.getLogger("django.request").handlers
    above = logging.handlers.BufferingHandler(100)
    logging.getLogger().addHandler(above)
    logging.getLogger("django").addHandler(above)
    old = console.setStream(io.StringIO())
    try:
        page = client.get(url)
        log = console.stream.getvalue()
    finally:
        console.setStream(old)
        logging.getLogger().removeHandler(above)
        logging.getLogger("django").removeHandler(above)
    assert above.buffer == []
    return page, log


def test_403_is_styled_with_the_study_navigation_and_logged_in_one_line(client, study, coder):
    client.force_login(coder)
    page, log = _server_log(client, reverse("members", kwargs={"study_slug": study.slug}))
    body = page.content.decode()
    assert page.status_code == 403
    assert "css/workbench.css" in body and "You can't do this in this study" in body
    assert 'class="studynav"' in body and study.name in body  # the member can go on from here
    # One line on the console, as the server logs it, and no traceback.
    assert log.splitlines() == [f"Forbidden (Permission denied): {page.request['PATH_INFO']}"]


def test_404_is_styled_and_has_no_traceback(client, outsider, study):
    client.force_login(outsider)
    page, log = _server_log(client, reverse("study_dashboard", kwargs={"study_slug": study.slug}))
    body = page.content.decode()
    assert page.status_code == 404
    assert "There is nothing here" in body and "css/workbench.css" in body
    assert 'class="studynav"' not in body  # nothing tells an outsider the study exists
    assert "Traceback" not in log and len(log.splitlines()) <= 1


def test_500_needs_neither_request_nor_database(settings, db):
    from django.urls import path

    def broken(request):
        raise RuntimeError("boom")

    from workbench import urls

    settings.ROOT_URLCONF = type(
        "Urls", (), {"urlpatterns": [path("broken/", broken), *urls.urlpatterns]}
    )
    client = Client(raise_request_exception=False)

    def no_db(*args, **kwargs):
        raise AssertionError("the 500 page touched the database")

    with connection.execute_wrapper(no_db):  # any query while handling would fail
        page = client.get("/broken/")
    assert page.status_code == 500
    body = page.content.decode()
    assert "Something went wrong on our side" in body and "css/workbench.css" in body


def test_favicon_is_linked_and_served(client):
    login = client.get(reverse("login")).content.decode()
    assert 'rel="icon"' in login and "favicon.svg" in login
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"].startswith("image/svg")
