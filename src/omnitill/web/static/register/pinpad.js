// A PIN pad: big digit keys for fingers, and the keyboard's digits, Backspace and Enter.
// Used by the sign-in page, the lock screen and the manager approval prompt.
export function pinPad(container, { onSubmit, label = "PIN" }) {
  container.classList.add("pinpad");
  container.innerHTML = "";
  const display = document.createElement("input");
  display.type = "password";
  display.className = "pin-display";
  display.inputMode = "numeric";
  display.autocomplete = "off";
  display.maxLength = 8;
  display.setAttribute("aria-label", label);
  container.append(display);
  const keys = document.createElement("div");
  keys.className = "pin-keys";
  for (const key of ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = key === "OK" ? "btn primary pin-key" : "btn pin-key";
    button.textContent = key;
    button.dataset.key = key;
    keys.append(button);
  }
  container.append(keys);

  let busy = false;
  async function submit() {
    if (busy || display.value.length < 4) return;
    busy = true;
    const pin = display.value;
    display.value = "";
    try {
      await onSubmit(pin);
    } finally {
      busy = false;
      display.focus();
    }
  }
  keys.addEventListener("click", (event) => {
    const key = event.target.closest("button")?.dataset.key;
    if (!key) return;
    if (key === "OK") submit();
    else if (key === "⌫") display.value = display.value.slice(0, -1);
    else if (display.value.length < 8) display.value += key;
    display.focus();
  });
  display.addEventListener("input", () => { display.value = display.value.replace(/\D/g, "").slice(0, 8); });
  display.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      submit();
    }
  });
  return {
    focus: () => display.focus(),
    clear: () => { display.value = ""; },
  };
}
