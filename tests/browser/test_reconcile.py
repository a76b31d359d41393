"""A reviewer reconciles a transcript by keyboard and mouse in real Chromium: disagreements
settled, the consensus layer shows the result, the page ends in a completed state. And no key
ever records a decision the reviewer did not make: not on a decided disagreement, not while
typing a rationale after the panel refreshed, not while a layer is reopened."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from coding.models import (
    ConsensusCoding,
    ConsensusSource,
    Decision,
    DisagreementKind,
    LayerRole,
    Reconciliation,
)
from coding.services import assignments as assignment_services
from coding.services import reconciliation as rec
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON
from tests.coding.conftest import codes  # noqa: F401 (fixture)
from tests.coding.test_reconciliation import (  # noqa: F401 (fixtures)
    layers_coded,
    start,
    transcript,
)
from tests.conftest import PASSWORD

# After a shortcut letter, a pause before typing the rationale: a key at typing speed after it
# means the letter was the start of a word (reconcile.js undoes the choice).
HUMAN_PAUSE_MS = 700

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

    # 1: "o" chooses "keep both" (no rationale needed) and moves to the rationale; no letter
    # saves: Ctrl+Enter does.
    page.keyboard.press("o")
    expect(page.get_by_label("Keep both")).to_be_checked()
    expect(page.get_by_label("Rationale")).to_be_focused()
    expect(progress).to_have_attribute("aria-valuenow", "0")
    page.keyboard.press("Control+Enter")
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 2 of 4")
    expect(progress).to_have_attribute("aria-valuenow", "1")

    # 2: "n" (neither) asks for the rationale first; Ctrl+Enter saves.
    page.keyboard.press("n")
    rationale = page.get_by_label("Rationale")
    expect(rationale).to_be_focused()
    page.wait_for_timeout(HUMAN_PAUSE_MS)  # a reviewer looks before writing (see below)
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
    page.wait_for_timeout(HUMAN_PAUSE_MS)
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

    # 4, the last: the page ends in a completed state, not back at the first disagreement.
    expect(panel.get_by_role("heading", level=2)).to_contain_text("Disagreement 4 of 4")
    page.keyboard.press("o")
    page.keyboard.press("Control+Enter")
    complete = page.locator(".reconcile-complete")
    expect(complete.get_by_role("heading", name="Reconciliation complete")).to_be_visible()
    expect(complete).to_contain_text("All 4 disagreements are decided")
    expect(complete).to_contain_text("No other transcript is waiting for your reconciliation.")
    expect(progress).to_have_attribute("aria-valuenow", "4")
    page.keyboard.press("a")  # nothing to decide here
    page.screenshot(path=artifacts_dir / "reconcile-complete.png", full_page=True)
    assert "" not in {d.decision for d in reconciliation.disagreements.all()}


def open_disagreement(page, live_server, study, transcript, d):
    page.goto(
        live_server.url + reverse("reconcile", args=[study.slug, transcript.pk]) + f"?d={d.number}"
    )
    panel = page.locator("#disagreement")
    expect(panel.get_by_role("heading", level=2)).to_contain_text(f"Disagreement {d.number} of")
    return panel


def resolve_posts(page) -> list:
    """The decision requests the page sends, from now on."""
    posts = []
    page.on(
        "request",
        lambda request: (
            posts.append(request.url)
            if request.method == "POST" and "/resolve/" in request.url
            else None
        ),
    )
    return posts


def test_letters_do_nothing_on_a_decided_disagreement_and_a_change_needs_a_new_rationale(
    page, login, live_server, study, layers_coded, reviewer
):
    d = start(reviewer, layers_coded).disagreements.get(kind=DisagreementKind.DIFFERENT_CODE)
    rec.disagreement_resolve(
        actor=reviewer,
        disagreement=d,
        version=d.version,
        decision=Decision.NEITHER,
        rationale="Neither fits: it is about language.",
    )
    login(reviewer.username, PASSWORD)
    panel = open_disagreement(page, live_server, study, layers_coded, d)
    posts = resolve_posts(page)
    expect(panel.locator(".decided")).to_contain_text("Decided: Neither")
    expect(panel.locator(".resolve-form")).to_have_count(0)
    panel.focus()
    for key in "abone":
        page.keyboard.press(key)
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(500)
    assert posts == []
    d.refresh_from_db()
    assert (d.decision, d.rationale) == (Decision.NEITHER, "Neither fits: it is about language.")

    # Changing is an explicit step: no decision chosen, no rationale carried over.
    panel.get_by_role("link", name="Change decision").click()
    form = panel.locator(".resolve-form")
    expect(form).to_be_visible()
    rationale = form.get_by_label("Why the decision changes")
    expect(rationale).to_have_value("")
    expect(form.locator("input[name=decision]:checked")).to_have_count(0)
    form.get_by_label("Accept A").check()
    form.get_by_role("button", name="Save the new decision").click()
    expect(page.locator("#reconcile-error")).to_contain_text("Give a new rationale")
    d.refresh_from_db()
    assert d.decision == Decision.NEITHER
    form = page.locator("#disagreement .resolve-form")
    form.get_by_label("Accept A").check()
    form.get_by_label("Why the decision changes").fill("At the debrief: the team's size.")
    form.get_by_role("button", name="Save the new decision").click()
    expect(page.locator(".disagreement-list li").nth(d.number - 1)).to_contain_text("Accept A")
    d.refresh_from_db()
    assert (d.decision, d.rationale) == (Decision.A, "At the debrief: the team's size.")


def test_a_rationale_typed_after_the_panel_refreshed_saves_nothing(
    page, login, live_server, study, layers_coded, reviewer
):
    reconciliation = start(reviewer, layers_coded)
    d = reconciliation.disagreements.get(kind=DisagreementKind.DIFFERENT_CODE)
    login(reviewer.username, PASSWORD)
    panel = open_disagreement(page, live_server, study, layers_coded, d)
    posts = resolve_posts(page)
    words = "a bone on the edge, obviously both of them"

    # A save refused (no rationale) refreshes the panel; the typist keeps typing in the box.
    page.keyboard.press("n")
    rationale = page.locator("#rationale")
    expect(rationale).to_be_focused()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#reconcile-error")).to_contain_text("Say why")
    assert len(posts) == 1
    page.keyboard.type(words)
    expect(page.locator("#rationale")).to_have_value(words)
    expect(page.locator("#rationale")).to_be_focused()

    # Moving away and back (k, j) refreshes the panel too; typing in the box is typing.
    assert d.number > 1
    panel.focus()
    page.keyboard.press("k")
    expect(panel.get_by_role("heading", level=2)).not_to_contain_text(f"Disagreement {d.number} ")
    page.keyboard.press("j")
    expect(panel.get_by_role("heading", level=2)).to_contain_text(f"Disagreement {d.number} ")
    page.locator("#rationale").click()
    page.keyboard.type(words)
    expect(page.locator("#rationale")).to_have_value(words)

    # Typing while the panel, not the box, has the focus: the first letter is not taken as a
    # decision; all of the words land in the rationale.
    page.locator("#rationale").fill("")
    panel.focus()
    page.keyboard.type(words)
    expect(page.locator("#rationale")).to_have_value(words)
    expect(panel.locator("input[name=decision]:checked")).to_have_count(0)
    page.keyboard.press("Control+Enter")  # what the reviewer meant as rationale is refused
    expect(page.locator("#reconcile-error")).to_contain_text("Choose A, B")
    page.wait_for_timeout(500)
    assert len(posts) == 2  # the two refused saves
    assert not {x.decision for x in reconciliation.disagreements.all()} - {""}
    assert not ConsensusCoding.objects.filter(disagreement__isnull=False).exists()


def test_an_edited_decision_takes_the_codes_in_dispute_and_a_selected_span(
    page, login, live_server, study, layers_coded, reviewer
):
    reconciliation = start(reviewer, layers_coded)
    d = reconciliation.disagreements.get(kind=DisagreementKind.DIFFERENT_CODE)
    login(reviewer.username, PASSWORD)
    panel = open_disagreement(page, live_server, study, layers_coded, d)
    page.keyboard.press("e")
    edit = panel.locator(".edit-fields")
    expect(edit).to_be_visible()
    # Prefilled: A's code in dispute; B's offered; nothing else unless chosen on purpose.
    expect(edit.get_by_label("Small team")).to_be_checked()
    expect(edit.get_by_label("Mutual help")).not_to_be_checked()
    expect(edit.locator("input[name=code][value=other]")).not_to_be_checked()
    # The span is chosen by selecting words in the passage shown.
    words = "ของเรา"
    page.evaluate(
        """(words) => {
          const text = document.querySelector('#disagreement .context-text');
          const walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT);
          let node;
          while ((node = walker.nextNode())) {
            const at = node.data.indexOf(words);
            if (at >= 0) {
              const range = document.createRange();
              range.setStart(node, at);
              range.setEnd(node, at + words.length);
              const selection = window.getSelection();
              selection.removeAllRanges();
              selection.addRange(range);
              break;
            }
          }
        }""",
        words,
    )
    panel.locator("#passage mark").dispatch_event("mouseup")
    expect(edit.locator("#edit-span")).to_contain_text(f"“{words}”")
    at = layers_coded.text.index(words)
    expect(edit.locator("#edit-start")).to_have_value(str(at))
    expect(edit.locator("#edit-end")).to_have_value(str(at + len(words)))
    edit.get_by_label("Mutual help").check()
    page.locator("#rationale").fill("Only 'our': it is about helping.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".disagreement-list li").nth(d.number - 1)).to_contain_text("Edited")
    kept = ConsensusCoding.objects.get(disagreement=d)
    assert (kept.code.name, kept.snippet, kept.source) == (
        "Mutual help",
        words,
        ConsensusSource.EDITED,
    )


def test_a_reopened_layer_pauses_decisions(
    page, login, live_server, study, layers_coded, reviewer, lead, artifacts_dir
):
    reconciliation = start(reviewer, layers_coded)
    d = reconciliation.disagreements.get(kind=DisagreementKind.MISSING_IN_A)
    login(reviewer.username, PASSWORD)
    panel = open_disagreement(page, live_server, study, layers_coded, d)
    # The lead reopens A's layer while the reviewer has the page open: the decision is refused.
    assignment_services.layer_reopen(
        actor=lead, layer=layers_coded.layers.get(role=LayerRole.PRIMARY), reason="missed a turn"
    )
    message = "A's layer was reopened; decisions are paused until it is submitted again."
    page.keyboard.press("b")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#reconcile-error")).to_contain_text(message)
    expect(page.locator("#reconcile-paused")).to_contain_text(message)
    expect(panel.locator(".resolve-form")).to_have_count(0)
    expect(page.get_by_text("(paused)")).to_be_visible()
    page.screenshot(path=artifacts_dir / "reconcile-paused.png", full_page=True)
    # The page as it loads from now on: no form, letters do nothing.
    posts = resolve_posts(page)
    open_disagreement(page, live_server, study, layers_coded, d)
    expect(page.locator("#reconcile-paused")).to_contain_text(message)
    page.locator("#disagreement").focus()
    for key in "abone":
        page.keyboard.press(key)
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(500)
    assert posts == []
    assert not {x.decision for x in reconciliation.disagreements.all()} - {""}
