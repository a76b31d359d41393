// The theme board by mouse and by keyboard. Without JavaScript every item's "Move…" link leads
// to a page of plain forms; this file opens that menu in place instead (read from the server
// when opened: listing every theme on every item made the board heavy), adds drag and drop
// (SortableJS, vendored) and keys, and sends each move as the same POST through htmx, which
// swaps the whole board back in (an item may be shown under several research questions, so
// every copy is redrawn).
//
// Keys on a focused item: Up/Down go to the previous/next item, Alt+Up/Alt+Down move it among
// its neighbours, M opens its "Move…" menu (a form: choose where, press Move); Escape closes
// the menu and puts the focus back where it was.
(function () {
  "use strict";

  let refocus = null; // the item to focus again once the board is redrawn
  let opener = null; // what had the focus when the open menu was opened

  function csrf() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function move(item, list, position) {
    const board = document.getElementById("board");
    const query = board.dataset.query ? "?" + board.dataset.query : "";
    refocus = item.dataset.ref;
    htmx.ajax("POST", item.dataset.moveUrl + query, {
      target: "#board",
      swap: "outerHTML",
      headers: { "X-CSRFToken": csrf() },
      values: {
        parent: list.dataset.parent || "",
        position: String(position),
        version: item.dataset.version,
      },
    });
  }

  function siblings(item) {
    return Array.from(item.parentElement.children).filter((el) => el.matches("li.node"));
  }

  function setUp() {
    const board = document.getElementById("board");
    if (!board || !("arrange" in board.dataset) || typeof Sortable === "undefined") return;
    board.querySelectorAll("ol.nodes[data-accept]:not([data-sortable])").forEach((list) => {
      list.dataset.sortable = "";
      const accept = list.dataset.accept;
      Sortable.create(list, {
        group: { name: accept, pull: true, put: [accept] },
        draggable: "li.node",
        handle: ".grip",
        forceFallback: true, // mouse events, the same in every browser (and in tests)
        fallbackOnBody: true,
        animation: 120,
        onEnd(event) {
          if (event.from === event.to && event.oldDraggableIndex === event.newDraggableIndex) {
            return;
          }
          move(event.item, event.to, event.newDraggableIndex);
        },
      });
    });
    if (refocus) {
      const again = board.querySelector(`li.node[data-ref="${CSS.escape(refocus)}"]`);
      refocus = null;
      if (again) again.focus();
    }
  }

  function closeMenu(menu, focus) {
    const link = menu.querySelector("a.menu-open");
    menu.querySelector(".menu-slot").replaceChildren();
    menu.classList.remove("open");
    link.setAttribute("aria-expanded", "false");
    if (focus) (focus.isConnected ? focus : link).focus();
  }

  function openMenu(menu, from) {
    document.querySelectorAll("#board .node-menu.open").forEach((other) => closeMenu(other));
    const link = menu.querySelector("a.menu-open");
    opener = from;
    menu.classList.add("open");
    link.setAttribute("aria-expanded", "true");
    htmx.ajax("GET", link.getAttribute("href"), {
      source: link,
      target: menu.querySelector(".menu-slot"),
      swap: "innerHTML",
    });
  }

  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("#board a.menu-open");
    const close = event.target instanceof Element && event.target.closest("#board .menu-close");
    if (!link && !close) return;
    event.preventDefault();
    const menu = (link || close).closest(".node-menu");
    if (close || menu.classList.contains("open")) closeMenu(menu, link || opener);
    else openMenu(menu, link);
  });

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && event.target instanceof Element) {
      const menu = event.target.closest("#board .node-menu.open");
      if (menu) {
        event.preventDefault();
        closeMenu(menu, opener);
        return;
      }
    }
    const item = event.target;
    if (!(item instanceof HTMLElement) || !item.matches("#board[data-arrange] li.node")) return;
    if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const down = event.key === "ArrowDown";
      if (event.altKey) {
        const row = siblings(item);
        const index = row.indexOf(item) + (down ? 1 : -1);
        if (index >= 0 && index < row.length) move(item, item.parentElement, index);
        return;
      }
      const all = Array.from(document.querySelectorAll("#board li.node"));
      const next = all[all.indexOf(item) + (down ? 1 : -1)];
      if (next) next.focus();
    } else if ((event.key === "m" || event.key === "M") && !event.ctrlKey && !event.metaKey) {
      const menu = item.querySelector(":scope > .node-menu");
      if (!menu) return;
      event.preventDefault();
      openMenu(menu, item);
    }
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const slot = event.detail.target;
    if (slot instanceof Element && slot.matches(".menu-slot")) {
      // The menu has arrived: the focus goes to its first field.
      const field = slot.querySelector("select, button:not([disabled])");
      if (field) field.focus();
      return;
    }
    setUp();
  });
  // A move from a menu: the item keeps the focus once the board is redrawn.
  document.addEventListener("htmx:beforeRequest", (event) => {
    const form = event.detail.elt;
    if (form instanceof HTMLFormElement && form.closest(".menu-slot")) {
      refocus = form.closest("li.node").dataset.ref;
    }
  });
  document.addEventListener("DOMContentLoaded", setUp);
})();
