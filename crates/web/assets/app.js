// Attest's small script: progressive enhancements only; every page works without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";

  // Mobile navigation toggle.
  var toggle = document.querySelector(".navtoggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var nav = document.getElementById("sidenav");
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // The organisation switcher submits on change.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
    var btn = s.form.querySelector("button");
    if (btn) { btn.hidden = true; }
  });

  // Confirm destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  // Copy buttons next to secrets.
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-copy"));
      if (el && navigator.clipboard) {
        navigator.clipboard.writeText(el.textContent.trim()).then(function () { b.textContent = "Copied"; });
      }
    });
  });

  // Expose the CSRF token to other scripts that call the API with the session cookie.
  window.attest = { csrf: csrf };
})();
