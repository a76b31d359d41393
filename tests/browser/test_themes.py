"""The theme board in Chromium, on the demo study: a lead moves codes by dragging them with the
mouse, through an item's "Move…" menu (read from the server when opened) with the mouse, and by
keyboard alone; each move is saved (a new place, a version, undoable)."""

import pytest
from playwright.sync_api import expect

from coding.models import Code
from tests.browser.conftest import CHROMIUM_MISSING, CHROMIUM_MISSING_REASON, DEMO_SLUG

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM_MISSING, reason=CHROMIUM_MISSING_REASON),
]

ON_RAMP = "On-ramp: reviewing data in small groups lets newcomers contribute early"
GATE = "Challenge: access to training compute decides whose contribution counts"


def board(page):
    page.goto(f"/studies/{DEMO_SLUG}/themes/")
    expect(page.get_by_role("heading", name="Theme board", level=1)).to_be_visible()
    return page


def node(page, kind, name):
    """The item (``kind``: code or theme) whose own title is ``name`` (its menus list other
    items' names too, so matching any text inside it would not do)."""
    title = page.locator(":scope > .node-head .node-name", has_text=name)
    return page.locator(f"li.{kind}-node").filter(has=title).first


def drag(page, source, target):
    """Press on ``source``, move in steps over ``target``, release (SortableJS's fallback
    drag listens to these mouse events)."""
    box, goal = source.bounding_box(), target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + 20, box["y"] + 20, steps=5)
    x, y = goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] - 4
    page.mouse.move(x, y, steps=40)
    # Linger over the target as a hand does, so the last position is the one that counts.
    for dy in (-2, -1, 0):
        page.wait_for_timeout(100)
        page.mouse.move(x, y + dy)
    page.mouse.up()


def test_a_lead_drags_a_code_into_a_theme_and_undoes_it(demo, login, page):
    login("lead")
    page.set_viewport_size({"width": 1280, "height": 3600})  # source and target both in view
    board(page)
    entry = node(page, "code", "Entry path")
    theme = node(page, "theme", ON_RAMP)
    drag(page, entry.locator(".grip"), theme.locator("ol.codes"))
    expect(page.locator("#messages")).to_contain_text("Moved “Entry path” to “On-ramp")
    expect(theme.locator("ol.codes")).to_contain_text("Entry path")
    assert Code.objects.get(study=demo, name="Entry path").parent.name == ON_RAMP
    expect(page.get_by_text("Codes not yet in a theme")).to_be_visible()
    expect(page.locator(".pool")).to_contain_text("Every code is in a theme")

    expect(page.locator(".undo")).to_contain_text("Last change: Moved “Entry path”")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".pool")).to_contain_text("Entry path")
    assert Code.objects.get(study=demo, name="Entry path").parent is None


def menu_link(item):
    return item.locator(":scope > .node-menu > a.menu-open")


def test_a_lead_moves_items_through_their_menus_by_mouse(demo, login, page):
    login("lead")
    board(page)
    expect(page.locator("#board select")).to_have_count(0)  # no menu until one is opened
    entry = node(page, "code", "Entry path")
    menu_link(entry).click()
    expect(menu_link(entry)).to_have_attribute("aria-expanded", "true")
    expect(entry.locator("select[name=parent]")).to_be_focused()
    # One menu at a time: opening another closes the first.
    theme = node(page, "theme", ON_RAMP)
    menu_link(theme).click()
    expect(theme.locator("select[name=parent]")).to_be_visible()
    expect(entry.locator("select")).to_have_count(0)
    expect(menu_link(entry)).to_have_attribute("aria-expanded", "false")
    theme.get_by_role("button", name="Close").click()
    expect(theme.locator("select")).to_have_count(0)
    expect(menu_link(theme)).to_be_focused()

    menu_link(entry).click()
    entry.locator("select[name=parent]").select_option(label=GATE)
    entry.get_by_role("button", name="Move", exact=True).click()
    expect(page.locator("#messages")).to_contain_text("Moved “Entry path” to “Challenge")
    gate = node(page, "theme", GATE)
    expect(gate.locator("ol.codes")).to_contain_text("Entry path")
    assert Code.objects.get(study=demo, name="Entry path").parent.name == GATE
    expect(node(page, "code", "Entry path")).to_be_focused()  # the moved item keeps the focus
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(".pool")).to_contain_text("Entry path")
    assert Code.objects.get(study=demo, name="Entry path").parent is None


def test_a_lead_arranges_the_board_by_keyboard(demo, login, page):
    login("lead")
    board(page)
    # Escape closes an item's menu and gives the focus back to the item.
    theme = node(page, "theme", ON_RAMP)
    theme.focus()
    page.keyboard.press("m")
    expect(theme.locator("select[name=parent]")).to_be_focused()
    page.keyboard.press("Escape")
    expect(theme.locator("select")).to_have_count(0)
    expect(theme).to_be_focused()
    # Move a code into another theme through its "Move…" menu, keys only.
    entry = node(page, "code", "Entry path")
    entry.focus()
    page.keyboard.press("m")
    select = entry.locator("select[name=parent]")
    expect(select).to_be_focused()
    select.select_option(label=GATE)  # what arrow keys in the open list do
    page.keyboard.press("Tab")
    expect(entry.get_by_role("button", name="Move", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    gate = node(page, "theme", GATE)
    expect(gate.locator("ol.codes")).to_contain_text("Entry path")
    assert Code.objects.get(study=demo, name="Entry path").parent.name == GATE
    expect(node(page, "code", "Entry path")).to_be_focused()

    # Reorder it among its neighbours: Alt+Up, focus stays on the moved item.
    codes = gate.locator("ol.codes > li.node .node-name")
    expect(codes).to_have_text(["Compute as a gate", "Barrier to contribution", "Entry path"])
    moved = node(page, "code", "Entry path")
    moved.focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(codes).to_have_text(["Compute as a gate", "Entry path", "Barrier to contribution"])
    expect(node(page, "code", "Entry path")).to_be_focused()
    # Up and Down go from item to item.
    page.keyboard.press("ArrowDown")
    expect(node(page, "code", "Barrier to contribution")).to_be_focused()
