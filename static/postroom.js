// Small progressive enhancements; every page works without this file.
document.documentElement.classList.add("js");

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.textContent.trim();
  const done = () => { button.textContent = "Copied"; setTimeout(() => { button.textContent = "Copy"; }, 2000); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => selectText(source));
  } else {
    selectText(source);
  }
});

function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

// The org switcher submits on change when scripts run; without them it has a button.
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// SMTP wizard: a passed connection test is bound to the exact settings; changing any of them
// clears the pass here too (the server refuses a stale one anyway).
document.addEventListener("input", (event) => {
  const form = event.target.closest("form[data-smtp-wizard]");
  if (!form || !["host", "port", "security", "username", "password", "ca_pem", "remove_ca"].includes(event.target.name)) return;
  const area = form.querySelector("#smtp-test");
  if (area && area.querySelector("input[name=test_token], .result")) {
    area.innerHTML = '<p class="hint">The connection settings changed: test the connection again.</p>';
  }
});

// The port follows the security choice while it still holds the other mode's default.
document.addEventListener("change", (event) => {
  if (event.target.name !== "security" || !event.target.closest("form[data-smtp-wizard]")) return;
  const port = event.target.form.elements.port;
  const defaults = { starttls: "587", tls: "465", none: "25" };
  if (port && Object.values(defaults).includes(port.value)) port.value = defaults[event.target.value];
});
