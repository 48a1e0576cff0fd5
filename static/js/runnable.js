// Runnable blocks in the lesson text (k8slearn/courses/blocks.py). The page renders their
// buttons hidden; with a playground on the page they show. "Run" types each kubectl line of its
// block into the playground terminal and sends it; an action button sends its message through
// the hidden #run-form, the same way as the playground's own buttons (htmx ws-send).
(function () {
  "use strict";
  var SENT = { ko: "플레이그라운드로 보냈다", en: "Sent to the playground" };
  var OFFLINE = { ko: "플레이그라운드가 아직 연결되지 않았다", en: "The playground is not connected yet" };

  function lang() { return document.documentElement.lang === "en" ? "en" : "ko"; }

  document.addEventListener("DOMContentLoaded", function () {
    if (!document.getElementById("sandbox")) return;
    document.querySelectorAll(".run-btn[hidden], .run-block[hidden]").forEach(function (el) {
      el.hidden = false;
    });
  });

  function say(button, text) {
    var note = button.parentNode.querySelector(".run-note");
    if (!note) {
      note = document.createElement("span");
      note.className = "run-note";
      note.setAttribute("role", "status");
      button.parentNode.appendChild(note);
    }
    note.textContent = "";
    var link = document.createElement("a");
    link.href = "#playground";
    link.textContent = text + " ↓";
    note.appendChild(link);
  }

  function send(form) {
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
  }

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest(".run-btn");
    if (!button) return;
    var terminal = document.querySelector("#sandbox [data-terminal]");
    var runForm = document.getElementById("run-form");
    if (!terminal || !runForm) { say(button, OFFLINE[lang()]); return; }
    if (button.dataset.runKubectl) {
      var input = terminal.querySelector("input[name=line]");
      JSON.parse(button.dataset.runKubectl).forEach(function (line) {
        input.value = line;
        send(terminal);
      });
    } else if (button.dataset.runAction) {
      var message = JSON.parse(button.dataset.runAction);
      runForm.textContent = "";
      Object.keys(message).forEach(function (name) {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = name;
        field.value = String(message[name]);
        runForm.appendChild(field);
      });
      send(runForm);
    }
    say(button, SENT[lang()]);
  });
})();
