// Draws every <canvas data-chart="ID"> from the JSON in <script type="application/json"
// id="ID"> ({type, labels, datasets, yMax?}), and keeps a batch job's progress bar current
// (<section data-batch-status="URL">). No inline script: the site's CSP allows 'self' only.
(function () {
  "use strict";
  function draw(canvas) {
    var spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var scales = spec.type === "doughnut" ? {} : {y: {beginAtZero: true, max: spec.y_max === null ? undefined : spec.y_max}};
    new window.Chart(canvas, {
      type: spec.type,
      data: {labels: spec.labels, datasets: spec.datasets},
      options: {animation: false, responsive: true, scales: scales,
                plugins: {legend: {display: spec.datasets.length > 1}}}
    });
    canvas.dataset.drawn = "yes";
  }

  function follow(section) {
    var bar = section.querySelector("progress");
    var text = section.querySelector("[data-batch-text]");
    function poll() {
      fetch(section.dataset.batchStatus, {credentials: "same-origin",
                                          headers: {"Accept": "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (job) {
          bar.max = Math.max(job.total_students, 1);
          bar.value = job.processed_students;
          text.textContent = job.status + ": " + job.processed_students + " of " +
            job.total_students + " students, " + job.anomalies_found + " anomalies" +
            (job.error ? " (" + job.error + ")" : "");
          section.dataset.state = job.status;
          if (job.status !== "done" && job.status !== "failed") {
            window.setTimeout(poll, 1500);
          }
        });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.querySelectorAll("section[data-batch-status]").forEach(follow);
  });
})();
