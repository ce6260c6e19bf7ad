/* The candidate's pages, enhanced: autosave, character counts, a live countdown and local
   times. Every page works without this file; the server decides what is saved and when
   time is up, this only saves sooner and shows more. */
(function () {
  "use strict";

  const DEBOUNCE_MS = 800;
  const FIRST_RETRY_MS = 2000;
  const MAX_RETRY_MS = 30000;

  document.documentElement.classList.replace("no-js", "js");
  const lang = document.documentElement.lang;
  const status = document.getElementById("save-status");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
  }

  function say(text, failed) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("failed", Boolean(failed));
  }

  // Times come from the server in UTC; show them in the reader's own time zone.
  for (const element of document.querySelectorAll("time[data-local]")) {
    const when = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      element.textContent = when.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
    }
  }

  for (const area of document.querySelectorAll("textarea[maxlength]")) {
    const counter = document.getElementById("count-" + area.name);
    if (!counter) continue;
    const max = Number(counter.dataset.max);
    const update = () => {
      // value.length counts what maxlength counts, so the number matches what the browser allows.
      counter.textContent = fill(counter.dataset.template, { n: area.value.length, max: max });
      counter.classList.toggle("near", area.value.length >= max * 0.9);
    };
    area.addEventListener("input", update);
    update();
  }

  function setUpAutosave(form) {
    const url = form.dataset.autosave;
    let timer = null;
    let dirty = false;
    let retryMs = FIRST_RETRY_MS;
    let chain = Promise.resolve();

    function answers() {
      const result = {};
      for (const fieldset of form.querySelectorAll("fieldset[data-item]")) {
        const area = fieldset.querySelector("textarea");
        result[fieldset.dataset.item] = area
          ? area.value
          : Array.from(fieldset.querySelectorAll("input:checked"), (input) => input.value);
      }
      return result;
    }

    function schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(save, delay);
    }

    function showProblems(problems) {
      for (const fieldset of form.querySelectorAll("fieldset[data-item]")) {
        const id = fieldset.dataset.item;
        const message = document.getElementById("error-" + id);
        const area = fieldset.querySelector("textarea");
        const problem = problems[id];
        if (message) {
          message.textContent = problem || "";
          message.hidden = !problem;
        }
        fieldset.classList.toggle("has-error", Boolean(problem));
        if (area) {
          if (problem) area.setAttribute("aria-invalid", "true");
          else area.removeAttribute("aria-invalid");
        }
      }
    }

    function showCounts(sections) {
      const mine = (sections || []).find((s) => String(s.number) === form.dataset.section);
      if (!mine) return;
      const text = document.querySelector("[data-answered]");
      const bar = document.querySelector("[data-answered-bar]");
      if (text) text.textContent = fill(text.dataset.template, { a: mine.answered, n: mine.total });
      if (bar) bar.value = mine.answered;
    }

    function failed() {
      dirty = true;
      say(status.dataset.retrying, true);
      schedule(retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }

    async function send(payload) {
      say(status.dataset.saving);
      let response;
      let body = {};
      try {
        response = await fetch(url, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: payload,
          credentials: "same-origin",
          cache: "no-store",
        });
        body = await response.json().catch(() => ({}));
      } catch (error) {
        failed();
        return;
      }
      if (response.ok) {
        retryMs = FIRST_RETRY_MS;
        showProblems({});
        showCounts(body.sections);
        say(status.dataset.saved + " " + new Date().toLocaleTimeString(lang));
      } else if (response.status === 422 && body.detail && body.detail.problems) {
        // Sending the same answers again would be refused again: wait for the next change.
        showProblems(body.detail.problems);
        say(status.dataset.refused, true);
      } else if ([404, 409, 410].includes(response.status)) {
        // Submitted, out of time or withdrawn: the page itself says which.
        window.location.reload();
      } else {
        failed();
      }
    }

    function save() {
      clearTimeout(timer);
      timer = null;
      if (!dirty) return chain;
      dirty = false;
      const payload = JSON.stringify({ answers: answers() });
      // One save at a time, in order, so an older answer never lands after a newer one.
      chain = chain.then(() => send(payload));
      return chain;
    }

    function changed() {
      dirty = true;
      schedule(DEBOUNCE_MS);
    }

    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    // Next and Previous post the whole section, which saves it.
    form.addEventListener("submit", () => {
      clearTimeout(timer);
      dirty = false;
    });
    window.addEventListener("pagehide", () => {
      if (dirty) {
        const blob = new Blob([JSON.stringify({ answers: answers() })], { type: "application/json" });
        navigator.sendBeacon(url, blob);
      }
    });
    say(status.dataset.auto);
    return {
      flush() {
        dirty = true;
        return save();
      },
    };
  }

  function clock(seconds) {
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + s : m + ":" + s;
  }

  function setUpCountdown(autosave) {
    const box = document.querySelector(".countdown[data-remaining]");
    if (!box) return;
    const start = Number(box.dataset.remaining);
    if (!(start > 0)) return;
    const value = box.querySelector(".countdown-value");
    const note = box.querySelector(".countdown-note");
    if (note) note.hidden = true;
    // A monotonic clock: changing the computer's time does not change the countdown.
    const end = performance.now() + start * 1000;
    const announced = new Set();

    function tick() {
      const left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      value.textContent = clock(left);
      box.classList.toggle("urgent", left <= 300);
      for (const minutes of [5, 1]) {
        if (left <= minutes * 60 && start > minutes * 60 && !announced.has(minutes)) {
          announced.add(minutes);
          if (status) say(fill(status.dataset.minutes, { m: minutes }));
        }
      }
      if (left > 0) {
        setTimeout(tick, 250);
        return;
      }
      if (status) say(status.dataset.timeup);
      // The server submits what was saved and shows the confirmation on the next page view.
      const saved = autosave ? autosave.flush() : Promise.resolve();
      saved.then(() => window.location.reload());
    }

    tick();
  }

  const form = document.querySelector("form[data-autosave]");
  const autosave = form && status ? setUpAutosave(form) : null;
  setUpCountdown(autosave);
})();
