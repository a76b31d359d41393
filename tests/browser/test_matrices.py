"""The matrices as a lead sees them in Chromium: the co-occurrence table with its heat scale,
and a summary note written into one cell of the codes × cases matrix in place (htmx), under
the page's Content-Security-Policy."""

import re

import pytest
from playwright.sync_api import expect

from coding.models import Code, MatrixCellNote
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON, DEMO_SLUG
from transcripts.models import Case

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]


def test_lead_reads_matrices_and_writes_a_cell_note(page, login, demo, artifacts_dir):
    login("lead")
    page.goto(f"/studies/{DEMO_SLUG}/")
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Matrices").click()
    table = page.locator("table.cooccurrence")
    expect(table.locator("caption")).to_contain_text("Pairs of codings that overlap")
    # The demo's consensus: in I7 the reviewer kept both "Barrier to contribution" and the
    # new "Time-zone exclusion" on overlapping words, the only pair of the latter.
    zone = table.locator("tbody tr").filter(has_text="Time-zone exclusion")
    expect(zone.locator("td.heat-4")).to_have_count(1)
    expect(zone.locator("td.heat-4")).to_have_text("1")
    page.get_by_label("Codings co-occur when they").select_option("turn")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.cooccurrence caption")).to_contain_text("share a speaker turn")
    page.screenshot(path=str(artifacts_dir / "matrices-cooccurrence.png"), full_page=True)

    page.get_by_role("link", name="Codes × cases").click()
    code = Code.objects.get(study=demo, name="Compute as a gate")
    case = Case.objects.get(study=demo, name="Community multilingual model")
    page.evaluate("window.__marker = 'same'")
    page.get_by_role("link", name=f"Add note on {code.name} × {case.name}").click()
    field = page.get_by_label(f"Summary: {code.name} in {case.name}")
    expect(field).to_be_visible()
    form = page.locator("form.cell-note-form")
    expect(form).not_to_have_class(re.compile(r"\bhtmx-settling\b"))
    field.fill("Compute first: the group waited months for GPUs.")
    form.get_by_role("button", name="Save note").click()
    expect(page.locator(".cell-note-text")).to_have_text(
        "Compute first: the group waited months for GPUs."
    )
    assert page.evaluate("window.__marker") == "same", "the page reloaded instead of swapping"
    assert MatrixCellNote.objects.get().text.startswith("Compute first")
    page.screenshot(path=str(artifacts_dir / "matrices-cases.png"), full_page=True)
