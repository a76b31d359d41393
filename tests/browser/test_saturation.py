"""The saturation page in Chromium, on the demo study grown to a run of reconciled interviews:
a lead changes the run length and the analysis is swapped in place (no reload), then records a
decision, which appears in the list and on the chart — under the Content-Security-Policy."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from coding.models import Code, SaturationDecision
from coding.selectors.blindness import Viewer
from coding.selectors.saturation import SaturationParams, analyse
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON, DEMO_SLUG
from tests.factories import reconciled_interview
from workbench.access import member_perms

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]


@pytest.fixture
def grown(demo):
    """Eight more interviews, reconciled: the early ones bring codes the later ones repeat."""
    users = {u.username: u for u in get_user_model().objects.all()}
    codes = list(Code.objects.filter(study=demo, kind="code").order_by("pk"))
    start = datetime.date(2026, 10, 1)
    for n in range(2, 10):
        chosen = [codes[(n * 3) % len(codes)], codes[(n * 5) % len(codes)]][: 1 + n % 2]
        pairs = [(code, f"passage {n}.{i} on {code.name.lower()}") for i, code in enumerate(chosen)]
        reconciled_interview(
            demo,
            users["lead"],
            (users["coder1"], users["coder2"]),
            pairs,
            code=f"S{n}",
            interview_date=start + datetime.timedelta(days=n),
        )
    return demo


def labels(study, **params):
    lead = get_user_model().objects.get(username="lead")
    viewer = Viewer(lead, member_perms(lead, study), study)
    found = analyse(viewer, SaturationParams(**params))
    return [r.label for r in found.guest.results], len(found.interviews)


def test_lead_changes_the_run_and_records_a_decision(page, login, grown, artifacts_dir):
    login("lead")
    page.goto(f"/studies/{DEMO_SLUG}/")
    page.get_by_role("navigation", name="Study").get_by_role("link", name="Saturation").click()
    expect(page.get_by_role("heading", name="Saturation", level=1)).to_be_visible()
    (five, zero), count = labels(grown)
    verdicts = page.locator(".sat-verdicts")
    expect(verdicts).to_contain_text(f"{count} interviews in interview order")
    expect(verdicts).to_contain_text(five)
    page.screenshot(path=str(artifacts_dir / "saturation.png"), full_page=True)

    # A longer run: the analysis is swapped in place, the address follows.
    page.evaluate("window.__marker = 'same'")
    (five, zero), _ = labels(grown, run=3)
    run = page.get_by_label("Run length (interviews)")
    run.fill("3")
    run.press("Tab")
    expect(verdicts).to_contain_text(five)
    expect(page.locator(".sat-table").first).to_contain_text(re.compile(r"Interviews 5–7"))
    assert page.evaluate("window.__marker") == "same", "the page reloaded instead of swapping"
    assert "run=3" in page.url

    # A decision on these numbers: it keeps them, and is drawn on the curve.
    page.get_by_label("Continue sampling").check()
    page.get_by_label("Rationale").fill("Still new themes in the last run: sample three more.")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".messages")).to_contain_text("Decision recorded: Continue sampling")
    decision = SaturationDecision.objects.get()
    assert decision.evidence["parameters"]["run"] == "3"
    assert decision.interviews == count
    item = page.locator(f"#decision-{decision.public_id}")
    expect(item).to_contain_text("D1 · Continue sampling")
    expect(item).to_contain_text("Still new themes in the last run")
    expect(page.locator("svg.saturation-svg .decision-mark")).to_have_count(1)
    expect(page.locator("svg.saturation-svg .decision-mark text")).to_have_text("D1 · continue")
    page.screenshot(path=str(artifacts_dir / "saturation-decision.png"), full_page=True)

    item.get_by_role("link", name="The evidence as it was").click()
    expect(page.get_by_role("heading", name="D1: Continue sampling", level=1)).to_be_visible()
    expect(page.locator(".sat-verdicts")).to_contain_text(five)
    page.screenshot(path=str(artifacts_dir / "saturation-snapshot.png"), full_page=True)
