// Live countdowns: each .countdown[data-due] shows the time left until its instant (UTC), or how long ago it
// passed ("overdue by", or its data-past words: "target passed by" for an internal target), recomputed every
// second; the nearest [data-urgency] around it takes the band: overdue, under 4 h (h4), under 24 h (h24), later.
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
      cell.textContent = seconds >= 0 ? "in " + part(seconds) : (cell.dataset.past || "overdue by") + " " + part(-seconds);
      const box = cell.closest("[data-urgency]");
      if (box) box.dataset.urgency = level(seconds);
    });
  }
  update();
  setInterval(update, 1000);
})();
