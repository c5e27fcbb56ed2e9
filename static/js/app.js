// Vision Workbench: the little JavaScript the site needs. Every page works without it; this only
// wires htmx to Flask-WTF's CSRF check, makes failed htmx requests visible, and starts the
// design system's components (its ES module sets window.DS but does not start itself).
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : null;
  }

  function initDesignSystem(root) {
    if (window.DS && typeof window.DS.initAll === "function") {
      window.DS.initAll(root);
    }
  }

  function showStatus(message) {
    var region = document.getElementById("htmx-status");
    if (region) {
      region.textContent = message;
    }
  }

  // Flask-WTF reads the token from this header on htmx requests.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) {
      event.detail.headers["X-CSRFToken"] = token;
    }
  });

  // htmx 2 does not swap 4xx/5xx answers, so without this a failed action would look like nothing happened.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : "";
    showStatus("Sorry, that action did not work" + (status ? " (error " + status + ")" : "") +
      ". Reload the page and try again.");
  });

  document.addEventListener("htmx:sendError", function () {
    showStatus("Sorry, that action did not work because the site could not be reached. " +
      "Check your connection, reload the page and try again.");
  });

  // A later success clears an earlier failure message.
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      showStatus("");
    }
  });

  // Swapped-in content may hold design system components (accordions, tabs, character counts...).
  document.addEventListener("htmx:afterSwap", function (event) {
    var root = event.target;
    initDesignSystem(root instanceof Element && root.isConnected ? root : document);
  });

  // Deferred scripts run before the module has necessarily run; DOMContentLoaded waits for both.
  if (document.readyState === "complete") {
    initDesignSystem(document);
  } else {
    document.addEventListener("DOMContentLoaded", function () { initDesignSystem(document); });
  }
})();
