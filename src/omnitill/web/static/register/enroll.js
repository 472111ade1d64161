// A manager signs in with username and password (a bearer token held only for this page,
// revoked at the end), picks the register, and this browser keeps the device key.
import { api, show } from "/static/shared/api.js";
import { saveDevice } from "/static/register/device.js";

const error = document.getElementById("error");
const managerForm = document.getElementById("manager-form");
const registerForm = document.getElementById("register-form");
const select = document.getElementById("register");
let token = null;

managerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(error, "");
  try {
    const issued = await api("/api/v1/auth/token", {
      method: "POST",
      body: { username: managerForm.username.value, password: managerForm.password.value },
    });
    token = issued.access_token;
    const registers = await api("/api/v1/registers?limit=200", { token });
    select.innerHTML = "";
    for (const reg of registers.items.filter((r) => r.active)) {
      const option = document.createElement("option");
      option.value = reg.code;
      option.textContent = `${reg.code} · ${reg.name} (${reg.location})`;
      select.append(option);
    }
    managerForm.hidden = true;
    registerForm.hidden = false;
  } catch (err) {
    show(error, err.message);
  }
});

registerForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  show(error, "");
  try {
    const enrollment = await api(`/api/v1/registers/${encodeURIComponent(select.value)}/enrollment`, {
      method: "POST",
      token,
    });
    saveDevice(enrollment);
    await api("/api/v1/auth/logout", { method: "POST", token });
    token = null;
    registerForm.hidden = true;
    show(document.getElementById("enrolled"), `This browser is now register ${enrollment.register}.`);
    document.getElementById("to-login").hidden = false;
  } catch (err) {
    show(error, err.message);
  }
});
