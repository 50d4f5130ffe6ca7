// Postline dashboard: small progressive enhancements; every page works without them.
"use strict";

// A timeline that may still change refreshes itself every few seconds until the
// email reaches a final state (the server says so in `x-settled`).
function refreshTimeline() {
  const box = document.getElementById("timeline");
  if (!box || box.dataset.settled === "true") return;
  const url = box.dataset.refresh;
  const tick = async () => {
    try {
      const response = await fetch(url, { credentials: "same-origin", headers: { accept: "text/html" } });
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

// Elements with `data-poll` (the developer inbox) reload their content every two
// seconds from that URL while the page is open.
function pollFragments() {
  for (const box of document.querySelectorAll("[data-poll]")) {
    const tick = async () => {
      try {
        const response = await fetch(box.dataset.poll, { credentials: "same-origin", headers: { accept: "text/html" } });
        if (response.ok) {
          const html = await response.text();
          if (box.innerHTML !== html) box.innerHTML = html;
        }
      } catch (_) {
        // Offline for a moment: try again on the next tick.
      }
      setTimeout(tick, 2000);
    };
    setTimeout(tick, 2000);
  }
}

document.addEventListener("DOMContentLoaded", refreshTimeline);
document.addEventListener("DOMContentLoaded", pollFragments);
document.addEventListener("DOMContentLoaded", copyButtons);
