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

  // Drag and drop onto a file field.
  document.querySelectorAll("[data-dropzone]").forEach(function (zone) {
    var input = zone.querySelector('input[type="file"]');
    if (!input) { return; }
    ["dragenter", "dragover"].forEach(function (t) {
      zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      zone.addEventListener(t, function () { zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; }
    });
  });

  // Uploads through the API with a progress bar; without script the form posts as usual.
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.FormData || !window.XMLHttpRequest) { return; }
      e.preventDefault();
      var bar = form.querySelector("progress");
      var status = form.querySelector('[role="status"]');
      var button = form.querySelector('button[type="submit"]');
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("data-upload"));
      xhr.setRequestHeader("x-csrf-token", csrf);
      if (bar) { bar.hidden = false; bar.value = 0; }
      if (button) { button.disabled = true; }
      xhr.upload.addEventListener("progress", function (p) {
        if (p.lengthComputable && bar) { bar.value = Math.round((p.loaded / p.total) * 100); }
        if (status) { status.textContent = "Uploading… " + (bar ? bar.value : 0) + "%"; }
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
        if (xhr.status === 201 && body && body.id) {
          if (status) { status.textContent = "Uploaded."; }
          window.location.assign("/evidence/" + encodeURIComponent(body.id) + "?notice=added");
          return;
        }
        if (button) { button.disabled = false; }
        if (bar) { bar.hidden = true; }
        if (status) {
          status.textContent = (body && body.error && body.error.message) || ("The upload failed (" + xhr.status + ").");
          status.classList.add("error");
        }
      });
      xhr.addEventListener("error", function () {
        if (button) { button.disabled = false; }
        if (status) { status.textContent = "The upload was interrupted: check the connection and try again."; }
      });
      if (status) { status.classList.remove("error"); status.textContent = "Uploading…"; }
      xhr.send(new FormData(form));
    });
  });

  // Expose the CSRF token to other scripts that call the API with the session cookie.
  window.attest = { csrf: csrf };
})();
