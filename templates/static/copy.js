// The copy buttons of the subscribe page (templates/pages/office_subscribe.html). Without
// JavaScript the buttons stay hidden and the links stay selectable text; with it, each button
// copies its field's link and says so in the page's status line (read by screen readers).
(function () {
  "use strict";

  function fallbackCopy(field) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    return document.execCommand && document.execCommand("copy");
  }

  function say(text) {
    var status = document.querySelector(".copy-status");
    if (status) {
      status.textContent = text;
    }
  }

  function copy(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) {
      return;
    }
    var done = function () {
      say("Lien copié. Collez-le dans votre agenda.");
    };
    var failed = function () {
      if (fallbackCopy(field)) {
        done();
      } else {
        field.focus();
        field.select();
        say("Le lien est sélectionné : copiez-le avec Ctrl+C (ou Cmd+C sur Mac).");
      }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, failed);
    } else {
      failed();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("button[data-copy]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        copy(button);
      });
    });
  });
})();
