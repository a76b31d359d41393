"""The Content-Security-Policy: on every response, and no page relies on what it forbids.

The browser half (a real Chromium reporting violations while people work) is
tests/browser/test_csp.py; here every study page and htmx fragment of the role matrix is
fetched and its HTML read for what the policy would block: inline <script>, on…= handlers,
javascript: URLs, <style> elements, and htmx attributes that need eval.
"""

import json
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.workbench.test_role_matrix import (  # noqa: F401 (the world and its fixtures)
    STUDY_URLS,
    _kwargs,
    _study_urls,
    built_world,
    role_users,
    study,
    world,
)


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCode(HTMLParser):
    """Collects every piece of markup that a script-src 'self' / style-src 'self' policy blocks."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.htmx_config = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # json_script data (type="application/json") is never run, so the policy allows it.
        if tag == "script" and not attrs.get("src") and attrs.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "meta" and attrs.get("name") == "htmx-config":
            self.htmx_config = json.loads(attrs["content"])
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name.startswith(("hx-on", "hx-vars")):
                self.found.append(f"<{tag} {name}=…> (htmx eval)")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")
            if name in {"hx-vals", "hx-headers"} and (value or "").strip().startswith("js:"):
                self.found.append(f"<{tag} {name}=js:…> (htmx eval)")


def inline_code(html: str) -> InlineCode:
    parser = InlineCode()
    parser.feed(html)
    return parser


def test_policy_allows_only_this_origin_and_no_inline_script(client, study, lead):
    client.force_login(lead)
    directives = policy(client.get(reverse("study_dashboard", args=[study.slug])))
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["form-action"] == ["'self'"]
    # Only style="" attributes may be inline (values from data); never scripts or <style>.
    assert directives["style-src-attr"] == ["'unsafe-inline'"]
    # No other host anywhere, no eval, no inline script through any fallback directive.
    sources = {source for sources in directives.values() for source in sources}
    assert sources <= {"'self'", "'none'", "'unsafe-inline'"}
    assert "script-src-elem" not in directives and "script-src-attr" not in directives


def test_sign_in_page_has_the_policy_and_no_inline_code(client):
    response = client.get(reverse("login"))
    assert "Content-Security-Policy" in response.headers
    assert inline_code(response.content.decode()).found == []


def test_htmx_may_not_eval_or_inject_styles(client, study, lead):
    client.force_login(lead)
    response = client.get(reverse("study_dashboard", args=[study.slug]))
    config = inline_code(response.content.decode()).htmx_config
    assert config == {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
    }


def test_the_parser_finds_what_the_policy_blocks():
    found = inline_code(
        '<script>alert(1)</script><a href=" JavaScript:alert(1)">x</a>'
        '<button onclick="x()">b</button><style>p{}</style><div hx-on:click="x()"></div>'
        '<body hx-vals="js:{a: 1}"><script type="application/json">{"a": 1}</script>'
        '<script src="/static/js/coding.js"></script>'
    ).found
    assert found == [
        "inline <script>",
        "<a href=javascript:…>",
        "<button onclick=…>",
        "<style> element",
        "<div hx-on:click=…> (htmx eval)",
        "<body hx-vals=js:…> (htmx eval)",
    ]


GET_URLS = sorted(name for name, (method, *_rest) in STUDY_URLS.items() if method == "get")


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("name", GET_URLS)
def test_every_study_page_runs_under_the_policy(client, study, world, role_users, name, htmx):
    _, allowed, *_ = STUDY_URLS[name]
    user = role_users[sorted(allowed)[0]]
    client.force_login(user)
    url = reverse(name, kwargs=_kwargs(name, _study_urls()[name], study, world))
    # Fragment URLs asked for as a page redirect to the page that holds the fragment.
    response = client.get(url, headers={"HX-Request": "true"} if htmx else {}, follow=True)
    assert response.status_code == 200, (url, response.status_code)
    assert policy(response)["script-src"] == ["'self'"]
    if response["Content-Type"].startswith("text/html"):
        assert inline_code(response.content.decode()).found == [], url
