// The shift page: the X report (the shift so far; a manager's report, so a cashier's screen
// asks for a manager's PIN and uses that sign-in for this one call), and closing the shift
// with a blind count by note and coin, answered by the Z report (printable).
import { api, show } from "/static/shared/api.js";
import { countGrid } from "/static/register/counting.js";
import { requireDevice } from "/static/register/device.js";
import { pinPad } from "/static/register/pinpad.js";

const $ = (id) => document.getElementById(id);
const here = requireDevice();
let shift = null;
let counts = null;

/** A manager's PIN at this register: a bearer token for one call, revoked right after. */
function managerToken() {
  const dialog = $("x-manager-dialog");
  show($("x-manager-error"), "");
  return new Promise((resolve) => {
    let token = null;
    const pad = pinPad($("x-manager-pinpad"), {
      label: "Manager PIN",
      onSubmit: async (pin) => {
        try {
          const signed = await api("/api/v1/auth/pin", { method: "POST", body: { register: here.register, device_key: here.device_key, pin } });
          token = signed.access_token;
          dialog.close();
        } catch (err) {
          show($("x-manager-error"), err.message);
        }
      },
    });
    $("x-manager-cancel").onclick = () => dialog.close();
    dialog.addEventListener("close", () => resolve(token), { once: true });
    dialog.showModal();
    pad.focus();
  });
}

async function xReport() {
  show($("shift-error"), "");
  const path = `/api/v1/shifts/${shift.id}/x-report`;
  let report;
  try {
    report = await api(path);
  } catch (err) {
    if (err.status !== 403) return show($("shift-error"), err.message);
    const token = await managerToken();
    if (!token) return;
    try {
      report = await api(path, { token });
    } catch (again) {
      return show($("shift-error"), again.message);
    } finally {
      await api("/api/v1/auth/logout", { method: "POST", token }).catch(() => {});
    }
  }
  $("x-text").textContent = report.text;
  $("x-report").hidden = false;
}

async function close(event) {
  event.preventDefault();
  show($("close-error"), "");
  const body = { cash_denominations: counts() };
  const reason = $("variance-reason").value.trim();
  if (reason) body.reason = reason;
  $("close-shift").disabled = true;
  try {
    const z = await api(`/api/v1/shifts/${shift.id}/close`, { method: "POST", body });
    $("count-form").hidden = true;
    $("x-report").hidden = true;
    $("shift-info").hidden = true;
    $("z-number").textContent = String(z.z_number);
    $("z-text").textContent = z.text;
    $("z-report").hidden = false;
    $("z-print").focus();
  } catch (err) {
    if (err.code === "shift.variance_reason_required") {
      // the first count is frozen: only the reason is asked for now
      $("reason-field").hidden = false;
      $("denominations").querySelectorAll("input").forEach((i) => { i.disabled = true; });
      $("variance-reason").focus();
    }
    show($("close-error"), err.message);
  } finally {
    $("close-shift").disabled = false;
  }
}

async function start() {
  $("register-code").textContent = here.register;
  try {
    shift = await api(`/api/v1/shifts/current?register=${encodeURIComponent(here.register)}`);
  } catch (err) {
    show($("shift-error"), err.code === "shift.none_open" ? "No shift is open on this register." : err.message);
    return;
  }
  const since = new Date(shift.opened_at).toLocaleString(here.locale.replace("_", "-"));
  $("shift-summary").textContent = `${here.register} · open since ${since} by ${shift.opened_by}`;
  counts = countGrid($("denominations"), $("count-total"), here);
  $("count-form").hidden = false;
  $("count-form").addEventListener("submit", close);
  $("x-report-btn").addEventListener("click", xReport);
}

$("x-print").addEventListener("click", () => window.print());
$("z-print").addEventListener("click", () => window.print());
$("sign-out").addEventListener("click", async () => {
  await api("/register/logout", { method: "POST" }).catch(() => {});
  window.location.assign("/register/login");
});

if (here) start();
