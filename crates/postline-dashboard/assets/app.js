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

// Elements with `data-stream` (an email's timeline, the developer inbox) take their
// new content from that URL's server-sent events: `update` carries the element's HTML,
// `settled` says nothing more will change. Without EventSource, elements with
// `data-poll` reload their content from that URL every two seconds instead, until
// the element or the server (`x-settled: true`) says nothing more will change.
function liveFragments() {
  for (const box of document.querySelectorAll("[data-stream], [data-poll]")) {
    if (box.dataset.settled === "true") continue;
    const replace = (html) => { if (box.innerHTML !== html) box.innerHTML = html; };
    if (box.dataset.stream && window.EventSource) {
      const source = new EventSource(box.dataset.stream);
      source.addEventListener("update", (event) => replace(event.data));
      source.addEventListener("settled", () => source.close());
      continue;
    }
    if (!box.dataset.poll) continue;
    const tick = async () => {
      try {
        const response = await fetch(box.dataset.poll, { credentials: "same-origin", headers: { accept: "text/html" } });
        if (response.ok) {
          replace(await response.text());
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

document.addEventListener("DOMContentLoaded", liveFragments);
document.addEventListener("DOMContentLoaded", copyButtons);

// Audience: a checkbox with `data-select-all="name"` (hidden without JavaScript,
// where each row is ticked on its own) ticks or clears every checkbox of that name
// in its form, and shows a mixed state when only some are ticked.
function selectAll() {
  for (const master of document.querySelectorAll("input[data-select-all]")) {
    const boxes = () => master.form.querySelectorAll(`input[type=checkbox][name="${master.dataset.selectAll}"]`);
    master.hidden = false;
    master.addEventListener("change", () => { for (const box of boxes()) box.checked = master.checked; });
    master.form.addEventListener("change", (event) => {
      if (event.target === master) return;
      const ticked = [...boxes()].filter((box) => box.checked).length;
      master.checked = ticked > 0 && ticked === boxes().length;
      master.indeterminate = ticked > 0 && ticked < boxes().length;
    });
  }
}

document.addEventListener("DOMContentLoaded", selectAll);

// Broadcasts: the editor's live preview and placeholder menu.
// A form with `data-preview` posts itself to that URL (debounced) as it is typed in
// and shows the answer — the email as the server renders it — in the sandboxed frame
// `data-preview-frame` names; a refusal (422) is shown as text beside the preview.
// Only the latest answer is shown, so a slow reply never overwrites a newer one.
function broadcastPreview() {
  for (const form of document.querySelectorAll("form[data-preview]")) {
    const frame = document.getElementById(form.dataset.previewFrame);
    const status = document.getElementById("preview-status");
    if (!frame) continue;
    let timer = null;
    let latest = 0;
    const refresh = async () => {
      const asked = ++latest;
      try {
        const response = await fetch(form.dataset.preview, {
          method: "POST",
          credentials: "same-origin",
          body: new URLSearchParams(new FormData(form)),
        });
        const text = await response.text();
        if (asked !== latest) return;
        if (response.ok) {
          frame.srcdoc = text;
          if (status) { status.textContent = ""; status.classList.remove("error"); }
        } else if (status) {
          status.textContent = response.status === 422 ? text : "The preview could not be updated.";
          status.classList.add("error");
        }
      } catch (_) {
        // Offline for a moment: the next change tries again.
      }
    };
    const later = () => { clearTimeout(timer); timer = setTimeout(refresh, 300); };
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }
}

// A placeholder menu (`data-insert-into` names the textarea) is shown only with
// JavaScript: its button inserts the chosen placeholder at the cursor (replacing a
// selection), then tells the form it changed so the preview follows.
function placeholderMenus() {
  for (const menu of document.querySelectorAll("[data-insert-into]")) {
    const target = document.getElementById(menu.dataset.insertInto);
    const choice = menu.querySelector("select");
    const button = menu.querySelector("button[data-insert-placeholder]");
    if (!target || !choice || !button) continue;
    menu.hidden = false;
    button.addEventListener("click", () => {
      const code = choice.value;
      const start = target.selectionStart ?? target.value.length;
      const end = target.selectionEnd ?? start;
      target.setRangeText(code, start, end, "end");
      target.focus();
      target.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
}

document.addEventListener("DOMContentLoaded", broadcastPreview);
document.addEventListener("DOMContentLoaded", placeholderMenus);
