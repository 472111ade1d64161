// The customer-facing display: a second window of the register's browser (a second screen
// on the same machine), fed over BroadcastChannel. It calls no API and holds no session.
import { money } from "/static/shared/api.js";
import { device } from "/static/register/device.js";

const $ = (id) => document.getElementById(id);
const here = device();
const channel = new BroadcastChannel(`omnitill-display-${here?.register}`);

function idle() {
  $("display-title").textContent = "Welcome";
  $("display-lines").innerHTML = "";
  for (const id of ["display-subtotal", "display-discount", "display-tax", "display-total"]) $(id).textContent = "—";
  $("display-qr").hidden = true;
  $("display-message").textContent = "";
}

channel.onmessage = ({ data }) => {
  const fmt = (minor) => money(minor, data.currency || here?.currency || "USD", data.locale || here?.locale || "en_US");
  if (data.type === "cart") {
    $("display-title").textContent = data.lines.length ? "Your purchase" : "Welcome";
    const list = $("display-lines");
    list.innerHTML = "";
    for (const line of data.lines) {
      const li = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${line.unit === "g" ? line.quantity + " g" : line.quantity + " ×"} ${line.name}`;
      const total = document.createElement("strong");
      total.textContent = fmt(Math.round(line.total));
      li.append(name, total);
      list.append(li);
    }
    const t = data.totals;
    $("display-subtotal").textContent = t ? fmt(t.subtotal) : "—";
    $("display-discount").textContent = t ? fmt(t.discount) : "—";
    $("display-tax").textContent = t ? fmt(t.tax) : "—";
    $("display-total").textContent = t ? fmt(t.total) : "—";
    $("display-message").textContent = "";
  } else if (data.type === "qr") {
    $("display-qr-image").innerHTML = data.svg;
    $("display-qr-amount").textContent = fmt(data.amount);
    $("display-qr").hidden = false;
  } else if (data.type === "qr-done") {
    $("display-qr").hidden = true;
  } else if (data.type === "done") {
    $("display-qr").hidden = true;
    $("display-message").textContent = data.change ? `Your change: ${fmt(data.change)}. Thank you!` : "Thank you!";
  } else if (data.type === "idle") {
    idle();
  }
};

idle();
channel.postMessage({ type: "hello" });
