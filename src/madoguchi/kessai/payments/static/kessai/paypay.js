// Polls Kessai (same origin) while the citizen approves in the PayPay app,
// and moves on when there is an outcome. Without JavaScript the page's
// 「支払い状況を確認する」 link does the same.
(function () {
  "use strict";
  var box = document.getElementById("paypay-waiting");
  if (!box || !window.fetch) { return; }
  var statusUrl = box.getAttribute("data-status-url");
  var returnUrl = box.getAttribute("data-return-url");
  var delay = 2500;
  function poll() {
    fetch(statusUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { waiting: true }; })
      .then(function (data) {
        if (data.waiting) { window.setTimeout(poll, delay); } else { window.location.assign(returnUrl); }
      })
      .catch(function () { window.setTimeout(poll, delay * 2); });
  }
  window.setTimeout(poll, delay);
})();
