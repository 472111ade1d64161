import { api, money, show, uuid7 } from "/static/shared/api.js";
import { requireDevice } from "/static/register/device.js";

const here = requireDevice();
const error = document.getElementById("error");

async function start() {
  document.getElementById("register-code").textContent = here.register;
  try {
    const shift = await api(`/api/v1/shifts/current?register=${encodeURIComponent(here.register)}`);
    const since = new Date(shift.opened_at).toLocaleString(here.locale.replace("_", "-"));
    show(document.getElementById("open-since"), `Shift open since ${since} by ${shift.opened_by}.`);
    document.getElementById("already-open").hidden = false;
    return;
  } catch (err) {
    if (err.code !== "shift.none_open") {
      show(error, err.message);
      return;
    }
  }
  const table = JSON.parse(document.getElementById("denomination-table").textContent);
  const values = table[here.currency] || [];
  const grid = document.getElementById("denominations");
  const total = document.getElementById("float-total");
  for (const value of values) {
    const label = document.createElement("label");
    label.className = "denomination";
    label.textContent = money(value, here.currency, here.locale);
    const input = document.createElement("input");
    input.type = "number";
    input.min = "0";
    input.inputMode = "numeric";
    input.value = "0";
    input.dataset.value = String(value);
    input.name = `d${value}`;
    label.append(input);
    grid.append(label);
  }
  const counts = () => Object.fromEntries(
    [...grid.querySelectorAll("input")]
      .map((i) => [i.dataset.value, Number.parseInt(i.value || "0", 10)])
      .filter(([, n]) => n > 0),
  );
  const refresh = () => {
    const sum = Object.entries(counts()).reduce((acc, [v, n]) => acc + Number(v) * n, 0);
    total.textContent = money(sum, here.currency, here.locale);
  };
  grid.addEventListener("input", refresh);
  refresh();
  const form = document.getElementById("float-form");
  form.hidden = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    show(error, "");
    try {
      await api("/api/v1/shifts", {
        method: "POST",
        body: { id: uuid7(), register: here.register, denominations: counts() },
      });
      window.location.assign("/register");
    } catch (err) {
      show(error, err.message);
    }
  });
}

if (here) start();
