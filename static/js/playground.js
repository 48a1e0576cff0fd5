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
})();
