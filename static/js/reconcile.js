// Reconciliation by keyboard and mouse.
//
// Keys act only in the focused disagreement panel, never while typing in a field:
// j/k move between disagreements; on an undecided disagreement a/b/o/n/e choose a decision and
// move to the rationale. No letter ever saves: Ctrl+Enter (or the button) does. A decided
// disagreement ignores the letters; it changes only through "Change decision", which asks for
// a new rationale (the server refuses a change without one too).
//
// Someone who starts typing a rationale while the panel (not the box) has the focus, after a
// refresh say, would have the first letter taken as a decision. So a letter followed at
// typing speed by more typing was typing: the choice is undone and the letter goes into the
// rationale, where the rest of the words land.
//
// An edited decision's span is chosen by selecting words in the passage shown: the selection
// becomes code-point offsets into the transcript (as the server counts them; the DOM counts
// UTF-16 units, so lengths go through Array.from, in which 🤗 counts one).
(function () {
  "use strict";

  const KEYS = { a: "a", b: "b", o: "both", n: "neither", e: "edit" };
  const TYPING_GAP_MS = 500; // a key this soon after a shortcut letter is typing, not a choice

  let chosen = null; // the last shortcut: {at, key, radio, previous, rationale}

  function undoIfTyping(event) {
    const last = chosen;
    chosen = null;
    if (!last || event.target !== last.rationale) return;
    if (event.key.length !== 1 || event.ctrlKey || event.metaKey || event.altKey) return;
    if (performance.now() - last.at > TYPING_GAP_MS) return;
    last.radio.checked = false;
    if (last.previous) last.previous.checked = true;
    const box = last.rationale;
    box.setRangeText(last.key, box.selectionStart, box.selectionEnd, "end");
  }
  const WS = /^\s$/u;

  function cp(str) {
    return Array.from(str).length;
  }

  function typing(el) {
    return Boolean(el && el.closest && el.closest("input, textarea, select, [contenteditable]"));
  }

  function go(number) {
    if (!number) return;
    const link = document.querySelector('.disagreement-list a[href="?d=' + number + '"]');
    if (link) link.click();
  }

  document.addEventListener("keydown", function (event) {
    undoIfTyping(event);
    const panel = document.getElementById("disagreement");
    if (!panel || event.isComposing) return;
    const active = document.activeElement;
    // The panel itself or something in it has the focus, or no key here is ours.
    if (!panel.contains(active)) return;
    const form = panel.querySelector(".resolve-form");
    if (form && (event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing(event.target) || typing(active)) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      go(event.key === "j" ? panel.dataset.next : panel.dataset.previous);
      return;
    }
    const decision = KEYS[event.key];
    if (!decision || !form || panel.dataset.shortcuts !== "on") return;
    const radio = form.querySelector('input[name=decision][value="' + decision + '"]');
    if (!radio || radio.disabled) return;
    event.preventDefault();
    const previous = form.querySelector("input[name=decision]:checked");
    radio.checked = true;
    // What follows is typed into the rationale, where no key is a shortcut.
    const rationale = form.querySelector("#rationale");
    rationale.focus();
    rationale.setSelectionRange(rationale.value.length, rationale.value.length);
    chosen = { at: performance.now(), key: event.key, radio: radio, previous: previous, rationale: rationale };
  });

  // --- the edited span, from a selection in the passage ---------------------------------

  function offsetIn(text, node, offset, isEnd) {
    const whole = document.createRange();
    whole.selectNodeContents(text);
    let where;
    try {
      where = whole.comparePoint(node, offset);
    } catch (e) {
      return null;
    }
    if (where < 0) return Number(text.dataset.start);
    if (where > 0) return Number(text.dataset.end);
    const before = document.createRange();
    before.setStart(text, 0);
    before.setEnd(node, offset);
    return Number(text.dataset.start) + cp(before.toString());
  }

  function selectedSpan(text) {
    const selection = window.getSelection();
    if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    if (!range.intersectsNode(text)) return null;
    let start = offsetIn(text, range.startContainer, range.startOffset, false);
    let end = offsetIn(text, range.endContainer, range.endOffset, true);
    if (start === null || end === null || end <= start) return null;
    const chars = Array.from(text.textContent);
    const base = Number(text.dataset.start);
    while (start < end && WS.test(chars[start - base])) start += 1;
    while (end > start && WS.test(chars[end - 1 - base])) end -= 1;
    if (end <= start) return null;
    return { start: start, end: end, words: chars.slice(start - base, end - base).join("") };
  }

  function takeSelection() {
    const panel = document.getElementById("disagreement");
    const text = panel && panel.querySelector(".context-text");
    const form = panel && panel.querySelector(".resolve-form");
    if (!text || !form) return;
    const span = selectedSpan(text);
    if (!span) return;
    form.querySelector("#edit-start").value = span.start;
    form.querySelector("#edit-end").value = span.end;
    const shown = form.querySelector("#edit-span");
    shown.textContent = "";
    shown.append("Span: “", span.words, "” (characters " + span.start + "–" + span.end + "). ");
    const hint = document.createElement("span");
    hint.className = "muted";
    hint.textContent = "Select other words in the passage to change it.";
    shown.append(hint);
    shown.classList.add("chosen");
  }

  // A selection that touches the passage (it may start or end beside it: clipped to it).
  document.addEventListener("mouseup", takeSelection);
  document.addEventListener("keyup", function (event) {
    // Shift+arrows extend a selection made in the passage.
    if (event.shiftKey && event.key.startsWith("Arrow")) takeSelection();
  });

  // --- focus across htmx swaps ------------------------------------------------------------
  //
  // A swap replaces the panel. Whoever was typing in a field of the same disagreement (a save
  // refused, say) keeps typing in that field; otherwise the keyboard lands on the new panel.
  // Never on afterSettle: a key pressed in between must not reach a field that is gone.

  let typingIn = null;

  // A page opened on a disagreement starts with the keyboard on it (unless the reader has
  // already moved the focus somewhere).
  function focusPanelOnLoad() {
    const panel = document.getElementById("disagreement");
    if (panel && (document.activeElement === document.body || !document.activeElement)) {
      panel.focus({ preventScroll: true });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusPanelOnLoad);
  } else {
    focusPanelOnLoad();
  }

  document.addEventListener("htmx:beforeSwap", function () {
    const active = document.activeElement;
    const panel = document.getElementById("disagreement");
    typingIn = null;
    if (panel && typing(active) && panel.contains(active) && active.id) {
      typingIn = { id: active.id, number: panel.dataset.number };
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    const was = typingIn;
    typingIn = null;
    const panel = document.getElementById("disagreement");
    if (!panel) return;
    const error = document.getElementById("reconcile-error");
    const rationale = panel.querySelector("#rationale");
    const same = was && was.number === panel.dataset.number;
    const field = same ? document.getElementById(was.id) : null;
    if (field && panel.contains(field)) {
      field.focus({ preventScroll: true });
      if (typeof field.setSelectionRange === "function" && field.value !== undefined) {
        const end = field.value.length;
        try {
          field.setSelectionRange(end, end);
        } catch (e) {
          // number inputs have no caret to place
        }
      }
    } else if (error && rationale) {
      rationale.focus();
    } else {
      panel.focus({ preventScroll: true });
    }
  });
})();
