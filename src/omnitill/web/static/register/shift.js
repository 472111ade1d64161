import { api, show, uuid7 } from "/static/shared/api.js";
import { countGrid } from "/static/register/counting.js";
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
  const counts = countGrid(document.getElementById("denominations"), document.getElementById("float-total"), here);
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
