// Lightning invoice page: a countdown to expiry and the ledger's status, polled until paid or expired.
(function () {
  "use strict";
  var box = document.getElementById("invoice");
  if (!box) return;
  var state = document.getElementById("state");
  var expiresAt = Date.parse(box.dataset.expiresAt || "");
  var finished = { paid: "Paid — pack active", expired: "Expired" };

  function show(status) {
    box.dataset.status = status;
    if (finished[status]) state.textContent = finished[status];
  }

  function tick() {
    var countdown = document.getElementById("countdown");
    if (!countdown || isNaN(expiresAt)) return;
    var left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    countdown.textContent = "expires in " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
  }

  function poll() {
    if (finished[box.dataset.status]) return;
    fetch(box.dataset.statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) show(body.status); })
      .catch(function () { /* offline for a moment: the next poll tries again */ })
      .then(function () { setTimeout(poll, 1500); });
  }

  tick();
  setInterval(tick, 1000);
  poll();
})();
