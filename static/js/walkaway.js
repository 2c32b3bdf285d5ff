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
    announce("Could not reach Walkaway. Check your connection; nothing was saved.");
  });

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 404) {
      announce("That deal is not available to you any more.");
    } else if (status === 403) {
      announce("You are not allowed to do that.");
    } else if (status >= 500) {
      announce("Something went wrong on our side; nothing was saved. Please try again.");
    }
  });
})();
