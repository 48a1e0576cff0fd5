// Live preview for lesson authors (DEBUG only, see k8slearn/courses/authoring.py): every second,
// ask for the lessons' signature; when a lesson file changed, reload and come back to the same
// scroll position.
(function () {
  "use strict";
  var script = document.currentScript;
  var token = script.dataset.previewToken;
  var url = script.dataset.previewUrl;
  var KEY = "k8slearn-preview-scroll";

  try {
    var saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && saved.path === location.pathname) {
      sessionStorage.removeItem(KEY);
      if ("scrollRestoration" in history) history.scrollRestoration = "manual";
      window.scrollTo(0, saved.y);
      window.addEventListener("load", function () {
        window.scrollTo(0, saved.y);
        // Back to the browser's own restore, for a manual reload or back/forward later.
        if ("scrollRestoration" in history) history.scrollRestoration = "auto";
      });
    }
  } catch (e) { /* private mode: no sessionStorage, reload to the top */ }

  function poll() {
    fetch(url, { cache: "no-store" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (now) {
      if (now && now !== token) {
        try {
          sessionStorage.setItem(KEY, JSON.stringify({ path: location.pathname, y: window.scrollY }));
        } catch (e) { /* reload anyway */ }
        location.reload();
        return;
      }
      setTimeout(poll, 1000);
    }).catch(function () { setTimeout(poll, 2000); });  // the server is restarting
  }
  setTimeout(poll, 1000);
})();
