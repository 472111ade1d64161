// The sale screen: the scan field (a barcode scanner types fast and ends with Enter), the
// cart priced live by the quote API, customer, coupons, discounts and price overrides with
// a manager's PIN, the lock screen, and the customer display (same-browser BroadcastChannel).
import { api, money, show, toast } from "/static/shared/api.js";
import { Cart } from "/static/register/cart.js";
import { findVariant, listChoices } from "/static/register/catalog.js";
import { forgetExchange, offerExchange, pendingExchange, settleExchange } from "/static/register/exchange.js";
import { chooseCustomer, editLine, managerApproval, orderDiscount, weigh } from "/static/register/dialogs.js";
import { requireDevice } from "/static/register/device.js";
import { pinPad } from "/static/register/pinpad.js";
import { Tender } from "/static/register/tender.js";

const $ = (id) => document.getElementById(id);
const here = requireDevice();
const LOCKED = "omnitill.locked";

const cart = new Cart(here);
const channel = new BroadcastChannel(`omnitill-display-${here?.register}`);
let permissions = new Set();
const fmt = (minor) => money(minor, here.currency, here.locale);
const scan = $("scan");

function display(message) {
  channel.postMessage(message);
}

function displayCart() {
  const q = cart.quote;
  display({
    type: "cart", currency: here.currency, locale: here.locale,
    lines: cart.lines.map((l, i) => ({
      name: l.name, quantity: l.quantity, unit: l.unit,
      total: q?.lines[i] ? q.lines[i].total : l.price * (l.unit === "g" ? l.quantity / 1000 : l.quantity),
    })),
    totals: q ? { subtotal: q.subtotal, discount: q.discount_total, tax: q.tax_total, total: q.total } : null,
  });
}
channel.onmessage = (event) => { if (event.data?.type === "hello") displayCart(); };

function quantityText(line) {
  return line.unit === "g" ? `${line.quantity} g` : String(line.quantity);
}

function renderLines() {
  const body = $("lines");
  body.innerHTML = "";
  cart.lines.forEach((line, i) => {
    const priced = cart.quote?.lines[i];
    const row = document.createElement("tr");
    row.dataset.sku = line.sku;
    row.dataset.key = line.key;
    const cells = [
      `<td class="item"><strong></strong><br><span class="muted small"></span></td>`,
      `<td class="num qty"><button class="btn step" data-step="-1" type="button" aria-label="Less">−</button><span class="qty-value"></span><button class="btn step" data-step="1" type="button" aria-label="More">+</button></td>`,
      `<td class="num price"></td><td class="num discount"></td><td class="num tax"></td><td class="num line-total"></td>`,
      `<td><button class="btn edit" type="button">Edit</button></td>`,
    ];
    row.innerHTML = cells.join("");
    row.querySelector(".item strong").textContent = line.name;
    row.querySelector(".item .muted").textContent = line.sku + (line.unit_price != null ? " · price override" : "");
    row.querySelector(".qty-value").textContent = quantityText(line);
    row.querySelector(".price").textContent = fmt(priced ? priced.unit_price : line.price) + (line.unit === "g" ? "/kg" : "");
    row.querySelector(".discount").textContent = priced ? (priced.discount_total ? `−${fmt(priced.discount_total)}` : "") : "…";
    row.querySelector(".tax").textContent = priced ? fmt(priced.tax_total) : "…";
    row.querySelector(".line-total").textContent = priced ? fmt(priced.total) : "…";
    body.append(row);
  });
  $("empty-cart").hidden = cart.lines.length > 0;
}

function renderTotals() {
  const q = cart.quote;
  $("subtotal").textContent = q ? fmt(q.subtotal) : "—";
  $("discount-total").textContent = q ? fmt(q.discount_total) : "—";
  $("tax-total").textContent = q ? fmt(q.tax_total) : "—";
  $("total").textContent = q ? fmt(q.total) : "—";
  $("pay-btn").disabled = !q || cart.lines.length === 0;
  $("customer-name").textContent = cart.customer ? cart.customer.name : "—";
  const chips = $("coupons");
  chips.innerHTML = "";
  for (const code of cart.coupons) {
    const li = document.createElement("li");
    const accepted = q?.coupons?.find((c) => c.code.toUpperCase() === code.toUpperCase());
    li.textContent = accepted && !accepted.accepted ? `${code}: ${accepted.message}` : code;
    li.className = "chip";
    chips.append(li);
  }
}

function render() {
  renderLines();
  renderTotals();
  displayCart();
}

/** Re-price after any change; a refused coupon is taken off with its reason shown. */
async function reprice() {
  render();
  show($("sale-error"), "");
  try {
    await cart.price();
  } catch (err) {
    const index = err.errors.findIndex((e) => e.field.startsWith("coupons."));
    if (index >= 0) {
      const field = err.errors[index].field;
      const refused = cart.coupons[Number(field.split(".")[1])];
      cart.coupons = cart.coupons.filter((c) => c !== refused);
      show($("coupon-message"), `${refused}: ${err.errors[index].message}`);
      return reprice();
    }
    cart.quote = null;
    show($("sale-error"), err.message);
  }
  render();
}

async function addVariant(variant) {
  if (!variant.sellable) {
    show($("sale-error"), `${variant.name} is not for sale.`);
    return;
  }
  let quantity = 1;
  if (variant.unit === "g") {
    quantity = await weigh(variant);
    if (!quantity) return;
  }
  cart.add(variant, quantity);
  show($("coupon-message"), "");
  // not awaited: the next scan need not wait for this price (a newer quote supersedes it)
  reprice();
  scan.focus();
}

function showChoices(items) {
  listChoices($("search-results"), items, (v) => `${v.name} · ${v.sku} · ${fmt(v.price)}`, addVariant);
  if (!items.length) show($("sale-error"), "Nothing matches.");
}

// Scans arrive as fast keystrokes ending in Enter; each Enter is handled in turn, in order.
let scanning = Promise.resolve();
$("scan-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const code = scan.value.trim();
  scan.value = "";
  if (!code) return;
  scanning = scanning.then(async () => {
    show($("sale-error"), "");
    $("search-results").hidden = true;
    try {
      const { hit, choices } = await findVariant(code);
      if (hit) await addVariant(hit);
      else showChoices(choices);
    } catch (err) {
      show($("sale-error"), err.message);
    }
  });
});

/** The manager override a change needs when the cashier's role lacks `permission`. */
async function allowed(permission, why, reason) {
  if (permissions.has(permission)) return true;
  if (cart.override?.permission === permission) return true;
  if (cart.override) {
    show($("sale-error"), "One manager approval per sale: ask the manager to ring this sale up.");
    return false;
  }
  const grant = await managerApproval(here, permission, why, reason);
  if (!grant) return false;
  cart.override = grant;
  toast(`Approved by ${grant.approvedBy}`);
  return true;
}

$("lines").addEventListener("click", async (event) => {
  const row = event.target.closest("tr");
  if (!row) return;
  const line = cart.line(row.dataset.key);
  const step = event.target.closest("button")?.dataset.step;
  if (step) {
    line.quantity += Number(step) * (line.unit === "g" ? 10 : 1);
    if (line.quantity <= 0) cart.remove(line.key);
    return reprice();
  }
  if (!event.target.closest("button.edit")) return;
  const edit = await editLine(line, here);
  if (edit.action === "remove") cart.remove(line.key);
  if (edit.action === "save") {
    if (edit.quantity > 0) line.quantity = edit.quantity;
    if (edit.unit_price != null && edit.unit_price !== line.unit_price) {
      if (!(await allowed("sales.price_override", `Price override on ${line.name}`, edit.reason))) return scan.focus();
      line.unit_price = edit.unit_price;
      line.price_override_reason = edit.reason || "price override";
    } else if (edit.unit_price == null) {
      delete line.unit_price;
      delete line.price_override_reason;
    }
    if (edit.discount && JSON.stringify(edit.discount) !== JSON.stringify(line.discount)) {
      if (!(await allowed("sales.manual_discount", `Discount on ${line.name}`, edit.discount.reason))) return scan.focus();
    }
    line.discount = edit.discount || undefined;
  }
  await reprice();
  scan.focus();
});

$("coupon-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("coupon").value.trim();
  $("coupon").value = "";
  show($("coupon-message"), "");
  if (!code || cart.coupons.includes(code)) return;
  cart.coupons.push(code);
  await reprice();
});

$("customer-btn").addEventListener("click", async () => {
  const chosen = await chooseCustomer();
  if (chosen !== undefined) {
    cart.customer = chosen;
    await reprice();
  }
  scan.focus();
});

$("order-discount-btn").addEventListener("click", async () => {
  const result = await orderDiscount(cart.discount, here);
  if (result.action === "clear") cart.discount = null;
  if (result.action === "save" && result.discount) {
    if (!(await allowed("sales.manual_discount", "Order discount", result.discount.reason))) return;
    cart.discount = result.discount;
  }
  await reprice();
  scan.focus();
});

function newSale() {
  cart.reset();
  $("receipt").hidden = true;
  $("sale-screen").hidden = false;
  show($("coupon-message"), "");
  render();
  display({ type: "idle" });
  scan.focus();
}
$("clear-btn").addEventListener("click", newSale);

// --- tender and receipt -------------------------------------------------------------
const receiptUrl = (sale, gift) => `/api/v1/sales/${sale.id}/receipt.html${gift ? "?gift=1" : ""}`;
let lastSale = null;

const tender = new Tender({
  here, cart, display,
  onComplete: (sale) => {
    lastSale = sale;
    $("sale-screen").hidden = true;
    $("receipt").hidden = false;
    $("receipt-number").textContent = sale.receipt_number;
    $("receipt-change").textContent = fmt(sale.change_due);
    $("receipt-gift").checked = false;
    $("receipt-frame").src = receiptUrl(sale, false);
    $("receipt-message").textContent = "";
    display({ type: "done", total: sale.total, change: sale.change_due, currency: here.currency, locale: here.locale });
    if (sale.payments.some((p) => p.method === "exchange")) {
      settleExchange(here).then((line) => { $("receipt-message").textContent = line; showExchange(); })
        .catch((err) => { $("receipt-message").textContent = err.message; });
    }
  },
});
function showExchange() {
  const exchange = pendingExchange();
  show($("exchange-note"), exchange ? `Exchange ${exchange.number}: ${fmt(exchange.credit)} credit` : "");
  $("exchange-drop").hidden = !exchange;
}
$("exchange-drop").addEventListener("click", () => { forgetExchange(); showExchange(); scan.focus(); });
$("pay-btn").addEventListener("click", () => {
  $("sale-screen").hidden = true;
  tender.open();
  const exchange = pendingExchange();
  if (exchange) {
    offerExchange(exchange, tender.due, here);
    tender.choose("exchange");
  }
});
$("tender-back").addEventListener("click", () => {
  if (tender.tenders.some((t) => t.payment_id)) {
    show($("tender-error"), "A card or QR payment was taken: finish the sale.");
    return;
  }
  tender.close();
  $("sale-screen").hidden = false;
  scan.focus();
});
$("receipt-gift").addEventListener("change", () => {
  if (lastSale) $("receipt-frame").src = receiptUrl(lastSale, $("receipt-gift").checked);
});

async function sendReceipt(print, email) {
  const gift = $("receipt-gift").checked;
  const done = [];
  try {
    if (print) {
      await api(`/api/v1/sales/${lastSale.id}/receipt/print`, { method: "POST", body: { gift } });
      done.push("printed");
    }
    if (email) {
      const address = $("receipt-email").value.trim();
      if (!address) throw new Error("Enter the customer's email.");
      await api(`/api/v1/sales/${lastSale.id}/receipt/email`, { method: "POST", body: { email: address, gift } });
      done.push(`emailed to ${address}`);
    }
    $("receipt-message").textContent = `Receipt ${done.join(" and ")}.`;
  } catch (err) {
    $("receipt-message").textContent = err.message;
  }
}
$("receipt-print").addEventListener("click", () => sendReceipt(true, false));
$("receipt-send").addEventListener("click", () => sendReceipt(false, true));
$("receipt-both").addEventListener("click", () => sendReceipt(true, true));
$("new-sale").addEventListener("click", newSale);

// --- lock, sign out, display --------------------------------------------------------
const lockPad = pinPad($("lock-pinpad"), {
  onSubmit: async (pin) => {
    show($("lock-error"), "");
    try {
      await api("/register/unlock", { method: "POST", body: { register: here.register, device_key: here.device_key, pin } });
      sessionStorage.removeItem(LOCKED);
      $("lock").hidden = true;
      scan.focus();
    } catch (err) {
      show($("lock-error"), err.message);
    }
  },
});
function lock() {
  sessionStorage.setItem(LOCKED, "1");
  $("lock").hidden = false;
  lockPad.focus();
}
$("lock-btn").addEventListener("click", lock);
$("logout-btn").addEventListener("click", async () => {
  await api("/register/logout", { method: "POST" }).catch(() => {});
  window.location.assign("/register/login");
});
$("open-display").addEventListener("click", () => {
  window.open("/register/display", "omnitill-display", "popup");
});
// A click anywhere that is not a field or button puts the cursor back in the scan field,
// so the scanner's keystrokes always land there.
document.addEventListener("click", (event) => {
  if (!event.target.closest("input, select, button, dialog, a, iframe, #lock")) scan.focus();
});

async function start() {
  $("register-code").textContent = here.register;
  if (sessionStorage.getItem(LOCKED)) lock();
  const me = await api("/api/v1/auth/me");
  permissions = new Set(me.permissions);
  try {
    await api(`/api/v1/shifts/current?register=${encodeURIComponent(here.register)}`);
  } catch (err) {
    if (err.code === "shift.none_open") {
      window.location.assign("/register/shift");
      return;
    }
    throw err;
  }
  render();
  showExchange();
  if (!sessionStorage.getItem(LOCKED)) scan.focus();
}

if (here) start().catch((err) => show($("sale-error"), err.message));
