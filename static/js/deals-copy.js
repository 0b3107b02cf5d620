/* Deal pages: a POI link input selects its text when it gets focus, and a Copy button copies
   the link it names. A file rather than inline handlers, so that the pages pass a
   Content-Security-Policy without 'unsafe-inline'. */
(function () {
  "use strict";

  document.addEventListener("focusin", function (event) {
    var field = event.target;
    if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
      field.select();
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target instanceof Element ? target.closest("button[data-copy-from]") : null;
    if (!button) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy-from"));
    if (!source) {
      return;
    }
    if (navigator.clipboard) {
      navigator.clipboard.writeText(source.value);
    }
    button.textContent = "Copied";
  });
})();
