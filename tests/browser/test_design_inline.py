"""Inline editing of the research design, as a user sees it in a real browser.

htmx swaps an edit form into the row, saves it in place and puts keyboard focus back on the
saved row (static/js/workbench.js); Escape closes the form. An outsider sees no trace of the
study.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    CHROMIUM_MISSING,
    CHROMIUM_MISSING_REASON,
    DEMO_SLUG,
    DEMO_STUDY_NAME,
)
from workbench.models import AuditEvent, ResearchQuestion

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

DESIGN_PATH = f"/studies/{DEMO_SLUG}/design/"
MARKER_JS = "window.__marker = 'no-full-page-load'"


def rq(study, label: str) -> ResearchQuestion:
    return ResearchQuestion.objects.get(study=study, label=label)


def open_design(page: Page, live_server) -> None:
    """Go to the design page and plant a marker that a full page load would wipe out."""
    page.goto(DESIGN_PATH)
    expect(page.get_by_role("heading", name="Research design", level=1)).to_be_visible()
    page.evaluate(MARKER_JS)


def assert_same_document(page: Page, url: str) -> None:
    assert page.url == url, "the page navigated away instead of swapping in place"
    assert page.evaluate("window.__marker") == "no-full-page-load", "the page was reloaded"


def open_inline_form(page: Page, item: ResearchQuestion):
    page.get_by_role("link", name=f"Edit {item.label}", exact=True).click()
    form = page.locator(f"form#rq-{item.pk}.inline-form")
    expect(form).to_be_visible()
    # htmx binds the hx-* attributes of swapped-in content only when it settles (~20 ms after
    # the swap); until then Save/Cancel would act as plain links and forms. A person cannot
    # be that fast, a test can: wait for the settle.
    expect(form).not_to_have_class(re.compile(r"\bhtmx-settling\b"))
    return form


def test_lead_edits_research_question_inline(page, login, demo, live_server, artifacts_dir):
    rq1 = rq(demo, "RQ1")
    old_text = rq1.text
    new_text = "Where in an open model's life do people collaborate, and what helps or hinders?"

    login("lead")
    page.get_by_role("link", name=DEMO_STUDY_NAME).click()
    expect(page).to_have_url(f"{live_server.url}/studies/{DEMO_SLUG}/")
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Research design").click()
    expect(page).to_have_url(f"{live_server.url}{DESIGN_PATH}")
    rq_list = page.get_by_role("list", name="Research questions")
    expect(rq_list.locator(f"#rq-{rq1.pk}")).to_contain_text(old_text)

    page.evaluate(MARKER_JS)
    url_before = page.url
    form = open_inline_form(page, rq1)

    # The form sits in the row, in place of the static text, prefilled and focused.
    assert_same_document(page, url_before)
    expect(rq_list.locator(f"form#rq-{rq1.pk}")).to_be_visible()
    expect(page.locator(f"div#rq-{rq1.pk}")).to_have_count(0)
    label_field = form.get_by_label("Label:", exact=True)
    text_field = form.get_by_label("Text:", exact=True)
    expect(label_field).to_have_value("RQ1")
    expect(text_field).to_have_value(old_text)
    expect(label_field).to_be_focused()
    page.screenshot(path=artifacts_dir / "design-inline-edit-open.png", full_page=True)

    text_field.fill(new_text)
    form.get_by_role("button", name="Save").click()

    row = rq_list.locator(f"div#rq-{rq1.pk}")
    expect(row).to_contain_text(new_text)
    expect(row).to_contain_text("RQ1")
    expect(page.locator(f"form#rq-{rq1.pk}")).to_have_count(0)
    expect(rq_list).not_to_contain_text(old_text)
    assert_same_document(page, url_before)
    # workbench.js moves keyboard focus to the row that was just saved.
    expect(row).to_be_focused()

    rq1.refresh_from_db()
    assert rq1.text == new_text
    assert rq1.label == "RQ1"
    event = AuditEvent.objects.filter(
        study=demo, verb="research_question.update", object_id=str(rq1.pk)
    ).first()
    assert event is not None
    assert event.actor.username == "lead"
    assert event.after["text"] == new_text


def test_duplicate_label_shows_error_in_inline_form(page, login, demo, live_server):
    rq2 = rq(demo, "RQ2")
    login("lead")
    open_design(page, live_server)
    url_before = page.url

    form = open_inline_form(page, rq2)
    label_field = form.get_by_label("Label:", exact=True)
    label_field.fill("RQ1")
    form.get_by_role("button", name="Save").click()

    message = "RQ1 is already used by another research question."
    # The form stays open, keeps what was typed and shows the error next to the label field,
    # tied to it for assistive technology.
    field_id = label_field.get_attribute("id")
    error = form.locator(f"#{field_id}_error")
    expect(error).to_have_text(message)
    expect(error.locator("xpath=..").locator(f"#{field_id}")).to_have_count(1)
    expect(label_field).to_have_value("RQ1")
    expect(label_field).to_have_attribute("aria-invalid", "true")
    expect(label_field).to_have_accessible_description(re.compile(re.escape(message)))
    expect(label_field).to_be_focused()
    expect(form.get_by_label("Text:", exact=True)).to_have_value(rq2.text)
    assert_same_document(page, url_before)

    rq2.refresh_from_db()
    assert rq2.label == "RQ2"
    assert not AuditEvent.objects.filter(
        verb="research_question.update", object_id=str(rq2.pk)
    ).exists()


def test_escape_cancels_inline_edit(page, login, demo, live_server):
    rq3 = rq(demo, "RQ3")
    login("lead")
    open_design(page, live_server)
    url_before = page.url

    form = open_inline_form(page, rq3)
    text_field = form.get_by_label("Text:", exact=True)
    text_field.fill("Typed, then abandoned")
    text_field.press("Escape")

    expect(page.locator(f"form#rq-{rq3.pk}")).to_have_count(0)
    row = page.get_by_role("list", name="Research questions").locator(f"div#rq-{rq3.pk}")
    expect(row).to_be_visible()
    expect(row).to_contain_text(rq3.text)
    expect(row).not_to_contain_text("Typed, then abandoned")
    assert_same_document(page, url_before)

    rq3.refresh_from_db()
    assert rq3.text != "Typed, then abandoned"


def test_cancel_restores_one_row_and_keeps_other_open_forms(page, login, demo, live_server):
    rq1, rq2 = rq(demo, "RQ1"), rq(demo, "RQ2")
    login("lead")
    open_design(page, live_server)

    first = open_inline_form(page, rq1)
    first.get_by_label("Text:", exact=True).fill("Half-way through rewording")
    second = open_inline_form(page, rq2)
    second.get_by_label("Text:", exact=True).press("Escape")

    # Only RQ2 closed; the work typed into RQ1's form is still there, and focus is on RQ2.
    expect(page.locator(f"form#rq-{rq2.pk}")).to_have_count(0)
    expect(page.locator(f"div#rq-{rq2.pk}")).to_be_focused()
    expect(first.get_by_label("Text:", exact=True)).to_have_value("Half-way through rewording")

    first.get_by_role("link", name="Cancel").click()
    expect(page.locator(f"form#rq-{rq1.pk}")).to_have_count(0)
    expect(page.locator(f"div#rq-{rq1.pk}")).to_be_focused()


def test_outsider_sees_no_trace_of_the_study(page, login, demo, live_server):
    login("outsider")
    expect(page.get_by_text("You are not a member of any study yet.")).to_be_visible()
    expect(page.get_by_role("link", name=DEMO_STUDY_NAME)).to_have_count(0)
    expect(page.locator("main")).not_to_contain_text(DEMO_STUDY_NAME)

    response = page.goto(f"/studies/{DEMO_SLUG}/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(DEMO_STUDY_NAME)
