"""A reviewer reconciles a transcript by keyboard in real Chromium: three disagreements settled,
the consensus layer shows the result."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from coding.models import ConsensusCoding, Decision, Reconciliation
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON
from tests.coding.conftest import codes  # noqa: F401 (fixture)
from tests.coding.test_reconciliation import layers_coded, transcript  # noqa: F401 (fixtures)
from tests.conftest import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]


def test_a_reviewer_settles_three_disagreements_by_keyboard(
    page, login, live_server, study, layers_coded, reviewer, artifacts_dir
):
    login(reviewer.username, PASSWORD)
    page.goto(live_server.url + reverse("reconcile", args=[study.slug, layers_coded.pk]))
    page.get_by_role("spinbutton", name="N characters").fill("3")
    page.get_by_role("button", name="Compare the layers").click()
    panel = page.locator("#disagreement")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 1 of 4")
    progress = page.get_by_role("progressbar", name="Disagreements resolved")
    expect(progress).to_have_attribute("aria-valuenow", "0")
    reconciliation = Reconciliation.objects.get()
    by_number = {d.number: d for d in reconciliation.disagreements.all()}

    # 1: "o" keeps both codings — no rationale needed, saved at once, on to the next.
    page.keyboard.press("o")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 2 of 4")
    expect(progress).to_have_attribute("aria-valuenow", "1")

    # 2: "n" (neither) asks for the rationale first; Ctrl+Enter saves.
    page.keyboard.press("n")
    rationale = page.get_by_label("Rationale")
    expect(rationale).to_be_focused()
    page.keyboard.type("Neither code fits this passage.")
    page.keyboard.press("Control+Enter")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 3 of 4")

    # j / k move between disagreements without deciding.
    page.keyboard.press("k")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 2 of 4")
    expect(panel.locator(".decided")).to_contain_text("Neither")
    page.keyboard.press("j")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 3 of 4")

    # 3: accept whichever side has codings, with a rationale.
    third = by_number[3]
    key = "a" if third.a_codings else "b"
    page.keyboard.press(key)
    page.keyboard.type("The other coder missed it.")
    page.keyboard.press("Control+Enter")
    expect(progress).to_have_attribute("aria-valuenow", "3")

    decided = {d.number: d.decision for d in reconciliation.disagreements.all()}
    assert decided[1] == Decision.BOTH
    assert decided[2] == Decision.NEITHER
    assert decided[3] == (Decision.A if key == "a" else Decision.B)
    assert decided[4] == ""
    # The consensus layer on the page is the one in the database.
    table = page.locator(".consensus-table tbody tr")
    expect(table).to_have_count(ConsensusCoding.objects.count())
    for c in ConsensusCoding.objects.select_related("code"):
        expect(page.locator(".consensus-table")).to_contain_text(c.code.name)
    kept = [c["code_name"] for c in (third.a_codings if key == "a" else third.b_codings)]
    assert set(kept) <= {c.code.name for c in ConsensusCoding.objects.filter(disagreement=third)}
    page.screenshot(path=artifacts_dir / "reconcile.png", full_page=True)
