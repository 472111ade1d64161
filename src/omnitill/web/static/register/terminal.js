// The simulated card terminal (sandbox gateway only). Like a real point-to-point encryption
// terminal it encrypts the card for the processor before anything leaves it: RSA-OAEP with
// SHA-256 under the sandbox processor's public key (GET /api/v1/payments/sandbox/public-key),
// in WebCrypto. omnitill only ever sees the opaque `p2pe:v1:...` string.
import { api, money, uuid7 } from "/static/shared/api.js";

const $ = (id) => document.getElementById(id);
let keyPromise = null;

function pemToDer(pem) {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0)).buffer;
}

function processorKey() {
  keyPromise ??= api("/api/v1/payments/sandbox/public-key").then((k) =>
    crypto.subtle.importKey("spki", pemToDer(k.public_key_pem), { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]));
  return keyPromise;
}

/** What the terminal sends for the gateway: the card, encrypted. */
export async function readCard(pan, expMonth, expYear) {
  const plain = new TextEncoder().encode(JSON.stringify({ pan, exp_month: expMonth, exp_year: expYear }));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, await processorKey(), plain));
  let binary = "";
  for (const byte of sealed) binary += String.fromCharCode(byte);
  return "p2pe:v1:" + btoa(binary);
}

/** What the card on the terminal panel reads, encrypted: the entry mode and p2pe data. */
async function presented() {
  const mode = document.querySelector("input[name=entry-mode]:checked").value;
  const [mm, yy] = $("terminal-expiry").value.split("/").map((p) => Number.parseInt(p, 10));
  return { mode, data: await readCard($("terminal-card").value, mm, 2000 + (yy % 100)) };
}

/** Show the terminal to read a card without charging it (finding what it paid for);
 * resolves to the encrypted `payment_data`, or null if cancelled. */
export function presentCard() {
  const panel = $("terminal");
  $("terminal-amount").textContent = "";
  $("terminal-status").textContent = "Present card";
  panel.hidden = false;
  processorKey().catch(() => {});
  return new Promise((resolve) => {
    const done = (result) => {
      panel.hidden = true;
      $("terminal-present").onclick = null;
      $("terminal-cancel").onclick = null;
      resolve(result);
    };
    $("terminal-cancel").onclick = () => done(null);
    $("terminal-present").onclick = async () => {
      try {
        done((await presented()).data);
      } catch (err) {
        $("terminal-status").textContent = err.message;
      }
    };
  });
}

/** Show the terminal for `amount` of a sale (`saleId`) or an order (`orderId`); resolves
 * to the captured payment, or null if cancelled. */
export function takeCard({ here, saleId, orderId, amount }) {
  const panel = $("terminal");
  const status = $("terminal-status");
  $("terminal-amount").textContent = money(amount, here.currency, here.locale);
  status.textContent = "Present card";
  panel.hidden = false;
  processorKey().catch(() => {});
  return new Promise((resolve) => {
    const done = (result) => {
      panel.hidden = true;
      $("terminal-present").onclick = null;
      $("terminal-cancel").onclick = null;
      resolve(result);
    };
    $("terminal-cancel").onclick = () => done(null);
    $("terminal-present").onclick = async () => {
      const paymentId = uuid7(); // one id per attempt: its idempotency key at the gateway
      status.textContent = "Processing…";
      try {
        const { mode, data } = await presented();
        const body = { id: paymentId, register: here.register, amount, payment_data: data, entry_mode: mode };
        if (orderId) body.order_id = orderId;
        else body.sale_id = saleId;
        const payment = await api("/api/v1/payments", { method: "POST", body }).catch(async (err) => {
          if (err.code !== "payment.outcome_unknown") throw err;
          return api(`/api/v1/payments/${paymentId}/resolve`, { method: "POST" });
        });
        if (payment.status !== "captured") {
          status.textContent = `Not approved: ${payment.decline_code || payment.status}`;
          return;
        }
        status.textContent = "Approved";
        done(payment);
      } catch (err) {
        const code = err.details?.decline_code;
        // a declined attempt stays recorded under its id; presenting again is a new attempt
        status.textContent = code ? `Declined: ${code}` : err.message;
      }
    };
  });
}
