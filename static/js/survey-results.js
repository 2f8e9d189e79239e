/* Survey results: one horizontal bar chart per results table (Chart.js, static/vendor/chartjs/). The table is
 * the data and stays on the page (screen readers, printing, no-JS); the chart is drawn from its rows, so the
 * two cannot disagree. No inline script, no innerHTML. */
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var canvases = document.querySelectorAll("canvas.survey-chart");
  Array.prototype.forEach.call(canvases, function (canvas) {
    var table = document.getElementById(canvas.getAttribute("data-for"));
    if (!table) { return; }
    var labels = [], values = [];
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      labels.push(row.cells[0].textContent.trim());
      values.push(Number(row.cells[1].getAttribute("data-value")) || 0);
    });
    canvas.parentNode.classList.add("chart-box-" + Math.min(labels.length, 8));
    var chart = new window.Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: canvas.getAttribute("aria-label"), data: values,
                                           backgroundColor: "#b3261e" }] },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } }
      }
    });
    canvas.setAttribute("data-chart-ready", String(values.reduce(function (a, b) { return a + b; }, 0)));
    canvas.chart = chart;
  });
})();
