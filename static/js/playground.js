// k8slearn playground glue: kubectl history (↑/↓), clear the input after send, keep the
// terminal scrolled to the newest output. No framework; htmx's ws extension does the rest.
(function () {
  "use strict";
  var history = [];
  var pos = 0;

  document.addEventListener("keydown", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("[data-terminal] input[name=line]")) return;
    if (ev.key !== "ArrowUp" && ev.key !== "ArrowDown") return;
    if (!history.length) return;
    ev.preventDefault();
    pos = ev.key === "ArrowUp" ? Math.max(0, pos - 1) : Math.min(history.length, pos + 1);
    input.value = pos < history.length ? history[pos] : "";
  });

  // The ws extension fires htmx:wsConfigSend on the form just before it sends its fields.
  document.addEventListener("htmx:wsConfigSend", function (ev) {
    var form = ev.target;
    if (!form || !form.matches || !form.matches("[data-terminal]")) return;
    var input = form.querySelector("input[name=line]");
    var line = input.value.trim();
    if (line && history[history.length - 1] !== line) history.push(line);
    if (history.length > 100) history.shift();
    pos = history.length;
    setTimeout(function () { input.value = ""; }, 0);  // after the fields were read
  });

  // A card redrawn under a keyboard user's focus would drop the focus to <body>: remember
  // the focused button by its accessible name and focus its twin in the new card.
  var focusedLabel = null;
  document.addEventListener("htmx:oobBeforeSwap", function (ev) {
    var active = document.activeElement;
    var target = ev.detail.target;
    focusedLabel = active && target && target.contains(active) && active.getAttribute("aria-label");
  });

  // New output arrives out of band: follow it to the bottom.
  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var out = document.getElementById("terminal-output");
    if (out && ev.detail.target === out) out.scrollTop = out.scrollHeight;
    if (focusedLabel) {
      var twin = document.querySelector('[aria-label="' + CSS.escape(focusedLabel) + '"]');
      if (twin) twin.focus();
      focusedLabel = null;
    }
  });
  // Between server updates the virtual clock and the pods' AGE run here, so the server need
  // not send a frame every second to every learner. #clock carries the virtual time (ms), the
  // speed and whether time is paused; AGE cells carry their pod's creation time (virtual ms).
  // humanDuration is apimachinery's duration.HumanDuration, as kubectl's AGE column prints it.
  var base = null;

  function readClock() {
    var el = document.getElementById("clock");
    if (!el || el.dataset.nowMs === undefined) return;
    base = { ms: Number(el.dataset.nowMs), at: performance.now(),
             speed: Number(el.dataset.speed) || 1, paused: el.dataset.paused === "true" };
  }

  function two(n) { return (n < 10 ? "0" : "") + n; }

  function humanDuration(secs) {
    secs = Math.floor(secs);
    if (secs < 0) return "0s";
    if (secs < 120) return secs + "s";
    var m = Math.floor(secs / 60), h = Math.floor(secs / 3600), d = Math.floor(h / 24);
    if (m < 10) return m + "m" + (secs % 60 ? (secs % 60) + "s" : "");
    if (m < 180) return m + "m";
    if (h < 8) return h + "h" + (m % 60 ? (m % 60) + "m" : "");
    if (h < 48) return h + "h";
    if (h < 192) return d + "d" + (h % 24 ? (h % 24) + "h" : "");
    if (h < 24 * 730) return d + "d";
    var y = Math.floor(d / 365);
    return y + "y" + (h < 24 * 365 * 8 && d % 365 ? (d % 365) + "d" : "");
  }

  function tick() {
    if (!base || base.paused) return;
    var ms = base.ms + (performance.now() - base.at) * base.speed;
    var s = Math.floor(ms / 1000);
    var digits = document.querySelector("#clock .pg-clock__digits");
    if (digits) digits.textContent = two(Math.floor(s / 3600)) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60);
    document.querySelectorAll("[data-created-ms]").forEach(function (cell) {
      cell.textContent = humanDuration((ms - Number(cell.dataset.createdMs)) / 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", readClock);
  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var id = ev.detail.target && ev.detail.target.id;
    if (id === "clock" || id === "board") readClock();
  });
  // The replicas box keeps what a learner types (hx-preserve); when they are not typing in it,
  // it follows the Deployment's replicas (scaled from the terminal or a lesson's button).
  document.addEventListener("htmx:oobAfterSwap", function () {
    document.querySelectorAll("label[data-replicas] > input").forEach(function (input) {
      if (input !== document.activeElement) input.value = input.parentNode.dataset.replicas;
    });
  });
  // No socket, no ticking sandbox: stop the clock until the next board arrives.
  document.addEventListener("htmx:wsClose", function () { if (base) base.paused = true; });
  setInterval(tick, 1000);
})();
