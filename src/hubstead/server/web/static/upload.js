// hubstead upload page: drag and drop, and a progress bar. The form works without this file.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = document.getElementById("upload-files");
  var zone = document.getElementById("drop-zone");
  var list = document.getElementById("chosen-files");
  var progress = document.getElementById("upload-progress");
  var problem = document.getElementById("upload-js-error");
  var button = document.getElementById("upload-button");
  var dropped = null;

  function chosen() { return dropped || input.files; }

  function show() {
    list.textContent = "";
    var files = chosen();
    for (var i = 0; i < files.length; i++) {
      var item = document.createElement("li");
      item.textContent = files[i].name + " (" + files[i].size + " bytes)";
      list.appendChild(item);
    }
  }

  input.addEventListener("change", function () { dropped = null; show(); });
  zone.addEventListener("dragover", function (event) {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer && event.dataTransfer.files.length) {
      dropped = event.dataTransfer.files;
      input.required = false;
      show();
    }
  });

  function fail(message) {
    problem.textContent = message;
    problem.classList.remove("hidden");
    progress.classList.add("hidden");
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    var files = chosen();
    if (!files.length) { return; }
    event.preventDefault();
    var data = new FormData(form);
    if (dropped) {
      data.delete("files");
      for (var i = 0; i < dropped.length; i++) { data.append("files", dropped[i], dropped[i].name); }
    }
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { progress.value = Math.round((100 * e.loaded) / e.total); }
    });
    request.addEventListener("load", function () {
      if (request.status === 200 && request.responseURL && request.responseURL.indexOf(form.action) === -1) {
        window.location.assign(request.responseURL);
        return;
      }
      var page = new DOMParser().parseFromString(request.responseText, "text/html");
      var found = page.getElementById("upload-error") || page.getElementById("error-message");
      fail(found ? found.textContent : "The upload failed (" + request.status + ")");
    });
    request.addEventListener("error", function () { fail("The upload failed: the connection was lost."); });
    problem.classList.add("hidden");
    progress.classList.remove("hidden");
    progress.value = 0;
    button.disabled = true;
    request.send(data);
  });
})();
