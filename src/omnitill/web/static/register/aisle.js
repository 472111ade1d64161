// Endless aisle: an item the shelf lacks, found at every location (nearest first), ordered
// for the customer, shipped to them or to this store (`pickup_by_transfer`), and paid at
// the till (POST /api/v1/orders/{id}/payments: cash with change, or card on the terminal).
import { api, money, parseMoney, show, toDecimal, uuid7 } from "/static/shared/api.js";
import { findVariant, listChoices, renderLevels } from "/static/register/catalog.js";
import { requireDevice } from "/static/register/device.js";
import { takeCard } from "/static/register/terminal.js";

const $ = (id) => document.getElementById(id);
const here = requireDevice();
const state = { variant: null, order: null };
const fmt = (minor, currency = here.currency) => money(minor, currency, here.locale);

async function showItem(variant) {
  state.variant = variant;
  $("item-name").textContent = `${variant.name} · ${variant.sku}`;
  $("item-price").textContent = fmt(variant.price);
  const everywhere = await api(`/api/v1/orders/availability?sku=${encodeURIComponent(variant.sku)}&near=${encodeURIComponent(here.location)}`);
  renderLevels($("levels"), everywhere.items, here);
  $("item").hidden = false;
  $("placed").hidden = true;
  $("order-name").focus();
}

$("lookup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("lookup").value.trim();
  $("lookup").value = "";
  show($("lookup-error"), "");
  if (!code) return;
  try {
    const { hit, choices } = await findVariant(code);
    if (hit) return await showItem(hit);
    listChoices($("choices"), choices, (v) => `${v.name} · ${v.sku}`, (v) => showItem(v).catch((err) => show($("lookup-error"), err.message)));
    if (!choices.length) show($("lookup-error"), "Nothing matches.");
  } catch (err) {
    show($("lookup-error"), err.message);
  }
});

function toStore() {
  return document.querySelector("input[name=deliver]:checked").value === "store";
}
for (const radio of document.querySelectorAll("input[name=deliver]")) {
  radio.addEventListener("change", () => { $("address").hidden = toStore(); });
}

function orderBody() {
  const body = {
    id: uuid7(), channel: "in_store", register: here.register,
    customer_name: $("order-name").value.trim(),
    lines: [{ sku: state.variant.sku, quantity: Number.parseInt($("order-qty").value || "1", 10), method: toStore() ? "pickup" : "ship" }],
  };
  if ($("order-email").value.trim()) body.email = $("order-email").value.trim();
  if ($("order-phone").value.trim()) body.phone = $("order-phone").value.trim();
  if (toStore()) {
    body.pickup_location = here.location;
    body.pickup_by_transfer = true;
  } else {
    body.ship_to = {
      name: body.customer_name, line1: $("ship-line1").value.trim(), city: $("ship-city").value.trim(),
      region: $("ship-region").value.trim(), postal_code: $("ship-postal").value.trim(),
      country: $("ship-country").value.trim().toUpperCase(),
    };
  }
  return body;
}

function showOrder(order) {
  state.order = order;
  $("order-number").textContent = order.number;
  const from = order.fulfillments.map((f) => `${f.method} from ${f.location}`).join(", ");
  $("order-summary").textContent = `${order.customer_name} · ${order.lines.map((l) => `${l.quantity} × ${l.name}`).join(", ")} · ${from}`;
  $("order-total").textContent = fmt(order.total, order.currency);
  $("order-due").textContent = fmt(order.balance_due, order.currency);
  $("pay-amount").value = toDecimal(order.balance_due, order.currency, here.locale);
  $("pay-form").hidden = order.balance_due === 0;
  $("placed").hidden = false;
}

$("order-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  show($("order-error"), "");
  try {
    const order = await api("/api/v1/orders", { method: "POST", body: orderBody() });
    $("item").hidden = true;
    showOrder(order);
    $("pay-message").textContent = "";
    $("pay-amount").focus();
  } catch (err) {
    show($("order-error"), err.errors?.length ? err.errors.map((e) => `${e.field}: ${e.message}`).join("; ") : err.message);
  }
});

async function pay(tender) {
  const order = state.order;
  try {
    const paid = await api(`/api/v1/orders/${order.id}/payments`, {
      method: "POST", body: { id: uuid7(), register: here.register, payments: [tender] },
    });
    const fresh = await api(`/api/v1/orders/${order.id}`);
    showOrder(fresh);
    const change = paid.change_due ? `, change ${fmt(paid.change_due, order.currency)}` : "";
    $("pay-message").textContent = `Paid ${fmt(tender.amount, order.currency)}${change}.`;
  } catch (err) {
    $("pay-message").textContent = err.errors?.length ? err.errors.map((e) => e.message).join("; ") : err.message;
  }
}

function amount() {
  const value = parseMoney($("pay-amount").value, state.order.currency, here.locale);
  if (!(value > 0)) {
    $("pay-message").textContent = "Enter an amount.";
    return null;
  }
  return value;
}

$("pay-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = amount();
  if (value != null) pay({ method: "cash", amount: value });
});
$("pay-card").addEventListener("click", async () => {
  const value = amount();
  if (value == null) return;
  if (value > state.order.balance_due) return ($("pay-message").textContent = "A card pays at most what is due.");
  const payment = await takeCard({ here, orderId: state.order.id, amount: value });
  if (payment) pay({ method: "card", amount: value, payment_id: payment.id });
});
$("next-order").addEventListener("click", () => {
  $("placed").hidden = true;
  $("lookup").focus();
});

if (here) $("register-code").textContent = here.register;
