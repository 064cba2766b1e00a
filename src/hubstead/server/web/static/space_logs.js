// hubstead Space log page: follow the log's new lines and the Space's stage as they come, from
// the page's event stream. Without this file the page shows the log as it was when loaded.
(function () {
  "use strict";

  // `2026-05-01 14:03 UTC`, as the page writes the times of the lines it came with.
  function stamp(timestamp) {
    var moment = new Date(timestamp);
    if (isNaN(moment.getTime())) { return ""; }
    return moment.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  function follow(section) {
    var log = document.getElementById("log");
    var empty = document.getElementById("log-empty");
    var status = document.getElementById("log-follow");
    var stage = document.getElementById("space-stage");
    var error = document.getElementById("space-error");
    var source = new EventSource(section.getAttribute("data-events"));

    source.addEventListener("open", function () {
      status.textContent = "Following new lines.";
    });
    source.addEventListener("line", function (event) {
      var line = JSON.parse(event.data);
      var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      var node = document.createElement("span");
      node.className = "log-line";
      node.setAttribute("data-seq", event.lastEventId);
      node.title = stamp(line.timestamp);
      node.textContent = line.text;  // text, never markup: a log is whatever the app printed
      log.appendChild(node);
      empty.hidden = true;
      if (atEnd) { log.scrollTop = log.scrollHeight; }
    });
    source.addEventListener("stage", function (event) {
      var state = JSON.parse(event.data);
      stage.textContent = state.stage;
      error.textContent = state.error || "";
      error.hidden = !state.error;
    });
    source.addEventListener("error", function () {
      // The browser reconnects by itself, unless the hub refused the stream (signed out, or
      // the Space gone): then only a reload helps.
      status.textContent = source.readyState === EventSource.CLOSED
        ? "Stopped following the log: reload the page."
        : "Reconnecting to the log…";
    });
    // A page left for another may be kept (the back-forward cache): its stream is not.
    window.addEventListener("pagehide", function () { source.close(); });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) { window.location.reload(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var section = document.getElementById("space-logs");
    if (section && window.EventSource) { follow(section); }
  });
})();
