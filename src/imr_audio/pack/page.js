// The home pack's player: lengths, captions in sync, one track at a time. No network, no storage.
(function () {
  "use strict";

  function clock(seconds) {
    var total = Math.round(seconds);
    var hours = Math.floor(total / 3600);
    var minutes = Math.floor((total % 3600) / 60);
    var secs = total % 60;
    var mm = hours > 0 && minutes < 10 ? "0" + minutes : String(minutes);
    return (hours > 0 ? hours + ":" : "") + mm + ":" + (secs < 10 ? "0" : "") + secs;
  }

  function cueText(cue) {
    var text = cue.getCueAsHTML ? cue.getCueAsHTML().textContent : cue.text;
    return text.replace(/\s+/g, " ").trim();
  }

  var players = Array.prototype.slice.call(document.querySelectorAll("audio[data-track]"));

  players.forEach(function (audio) {
    var length = document.getElementById(audio.id + "-length");
    var status = document.getElementById(audio.id + "-status");
    var caption = document.getElementById(audio.id + "-caption");
    var toggle = document.getElementById(audio.id + "-show-captions");
    var element = audio.querySelector("track");
    var track = element ? element.track : null;

    function showLength() {
      if (isFinite(audio.duration) && audio.duration > 0) {
        length.textContent = clock(audio.duration);
        length.setAttribute("data-loaded-s", audio.duration.toFixed(3));
      }
    }

    function showCue() {
      if (!track || !toggle.checked) {
        return;
      }
      var active = track.activeCues;
      var text = active && active.length ? cueText(active[active.length - 1]) : "";
      if (caption.textContent !== text) {
        caption.textContent = text;
      }
    }

    function captionsLoaded() {
      var count = track && track.cues ? track.cues.length : 0;
      caption.setAttribute("data-cues", String(count));
      caption.setAttribute("data-state", count > 0 ? "loaded" : "empty");
      showCue();
    }

    audio.addEventListener("loadedmetadata", showLength);
    audio.addEventListener("durationchange", showLength);
    audio.addEventListener("error", function () {
      status.textContent = "This track could not be played here. Try the audio file link below.";
      audio.setAttribute("data-state", "error");
    });
    audio.addEventListener("play", function () {
      players.forEach(function (other) {
        if (other !== audio) {
          other.pause();
        }
      });
    });
    if (audio.readyState >= 1) {
      showLength();
    }

    if (track) {
      track.mode = "hidden";
      track.addEventListener("cuechange", showCue);
      element.addEventListener("load", captionsLoaded);
      element.addEventListener("error", function () {
        caption.setAttribute("data-state", "error");
      });
      if (element.readyState === 2) {
        captionsLoaded();
      }
    }
    toggle.addEventListener("change", function () {
      caption.hidden = !toggle.checked;
      if (toggle.checked) {
        showCue();
      } else {
        caption.textContent = "";
      }
    });
  });
})();
