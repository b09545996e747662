// peerapp's own few lines of JavaScript. Pages work without them.
(function () {
  "use strict";
  // Move focus to the error summary so screen-reader and keyboard users hear it.
  function focusErrors(root) {
    var summary = (root || document).querySelector(".nhsuk-error-summary");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrors(document); });
  // Controls that only work with JavaScript are sent hidden (data-js-only): shown here,
  // so without JavaScript nobody meets a button that does nothing.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });
  });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrors(event.target); });
  // Print buttons: <button data-print>.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-print]");
    if (button) { event.preventDefault(); window.print(); }
  });
  // Network failures during an htmx request are shown, never silent.
  document.addEventListener("htmx:sendError", function () {
    var region = document.getElementById("page-alert");
    if (region) {
      region.innerHTML = '<div class="peerapp-flash peerapp-flash--error" role="alert"><p class="nhsuk-body nhsuk-u-margin-bottom-0"><strong>Not sent.</strong> The connection dropped. Check your network and try again: nothing was lost on this page.</p></div>';
    }
  });
})();
