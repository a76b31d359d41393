// The coding view: browser selection → code-point offsets, the code picker, highlight cards.
//
// Offsets are Unicode code points into the transcript's canonical text (as the server stores
// them). The DOM counts UTF-16 units, so every length here goes through Array.from(), which
// iterates by code point: 🤗 counts one, as Python's len() does. Each turn's <p class="said">
// holds exactly text[start:end] of its turn (data-start / data-end), split into spans.
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

  // The current selection as {start, end, text}, trimmed of white space at both ends.
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
    shown.forEach(function (o, i) {
      o.querySelector(".key").textContent = i < 9 && !words.length ? String(i + 1) : "";
    });
    setActive(shown[0] || null);
  }

  let lastFocus = null;

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
    form.hidden = false;
    const width = form.offsetWidth;
    const left = Math.max(8, Math.min(span.rect.left, document.documentElement.clientWidth - width - 8));
    form.style.left = left + window.scrollX + "px";
    form.style.top = span.rect.bottom + window.scrollY + 6 + "px";
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
      apply(picked ? null : current);
    } else if (event.key === " " && search.value === "" && current) {
      // Space with an empty search ticks the highlighted code: several codes at once.
      event.preventDefault();
      const box = current.querySelector("input[name=code]");
      box.checked = !box.checked;
      current.setAttribute("aria-selected", String(box.checked));
    } else if (/^[1-9]$/.test(event.key) && search.value === "") {
      event.preventDefault();
      const option = shown[Number(event.key) - 1];
      if (option) apply(option);
    }
  }

  // --- highlights -------------------------------------------------------------------------

  function showCodings(hl) {
    const turn = hl.closest(".cturn");
    const ids = (hl.dataset.codings || "").split(" ");
    const ws = workspace();
    ws.querySelectorAll(".coding-card[open]").forEach(function (d) { d.open = false; });
    ws.querySelectorAll(".hl.current").forEach(function (h) { h.classList.remove("current"); });
    hl.classList.add("current");
    let first = null;
    ids.forEach(function (id) {
      const card = turn.querySelector('.coding-card[data-coding="' + id + '"]');
      if (card) {
        card.open = true;
        first = first || card;
      }
    });
    if (first) first.querySelector("summary").focus();
  }

  // --- wiring (delegated: the workspace is swapped by htmx) ---------------------------------

  function afterSelection(event) {
    const form = picker();
    if (!form || (event.target.closest && event.target.closest("#code-picker"))) return;
    window.setTimeout(function () {
      const span = selectedSpan();
      if (span) {
        openPicker(span);
        return;
      }
      const hl = event.target.closest && event.target.closest(".hl");
      if (event.type === "mouseup" && hl) showCodings(hl);
    }, 0);
  }

  document.addEventListener("mouseup", afterSelection);
  document.addEventListener("keyup", function (event) {
    // Keyboard selection (Shift + arrows, caret browsing) opens the picker as well.
    if (event.shiftKey || event.key === "Shift") afterSelection(event);
  });

  document.addEventListener("keydown", function (event) {
    if (event.target.id === "picker-search") {
      onPickerKey(event);
      return;
    }
    const hl = event.target.classList && event.target.classList.contains("hl") ? event.target : null;
    if (hl && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      showCodings(hl);
    } else if (event.key === "Escape" && picker() && !picker().hidden) {
      closePicker();
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
    if (event.target.closest && event.target.closest("#code-picker [data-close]")) closePicker();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === picker()) {
      picker().hidden = true;
      const selection = window.getSelection();
      if (selection) selection.removeAllRanges();
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    const undo = document.querySelector("#coding-workspace [data-undo]");
    const error = document.getElementById("coding-error");
    if (error) error.scrollIntoView({ block: "nearest" });
    if (undo) undo.focus();
  });
})();
