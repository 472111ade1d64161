// An exchange crosses two screens: the returns page takes the goods back (kind `exchange`,
// the credit kept on the return) and the sale screen sells the new goods, paid with the
// `exchange` tender naming the return's number. What the new sale does not spend is then
// refunded to the original tenders (POST /api/v1/returns/{id}/settle).
import { api, money, toDecimal } from "/static/shared/api.js";

const KEY = "omnitill.exchange";

/** Remember the open exchange and go to the sale screen to ring up the new goods. */
export function startExchange(ret) {
  sessionStorage.setItem(KEY, JSON.stringify({
    id: ret.id, number: ret.number, credit: ret.exchange_credit - ret.exchange_applied, currency: ret.currency,
  }));
  window.location.assign("/register");
}

/** The exchange the sale screen is paying with, or null. */
export function pendingExchange() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export function forgetExchange() {
  sessionStorage.removeItem(KEY);
}

/** Put the exchange's credit (at most what is due) in the tender panel's exchange form. */
export function offerExchange(exchange, due, here) {
  document.getElementById("exchange-code").value = exchange.number;
  document.getElementById("exchange-amount").value = toDecimal(Math.min(exchange.credit, due), here.currency, here.locale);
}

/** Refund what the new sale left of the credit; answers a line for the cashier. */
export async function settleExchange(here, exchange = pendingExchange()) {
  if (!exchange) return "";
  const ret = await api(`/api/v1/returns/${exchange.id}`);
  forgetExchange();
  if (ret.status !== "exchange_open") return `Exchange ${ret.number} fully spent.`;
  const settled = await api(`/api/v1/returns/${exchange.id}/settle`, {
    method: "POST", body: { register: here.register }, idempotencyKey: `settle-${exchange.id}`,
  });
  const back = settled.refunds.filter((r) => r.status !== "failed").reduce((sum, r) => sum + r.amount, 0);
  return `Exchange ${settled.number} settled: ${money(back, settled.currency, here.locale)} refunded.`;
}
