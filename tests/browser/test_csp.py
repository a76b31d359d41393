"""The main pages under the Content-Security-Policy in a real Chromium: nothing is blocked.

Every browser test already fails when a page reports a violation (the ``page`` fixture in
conftest.py); this one walks the main pages of the demo study as the people who use them and
works the htmx swaps on them, after first proving that the listener hears a violation at all.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON, DEMO_SLUG
from transcripts.models import Transcript

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

DEMO_CODER_PASSWORD = "demo-coder1-2026"

# What an attacker's injected markup would do: neither may run.
INJECT_JS = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__injected = true";
  document.body.append(script);
  const button = document.createElement("button");
  button.setAttribute("onclick", "window.__injected = true");
  document.body.append(button);
  button.click();
}"""


def url(name, **kwargs):
    return reverse(name, kwargs={"study_slug": DEMO_SLUG, **kwargs})


def visit(page, path, heading, csp_violations, artifacts_dir, shot):
    response = page.goto(path)
    assert response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"], path
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    # Let deferred scripts, htmx's start-up and any late swap run before reading the reports.
    page.wait_for_load_state("networkidle")
    page.screenshot(path=artifacts_dir / f"csp-{shot}.png", full_page=True)
    assert csp_violations == [], path


def test_the_listener_reports_an_injected_inline_script(
    page, login, demo, csp_violations, live_server
):
    login("lead")
    page.goto(url("study_dashboard"))
    page.evaluate(INJECT_JS)
    # The reports reach Python asynchronously; Playwright delivers them while it waits.
    for _ in range(40):
        if len(csp_violations) >= 2:
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.__injected") is None
    assert any("script-src" in v for v in csp_violations), csp_violations
    assert any("inline" in v.lower() for v in csp_violations), csp_violations
    csp_violations.clear()  # reported as expected: not a failure of this test


def test_main_pages_report_no_violation(page, login, demo, csp_violations, artifacts_dir):
    i1 = Transcript.objects.get(study=demo, title="Interview with I1")
    login("lead")
    for path, heading, shot in [
        (url("study_dashboard"), demo.name, "dashboard"),
        (url("design"), "Research design", "design"),
        (url("participant_list"), "Participants", "participants"),
        (url("case_table"), "Cases", "cases"),
        (url("transcript_list"), "Transcripts", "transcripts"),
        (url("transcript_detail", pk=i1.pk), i1.title, "transcript"),
        (url("transcript_import"), "Import transcripts", "import"),
        (url("codebook"), "Codebook", "codebook"),
        (url("notes"), "Notes", "notes"),
        (url("agreement"), "Intercoder agreement", "agreement"),
        (url("assignments"), "Assign coders", "assignments"),
        (url("reconcile", pk=i1.pk), "Reconciliation", "reconcile"),
        (url("audit_trail"), "Audit trail", "audit"),
    ]:
        visit(page, path, heading, csp_violations, artifacts_dir, shot)

    # htmx swaps: the reconciliation's keyboard (j swaps in the next disagreement),
    # then open a memo's inline edit form and close it with Escape.
    # The demo has reconciled I1: its decided disagreements are read one by one.
    page.goto(url("reconcile", pk=i1.pk) + "?d=1")
    expect(page.locator("#disagreement").get_by_role("heading", level=2)).to_contain_text(
        "Disagreement 1 of"
    )
    page.keyboard.press("j")
    expect(page.locator("#disagreement").get_by_role("heading", level=2)).to_contain_text(
        "Disagreement 2 of"
    )
    page.goto(url("notes"))
    page.get_by_role("link", name="Edit memo Compute shapes who can take part").click()
    form = page.locator("form.inline-form")
    expect(form).to_be_visible()
    # workbench.js moves the focus into the form once htmx has settled it; Escape acts there.
    page.wait_for_function("() => document.activeElement.closest('form.inline-form') !== null")
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)
    page.wait_for_load_state("networkidle")
    assert csp_violations == []


def test_coding_view_reports_no_violation(page, login, demo, csp_violations, artifacts_dir):
    i10 = Transcript.objects.get(study=demo, title="Interview with I10")  # still being coded
    login("coder1", DEMO_CODER_PASSWORD)
    visit(page, url("coding_view", pk=i10.pk), "Coding", csp_violations, artifacts_dir, "coding")
    # A margin label opens its coding in the editor (an htmx request from coding.js).
    page.locator(".mlabel").first.click()
    expect(page.locator("#coding-editor .editor-title")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert csp_violations == []
