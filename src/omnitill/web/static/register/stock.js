// Stock lookup and price check: scan or search an item, see the price the quote engine
// gives now at this store (promotions and tax included), the units here and what every
// other location can promise (GET /api/v1/orders/availability, nearest first).
import { api, money, show } from "/static/shared/api.js";
import { findVariant, listChoices, renderLevels } from "/static/register/catalog.js";
import { requireDevice } from "/static/register/device.js";

const $ = (id) => document.getElementById(id);
const here = requireDevice();
const fmt = (minor) => money(minor, here.currency, here.locale);

async function showItem(variant) {
  show($("lookup-error"), "");
  $("item-name").textContent = variant.name;
  $("item-codes").textContent = [variant.sku, variant.barcode].filter(Boolean).join(" · ");
  const sku = encodeURIComponent(variant.sku);
  const [quote, levels, everywhere] = await Promise.all([
    api("/api/v1/quotes", { method: "POST", body: { location: here.location, lines: [{ sku: variant.sku, quantity: variant.unit === "g" ? 1000 : 1 }] } }),
    api(`/api/v1/stock?sku=${sku}&location=${encodeURIComponent(here.location)}`),
    api(`/api/v1/orders/availability?sku=${sku}&near=${encodeURIComponent(here.location)}`),
  ]);
  const line = quote.lines[0];
  $("price-now").textContent = fmt(line.unit_price - Math.round(line.discount_total)) + (variant.unit === "g" ? "/kg" : "");
  $("price-detail").textContent = `${line.discount_total ? `was ${fmt(line.unit_price)}, ` : ""}tax ${fmt(line.tax_total)}, total ${fmt(line.total)}`;
  const mine = levels.items[0];
  $("here-available").textContent = mine ? String(mine.available) : "0";
  $("here-detail").textContent = mine ? `on hand ${mine.on_hand}, reserved ${mine.reserved}` : "none here";
  renderLevels($("levels"), everywhere.items, here);
  $("item").hidden = false;
  $("lookup").focus();
}

$("lookup-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("lookup").value.trim();
  $("lookup").value = "";
  if (!code) return;
  $("choices").hidden = true;
  try {
    const { hit, choices } = await findVariant(code);
    if (hit) return await showItem(hit);
    listChoices($("choices"), choices, (v) => `${v.name} · ${v.sku}`, (v) => showItem(v).catch((err) => show($("lookup-error"), err.message)));
    if (!choices.length) show($("lookup-error"), "Nothing matches.");
  } catch (err) {
    show($("lookup-error"), err.message);
  }
});

if (here) $("register-code").textContent = here.register;
