"""Importing a transcript as a lead does it: upload, htmx preview, map speakers, confirm."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON, DEMO_SLUG
from transcripts.models import Transcript

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

INTERVIEW = (
    "Moderator: สวัสดีครับ Could you tell me how you joined?\n\n"
    "I1: 我从翻译开始 — then I reviewed datasets 🤗.\n\n"
    "Moderator: Dziękuję!\n"
)


def test_lead_imports_with_preview_and_speaker_mapping(
    page, login, demo, live_server, tmp_path, settings
):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    upload = tmp_path / "new-interview.txt"
    upload.write_text(INTERVIEW, encoding="utf-8")

    login("lead")
    page.goto(f"/studies/{DEMO_SLUG}/transcripts/import/")
    page.evaluate("window.__marker = 'same-document'")
    page.get_by_label("Participant:").select_option(label="I1")
    page.locator("#id_files").set_input_files(str(upload))
    page.get_by_role("button", name="Preview").click()

    preview = page.locator("#preview")
    expect(preview).to_contain_text("new-interview.txt")
    expect(preview).to_contain_text("我从翻译开始")
    assert page.evaluate("window.__marker") == "same-document", "preview reloaded the page"
    assert not Transcript.objects.filter(original_filename="new-interview.txt").exists()

    # The guess calls the talkative speaker the participant; the user confirms the moderator.
    moderator = preview.get_by_label("Moderator")
    expect(moderator).to_have_value("interviewer")
    expect(preview.get_by_label("I1", exact=True)).to_have_value("participant")
    moderator.select_option("other")
    preview.get_by_label("Title:").fill("Second talk with I1")
    page.get_by_role("button", name="Import 1 file").click()

    expect(page.get_by_text("Imported 1 transcript")).to_be_visible()
    page.get_by_role("link", name="Second talk with I1").click()
    turns = page.locator("ol.turns > li")
    expect(turns).to_have_count(3)
    expect(turns.nth(1)).to_contain_text("我从翻译开始 — then I reviewed datasets 🤗.")
    transcript = Transcript.objects.get(title="Second talk with I1")
    roles = list(transcript.utterances.order_by("index").values_list("role", flat=True))
    assert roles == ["other", "participant", "other"]
