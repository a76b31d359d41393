"""Coding in a real browser: select text, pick a code by keyboard, land on exactly those characters.

The DOM counts UTF-16 units, the server code points: a selection over Thai or an emoji must be
stored as exactly the selected characters (static/js/coding.js). The other coder, coding the
same transcript blind, sees none of it.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from coding.models import Code, Coding, CodingMode
from coding.services import assignments as assignment_services
from coding.services.codebook import code_create
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON
from tests.conftest import PASSWORD
from tests.factories import consented_participant, imported_transcript
from transcripts.services import transcripts as transcript_services

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

TEXT = (
    "Interviewer: What got in the way when you started?\n\n"
    "I1: Honestly the compute budget was the hardest part. We had no GPUs at all.\n\n"
    "Interviewer: And the team?\n\n"
    "I1: ทีมของเราเล็กมาก แต่ทุกคนช่วยกัน. Then Hugging Face 🤗 gave us credits, 真的很感谢.\n"
)

# Select ``phrase`` inside the turn text with the DOM Range API (UTF-16 offsets into the text
# nodes, as a mouse drag would produce) and return the selected string.
SELECT_JS = """
(phrase) => {
  for (const said of document.querySelectorAll('.said')) {
    const walker = document.createTreeWalker(said, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let all = '';
    while (walker.nextNode()) {
      nodes.push([walker.currentNode, all.length]);
      all += walker.currentNode.data;
    }
    const at = all.indexOf(phrase);
    if (at < 0) continue;
    const locate = (i) => {
      for (let k = nodes.length - 1; k >= 0; k--) {
        if (nodes[k][1] <= i) return [nodes[k][0], i - nodes[k][1]];
      }
    };
    const range = document.createRange();
    range.setStart(...locate(at));
    range.setEnd(...locate(at + phrase.length));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return selection.toString();
  }
  throw new Error('phrase not found: ' + phrase);
}
"""


# Select from the start of one phrase to the end of another, possibly in another turn.
CROSS_JS = """
([first, last]) => {
  const find = (phrase, atEnd) => {
    for (const said of document.querySelectorAll('.said')) {
      const walker = document.createTreeWalker(said, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const at = walker.currentNode.data.indexOf(phrase);
        if (at >= 0) return [walker.currentNode, atEnd ? at + phrase.length : at];
      }
    }
    throw new Error('phrase not found: ' + phrase);
  };
  const range = document.createRange();
  range.setStart(...find(first, false));
  range.setEnd(...find(last, true));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}
"""


@pytest.fixture
def coding_setup(study, admin_user, lead, coder, coder2):
    participant = consented_participant(study, "I1")
    transcript = imported_transcript(study, participant, TEXT)
    transcript = transcript_services.transcript_update(
        actor=lead, transcript=transcript, version=1, status="ready"
    )
    codes = [
        code_create(
            actor=admin_user,
            study=study,
            name="Compute as a gate",
            definition="Lack of compute slows or stops the work.",
            colour="#aa3377",
        ),
        code_create(
            actor=admin_user,
            study=study,
            name="Small team",
            definition="Few people carry the project.",
            colour="#228833",
        ),
        code_create(
            actor=admin_user,
            study=study,
            name="Platform support",
            definition="Help from a hub or platform: credits, hosting.",
            colour="#4477aa",
        ),
    ]
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    path = reverse("coding_view", kwargs={"study_slug": study.slug, "pk": transcript.pk})
    return {"transcript": transcript, "codes": codes, "path": path}


def highlighted_text(page, coding_pk) -> str:
    """The text of every highlight piece that carries this coding, joined in document order."""
    return page.evaluate(
        """(ref) => Array.from(document.querySelectorAll('.hl'))
            .filter((el) => el.dataset.codings.split(' ').includes(ref))
            .map((el) => el.textContent).join('')""",
        Coding.objects.get(pk=coding_pk).public_id,
    )


def test_coder_codes_english_thai_and_emoji_exactly(
    page, login, live_server, coding_setup, artifacts_dir
):
    path = coding_setup["path"]
    login("chen", PASSWORD)
    page.goto(path)
    expect(page.get_by_role("heading", name="Transcript", level=2)).to_be_visible()
    picker = page.locator("#code-picker")
    search = page.get_by_role("combobox", name="Search codes")

    cases = [
        # (phrase, how the picker is opened, how the code is chosen, code name)
        ("the compute budget was the hardest part", "mouseup", "type", "Compute as a gate"),
        ("ทีมของเราเล็กมาก", "keyboard", "digit", "Small team"),
        ("Hugging Face 🤗 gave us credits, 真的", "mouseup", "click", "Platform support"),
    ]
    selected = {}
    for phrase, opener, chooser, code_name in cases:
        text = page.evaluate(SELECT_JS, phrase)
        assert text == phrase
        if opener == "mouseup":
            # A mouse release over the text, as at the end of a drag.
            box = page.locator(".said", has_text=phrase).bounding_box()
            page.mouse.move(box["x"] + box["width"] - 4, box["y"] + 4)
            page.evaluate(
                "document.querySelector('.coding-turns')"
                ".dispatchEvent(new MouseEvent('mouseup', {bubbles: true}))"
            )
        else:
            page.keyboard.press("Shift")
        expect(picker).to_be_visible()
        expect(search).to_be_focused()
        expect(picker.locator(".picker-quote")).to_have_text(f"“{phrase}”")
        if opener == "mouseup" and chooser == "type":
            page.screenshot(path=artifacts_dir / "coding-picker.png", full_page=True)
        if chooser == "type":
            search.press_sequentially("gate")
            expect(picker.locator("[role=option]:not([hidden])")).to_have_count(1)
            search.press("Enter")
        elif chooser == "digit":
            search.press("2")  # the second listed code (no pins yet: the first nine take keys)
        else:
            picker.get_by_text(code_name, exact=True).click()
            picker.get_by_role("button", name="Apply").click()
        expect(picker).to_be_hidden()
        coding = Coding.objects.filter(code__name=code_name)
        expect(page.locator(".hl", has_text=phrase[:6]).first).to_be_visible()
        assert coding.count() == 1, code_name
        selected[coding.get().pk] = phrase

    # Keyboard only: Tab into the second answer, move by words, select three words with
    # Ctrl+Shift+Right, Enter opens the picker; a new inductive code is created inline.
    # After applying, the keyboard is on Undo (the swap is done once it is there).
    expect(page.get_by_role("button", name="Undo")).to_be_focused()
    turn = page.locator(".said", has_text="Honestly the compute budget")
    turn.focus()
    expect(turn).to_be_focused()
    page.keyboard.press("Control+ArrowRight")  # past "Honestly"
    for _ in range(2):
        page.keyboard.press("Control+Shift+ArrowRight")
    chosen = page.evaluate("window.getSelection().toString()").strip()
    assert chosen == "the compute"
    page.keyboard.press("Enter")
    expect(picker).to_be_visible()
    search.press_sequentially("Budget pressure")
    expect(picker.locator(".no-match")).to_be_visible()
    search.press("Enter")  # nothing matches: the new-code fields open with the name typed
    expect(page.get_by_label("Name", exact=True)).to_have_value("Budget pressure")
    definition = page.get_by_label("Definition", exact=True)
    expect(definition).to_be_focused()
    definition.fill("Money for compute shapes what the team can try.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # "Create and apply"
    expect(picker).to_be_hidden()
    expect(page.locator(".undo-bar")).to_contain_text("Applied “Budget pressure”.")
    new = Code.objects.get(name="Budget pressure")
    assert (new.origin, new.first_seen_transcript_id) == (
        "inductive",
        coding_setup["transcript"].pk,
    )
    inline = Coding.objects.get(code=new)
    assert inline.snippet == chosen
    selected[inline.pk] = chosen

    page.reload()
    for pk, phrase in selected.items():
        stored = Coding.objects.get(pk=pk)
        assert stored.snippet == phrase
        assert highlighted_text(page, pk) == phrase
    counts = page.locator(".code-counts")
    expect(counts.locator("li", has_text="Small team").locator(".count")).to_have_text("1")
    page.screenshot(path=artifacts_dir / "coding-view.png", full_page=True)

    # Clicking a highlight opens its coding in the editor; delete, then Ctrl+Z undoes it.
    page.locator(".hl", has_text="ทีมของเราเล็กมาก").click()
    editor = page.locator("#coding-editor")
    expect(editor.get_by_role("heading", name="Small team")).to_be_visible()
    editor.get_by_role("button", name="Delete coding Small team").click()
    expect(page.locator(".undo-bar")).to_contain_text("Deleted a “Small team” coding.")
    assert not Coding.objects.filter(code__name="Small team").exists()
    page.locator("h1").click()  # focus outside any field
    page.keyboard.press("Control+z")
    expect(page.locator(".hl", has_text="ทีมของเราเล็กมาก")).to_have_count(1)
    assert Coding.objects.get(code__name="Small team").snippet == "ทีมของเราเล็กมาก"

    # Adjust a span by a word, mark an exemplar, write a memo: all from the editor.
    page.locator(".hl", has_text="the hardest part").first.click()
    expect(editor.get_by_role("heading", name="Compute as a gate")).to_be_visible()
    # "part." is one word to a nudge: the full stop joins it.
    editor.get_by_role("button", name="End one word later").click()
    expect(editor.locator(".snippet")).to_have_text("the compute budget was the hardest part.")
    english = Coding.objects.get(code__name="Compute as a gate")
    assert english.snippet == "the compute budget was the hardest part."
    editor.get_by_label("Candidate exemplar quote").check()
    editor.get_by_label("Memo").fill("Budget, not skill, was the gate.")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator('.mlabel[aria-label*="exemplar"]')).to_have_count(1)
    english.refresh_from_db()
    assert (english.exemplar, english.memo) == (True, "Budget, not skill, was the gate.")
    assert highlighted_text(page, english.pk) == english.snippet

    # ] and [ walk the codings in reading order, showing each in the editor.
    page.locator("h1").click()
    in_order = list(
        Coding.objects.order_by("start", "end", "id").values_list("public_id", flat=True)
    )
    for ref in [*in_order, in_order[0]]:  # ...and round again
        page.keyboard.press("]")
        expect(editor.locator(".editor-body")).to_have_attribute("data-coding", ref)
    page.keyboard.press("[")
    expect(editor.locator(".editor-body")).to_have_attribute("data-coding", in_order[-1])

    # Filter to one code from the side panel; then back to everything.
    page.get_by_role("link", name="Show only Small team").click()
    expect(page.locator(".cturn")).to_have_count(1)
    page.get_by_role("link", name="Show everything").click()
    expect(page.locator(".cturn")).to_have_count(4)

    # Across turns: from "no GPUs" in one answer to "ทีมของเรา" in the next.
    page.evaluate(CROSS_JS, ["no GPUs", "ทีมของเรา"])
    page.keyboard.press("Shift")
    expect(picker).to_be_visible()
    search.press_sequentially("budget")  # "Budget pressure" by name; no other code says it
    expect(picker.locator("[role=option]:not([hidden])")).to_have_count(1)
    search.fill("slows")  # ...but "slows" is in the definition of "Compute as a gate"
    search.press("Enter")
    expect(picker).to_be_hidden()
    across = Coding.objects.filter(code__name="Compute as a gate").order_by("start").last()
    transcript = coding_setup["transcript"]
    assert across.snippet.startswith("no GPUs at all.")
    assert across.snippet.endswith("ทีมของเรา")
    assert across.snippet == transcript.text[across.start : across.end]

    # The other coder, coding blind in independent mode, sees none of it.
    page.get_by_role("button", name="Sign out").click()
    login("kofi", PASSWORD)
    page.goto(path)
    expect(page.get_by_role("heading", name="Transcript", level=2)).to_be_visible()
    expect(page.locator(".hl")).to_have_count(0)
    expect(page.locator(".mlabel")).to_have_count(0)
    for count in page.locator(".code-counts .count").all_text_contents():
        assert count == "0"
    expect(page.locator("body")).not_to_contain_text("chen")

    # A lead reads every layer, without a picker or a submit button.
    page.get_by_role("button", name="Sign out").click()
    login("lena", PASSWORD)
    page.goto(path)
    expect(page.locator(".mlabel")).not_to_have_count(0)
    expect(page.locator("#code-picker")).to_have_count(0)
    expect(page.get_by_role("button", name="Submit my layer")).to_have_count(0)
    page.locator(".mlabel").first.click()
    expect(editor.locator(".editor-body")).to_be_visible()
    expect(editor.locator("form")).to_have_count(0)
    page.screenshot(path=artifacts_dir / "coding-view-lead.png", full_page=True)
    page.locator(".cturn").last.screenshot(path=artifacts_dir / "coding-overlap.png")
