// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // When htmx cannot reach the server or the server fails, say so instead of doing nothing.
  function announce(text) {
    var region = document.getElementById("status");
    if (!region) {
      region = document.getElementById("connection-status");
    }
    if (!region) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.textContent = text;
    region.prepend(p);
  }

  document.addEventListener("htmx:sendError", function () {
    announce("Could not reach Walkaway. Check your connection and send again: a form sent twice is never logged twice.");
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 404) {
      announce("That deal is not available to you any more.");
    } else if (status === 403) {
      announce("You are not allowed to do that.");
    } else if (status >= 500) {
      announce("Something went wrong on our side and this may not have been saved. Please try again.");
    }
  });

  // Closing a deal asks to confirm (UI.md "Closing a deal"): a form with data-confirm opens the
  // page's dialog, which says what will be recorded; "Confirm" sends the form (htmx posts it).
  // Without JavaScript the same form opens a confirm page instead.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!form.matches || !form.matches("form[data-confirm]")) return;
      if (form.dataset.confirmed === "1") {
        delete form.dataset.confirmed;
        return;
      }
      var dialog = document.getElementById("confirm-dialog");
      if (!dialog || typeof dialog.showModal !== "function") return;
      if (!form.reportValidity()) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      event.preventDefault();
      event.stopImmediatePropagation();
      var text = form.dataset.confirm;
      var field = form.dataset.confirmField && form.elements[form.dataset.confirmField];
      if (field && !field.value.trim() && form.dataset.confirmEmpty) {
        text = form.dataset.confirmEmpty;
      } else if (field && field.value.trim()) {
        text = text.replace("?", ": " + field.value.trim() + "?");
      }
      document.getElementById("confirm-dialog-text").textContent = text;
      dialog.returnValue = "";
      var opener = document.activeElement;
      dialog.addEventListener(
        "close",
        function () {
          if (dialog.returnValue === "confirm") {
            form.dataset.confirmed = "1";
            form.requestSubmit();
          } else if (opener && opener.focus) {
            opener.focus();
          }
        },
        { once: true }
      );
      dialog.showModal();
    },
    true
  );

  // The dialog's buttons close it with their value (Escape closes it as a cancel).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-close-dialog]");
    var dialog = button && button.closest("dialog");
    if (dialog) dialog.close(button.value);
  });

  // A swap that replaces the focused button would drop keyboard and screen-reader users at the
  // top of the page. Bring them back to the section they were working in: to the first field in
  // error, else to the message explaining a refusal, else to the section's heading.
  var origin = null;

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var section = elt.closest && (elt.closest("section[id], article[id]") || elt.closest("[id]"));
    origin = section ? section.id : null;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    // The status region redrawn out of band settles on its own; focus follows the main swap.
    if (event.target && event.target.id === "status") return;
    var active = document.activeElement;
    var place = origin && document.getElementById(origin);
    origin = null;
    if (!place || (active && active !== document.body)) return;
    var target =
      place.querySelector("[aria-invalid='true']") ||
      place.querySelector("[role='alert']") ||
      place.querySelector("h1, h2, h3") ||
      place;
    if (!target.matches("input, select, textarea, button, a[href]")) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  });
})();
