// Draws each chart from the data table beside it (the table stays for readers without JavaScript
// or a screen), and closes those tables once the chart is drawn. No inline code: the page's
// Content-Security-Policy allows scripts from this server only.
(function () {
  "use strict";
  var palette = ["#1f4fd1", "#c2410c", "#0f766e", "#7c3aed", "#a3141d", "#4f5d6d"];

  function draw(table) {
    if (table.dataset.drawn || typeof window.Chart === "undefined") return;
    var holder = document.querySelector('[data-chart-for="' + table.id + '"]');
    if (!holder) return;
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var labels = rows.map(function (r) { return r.cells[0].textContent.trim(); });
    var datasets = heads.slice(1).map(function (name, i) {
      var colour = palette[i % palette.length];
      var dashed = name === "Threshold";
      return {
        label: name,
        data: rows.map(function (r) {
          var v = r.cells[i + 1].dataset.value;
          return v === "" || v === undefined ? null : Number(v);
        }),
        borderColor: dashed ? "#a3141d" : colour,
        backgroundColor: dashed ? "#a3141d" : colour,
        borderDash: dashed ? [6, 4] : [],
        pointRadius: dashed ? 0 : 2,
        spanGaps: true,
        tension: 0.2
      };
    });
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Chart of the table below: " + heads.slice(1).join(", ") + " by " + heads[0]);
    holder.appendChild(canvas);
    holder.hidden = false;
    new window.Chart(canvas, {
      type: table.dataset.chart === "bar" ? "bar" : "line",
      data: { labels: labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } }
      }
    });
    table.dataset.drawn = "1";
    var details = table.closest("details");
    if (details) details.open = false;
  }

  function drawAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("table[data-chart]"), draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(e.target); });
})();
