// live.js: the dashboard's only script (docs/dashboard.md). A page with a
// <tbody id="live" data-src=URL data-after=ID> asks URL&after=ID every
// POLL_MS for rows after the last one it holds and appends them. Every cell is
// put in as text (textContent), never as markup; a cell named by data-link
// becomes a link only to a path of the dashboard itself.
"use strict";
(function () {
  const POLL_MS = 250; // a hit shows within a second: the store's commit plus one poll
  const TOAST_MS = 4000;
  const body = document.getElementById("live");
  if (!body) return;
  const src = body.dataset.src;
  const link = body.dataset.link === undefined ? -1 : Number(body.dataset.link);
  let after = body.dataset.after || "0";
  let toastTimer = 0;

  function toast(text) {
    const t = document.getElementById("toast");
    if (!t) return;
    t.textContent = text;
    t.className = "show";
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.className = ""; }, TOAST_MS);
  }

  function row(cells) {
    const tr = document.createElement("tr");
    cells.forEach(function (text, i) {
      const td = document.createElement(i === 0 ? "th" : "td");
      if (i === 0) td.setAttribute("scope", "row");
      if (i === link && typeof text === "string" && text.startsWith("/ui/")) {
        const a = document.createElement("a");
        a.href = text;
        a.textContent = "timeline";
        td.appendChild(a);
      } else {
        td.textContent = text === null ? "" : String(text);
      }
      tr.appendChild(td);
    });
    tr.className = "new";
    return tr;
  }

  async function poll() {
    try {
      const sep = src.endsWith("?") ? "" : "&";
      const r = await fetch(src + sep + "after=" + encodeURIComponent(after),
                            { credentials: "same-origin", cache: "no-store" });
      if (r.redirected || r.status === 401 || r.status === 403) {
        toast("Signed out: reload the page to sign in again.");
        return;
      }
      if (r.ok) {
        const j = await r.json();
        if (Array.isArray(j.rows) && j.rows.length) {
          const empty = document.getElementById("empty");
          if (empty) empty.remove();
          j.rows.forEach(function (x) { body.appendChild(row(x.cells)); });
          const lastRow = j.rows[j.rows.length - 1].cells;
          toast("New: " + lastRow[1] + (lastRow[2] ? " (" + lastRow[2] + ")" : ""));
        }
        if (j.after !== undefined) after = String(j.after);
      }
    } catch (e) {
      // the daemon restarting: try again at the next tick
    }
    setTimeout(poll, POLL_MS);
  }
  setTimeout(poll, POLL_MS);
})();
