// The print page's button (no inline handlers: the site's CSP allows only its own script files).
document.querySelectorAll(".print-button").forEach(function (b) { b.addEventListener("click", function () { window.print(); }); });
