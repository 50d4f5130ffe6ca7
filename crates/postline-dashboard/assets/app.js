// Postline dashboard: small progressive enhancements; every page works without them.
"use strict";

// Buttons with `data-copy` put that text on the clipboard, saying so for screen readers.
function copyButtons() {
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-copy]");
    if (!button) return;
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      button.textContent = "Copied";
    } catch (_) {
      // No clipboard (plain HTTP): select the text so it can be copied by hand.
      const code = button.parentElement.querySelector("code");
      if (code) window.getSelection().selectAllChildren(code);
      button.textContent = "Press Ctrl+C to copy";
    }
    button.setAttribute("aria-live", "polite");
  });
}

// Elements with `data-poll` (an email's timeline, the developer inbox) reload their
// content from that URL every two seconds while the page is open, until the element
// or the server (`x-settled: true`) says nothing more will change.
function pollFragments() {
  for (const box of document.querySelectorAll("[data-poll]")) {
    if (box.dataset.settled === "true") continue;
    const tick = async () => {
      try {
        const response = await fetch(box.dataset.poll, { credentials: "same-origin", headers: { accept: "text/html" } });
        if (response.ok) {
          const html = await response.text();
          if (box.innerHTML !== html) box.innerHTML = html;
          if (response.headers.get("x-settled") === "true") return;
        }
      } catch (_) {
        // Offline for a moment: try again on the next tick.
      }
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 2000);
  }
}

document.addEventListener("DOMContentLoaded", pollFragments);
document.addEventListener("DOMContentLoaded", copyButtons);
