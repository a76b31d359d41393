// The theme board by mouse and by keyboard. Without JavaScript every item has a "Move…" menu
// of plain forms; this file adds drag and drop (SortableJS, vendored) and keys, and sends each
// move as the same POST through htmx, which swaps the whole board back in (an item may be
// shown under several research questions, so every copy is redrawn).
//
// Keys on a focused item: Up/Down go to the previous/next item, Alt+Up/Alt+Down move it among
// its neighbours, M opens its "Move…" menu (a form: choose where, press Move).
(function () {
  "use strict";

  let refocus = null; // the item to focus again once the board is redrawn

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
    board.querySelectorAll("ol.nodes[data-accept]").forEach((list) => {
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

  document.addEventListener("keydown", (event) => {
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
      const menu = item.querySelector(":scope > details.node-menu");
      if (!menu) return;
      event.preventDefault();
      menu.open = true;
      const field = menu.querySelector("select, button");
      if (field) field.focus();
    }
  });

  document.addEventListener("htmx:afterSettle", setUp);
  document.addEventListener("DOMContentLoaded", setUp);
})();
