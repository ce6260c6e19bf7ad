/* Autosave for the 360 rating form: a progressive enhancement, the form works without it.
   Every change posts the whole form (with its CSRF token) to data-autosave, debounced;
   the answer says when it was saved, in the page's language, in an aria-live status. */
(function () {
  "use strict";

  var form = document.getElementById("rating-form");
  if (!form || !form.dataset.autosave || !window.fetch || !window.FormData) {
    return;
  }
  var status = document.getElementById("save-status");
  var counter = document.getElementById("answered-count");
  var timer = null;
  var busy = false;
  var again = false;

  function show(text, kind) {
    if (!status) {
      return;
    }
    status.textContent = text;
    status.setAttribute("data-kind", kind);
  }

  function firstError(body) {
    if (body.message) {
      return body.message;
    }
    // Refused before the route ran (a NUL character, an expired form): {"detail": {...}}.
    if (body.detail && body.detail.message) {
      return body.detail.message;
    }
    var errors = body.errors || {};
    for (var key in errors) {
      if (Object.prototype.hasOwnProperty.call(errors, key)) {
        return errors[key];
      }
    }
    return "";
  }

  function save() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var data = new FormData(form);
    data.delete("confirm");
    show(form.dataset.saving, "busy");
    fetch(form.dataset.autosave, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        return response.json().then(
          function (body) { return { ok: response.ok, body: body }; },
          function () { return { ok: false, body: {} }; }
        );
      })
      .then(
        function (result) {
          if (result.ok) {
            show(result.body.status, "saved");
            if (counter && typeof result.body.answered === "number") {
              counter.textContent = String(result.body.answered);
            }
          } else {
            // No message of ours (an expired sign-in or form, say): reloading is the way on.
            show(form.dataset.failed + " " + (firstError(result.body) || form.dataset.reload), "error");
          }
        },
        function () { show(form.dataset.offline, "error"); }
      )
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          save();
        }
      });
  }

  function later(delay) {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, delay);
  }

  form.addEventListener("change", function (event) {
    var name = event.target && event.target.name;
    if (name && name.indexOf("level.") === 0) {
      later(250);
    }
  });
  form.addEventListener("input", function (event) {
    if (event.target && event.target.tagName === "TEXTAREA") {
      later(900);
    }
  });
  // Save and Submit post everything themselves: no autosave racing them.
  form.addEventListener("submit", function () {
    window.clearTimeout(timer);
  });
})();
