// Container pages: "select all" for the bulk actions, and the live log window.
(() => {
  document.addEventListener("change", (event) => {
    if (event.target.id !== "select-all") return;
    for (const box of document.querySelectorAll('input[name="ids"]')) box.checked = event.target.checked;
  });

  // The log window keeps at most data-window lines: older ones are dropped as new ones arrive,
  // and it stays scrolled to the newest line unless the reader has scrolled up.
  let following = true;
  document.addEventListener("htmx:beforeSwap", (event) => {
    const lines = event.detail.target;
    if (lines.id === "log-lines") following = lines.scrollHeight - lines.scrollTop - lines.clientHeight < 40;
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const lines = event.detail.target;
    if (lines.id !== "log-lines") return;
    const limit = Number(lines.dataset.window) || 1000;
    while (lines.childElementCount > limit) lines.firstElementChild.remove();
    if (following) lines.scrollTop = lines.scrollHeight;
  });
  document.addEventListener("htmx:load", (event) => {
    const lines = event.detail.elt.querySelector && event.detail.elt.querySelector("#log-lines");
    if (lines) lines.scrollTop = lines.scrollHeight;
  });
})();
