// Keyboard and focus care for htmx swaps: after a swap, put focus where the user expects it.
(function () {
  "use strict";

  function focusAfterSwap(target) {
    if (!target) return;
    // An inline edit form just opened: focus its first field.
    if (target.matches && target.matches("form.inline-form")) {
      const field = target.querySelector("[autofocus], input:not([type=hidden]), textarea, select");
      if (field) field.focus();
      return;
    }
    // A section was re-rendered after a save: focus the item it names and flash it.
    const holder = target.matches && target.matches("[data-focus]") ? target : target.querySelector("[data-focus]");
    const id = holder && holder.dataset.focus;
    const item = id && document.getElementById(id);
    if (item) {
      item.focus({ preventScroll: false });
      item.classList.add("flash");
      window.setTimeout(function () { item.classList.remove("flash"); }, 1200);
    }
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    focusAfterSwap(event.detail.elt);
  });

  // Escape closes an open inline edit form: the row comes back in its place, nothing else
  // on the page (other open forms, half-typed additions) is touched.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const form = event.target.closest && event.target.closest("form.inline-form");
    const cancel = form && form.querySelector("[data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    window.htmx.ajax("GET", cancel.getAttribute("hx-get"), { target: form, swap: "outerHTML" });
  });
})();
