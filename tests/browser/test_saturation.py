"""The saturation page in Chromium, on the demo study (its reconciled interviews and the two
decisions its team recorded): a lead changes the run length and the analysis is swapped in
place (no reload), then records a decision, which appears in the list, on the chart and with
its snapshot — under the Content-Security-Policy."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from coding.models import SaturationDecision
from coding.selectors.blindness import Viewer
from coding.selectors.saturation import SaturationParams, analyse
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON, DEMO_SLUG
from workbench.access import member_perms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]


def labels(study, **params):
    lead = get_user_model().objects.get(username="lead")
    viewer = Viewer(lead, member_perms(lead, study), study)
    found = analyse(viewer, SaturationParams(**params))
    return [r.label for r in found.guest.results], len(found.interviews)


def test_lead_changes_the_run_and_records_a_decision(page, login, demo, artifacts_dir):
    login("lead")
    page.goto(f"/studies/{DEMO_SLUG}/")
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Saturation").click()
    expect(page.get_by_role("heading", name="Saturation", level=1)).to_be_visible()
    (five, zero), count = labels(demo)
    verdicts = page.locator(".sat-verdicts")
    expect(verdicts).to_contain_text(f"{count} interviews in interview order")
    expect(verdicts).to_contain_text(five)
    page.screenshot(path=str(artifacts_dir / "saturation.png"), full_page=True)

    # A longer run: the analysis is swapped in place, the address follows.
    page.evaluate("window.__marker = 'same'")
    (five, zero), _ = labels(demo, run=3)
    run = page.get_by_label("Run length (interviews)")
    run.fill("3")
    run.press("Tab")
    expect(verdicts).to_contain_text(five)
    expect(page.locator(".sat-table").first).to_contain_text(re.compile(r"Interviews 5–7"))
    assert page.evaluate("window.__marker") == "same", "the page reloaded instead of swapping"
    assert "run=3" in page.url

    # A decision on these numbers: it keeps them, and is drawn on the curve.
    before = SaturationDecision.objects.filter(study=demo).count()
    number = before + 1
    page.get_by_role("radio", name="Continue sampling").check()
    page.get_by_label("Rationale").fill("Still new themes in the last run: sample three more.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("Decision recorded: Continue sampling")
    decision = SaturationDecision.objects.filter(study=demo).order_by("-pk").first()
    assert SaturationDecision.objects.filter(study=demo).count() == number
    assert decision.evidence["parameters"]["run"] == "3"
    assert decision.interviews == count
    item = page.locator(f"#decision-{decision.public_id}")
    expect(item).to_contain_text(f"D{number} · Continue sampling")
    expect(item).to_contain_text("Still new themes in the last run")
    marks = page.locator("svg.saturation-svg .decision-mark text")
    expect(marks.filter(has_text=f"D{number} · continue")).to_have_count(1)
    page.screenshot(path=str(artifacts_dir / "saturation-decision.png"), full_page=True)

    item.get_by_role("link", name="The evidence as it was").click()
    heading = f"D{number}: Continue sampling"
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    expect(page.locator(".sat-verdicts")).to_contain_text(five)
    page.screenshot(path=str(artifacts_dir / "saturation-snapshot.png"), full_page=True)
