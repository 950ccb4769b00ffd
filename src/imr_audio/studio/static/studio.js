// imr-audio studio: the page's small behaviours (no framework, nothing from other hosts).
"use strict";

(function () {
  // Lists: add and remove rows.
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLElement)) { return; }
    if (target.hasAttribute("data-add-row")) {
      var box = target.closest("[data-rows]");
      var rows = box.querySelectorAll("[data-row]");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var n = rows.length + 1;
      copy.querySelectorAll("input").forEach(function (input) {
        input.value = "";
        input.id = input.id.replace(/-?([ws]?)\d+$/, "-$1" + n);
      });
      copy.querySelectorAll("label").forEach(function (label) {
        label.htmlFor = label.htmlFor.replace(/-?([ws]?)\d+$/, "-$1" + n);
        label.textContent = label.textContent.replace(/\d+$/, String(n));
      });
      last.after(copy);
      copy.querySelector("input").focus();
      changed();
    } else if (target.hasAttribute("data-remove-row")) {
      var row = target.closest("[data-row]");
      var all = row.parentElement.querySelectorAll("[data-row]");
      if (all.length > 1) {
        var next = row.nextElementSibling;
        row.remove();
        if (next) { (next.querySelector("input") || next).focus(); }
      } else {
        row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
      }
      changed();
    } else if (target.hasAttribute("data-seek")) {
      var player = document.getElementById("player");
      if (player) {
        player.currentTime = parseFloat(target.getAttribute("data-seek"));
        player.play();
      }
    } else if (target.hasAttribute("data-preview-button")) {
      refresh();
    }
  });

  // Live preview: refreshed 400 ms after the last change.
  var form = document.querySelector("[data-preview-form]");
  var box = document.querySelector("[data-preview]");
  var timer = null;
  var asked = 0;
  function refresh() {
    if (!form || !box) { return; }
    var mine = ++asked;
    box.setAttribute("aria-busy", "true");
    fetch("/preview", { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== asked) { return; }
        box.innerHTML = html;
        box.removeAttribute("aria-busy");
      })
      .catch(function () { box.removeAttribute("aria-busy"); });
  }
  function changed() {
    if (!form) { return; }
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 400);
  }
  if (form) {
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
  }

  // A job: its state pushed by the server as it changes.
  var job = document.querySelector("[data-job]");
  if (job && job.getAttribute("data-final") === "no" && window.EventSource) {
    var id = job.getAttribute("data-job");
    var source = new EventSource("/jobs/" + encodeURIComponent(id) + "/events");
    source.onmessage = function (event) {
      var status = JSON.parse(event.data);
      job.querySelector("[data-state]").textContent = status.state;
      job.querySelector("[data-stage]").textContent = status.stage;
      var bar = job.querySelector("[data-progress]");
      bar.value = status.fraction;
      bar.textContent = Math.round(status.fraction * 100) + "%";
      job.querySelector("[data-message]").textContent = status.message;
      if (status.final) {
        source.close();
        window.location.reload();
      }
    };
  }

  // A library run: each track's state pushed by the server.
  var run = document.querySelector("[data-library-run]");
  if (run && run.getAttribute("data-final") === "no" && window.EventSource) {
    var runSource = new EventSource("/library/runs/" +
      encodeURIComponent(run.getAttribute("data-library-run")) + "/events");
    runSource.onmessage = function (event) {
      var status = JSON.parse(event.data);
      run.querySelector("[data-run-state]").textContent = status.state;
      run.querySelector("[data-run-message]").textContent = status.message;
      status.tracks.forEach(function (track, index) {
        var row = run.querySelector('[data-track="' + index + '"]');
        if (!row) { return; }
        row.querySelector("[data-track-state]").textContent = track.state;
        row.querySelector("[data-track-stage]").textContent = track.state === "running" ? track.stage : "";
        row.querySelector("[data-track-reason]").textContent = track.reason;
        row.querySelector("[data-track-progress]").value = track.fraction;
      });
      if (status.final) { runSource.close(); }
    };
  }
})();
