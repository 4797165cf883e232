// Apple Pay on the Web: the button appears only where ApplePaySession exists
// and can make payments. Merchant validation and the token go to Kessai
// (same origin); Kessai talks to Apple and verifies the token.
(function () {
  "use strict";
  var box = document.getElementById("applepay");
  if (!box || !window.ApplePaySession || !window.ApplePaySession.canMakePayments()) { return; }
  var button = document.getElementById("applepay-button");
  var errorBox = document.getElementById("applepay-error");
  box.hidden = false;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.getAttribute("data-csrf") },
      body: JSON.stringify(body)
    }).then(function (response) { return response.json(); });
  }

  button.addEventListener("click", function () {
    var session = new window.ApplePaySession(3, {
      countryCode: "JP",
      currencyCode: "JPY",
      supportedNetworks: ["visa", "masterCard", "jcb", "amex"],
      merchantCapabilities: ["supports3DS"],
      total: { label: box.getAttribute("data-label"), amount: box.getAttribute("data-amount") }
    });
    session.onvalidatemerchant = function (event) {
      post(box.getAttribute("data-validate-url"), { validationURL: event.validationURL })
        .then(function (merchantSession) { session.completeMerchantValidation(merchantSession); })
        .catch(function () { session.abort(); });
    };
    session.onpaymentauthorized = function (event) {
      post(box.getAttribute("data-authorize-url"), { token: event.payment.token })
        .then(function (result) {
          var ok = Boolean(result.redirect) && !result.error;
          session.completePayment(ok ? window.ApplePaySession.STATUS_SUCCESS : window.ApplePaySession.STATUS_FAILURE);
          if (result.redirect) { window.location.assign(result.redirect); }
          if (result.error) { errorBox.textContent = result.error; errorBox.hidden = false; }
        })
        .catch(function () { session.completePayment(window.ApplePaySession.STATUS_FAILURE); });
    };
    session.begin();
  });
})();
