// k8slearn classroom glue. A class command arrives as #class-command (htmx ws swaps it in):
// "goto" opens an exercise of the lesson, "ended"/"refresh" reload the page. On the presenter
// page, chaos mode turns a click on a pod into "delete this pod".
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "ko";

  document.addEventListener("htmx:oobAfterSwap", function (ev) {
    var el = ev.detail.target;
    if (!el || el.id !== "class-command") return;
    var kind = el.dataset.kind;
    if (kind === "goto") {
      var url = el.dataset["goto" + (lang === "en" ? "En" : "Ko")];
      if (!url) return;
      var here = location.pathname + location.hash;
      if (here === url) return;
      if (location.pathname === url.split("#")[0]) {
        location.hash = url.split("#")[1];
      } else {
        location.assign(url);
      }
    } else if (kind === "ended" || kind === "refresh") {
      location.reload();
    }
  });

  var toggle = document.getElementById("chaos-toggle");
  if (!toggle) return;
  toggle.addEventListener("click", function () {
    var on = toggle.getAttribute("aria-pressed") !== "true";
    toggle.setAttribute("aria-pressed", on ? "true" : "false");
    document.body.classList.toggle("chaos", on);
    var hint = document.getElementById("chaos-hint");
    if (hint) hint.hidden = !on;
  });
  document.addEventListener("click", function (ev) {
    if (!document.body.classList.contains("chaos")) return;
    if (ev.target.closest("button, a, input, select, textarea, summary")) return;
    var pod = ev.target.closest(".pg-pod");
    var form = document.getElementById("run-form");
    if (!pod || !form || !pod.dataset.name) return;
    pod.classList.add("pg-pod--shot");
    form.textContent = "";
    [["action", "delete-pod"], ["pod", pod.dataset.name]].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
  });
})();
