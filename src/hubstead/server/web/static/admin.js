// hubstead admin pages: keep a job's page current while the job runs. Without this file the
// page shows the job as it was, with a Refresh link.
(function () {
  "use strict";
  var FINISHED = { succeeded: true, failed: true, cancelled: true };
  var EVERY_MS = 1000;

  function size(bytes) {
    var units = ["B", "kB", "MB", "GB", "TB", "PB"];
    var value = bytes;
    for (var i = 0; i < units.length; i++) {
      if (value < 1000 || i === units.length - 1) {
        return i === 0 ? Math.floor(value) + " B" : value.toFixed(1) + " " + units[i];
      }
      value /= 1000;
    }
    return bytes + " B";
  }

  function show(section, job) {
    var p = job.progress;
    var done = 0, total = 0;
    if (p.bytesTotal) { done = p.bytesDone; total = p.bytesTotal; }
    else if (p.filesTotal) { done = p.filesDone; total = p.filesTotal; }
    var bar = section.querySelector(".job-progress");
    if (bar) {
      bar.max = total || 1;
      bar.value = job.state === "succeeded" ? (total || 1) : done;
      bar.textContent = done + " of " + total;
    }
    var text = p.filesDone + (p.filesTotal === null ? "" : " of " + p.filesTotal) + " files, " +
      size(p.bytesDone) + (p.bytesTotal === null ? "" : " of " + size(p.bytesTotal));
    setText("job-progress-text", text);
    setText("job-state", job.state);
    setText("job-attempts", job.attempts + " of " + job.maxAttempts);
    setText("job-error", job.error || "none");
    if (job.finishedAt) { setText("job-finished", job.finishedAt); }
    var log = document.getElementById("job-log");
    if (log) { log.textContent = job.logTail.length ? job.logTail.join("\n") + "\n" : "No log lines yet."; }
    section.setAttribute("data-state", job.state);
    if (FINISHED[job.state]) {
      var cancel = document.getElementById("cancel-job");
      if (cancel) { cancel.hidden = true; }
    }
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && node.textContent !== text) { node.textContent = text; }
  }

  function poll(section) {
    var url = section.getAttribute("data-progress-url");
    fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error("status " + answer.status); }
        return answer.json();
      })
      .then(function (job) {
        show(section, job);
        if (!FINISHED[job.state]) { window.setTimeout(function () { poll(section); }, EVERY_MS); }
      })
      .catch(function () {
        // The hub restarted or the network dropped: try again, more slowly.
        window.setTimeout(function () { poll(section); }, 5 * EVERY_MS);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("job");
    if (section && !FINISHED[section.getAttribute("data-state")]) { poll(section); }
  });
})();
