// Posts the SBPS purchase request as soon as the page is shown (the button
// stays for browsers without JavaScript).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("sbps-purchase");
  if (form) { form.submit(); }
});
