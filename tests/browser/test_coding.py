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
from coding.services import codings as coding_services
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


# --- number keys, undo / redo, margin labels --------------------------------------------------


def open_picker_on(page, phrase):
    page.evaluate(SELECT_JS, phrase)
    page.keyboard.press("Shift")
    expect(page.locator("#code-picker")).to_be_visible()


def key_map(page) -> dict:
    """The number shown beside each code in the picker, as the coder sees it."""
    return page.evaluate(
        """() => Object.fromEntries(
          Array.from(document.querySelectorAll('#picker-list [role=option]'))
            .filter((o) => o.querySelector('kbd.key').textContent)
            .map((o) => [
              o.querySelector('kbd.key').textContent, o.querySelector('.name').textContent
            ]))"""
    )


def test_number_keys_mean_the_same_code_after_applies_refreshes_and_reloads(
    page, login, live_server, coding_setup
):
    login("chen", PASSWORD)
    page.goto(coding_setup["path"])
    open_picker_on(page, "the compute budget")
    codebook = {"1": "Compute as a gate", "2": "Small team", "3": "Platform support"}
    assert key_map(page) == codebook
    # Key 3 twice, on two selections: the same code both times, though it became "recent".
    for phrase in ("the compute budget", "We had no GPUs"):
        open_picker_on(page, phrase)
        assert key_map(page) == codebook
        page.keyboard.press("3")
        expect(page.locator("#code-picker")).to_be_hidden()
        expect(page.locator(".hl", has_text=phrase)).to_have_count(1)
    assert list(Coding.objects.values_list("code__name", flat=True)) == ["Platform support"] * 2
    open_picker_on(page, "And the team?")
    assert key_map(page) == codebook
    page.keyboard.press("Escape")
    # A full htmx refresh of the workspace (a filter), then a reload: the same numbers.
    page.locator("#filter-code").select_option(label="Small team")
    expect(page.locator(".cturn")).to_have_count(0)
    page.get_by_role("link", name="Show everything").click()
    expect(page.locator(".cturn")).to_have_count(4)
    open_picker_on(page, "the hardest part")
    assert key_map(page) == codebook
    page.keyboard.press("Escape")
    page.reload()
    open_picker_on(page, "the hardest part")
    assert key_map(page) == codebook
    # Pins change the keys, and only pins.
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Pin Small team").click()
    expect(page.get_by_role("button", name="Pin Small team")).to_have_attribute(
        "aria-pressed", "true"
    )
    open_picker_on(page, "the hardest part")
    assert key_map(page) == {"1": "Small team"}


def state():
    return sorted(Coding.objects.values_list("code__name", "snippet"))


def test_ctrl_z_and_redo_walk_back_and_forth_over_create_edit_and_delete(
    page, login, live_server, coding_setup, artifacts_dir
):
    login("chen", PASSWORD)
    page.goto(coding_setup["path"])
    editor = page.locator("#coding-editor")
    bar = page.locator(".undo-bar")
    states = [state()]
    # 1 create (picker, key 1)
    open_picker_on(page, "the compute budget was the hardest part")
    page.keyboard.press("1")
    expect(page.get_by_role("button", name="Undo: coded “the compute budget")).to_be_visible()
    states.append(state())
    # 2 edit: another code
    page.locator(".hl", has_text="the hardest part").first.click()
    editor.get_by_label("Code", exact=True).select_option(label="Small team")
    editor.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("button", name="Undo: recoded")).to_be_visible()
    states.append(state())
    # 3 edit: the span, a word shorter
    editor.get_by_role("button", name="End one word earlier").click()
    expect(page.get_by_role("button", name="Undo: moved the Small team coding")).to_be_visible()
    states.append(state())
    # 4 delete
    editor.get_by_role("button", name="Delete coding Small team").click()
    expect(bar).to_contain_text("Deleted a “Small team” coding.")
    states.append(state())
    assert states == [
        [],
        [("Compute as a gate", "the compute budget was the hardest part")],
        [("Small team", "the compute budget was the hardest part")],
        [("Small team", "the compute budget was the hardest")],
        [],
    ]
    undo_button = page.locator("[data-undo]")
    redo_button = page.locator("[data-redo]")
    expect(undo_button).to_have_text(
        "Undo: deleted the Small team coding of “the compute budget was the hardest”"
    )
    page.screenshot(path=artifacts_dir / "coding-undo-bar.png")
    # Ctrl+Z four times (focus outside any field): back to the start, one step each.
    page.locator("h1").click()
    for n in range(4, 0, -1):
        label = undo_button.text_content().removeprefix("Undo: ")
        page.keyboard.press("Control+z")
        expect(redo_button).to_have_text(f"Redo: {label}")
        assert state() == states[n - 1], n
    expect(undo_button).to_have_count(0)
    # Redo: Ctrl+Shift+Z twice, Ctrl+Y twice.
    redo_keys = ["Control+Shift+Z", "Control+Shift+Z", "Control+y", "Control+y"]
    for n, keys in enumerate(redo_keys, start=1):
        label = redo_button.text_content().removeprefix("Redo: ")
        page.keyboard.press(keys)
        expect(undo_button).to_have_text(f"Undo: {label}")
        assert state() == states[n], n
    expect(redo_button).to_have_count(0)
    # One step back, then a new action: the redo stack is gone, the reload says so too.
    page.keyboard.press("Control+z")
    expect(redo_button).to_be_visible()
    assert state() == states[3]
    open_picker_on(page, "We had no GPUs")
    page.keyboard.press("2")
    expect(page.get_by_role("button", name="Undo: coded “We had no GPUs")).to_be_visible()
    expect(redo_button).to_have_count(0)
    page.reload()
    expect(page.get_by_role("button", name="Undo: coded “We had no GPUs")).to_be_visible()
    expect(redo_button).to_have_count(0)


LONG_TURN = " ".join(
    [
        "We started with a single borrowed GPU and a lot of optimism.",
        "Nobody on the team had trained a model of that size before.",
        "The compute budget was the real gate: every experiment had to be argued for.",
        "Hugging Face gave us credits at one point, which changed what we could try.",
        "Then the licensing question came up and took half of our time.",
        "I remember one week where we shipped nothing at all because of a dataset card.",
    ]
    * 4
)


@pytest.fixture
def long_turn(study, lead, coder, coder2, admin_user):
    participant = consented_participant(study, "I9")
    text = f"Interviewer: How did it start?\n\nI9: {LONG_TURN}\n\nInterviewer: Thank you.\n"
    transcript = imported_transcript(study, participant, text)
    transcript = transcript_services.transcript_update(
        actor=lead, transcript=transcript, version=1, status="ready"
    )
    assignment_services.assignment_set(
        actor=lead, transcript=transcript, primary=coder, second=coder2, mode=CodingMode.INDEPENDENT
    )
    names = ["Compute as a gate", "Platform support", "Licensing", "Small team"]
    codes = [code_create(actor=admin_user, study=study, name=name) for name in names]
    layer = transcript.layers.get(coder=coder)

    def code(phrase, code, nth):
        at = -1
        for _ in range(nth + 1):
            at = text.index(phrase, at + 1)
        coding_services.coding_create(
            actor=coder, layer=layer, code=code, start=at, end=at + len(phrase)
        )

    code("The compute budget was the real gate", codes[0], 0)
    # Two codings starting on the same words: the second label goes below the first.
    code("Hugging Face gave us credits", codes[1], 1)
    code("Hugging Face gave us credits at one point", codes[3], 1)
    code("the licensing question came up", codes[2], 3)
    path = reverse("coding_view", kwargs={"study_slug": study.slug, "pk": transcript.pk})
    return {"path": path, "transcript": transcript}


# Each margin label's top and bottom, and the top and line height of the first line of its
# coding (the first client rect of the highlight piece where the coding starts).
PLACES_JS = """
() => Array.from(document.querySelectorAll('.mlabel')).map((label) => {
  const ref = label.dataset.coding;
  const start = Array.from(document.querySelectorAll('.hl.first'))
    .find((hl) => hl.dataset.starts.split(' ').includes(ref));
  const line = start.getClientRects()[0];
  const box = label.getBoundingClientRect();
  const said = start.closest('.said');
  return {
    name: label.textContent, top: box.top, bottom: box.bottom, lineTop: line.top,
    lineHeight: parseFloat(getComputedStyle(said).lineHeight),
    turnTop: said.getBoundingClientRect().top,
  };
})
"""


def assert_labels_beside_their_lines(page):
    places = page.evaluate(PLACES_JS)
    assert places
    for place in places:
        assert abs(place["top"] - place["lineTop"]) <= place["lineHeight"], place
    ordered = sorted(places, key=lambda p: p["top"])
    for upper, lower in zip(ordered, ordered[1:], strict=False):
        assert lower["top"] >= upper["bottom"] - 0.5, (upper, lower)  # never overlapping
    return places


def test_margin_labels_sit_beside_the_line_where_their_coding_starts(
    page, login, live_server, long_turn, artifacts_dir
):
    login("chen", PASSWORD)
    page.goto(long_turn["path"])
    expect(page.locator(".mlabel")).to_have_count(4)
    places = assert_labels_beside_their_lines(page)
    # In a long turn: the last coding's label is far down, not stacked at the top.
    last = next(p for p in places if p["name"].startswith("Licensing"))
    assert last["top"] - last["turnTop"] > 10 * last["lineHeight"]
    page.locator(".cturn").nth(1).screenshot(path=artifacts_dir / "coding-margin-labels.png")
    # After an apply (the turn is swapped in by htmx), a resize and a reload: still beside.
    open_picker_on(page, "a dataset card")
    page.keyboard.press("4")
    expect(page.locator(".mlabel")).to_have_count(5)
    assert_labels_beside_their_lines(page)
    page.set_viewport_size({"width": 1000, "height": 900})
    page.wait_for_timeout(200)  # one animation frame after the resize
    assert_labels_beside_their_lines(page)
    page.reload()
    expect(page.locator(".mlabel")).to_have_count(5)
    assert_labels_beside_their_lines(page)
