// omnitill back office: the few things a server-rendered page cannot do alone.
(() => {
  "use strict";
  // The sidebar folds away on a phone; the button opens and closes it.
  const toggle = document.getElementById("nav-toggle");
  const sidebar = document.getElementById("sidebar");
  if (toggle && sidebar) {
    toggle.addEventListener("click", () => {
      const open = sidebar.classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  // Buttons that cannot be undone ask first (data-confirm="...").
  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    const message = button && button.dataset ? button.dataset.confirm : undefined;
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
