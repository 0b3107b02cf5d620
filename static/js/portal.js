/* Every page (loaded by templates/base.html): the menu button of narrow screens, the focus on
   a form that did not go through, and keyboard access to a table that scrolls sideways.
   Progressive enhancement: without scripts the header's links wrap and every error is on the
   page, next to its field and in the banner at the top of its form. A file, not inline code,
   so that the pages pass a Content-Security-Policy without 'unsafe-inline'. */
(function () {
  "use strict";

  // The menu: on a narrow screen (portal.css), the navigation and "Sign out" fold behind a
  // button once this script runs; without it they wrap under the brand.
  function setUpMenu() {
    var header = document.querySelector(".topbar");
    var button = document.getElementById("menu-toggle");
    if (!header || !button) {
      return;
    }
    function show(open) {
      header.classList.toggle("menu-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    header.classList.add("has-menu");
    button.hidden = false;
    button.addEventListener("click", function () {
      show(!header.classList.contains("menu-open"));
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && header.classList.contains("menu-open")) {
        show(false);
        button.focus();
      }
    });
  }

  // The navigation marks the page it is on.
  function markCurrentPage() {
    document.querySelectorAll(".nav a[href]").forEach(function (link) {
      if (link.pathname === window.location.pathname) {
        link.setAttribute("aria-current", "page");
      }
    });
  }

  // The field a banner link names: the widget itself, or the first control of a group.
  function fieldOf(link) {
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) {
      return null;
    }
    if (target.matches("input, select, textarea, button")) {
      return target;
    }
    return target.querySelector("input, select, textarea, button");
  }

  // A form that did not go through: its banner in view at the top of the window, the focus
  // on the first invalid field (on the banner when the problem is not one field's).
  function focusFormErrors() {
    var banner = document.querySelector("[data-form-errors]");
    if (!banner) {
      return;
    }
    banner.querySelectorAll("a[href^='#']").forEach(function (link) {
      if (!fieldOf(link)) {
        link.replaceWith(document.createTextNode(link.textContent));
      }
    });
    var scope = banner.closest("form") || document;
    var first = scope.querySelector("[aria-invalid='true']");
    banner.scrollIntoView({ block: "start" });
    (first || banner).focus({ preventScroll: true });
  }

  document.addEventListener("click", function (event) {
    var link = event.target instanceof Element
      ? event.target.closest("[data-form-errors] a[href^='#']")
      : null;
    var field = link ? fieldOf(link) : null;
    if (!field) {
      return;
    }
    event.preventDefault();
    field.scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  });

  // A table wider than a phone scrolls inside its card (portal.css): let the keyboard
  // reach it too.
  function markScrollingTables() {
    document.querySelectorAll(".table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.tabIndex = 0;
      } else {
        table.removeAttribute("tabindex");
      }
    });
  }

  setUpMenu();
  markCurrentPage();
  focusFormErrors();
  markScrollingTables();
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(markScrollingTables, 150);
  });
})();
