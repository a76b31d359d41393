// Reconciliation by keyboard: j/k move between disagreements, a/b/o/n/e choose a decision,
// Ctrl+Enter saves. A decision that keeps both codings saves at once; any other asks for the
// rationale first (the server refuses it without one).
(function () {
  "use strict";

  const KEYS = { a: "a", b: "b", o: "both", n: "neither", e: "edit" };

  function typing(el) {
    return el && el.closest && el.closest("input, textarea, select, [contenteditable]");
  }

  function go(number) {
    if (!number) return;
    const link = document.querySelector('.disagreement-list a[href="?d=' + number + '"]');
    if (link) link.click();
  }

  document.addEventListener("keydown", function (event) {
    const panel = document.getElementById("disagreement");
    if (!panel) return;
    const form = panel.querySelector(".resolve-form");
    if (form && (event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      form.requestSubmit();
      return;
    }
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "j" || event.key === "k") {
      event.preventDefault();
      go(event.key === "j" ? panel.dataset.next : panel.dataset.previous);
      return;
    }
    const decision = KEYS[event.key];
    if (!decision || !form) return;
    const radio = form.querySelector('input[name=decision][value="' + decision + '"]');
    if (!radio || radio.disabled) return;
    event.preventDefault();
    radio.checked = true;
    const rationale = form.querySelector("#rationale");
    if (decision === "both") {
      form.requestSubmit();
    } else if (decision === "edit") {
      form.querySelector("#edit-code").focus();
    } else if (!rationale.value.trim()) {
      rationale.focus();
    } else {
      form.requestSubmit();
    }
  });

  // After each swap, keep the keyboard on the disagreement in view. On afterSwap, not
  // afterSettle: a key pressed in between must reach the new panel, and htmx's own focus
  // restoration (same id, e.g. the rationale box) would leave a fast typist in a text field.
  document.addEventListener("htmx:afterSwap", function () {
    const error = document.getElementById("reconcile-error");
    const rationale = document.querySelector("#disagreement #rationale");
    if (error && rationale) {
      rationale.focus();
      return;
    }
    const panel = document.getElementById("disagreement");
    if (panel) panel.focus({ preventScroll: true });
  });
})();
