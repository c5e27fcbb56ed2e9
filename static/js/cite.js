// Vision Workbench: a "Copy citation" button for the sentence a permalink's address names
// (#objective-12-p2-s3). Without this script the citation is still shown, as text to select and
// copy (CSS :target); the button only saves the selecting.
(function () {
  "use strict";

  function citationOf(cite) {
    var label = cite.querySelector(".app-sentence__cite-label");
    var text = cite.getAttribute("data-citation");
    if (text) {
      return text;
    }
    text = cite.textContent;
    return (label ? text.replace(label.textContent, "") : text).trim();
  }

  function offerCopy() {
    if (!navigator.clipboard) {
      return;
    }
    var cite = document.querySelector(".app-sentence:target .app-sentence__cite");
    if (!cite || cite.querySelector(".app-sentence__copy")) {
      return;
    }
    cite.setAttribute("data-citation", citationOf(cite));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "ds_button ds_button--small ds_button--secondary app-sentence__copy";
    button.textContent = "Copy citation";
    var status = document.createElement("span");
    status.className = "app-sentence__copied";
    status.setAttribute("role", "status");
    cite.appendChild(document.createTextNode(" "));
    cite.appendChild(button);
    cite.appendChild(status);
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest(".app-sentence__copy") : null;
    if (!button) {
      return;
    }
    var cite = button.closest(".app-sentence__cite");
    var status = cite.querySelector(".app-sentence__copied");
    navigator.clipboard.writeText(cite.getAttribute("data-citation")).then(
      function () { status.textContent = "Citation copied."; },
      function () { status.textContent = "Your browser did not allow copying: select the citation and copy it."; }
    );
  });

  window.addEventListener("hashchange", offerCopy);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", offerCopy);
  } else {
    offerCopy();
  }
})();
