"""Retrieval and search in a real browser: marking an exemplar quote (htmx toggle) and "code
this hit" from a search result (the coding view opens with the hit selected, coding.js)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from coding.models import Coding, CodingMode, ConsensusCoding, LayerRole
from coding.services import assignments as assignment_services
from coding.services import codings as coding_services
from coding.services import reconciliation as reconciliation_services
from coding.services.codebook import code_create
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON
from tests.conftest import PASSWORD
from tests.factories import USERNAMES, ready_transcript

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

TEXT = (
    "Interviewer: What got in the way when you started?\n\n"
    "I1: Honestly the compute budget was the hardest part. We had no GPUs at all.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: ทีมของเราเล็กมาก แต่ทุกคนช่วยกัน. 我们的数据共享平台很重要.\n"
)


@pytest.fixture
def setup(study, admin_user, lead, coder, coder2, reviewer):
    transcript = ready_transcript(study, lead, TEXT)
    codes = [
        code_create(actor=admin_user, study=study, name="Compute as a gate", colour="#aa3377"),
        code_create(actor=admin_user, study=study, name="Small team", colour="#228833"),
    ]
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    return {"transcript": transcript, "codes": codes}


def test_code_this_hit_opens_the_coding_view_with_the_hit_selected(
    page, login, setup, study, artifacts_dir
):
    login(USERNAMES["coder"], PASSWORD)
    page.goto(reverse("search", args=[study.slug]))
    page.get_by_label("Word or phrase").fill("เล็กมาก")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#results mark")).to_have_text(["เล็กมาก"])
    page.screenshot(path=artifacts_dir / "search-thai.png", full_page=True)
    page.get_by_role("link", name="Code this hit").click()
    picker = page.locator("#code-picker")
    expect(picker).to_be_visible()
    expect(picker.locator(".picker-quote")).to_have_text("“เล็กมาก”")
    picker.get_by_text("Small team", exact=True).click()
    picker.get_by_role("button", name="Apply").click()
    expect(picker).to_be_hidden()
    expect(page.locator(".hl", has_text="เล็กมาก")).to_be_visible()
    coding = Coding.objects.get(code=setup["codes"][1])
    assert coding.snippet == "เล็กมาก" and coding.layer.coder.username == USERNAMES["coder"]


def test_a_reviewer_marks_an_exemplar_quote(
    page, login, setup, study, coder, coder2, reviewer, artifacts_dir
):
    transcript, gate = setup["transcript"], setup["codes"][0]
    phrase = "the compute budget was the hardest part"
    start = transcript.text.index(phrase)
    for user, role in ((coder, LayerRole.PRIMARY), (coder2, LayerRole.SECOND)):
        layer = transcript.layers.get(role=role)
        coding_services.coding_create(
            actor=user, layer=layer, code=gate, start=start, end=start + len(phrase)
        )
        assignment_services.layer_submit(actor=user, layer=layer)
    reconciliation_services.reconciliation_start(actor=reviewer, transcript=transcript)
    login(USERNAMES["reviewer"], PASSWORD)
    page.goto(reverse("retrieval", args=[study.slug, gate.public_id]))
    expect(page.locator(".segment mark")).to_have_text([phrase])
    mark = page.get_by_role("button", name="Mark as exemplar")
    mark.click()
    marked = page.get_by_role("button", name="Exemplar quote")
    expect(marked).to_have_attribute("aria-pressed", "true")
    assert ConsensusCoding.objects.get(code=gate).exemplar
    page.screenshot(path=artifacts_dir / "retrieval-exemplar.png", full_page=True)
    marked.click()  # and back
    expect(page.get_by_role("button", name="Mark as exemplar")).to_be_visible()
    assert not ConsensusCoding.objects.get(code=gate).exemplar
