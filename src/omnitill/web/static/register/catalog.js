// Finding an item the way the scan field does everywhere in the register: 6 to 14 digits
// are a barcode, anything else a SKU, and no exact match searches by name; and how stock
// at every location is shown (stock lookup, endless aisle).
import { api } from "/static/shared/api.js";

/** `{hit}` for an exact barcode or SKU match, else `{choices}` found by name. */
export async function findVariant(code) {
  const digits = /^\d{6,14}$/.test(code);
  const exact = await api(`/api/v1/variants?${digits ? "barcode" : "sku"}=${encodeURIComponent(code)}&limit=1`);
  if (exact.items.length) return { hit: exact.items[0] };
  const found = await api(`/api/v1/variants?q=${encodeURIComponent(code)}&limit=10`);
  return { choices: found.items };
}

/** Buttons for the name search's choices; `onPick(variant)` when one is chosen. */
export function listChoices(list, items, label, onPick) {
  list.innerHTML = "";
  for (const variant of items) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn result";
    button.textContent = label(variant);
    button.onclick = () => { list.hidden = true; onPick(variant); };
    li.append(button);
    list.append(li);
  }
  list.hidden = items.length === 0;
}

/** One row per location: available, distance, and whether it is stale. */
export function renderLevels(body, items, here) {
  body.innerHTML = "";
  for (const level of items) {
    const row = document.createElement("tr");
    row.dataset.location = level.location;
    row.classList.toggle("here", level.location === here.location);
    const flags = [level.kind, level.ships ? "ships" : "", level.offers_pickup ? "pickup" : "", level.stale ? "not heard from" : ""];
    for (const [text, num] of [[level.location, false], [String(level.available), true],
      [level.distance_km == null ? "" : level.distance_km.toFixed(1), true], [flags.filter(Boolean).join(" · "), false]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (num) td.className = "num";
      row.append(td);
    }
    body.append(row);
  }
}
