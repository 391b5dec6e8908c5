// Behaviour that used to sit in inline attributes, which the Content-Security-Policy does not run:
// selects that submit their form on change, and bar widths given as data-width ("42%"); and a
// hint above a table wider than the screen, which scrolls sideways.
(function () {
  "use strict";
  function markScrollable(wrapper) {
    const overflows = wrapper.scrollWidth > wrapper.clientWidth + 1;
    wrapper.classList.toggle("is-scrollable", overflows);
    // A region that scrolls must be reachable with the keyboard (arrow keys scroll it once focused).
    if (overflows) {
      wrapper.tabIndex = 0;
      wrapper.setAttribute("role", "region");
      wrapper.setAttribute("aria-label", document.body.dataset.scrollHint || "");
    } else if (wrapper.getAttribute("role") === "region") {
      wrapper.removeAttribute("tabindex");
      wrapper.removeAttribute("role");
      wrapper.removeAttribute("aria-label");
    }
    let hint = wrapper.previousElementSibling;
    if (!hint || !hint.classList.contains("scroll-hint")) {
      if (!overflows) { return; }
      hint = document.createElement("div");
      hint.className = "scroll-hint small text-muted";
      hint.textContent = document.body.dataset.scrollHint || "";
      wrapper.before(hint);
    }
    hint.classList.toggle("is-shown", overflows);
  }
  function markAllScrollable() { document.querySelectorAll(".table-responsive").forEach(markScrollable); }
  window.addEventListener("resize", markAllScrollable);
  window.addEventListener("load", markAllScrollable);

  function apply(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.autosubmitBound) { return; }
      select.dataset.autosubmitBound = "1";
      select.addEventListener("change", function () { select.form.submit(); });
    });
    root.querySelectorAll("[data-width]").forEach(function (bar) {
      const width = parseFloat(bar.dataset.width);
      bar.style.width = (isFinite(width) ? Math.max(0, Math.min(100, width)) : 0) + "%";
    });
    root.querySelectorAll(".table-responsive").forEach(markScrollable);
  }
  document.addEventListener("DOMContentLoaded", function () { apply(document); });
  document.addEventListener("htmx:load", function (event) { apply(event.target); });
  // The notification bell asks for its count; a session held at the two-factor or password page is
  // redirected there instead, and that page must not be swapped into the bell.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const bell = event.detail.elt;
    if (bell.dataset && bell.dataset.bellUrl) {
      const answered = new URL(event.detail.xhr.responseURL || bell.dataset.bellUrl, window.location.href);
      if (answered.pathname !== bell.dataset.bellUrl) { event.detail.shouldSwap = false; }
    }
  });
})();
