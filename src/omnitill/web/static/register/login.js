import { api, show } from "/static/shared/api.js";
import { requireDevice } from "/static/register/device.js";
import { pinPad } from "/static/register/pinpad.js";

const here = requireDevice();
if (here) {
  document.getElementById("register-code").textContent = here.register;
  const error = document.getElementById("error");
  const pad = pinPad(document.getElementById("pinpad"), {
    onSubmit: async (pin) => {
      show(error, "");
      try {
        await api("/register/login", {
          method: "POST",
          body: { register: here.register, device_key: here.device_key, pin },
        });
        sessionStorage.removeItem("omnitill.locked");
        window.location.assign("/register");
      } catch (err) {
        show(error, err.code === "register.not_enrolled"
          ? "This browser is no longer enrolled: ask a manager to enrol it again."
          : err.message);
      }
    },
  });
  pad.focus();
}
