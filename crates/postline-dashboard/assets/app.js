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

document.addEventListener("DOMContentLoaded", refreshTimeline);
