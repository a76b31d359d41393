// The coding view: browser selection → code-point offsets, the code picker, the coding editor,
// keyboard selection, next/previous coding, hover/focus tips, undo/redo keys and the margin
// labels' places beside the lines their codings start on.
//
// Offsets are Unicode code points into the transcript's canonical text (as the server stores
// them). The DOM counts UTF-16 units, so every length here goes through Array.from(), which
// iterates by code point: 🤗 counts one, as Python's len() does. Each turn's <p class="said">
// holds exactly text[start:end] of its turn (data-start / data-end), split into spans.
//
// Everything is delegated from document: htmx swaps the whole workspace after each write.
(function () {
  "use strict";

  const WS = /^\s$/u;

  function cp(str) {
    return Array.from(str).length;
  }

  function workspace() {
    return document.getElementById("coding-workspace");
  }

  function picker() {
    return document.getElementById("code-picker");
  }

  function saids() {
    const ws = workspace();
    return ws ? Array.from(ws.querySelectorAll(".said")) : [];
  }

  function typing(el) {
    return el && el.closest && el.closest("input, textarea, select, [contenteditable]");
  }

  // A field where Ctrl+Z already means "undo my typing".
  function writing(el) {
    if (!el || !el.closest) return false;
    if (el.closest("textarea, [contenteditable]")) return true;
    const input = el.closest("input");
    return Boolean(input) && !["checkbox", "radio", "button", "submit", "reset", "hidden"].includes(input.type);
  }

  // The code-point offset of a DOM boundary point. A point outside every turn's text (on a
  // speaker name, in the margin) snaps to the nearest turn text: forward for a start, backward
  // for an end. Returns null when nothing of a turn's text lies on the wanted side.
  function toOffset(node, offset, isEnd) {
    let previousEnd = null;
    for (const said of saids()) {
      const whole = document.createRange();
      whole.selectNodeContents(said);
      let where;
      try {
        where = whole.comparePoint(node, offset);
      } catch (e) {
        return null;
      }
      if (where === 0) {
        const before = document.createRange();
        before.setStart(said, 0);
        before.setEnd(node, offset);
        return Number(said.dataset.start) + cp(before.toString());
      }
      if (where < 0) return isEnd ? previousEnd : Number(said.dataset.start);
      previousEnd = Number(said.dataset.end);
    }
    return isEnd ? previousEnd : null;
  }

  // The selected code points with their offsets, turn by turn (gaps between turns skipped).
  function charsBetween(start, end) {
    const chars = [];
    for (const said of saids()) {
      const s = Number(said.dataset.start);
      const e = Number(said.dataset.end);
      if (e <= start || s >= end) continue;
      Array.from(said.textContent).forEach(function (ch, i) {
        const at = s + i;
        if (at >= start && at < end) chars.push([at, ch]);
      });
    }
    return chars;
  }

  // The current selection as {start, end, text, rect}, trimmed of white space at both ends.
  function selectedSpan() {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    const list = document.querySelector(".coding-turns");
    if (!list || !range.intersectsNode(list)) return null;
    const start = toOffset(range.startContainer, range.startOffset, false);
    const end = toOffset(range.endContainer, range.endOffset, true);
    if (start === null || end === null || end <= start) return null;
    const chars = charsBetween(start, end);
    let first = 0;
    let last = chars.length - 1;
    while (first <= last && WS.test(chars[first][1])) first += 1;
    while (last >= first && WS.test(chars[last][1])) last -= 1;
    if (first > last) return null;
    const text = chars.slice(first, last + 1).map(function (c) { return c[1]; }).join("");
    return { start: chars[first][0], end: chars[last][0] + 1, text: text, rect: range.getBoundingClientRect() };
  }

  // --- the picker -------------------------------------------------------------------------

  function options() {
    const form = picker();
    return form ? Array.from(form.querySelectorAll("[role=option]")) : [];
  }

  function visibleOptions() {
    return options().filter(function (o) { return !o.hidden; });
  }

  function setActive(option) {
    const search = document.getElementById("picker-search");
    options().forEach(function (o) { o.classList.toggle("active", o === option); });
    if (option) {
      search.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      search.removeAttribute("aria-activedescendant");
    }
  }

  function activeOption() {
    return options().find(function (o) { return o.classList.contains("active") && !o.hidden; });
  }

  function filter() {
    const search = document.getElementById("picker-search");
    const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    options().forEach(function (o) {
      const hay = o.dataset.search;
      o.hidden = !words.every(function (w) { return hay.includes(w); });
    });
    const shown = visibleOptions();
    picker().querySelector(".no-match").hidden = shown.length > 0;
    setActive(shown[0] || null);
  }

  let lastFocus = null;

  function place(form, rect) {
    form.hidden = false;
    const width = form.offsetWidth;
    const left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - width - 8));
    form.style.left = left + window.scrollX + "px";
    form.style.top = rect.bottom + window.scrollY + 6 + "px";
  }

  function openPicker(span) {
    const form = picker();
    if (!form || !span) return;
    form.elements.start.value = span.start;
    form.elements.end.value = span.end;
    form.querySelector(".picker-quote").textContent = "“" + span.text + "”";
    form.querySelectorAll("input[name=code]").forEach(function (box) { box.checked = false; });
    options().forEach(function (o) { o.setAttribute("aria-selected", "false"); });
    const search = document.getElementById("picker-search");
    search.value = "";
    place(form, span.rect);
    filter();
    lastFocus = document.activeElement;
    search.focus({ preventScroll: true });
  }

  function closePicker() {
    const form = picker();
    if (!form || form.hidden) return;
    form.hidden = true;
    if (lastFocus && document.contains(lastFocus)) lastFocus.focus({ preventScroll: true });
  }

  function apply(option) {
    const form = picker();
    if (option) option.querySelector("input[name=code]").checked = true;
    if (!form.querySelector("input[name=code]:checked")) return;
    form.requestSubmit();
  }

  // The codes just applied become the most recent: tagged, and those without a number key
  // move up to just after the keyed ones, as the server orders them. The number keys never
  // move: a key means the same code until the coder changes the pins (coding/selectors).
  function promoteRecent(form) {
    const list = form.querySelector("#picker-list");
    const keyed = list.querySelectorAll("[role=option][data-key]");
    let after = keyed.length ? keyed[keyed.length - 1] : null;
    form.querySelectorAll("input[name=code]:checked").forEach(function (box) {
      const option = box.closest("[role=option]");
      box.checked = false;
      option.setAttribute("aria-selected", "false");
      if (!option.hasAttribute("data-pinned") && !option.querySelector(".tag.recent")) {
        const tag = document.createElement("span");
        tag.className = "tag recent";
        tag.textContent = "recent";
        option.querySelector("label").appendChild(tag);
      }
      if (option.hasAttribute("data-key")) return;
      list.insertBefore(option, after ? after.nextSibling : list.firstChild);
      after = option;
    });
  }

  // No code fits: open the new-code fields with what was typed as the name.
  function startNewCode() {
    const form = picker();
    const details = form.querySelector("details.new-code");
    const search = document.getElementById("picker-search");
    details.open = true;
    const name = document.getElementById("new-code-name");
    if (!name.value) name.value = search.value.trim();
    (name.value ? document.getElementById("new-code-definition") : name).focus();
  }

  function onPickerKey(event) {
    const search = event.target;
    const shown = visibleOptions();
    const current = activeOption();
    const index = shown.indexOf(current);
    if (event.key === "Escape") {
      event.preventDefault();
      closePicker();
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive(shown[(index + step + shown.length) % shown.length] || null);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const picked = picker().querySelector("input[name=code]:checked");
      if (!picked && !current) startNewCode();
      else apply(picked ? null : current);
    } else if (event.key === " " && search.value === "" && current) {
      // Space with an empty search ticks the highlighted code: several codes at once.
      event.preventDefault();
      const box = current.querySelector("input[name=code]");
      box.checked = !box.checked;
      current.setAttribute("aria-selected", String(box.checked));
    } else if (/^[1-9]$/.test(event.key) && search.value === "") {
      event.preventDefault();
      const option = picker().querySelector('[role=option][data-key="' + event.key + '"]');
      if (option) apply(option);
    }
  }

  // After a refused "create and apply", the server sends the picker back with what was typed.
  function reopenPicker() {
    const form = picker();
    if (!form || !form.dataset.reopen) return;
    delete form.dataset.reopen;
    const start = Number(form.elements.start.value);
    const said = saids().find(function (s) { return Number(s.dataset.end) > start; }) || saids()[0];
    if (!said) return;
    place(form, said.getBoundingClientRect());
    filter();
    const name = document.getElementById("new-code-name");
    (name.value ? document.getElementById("new-code-definition") : name).focus();
  }

  // --- the coding editor and highlights ---------------------------------------------------

  function markCurrent(ids) {
    const ws = workspace();
    ws.querySelectorAll(".current").forEach(function (el) { el.classList.remove("current"); });
    ws.querySelectorAll(".hl").forEach(function (hl) {
      const has = hl.dataset.codings.split(" ").some(function (id) { return ids.includes(id); });
      if (has) hl.classList.add("current");
    });
    ids.forEach(function (id) {
      ws.querySelectorAll('.mlabel[data-coding="' + id + '"]').forEach(function (b) { b.classList.add("current"); });
    });
  }

  function openEditor(id, focus) {
    const ws = workspace();
    markCurrent([id]);
    reselecting = false;
    return htmx.ajax("GET", ws.dataset.editorBase + id + "/", { target: "#coding-editor", swap: "innerHTML" })
      .then(function () {
        if (!focus) return;
        const target = document.querySelector("#coding-editor select, #coding-editor .editor-title");
        if (target) {
          if (!target.matches("select")) target.setAttribute("tabindex", "-1");
          target.focus({ preventScroll: true });
        }
      });
  }

  function showCodings(hl, focus) {
    const ids = (hl.dataset.codings || "").split(" ");
    openEditor(ids[0], focus);
    markCurrent(ids);
  }

  // Next / previous coding: every coding in reading order, where it begins (several codings
  // may begin on the same piece of text; each is a stop of its own).
  let cursor = null;

  function stops() {
    const list = [];
    document.querySelectorAll("#coding-workspace .hl.first").forEach(function (el) {
      el.dataset.starts.split(" ").forEach(function (id) { list.push({ el: el, id: id }); });
    });
    return list;
  }

  function jump(direction) {
    const list = stops();
    if (!list.length) return;
    let i = cursor ? list.findIndex(function (s) { return s.el === cursor.el && s.id === cursor.id; }) : -1;
    const active = document.activeElement;
    const turn = active && active.classList && active.classList.contains("said") ? active : null;
    if (turn && (i < 0 || !turn.contains(list[i].el))) {
      // From a turn with the caret in it: the first coding at or after that turn.
      const after = list.findIndex(function (s) {
        return turn.contains(s.el) || (turn.compareDocumentPosition(s.el) & Node.DOCUMENT_POSITION_FOLLOWING);
      });
      if (after < 0) i = direction > 0 ? list.length - 1 : list.length;
      else i = direction > 0 ? after - 1 : after;
    }
    const n = i < 0 && direction > 0 ? 0 : (i + direction + list.length) % list.length;
    cursor = list[n];
    cursor.el.scrollIntoView({ block: "center" });
    cursor.el.focus({ preventScroll: true });
    openEditor(cursor.id, false);
  }

  // --- hover / focus tips -----------------------------------------------------------------

  function tipElement() {
    let tip = document.getElementById("hl-tip");
    if (!tip) {
      tip = document.createElement("div");
      tip.id = "hl-tip";
      tip.className = "hl-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    return tip;
  }

  function showTip(hl) {
    const tip = tipElement();
    tip.textContent = hl.dataset.tip;
    tip.hidden = false;
    const rect = hl.getBoundingClientRect();
    const left = Math.max(8, Math.min(rect.left, document.documentElement.clientWidth - tip.offsetWidth - 8));
    tip.style.left = left + window.scrollX + "px";
    tip.style.top = rect.top + window.scrollY - tip.offsetHeight - 6 + "px";
    hl.setAttribute("aria-describedby", "hl-tip");
  }

  function hideTip() {
    const tip = document.getElementById("hl-tip");
    if (tip) tip.hidden = true;
  }

  // --- keyboard selection inside a turn ---------------------------------------------------
  // A turn (<p class="said" tabindex="0">) behaves like read-only text with a caret: arrows
  // move it, Shift+arrows select, Ctrl moves by word, Enter codes the selection.

  function selectionIn(said) {
    const selection = window.getSelection();
    return selection.rangeCount > 0 && said.contains(selection.anchorNode);
  }

  function onTurnKey(event, said) {
    const selection = window.getSelection();
    const moves = { ArrowLeft: "backward", ArrowRight: "forward", ArrowUp: "backward", ArrowDown: "forward" };
    if (moves[event.key]) {
      event.preventDefault();
      if (!selectionIn(said)) selection.collapse(said, 0);
      const unit = event.key === "ArrowUp" || event.key === "ArrowDown" ? "line" : event.ctrlKey || event.altKey ? "word" : "character";
      selection.modify(event.shiftKey ? "extend" : "move", moves[event.key], unit);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      if (!selectionIn(said)) selection.collapse(said, 0);
      selection.modify(event.shiftKey ? "extend" : "move", event.key === "Home" ? "backward" : "forward", "lineboundary");
    } else if (event.key === "Enter" && picker()) {
      event.preventDefault();
      if (reselecting) {
        takeReselection();
        return;
      }
      if (selection.isCollapsed || !selectionIn(said)) {
        const range = document.createRange();
        range.selectNodeContents(said);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      openPicker(selectedSpan());
    }
  }

  // --- a new span for an existing coding ---------------------------------------------------

  let reselecting = false;

  function startReselect() {
    reselecting = true;
    const note = document.querySelector("#coding-editor .reselect-note");
    note.hidden = false;
    note.textContent = "Select the new text in the transcript (mouse, or a turn with Shift+arrows and Enter).";
    const first = saids()[0];
    if (first) first.focus();
  }

  function takeReselection() {
    const span = selectedSpan();
    const form = document.querySelector("#coding-editor form");
    if (!span || !form) return false;
    reselecting = false;
    form.elements.start.value = span.start;
    form.elements.end.value = span.end;
    const note = form.querySelector(".reselect-note");
    note.textContent = "New span: “" + span.text + "”";
    const button = form.querySelector("[data-use-selection]");
    button.hidden = false;
    button.focus({ preventScroll: true });
    return true;
  }

  // --- margin labels beside their lines ---------------------------------------------------
  // Each label goes level with the line where its coding starts (a coding begun in an earlier
  // turn: the turn's first line). A label that would overlap the one above it moves down, and
  // the margin grows to hold them all. Positions are read for every turn first and written
  // after, so that a long transcript costs one layout. Without this script (or in the narrow
  // one-column layout) the labels simply stack at the top of the margin.

  // The text node and UTF-16 index of each code-point offset in `wanted` (ascending, relative
  // to the turn's text), in one walk over the turn's text nodes.
  function pointsAt(said, wanted) {
    const found = [];
    const walker = document.createTreeWalker(said, NodeFilter.SHOW_TEXT);
    let seen = 0;
    let i = 0;
    while (i < wanted.length && walker.nextNode()) {
      const node = walker.currentNode;
      const chars = Array.from(node.data);
      while (i < wanted.length && wanted[i] < seen + chars.length) {
        found.push([node, chars.slice(0, wanted[i] - seen).join("").length]);
        i += 1;
      }
      seen += chars.length;
    }
    return found;
  }

  // Where the labels of one turn should go: [[li, top], ...] and the height they need, or
  // null when the margin is not beside the text.
  function labelPlaces(turn) {
    const said = turn.querySelector(".said");
    const margin = turn.querySelector(".margin");
    const items = margin ? Array.from(margin.children).filter(function (li) { return li.dataset.start; }) : [];
    if (!said || !items.length) return null;
    const box = margin.getBoundingClientRect();
    if (box.left < said.getBoundingClientRect().right) return { margin: margin, items: items, off: true };
    const base = Number(said.dataset.start);
    const offsets = items.map(function (li) { return Math.max(0, Number(li.dataset.start) - base); });
    const sorted = Array.from(new Set(offsets)).sort(function (a, b) { return a - b; });
    const points = pointsAt(said, sorted);
    const lineTop = new Map();
    const range = document.createRange();
    sorted.forEach(function (offset, n) {
      const point = points[n];
      let rect = null;
      if (point) {
        range.setStart(point[0], point[1]);
        range.setEnd(point[0], Math.min(point[1] + 1, point[0].data.length));
        rect = range.getClientRects()[0] || null;
      }
      // The middle of the line's first character, relative to the margin.
      lineTop.set(offset, rect ? rect.top + rect.height / 2 - box.top : null);
    });
    let bottom = 0;
    const places = items.map(function (li, n) {
      const height = li.offsetHeight;
      const middle = lineTop.get(offsets[n]);
      const wanted = middle === null ? 0 : Math.max(0, middle - height / 2);
      const top = Math.max(wanted, bottom);
      bottom = top + height + 2;
      return [li, top];
    });
    return { margin: margin, items: items, places: places, height: bottom };
  }

  function placeLabels(turns) {
    const plans = turns.map(labelPlaces).filter(Boolean);
    plans.forEach(function (plan) {
      if (plan.off) {
        plan.margin.classList.remove("placed");
        plan.margin.style.minHeight = "";
        plan.items.forEach(function (li) { li.style.top = ""; });
        return;
      }
      plan.places.forEach(function (place) { place[0].style.top = place[1] + "px"; });
      plan.margin.style.minHeight = plan.height + "px";
      plan.margin.classList.add("placed");
    });
  }

  function placeAllLabels() {
    const ws = workspace();
    if (ws) placeLabels(Array.from(ws.querySelectorAll(".cturn")));
  }

  let placing = false;
  function placeSoon() {
    if (placing) return;
    placing = true;
    window.requestAnimationFrame(function () {
      placing = false;
      placeAllLabels();
    });
  }

  // --- wiring -----------------------------------------------------------------------------

  function afterSelection(event) {
    if (event.target.closest && event.target.closest("#code-picker, #coding-editor")) return;
    window.setTimeout(function () {
      if (reselecting && takeReselection()) return;
      const span = selectedSpan();
      if (span && picker()) {
        openPicker(span);
        return;
      }
      const hl = event.target.closest && event.target.closest(".hl");
      if (event.type === "mouseup" && hl && !span) showCodings(hl, true);
    }, 0);
  }

  document.addEventListener("mouseup", afterSelection);
  document.addEventListener("keyup", function (event) {
    // A selection made outside a turn's own caret (e.g. by caret browsing) opens the picker
    // when Shift is released; inside a turn, Enter does, so a selection can grow in steps.
    if (event.target.classList && event.target.classList.contains("said")) return;
    if (event.shiftKey || event.key === "Shift") afterSelection(event);
  });

  document.addEventListener("keydown", function (event) {
    const target = event.target;
    if (target.id === "picker-search") {
      onPickerKey(event);
      return;
    }
    if (event.key === "Escape") {
      if (picker() && !picker().hidden) {
        closePicker();
      } else if (reselecting) {
        reselecting = false;
        const note = document.querySelector("#coding-editor .reselect-note");
        if (note) note.hidden = true;
      }
      return;
    }
    // Ctrl+Z undoes, Ctrl+Shift+Z or Ctrl+Y redoes: the bar's buttons, which name the step.
    // Not while writing text (a memo): there the keys undo the typing, as everywhere.
    const key = event.key.toLowerCase();
    if ((event.ctrlKey || event.metaKey) && (key === "z" || key === "y") && !writing(target)) {
      const redo = key === "y" || event.shiftKey;
      const button = document.querySelector("#coding-workspace " + (redo ? "[data-redo]" : "[data-undo]"));
      event.preventDefault();
      if (button && !button.disabled && !event.repeat) {
        button.disabled = true; // one step per press, even when keys repeat
        button.form.requestSubmit();
      }
      return;
    }
    if (typing(target)) return;
    if (event.key === "]" || event.key === "[") {
      event.preventDefault();
      jump(event.key === "]" ? 1 : -1);
      return;
    }
    if (target.classList && target.classList.contains("said")) {
      onTurnKey(event, target);
    } else if (target.classList && target.classList.contains("hl") && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      showCodings(target, true);
    }
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "picker-search") filter();
  });

  document.addEventListener("change", function (event) {
    const option = event.target.closest && event.target.closest("#code-picker [role=option]");
    if (option) option.setAttribute("aria-selected", String(event.target.checked));
  });

  document.addEventListener("mousedown", function (event) {
    const form = picker();
    if (form && !form.hidden && !form.contains(event.target)) closePicker();
  });

  document.addEventListener("click", function (event) {
    const el = event.target.closest ? event.target : null;
    if (!el) return;
    if (el.closest("#code-picker [data-close]")) closePicker();
    const label = el.closest(".mlabel");
    if (label) openEditor(label.dataset.coding, true);
    const jumper = el.closest("[data-jump]");
    if (jumper) jump(jumper.dataset.jump === "next" ? 1 : -1);
    if (el.closest("[data-reselect]")) startReselect();
  });

  document.addEventListener("mouseover", function (event) {
    const hl = event.target.closest && event.target.closest(".hl");
    if (hl) showTip(hl);
  });
  document.addEventListener("mouseout", function (event) {
    if (event.target.closest && event.target.closest(".hl")) hideTip();
  });
  document.addEventListener("focusin", function (event) {
    const target = event.target;
    if (target.classList && target.classList.contains("hl")) showTip(target);
    else hideTip();
    if (target.classList && target.classList.contains("said") && !selectionIn(target)) {
      window.getSelection().collapse(target, 0);
    }
  });

  // Where the last request came from: the element itself is gone once the workspace is swapped.
  let fromEditor = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    fromEditor = Boolean(event.detail.elt.closest && event.detail.elt.closest("#coding-editor"));
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const form = picker();
    if (form && form.contains(event.detail.elt)) {
      // Applied: the picker's job is done (a refusal re-renders the workspace instead).
      if (event.detail.successful) {
        promoteRecent(form);
        form.hidden = true;
      }
      const selection = window.getSelection();
      if (selection) selection.removeAllRanges();
    }
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "coding-editor") {
      const body = event.detail.target.querySelector(".editor-body");
      if (body) markCurrent([body.dataset.coding]);
      return;
    }
    hideTip();
    placeAllLabels();
    const error = document.getElementById("coding-error");
    const undo = document.querySelector("#coding-workspace [data-undo], #coding-workspace [data-redo]");
    const body = document.querySelector("#coding-editor .editor-body");
    if (body) markCurrent([body.dataset.coding]);
    if (error) error.scrollIntoView({ block: "nearest" });
    reopenPicker();
    if (picker() && !picker().hidden) return;
    if (body && fromEditor) {
      // An edit keeps the editor in view; the undo bar is a Ctrl+Z away.
      const select = document.getElementById("edit-code");
      if (select) select.focus({ preventScroll: true });
    } else if (undo) {
      undo.focus({ preventScroll: true });
    }
  });

  // Applying codes swaps only what changed (out of band): put the keyboard on Undo, as a
  // full swap does.
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    // The event names the element replaced; the turn now in the page has its id.
    const swapped = event.detail.target;
    if (swapped && swapped.classList && swapped.classList.contains("cturn")) {
      const turn = document.getElementById(swapped.id);
      if (turn) placeLabels([turn]);
    }
    if (event.detail.target && event.detail.target.id === "undo-slot") {
      hideTip();
      const undo = event.detail.target.querySelector("[data-undo], [data-redo]");
      if (undo) undo.focus({ preventScroll: true });
    }
  });

  // ?select=start-end (from a search hit, "code this hit"): select that span of the text and
  // open the picker on it, as if the coder had selected it by hand.
  function selectFromUrl() {
    const wanted = /^(\d+)-(\d+)$/.exec(new URLSearchParams(window.location.search).get("select") || "");
    if (!wanted || !picker()) return;
    const start = Number(wanted[1]);
    const end = Number(wanted[2]);
    const within = function (offset) {
      return saids().find(function (s) { return Number(s.dataset.start) <= offset && offset < Number(s.dataset.end); });
    };
    const first = within(start);
    const last = within(end - 1);
    if (!first || !last || end <= start) return;
    const a = pointsAt(first, [start - Number(first.dataset.start)])[0];
    const b = pointsAt(last, [end - 1 - Number(last.dataset.start)])[0];
    if (!a || !b) return;
    const range = document.createRange();
    range.setStart(a[0], a[1]);
    range.setEnd(b[0], b[1] + (b[0].data.codePointAt(b[1]) > 0xffff ? 2 : 1));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    first.closest(".cturn").scrollIntoView({ block: "center" });
    openPicker(selectedSpan());
  }

  document.addEventListener("DOMContentLoaded", function () {
    const body = document.querySelector("#coding-editor .editor-body");
    if (body) markCurrent([body.dataset.coding]);
    placeAllLabels();
    selectFromUrl();
    // Web fonts change where lines break: place again once they are in.
    if (document.fonts) document.fonts.ready.then(placeSoon);
  });
  window.addEventListener("resize", placeSoon);
})();
