// Copy buttons: <button type="button" data-copy="#source-id" hidden>…</button> next to an
// input or element holding the text. Without JS (or clipboard access) the button stays hidden
// and the text can still be selected by hand.
document.addEventListener("DOMContentLoaded", () => {
  for (const source of document.querySelectorAll("input[readonly].secret")) {
    source.addEventListener("focus", () => source.select());
  }
  if (!navigator.clipboard) return;
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.querySelector(button.dataset.copy);
    if (!source) continue;
    const label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const text = "value" in source ? source.value : source.textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = button.dataset.copied || label;
      } catch {
        button.textContent = button.dataset.copyFailed || label;
        source.focus();
      }
      setTimeout(() => { button.textContent = label; }, 2500);
    });
  }
});
