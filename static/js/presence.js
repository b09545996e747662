// The overdue board: show clearly when the server cannot be reached, so a
// tablet never shows a stale board as if it were current. Pages work without it
// (the board then reloads itself by a meta refresh).
(function () {
  "use strict";
  var lastOk = Date.now();
  var failedSince = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clockText(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }

  function board() { return document.getElementById("overdue-board"); }
  function notice() { return document.getElementById("board-connection"); }

  function markDown() {
    var box = notice();
    var b = board();
    if (!box || !b) { return; }
    if (failedSince === null) { failedSince = new Date(lastOk); }
    var since = box.querySelector("[data-since]");
    if (since) { since.textContent = " (last update " + clockText(failedSince) + ")"; }
    box.hidden = false;
    b.classList.add("presence-board--stale");
  }

  function markUp() {
    lastOk = Date.now();
    failedSince = null;
    var box = notice();
    if (box) { box.hidden = true; }
    var b = board();
    if (b) { b.classList.remove("presence-board--stale"); }
  }

  function isBoard(event) {
    var el = event.detail && event.detail.elt;
    return el && el.id === "overdue-board";
  }

  document.addEventListener("htmx:sendError", function (event) { if (isBoard(event)) { markDown(); } });
  document.addEventListener("htmx:timeout", function (event) { if (isBoard(event)) { markDown(); } });
  document.addEventListener("htmx:responseError", function (event) { if (isBoard(event)) { markDown(); } });
  document.addEventListener("htmx:afterSwap", function () { if (board()) { markUp(); } });

  // A request that never answers sends no event: check the age of the last update too.
  setInterval(function () {
    var b = board();
    if (!b) { return; }
    var limit = (parseInt(b.getAttribute("data-stale-after"), 10) || 60) * 1000;
    if (Date.now() - lastOk > limit) { markDown(); }
  }, 5000);
})();
