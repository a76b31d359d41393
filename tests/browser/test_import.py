"""Importing a transcript as a lead does it: upload, htmx preview, map speakers, confirm."""

from pathlib import Path

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


INTEROP = Path(__file__).resolve().parents[2].parent / "shared" / "interop"
TRANSCRIPTS = INTEROP / "transcripts"
JFK = INTEROP / "subtitles" / "whisper-jfk"
PARLAMINT_META = "parlamint-UA_2014-12-02-m0-meta_uk.tsv"
GROISMAN, MATIOS = "Борисович Гройсман, Володимир", "Василівна Матіос, Марія"
# file, companion, turns, speakers (label → role chosen in the preview), name of unlabelled turns
INTEROP_IMPORTS = [
    (
        "changelog-afk-1_interview_en.md.txt", None, 22,
        {"Tim Smith": "interviewer", "Jason Snell": "participant"}, None,
    ),
    (
        "spacelog-mr3-ATG_freedom7_en.txt", None, 115,
        {"LCC": "other", "P": "participant", "CC": "interviewer", "UNK": "other",
         "ICC": "other", "CARDFILE": "other"}, None,
    ),
    (
        "parlamint-UA_2014-12-02-m0_uk.txt", PARLAMINT_META, 4,
        {GROISMAN: "interviewer", MATIOS: "participant"}, None,
    ),
    (
        "qualcoder-example-transcript_en.txt", None, 7,
        {"id1": "participant", "id2": "participant", "id3": "participant"}, None,
    ),
    ("qualcoder-example-ID1_en.docx", None, 3, {}, "Student (ID1)"),
    *[(f"subtitles/jfk.{ext}", None, 1, {}, "John F. Kennedy")
      for ext in ("vtt", "srt", "json", "tsv", "txt")],
]  # fmt: skip


@pytest.mark.skipif(not INTEROP.is_dir(), reason=f"the interop corpus is not at {INTEROP}")
def test_every_interop_transcript_and_subtitle_file_imports_with_its_speakers(
    page, login, demo, live_server, tmp_path, settings
):
    settings.IMPORT_STAGING_DIR = tmp_path / "staging"
    login("lead")
    for entry, companion, turns, speakers, unlabelled in INTEROP_IMPORTS:
        path = (
            JFK / entry.removeprefix("subtitles/")
            if entry.startswith("subtitles/")
            else (TRANSCRIPTS / entry)
        )
        files = [str(path)] + ([str(TRANSCRIPTS / companion)] if companion else [])
        page.goto(f"/studies/{DEMO_SLUG}/transcripts/import/")
        # I11 has no consent recorded: not offered, and named as such.
        participant = page.get_by_label("Participant:")
        expect(participant.locator("option", has_text="I11")).to_have_count(0)
        expect(page.locator("#import form")).to_contain_text("I11 (no consent recorded)")
        participant.select_option(label="I3")
        page.locator("#id_files").set_input_files(files)
        page.get_by_role("button", name="Preview").click()

        preview = page.locator("#preview")
        expect(preview.locator("h2")).to_have_text([path.name])
        expect(preview).not_to_contain_text("\\[")
        for label, role in speakers.items():
            preview.get_by_label(label, exact=True).select_option(role)
        if unlabelled:
            name = preview.get_by_label("Speaker of the turns without a label")
            expect(name).to_have_value("I3")
            expect(preview.get_by_label("Role of the turns without a label")).to_have_value(
                "participant"
            )
            name.fill(unlabelled)
        skip = preview.get_by_label("Skip this file")
        if path.suffix in (".srt", ".json", ".tsv") or path.name == "jfk.txt":
            # The same words as jfk.vtt, imported a moment ago: flagged and skipped unless
            # the researcher decides otherwise (here: a second copy on purpose).
            expect(preview).to_contain_text("The same text is already in this study")
            expect(skip).to_be_checked()
            skip.uncheck()
        else:
            expect(skip).not_to_be_checked()
        title = f"Interop {path.name}"
        preview.get_by_label("Title:").fill(title)
        page.get_by_role("button", name="Import 1 file").click()
        expect(page.get_by_text("Imported 1 transcript")).to_be_visible()

        page.get_by_role("link", name=title, exact=True).click()
        rows = page.locator("ol.turns > li")
        expect(rows).to_have_count(turns)
        shown = set(rows.locator(".who strong").all_inner_texts())
        expected = set(speakers) | ({unlabelled} if unlabelled else set())
        assert shown == expected, (path.name, shown)
        expect(page.locator("ol.turns")).not_to_contain_text("\\[")
        expect(page.locator("ol.turns")).not_to_contain_text("**")
        transcript = Transcript.objects.get(title=title)
        stored = dict(transcript.utterances.values_list("speaker", "role"))
        assert stored == (speakers | ({unlabelled: "participant"} if unlabelled else {}))
