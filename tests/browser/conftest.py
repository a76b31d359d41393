"""Fixtures for real-browser tests: Debian's Chromium driven by Playwright's sync API.

The browser is never downloaded: Playwright launches the system ``/usr/bin/chromium``. When it is
missing, the test modules skip themselves (see ``CHROMIUM_MISSING``).
"""

import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = not CHROMIUM.exists()
CHROMIUM_MISSING_REASON = (
    f"{CHROMIUM} is not installed (apt-get install chromium); "
    "browser tests never download a browser of their own"
)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

DEMO_SLUG = "open-llm-collaboration"
DEMO_STUDY_NAME = "Open collaboration on open LLMs"
DEMO_PASSWORDS = {
    "lead": "demo-lead-2026",
    "admin": "demo-admin-2026",
    "outsider": "demo-outsider-2026",
}


@pytest.fixture(scope="package")
def chromium():
    """One headless Chromium for the browser tests; each test gets its own context (cookies).

    Playwright's sync API keeps an asyncio event loop running in this thread while it is
    active, and Django then refuses every ORM call from the test body and the fixtures
    ("SynchronousOnlyOperation") unless DJANGO_ALLOW_ASYNC_UNSAFE is set. The variable is set
    only while the browser is open and removed afterwards: left in os.environ it would leak
    into subprocesses started by other tests (``check --deploy`` warns about it, failing
    tests/workbench/test_settings.py). For the same reason the scope is the package, not the
    session: the loop stops before the rest of the suite runs.
    """
    # Test modules carry ``skipif(CHROMIUM_MISSING)``, so this only runs with Chromium present.
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# Every page reports each Content-Security-Policy violation to the test: the browser's
# ``securitypolicyviolation`` event (registered before any script of the page runs) and
# Chromium's own console error about a refused script or style.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(
    `${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ` +
    `${e.sourceFile || document.location.href}:${e.lineNumber} ${e.sample || ""}`
  );
});
"""


def is_csp_message(text: str) -> bool:
    return "Content Security Policy" in text


@pytest.fixture
def csp_violations():
    """What the page reported against the Content-Security-Policy (the ``page`` fills it)."""
    return []


@pytest.fixture
def page(chromium, live_server, csp_violations):
    """A fresh browser context and page (no cookies shared between tests).

    The policy is on in every browser test (settings.CONTENT_SECURITY_POLICY): a test whose
    pages reported a violation fails when it ends, whatever it asserted.
    """
    from playwright.sync_api import expect

    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    context.expose_binding(
        "__cspViolation",
        lambda source, text: csp_violations.append(f"{source['page'].url}: {text}"),
    )
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            csp_violations.append(f"{page.url}: console: {message.text}")
            if is_csp_message(message.text)
            else None
        ),
    )
    yield page
    context.close()
    assert not csp_violations, "Content-Security-Policy violations:\n" + "\n".join(csp_violations)


@pytest.fixture
def demo(live_server):
    """The demo data from ``seed_demo``, committed so that the live server sees it."""
    call_command("seed_demo", stdout=StringIO())
    from workbench.models import Study

    return Study.objects.get(slug=DEMO_SLUG)


@pytest.fixture
def login(page):
    """Sign in through the real login form; returns once the study list is shown."""
    from playwright.sync_api import expect

    def sign_in(username: str, password: str | None = None):
        page.goto("/accounts/login/")
        page.locator("#id_username").fill(username)
        page.locator("#id_password").fill(password or DEMO_PASSWORDS[username])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Your studies", level=1)).to_be_visible()
        return page

    return sign_in


@pytest.fixture(scope="session")
def artifacts_dir():
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
