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

  // Every 3 s: 1,200 requests an hour, inside a user's API limit (2,000 an hour). A refused
  // (429) or failed poll keeps the last figures, says so, and waits before it asks again.
  var POLL_MS = 3000;
  var RETRY_MS = 10000;

  function follow(section) {
    var bar = section.querySelector("progress");
    var text = section.querySelector("[data-batch-text]");
    var lastText = "";
    function show(job) {
      bar.max = Math.max(job.total_students, 1);
      bar.value = job.processed_students;
      lastText = job.status + ": " + job.processed_students + " of " +
        job.total_students + " students, " + job.anomalies_found + " anomalies" +
        (job.error ? " (" + job.error + ")" : "");
      text.textContent = lastText;
      section.dataset.state = job.status;
      return job.status !== "done" && job.status !== "failed";
    }
    function retryLater(message, ms) {
      section.dataset.pollError = message;
      text.textContent = (lastText ? lastText + " · " : "") + message;
      window.setTimeout(poll, ms);
    }
    function poll() {
      fetch(section.dataset.batchStatus, {credentials: "same-origin",
                                          headers: {"Accept": "application/json"}})
        .then(function (r) {
          if (r.status === 429) {
            var wait = parseInt(r.headers.get("Retry-After"), 10);
            retryLater("progress paused by the rate limit, asking again shortly",
                       (isNaN(wait) ? RETRY_MS / 1000 : Math.min(Math.max(wait, 1), 300)) * 1000);
            return;
          }
          if (!r.ok) {
            retryLater("progress unavailable (HTTP " + r.status + "), retrying", RETRY_MS);
            return;
          }
          return r.json().then(function (job) {
            delete section.dataset.pollError;
            if (show(job)) {
              window.setTimeout(poll, POLL_MS);
            }
          });
        })
        .catch(function () {
          retryLater("progress unavailable (no answer), retrying", RETRY_MS);
        });
    }
    poll();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
    document.querySelectorAll("section[data-batch-status]").forEach(follow);
  });
})();
