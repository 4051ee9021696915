// Live countdowns: each [data-due] element shows the time left (or overdue), recomputed every second from its
// due instant in UTC; the row's urgency class follows (overdue, under 4 h, under 24 h, later).
(function () {
  const cells = Array.from(document.querySelectorAll(".countdown[data-due]"));
  if (!cells.length) return;
  const dues = cells.map(function (cell) { return Date.parse(cell.dataset.due); });
  function part(seconds) {
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
    const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    if (d) return d + " d " + h + " h";
    if (h) return h + " h " + String(m).padStart(2, "0") + " min " + String(s).padStart(2, "0") + " s";
    return m + " min " + String(s).padStart(2, "0") + " s";
  }
  function level(seconds) {
    return seconds < 0 ? "overdue" : seconds < 4 * 3600 ? "h4" : seconds < 24 * 3600 ? "h24" : "later";
  }
  function update() {
    const now = Date.now();
    cells.forEach(function (cell, index) {
      const seconds = Math.round((dues[index] - now) / 1000);
      cell.textContent = seconds >= 0 ? "in " + part(seconds) : "overdue by " + part(-seconds);
      const row = cell.closest("tr"), td = cell.parentElement, urgency = level(seconds);
      td.className = "due-" + urgency;
      row.classList.remove("urgency-overdue", "urgency-h4", "urgency-h24", "urgency-later");
      row.classList.add("urgency-" + urgency);
      row.classList.toggle("overdue", urgency === "overdue");
    });
  }
  update();
  setInterval(update, 1000);
})();
