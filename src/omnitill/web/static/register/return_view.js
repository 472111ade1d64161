// How the returns page shows a purchase's lines to pick, the policy's decision, the refund
// plan per tender and the return taken. Pure rendering: returns.js owns the calls.
const REASONS = [
  ["changed_mind", "Changed mind"], ["defective", "Defective"], ["wrong_size", "Wrong size"],
  ["wrong_item", "Wrong item"], ["not_as_described", "Not as described"],
  ["damaged_in_transit", "Damaged in transit"], ["better_price", "Better price"],
  ["arrived_late", "Arrived late"], ["other", "Other"],
];
const CONDITIONS = [["unopened", "Unopened"], ["opened", "Opened"], ["damaged", "Damaged"]];
const DISPOSITIONS = [
  ["resalable", "Back on the shelf"], ["quarantine", "Quarantine"], ["damaged", "Damaged"],
  ["defective", "Defective (to vendor)"], ["write_off", "Write off"],
];
const METHODS = { card: "Card", cash: "Cash", gift_card: "Gift card", store_credit: "Store credit", qr: "QR", exchange: "Exchange credit" };

function select(name, options, value) {
  const el = document.createElement("select");
  el.name = name;
  for (const [v, text] of options) el.add(new Option(text, v, false, v === value));
  return el;
}

function cell(row, content, className = "") {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (typeof content === "string") td.textContent = content;
  else td.append(content);
  row.append(td);
  return td;
}

/** One row per line that can still come back: quantity (or serials), condition, reason,
 * disposition. */
export function renderPickLines(body, purchase) {
  body.innerHTML = "";
  for (const line of purchase.lines) {
    const row = document.createElement("tr");
    row.dataset.lineId = line.line_id;
    const item = document.createElement("div");
    item.innerHTML = "<strong></strong><br><span class='muted small'></span>";
    item.querySelector("strong").textContent = line.name;
    item.querySelector("span").textContent = line.sku;
    cell(row, item, "item");
    cell(row, `${line.returnable} / ${line.quantity}`, "num");
    const take = document.createElement("div");
    take.className = "row wrap";
    if (line.serials.length) {
      for (const serial of line.serials) {
        const label = document.createElement("label");
        label.className = "choice";
        label.innerHTML = `<input type="checkbox" name="serial"> <span></span>`;
        label.querySelector("input").value = serial;
        label.querySelector("span").textContent = serial;
        take.append(label);
      }
    } else {
      const qty = document.createElement("input");
      qty.type = "number";
      qty.name = "quantity";
      qty.min = "0";
      qty.max = String(line.returnable);
      qty.value = "0";
      qty.inputMode = "numeric";
      qty.disabled = line.returnable === 0;
      qty.setAttribute("aria-label", `Units of ${line.name} to return`);
      take.append(qty);
    }
    cell(row, take);
    cell(row, select("condition", CONDITIONS, "unopened"));
    cell(row, select("reason", REASONS, "changed_mind"));
    cell(row, select("disposition", DISPOSITIONS, "resalable"));
    body.append(row);
  }
}

/** The lines the clerk chose, as the API takes them (a line id per purchase line). */
export function chosenLines(body) {
  const lines = [];
  for (const row of body.querySelectorAll("tr")) {
    const serials = [...row.querySelectorAll("input[name=serial]:checked")].map((i) => i.value);
    const qty = row.querySelector("input[name=quantity]");
    const quantity = qty ? Number.parseInt(qty.value || "0", 10) : serials.length;
    if (!(quantity > 0)) continue;
    const line = {
      line_id: row.dataset.lineId, quantity,
      condition: row.querySelector("select[name=condition]").value,
      reason: row.querySelector("select[name=reason]").value,
      disposition: row.querySelector("select[name=disposition]").value,
    };
    if (serials.length) line.serials = serials;
    lines.push(line);
  }
  return lines;
}

/** "Card visa ••4242" for a planned or given refund, from the purchase's payments. */
export function tenderLabel(refund, payments) {
  const paid = payments.find((p) => p.payment_id === refund.payment_id);
  const brand = refund.card_brand || paid?.card_brand;
  const last4 = refund.card_last4 || paid?.card_last4;
  let text = METHODS[refund.method] || refund.method;
  if (brand || last4) text += ` ${brand || ""} ••${last4 || ""}`;
  if (refund.given_as && refund.given_as !== refund.method) text += ` (as ${METHODS[refund.given_as] || refund.given_as})`;
  return text;
}

function item(list, text, className = "") {
  const li = document.createElement("li");
  li.textContent = text;
  if (className) li.className = className;
  list.append(li);
  return li;
}

/** The preview: the verdict, each line's decision with its reasons, the plan, the risk. */
export function renderDecision(els, preview, chosen, purchase, fmt) {
  const d = preview.decision;
  els.verdict.textContent = !preview.allowed ? "Refused" : preview.needs_manager ? "Allowed with a manager's approval" : "Allowed";
  els.verdict.className = `verdict ${preview.allowed ? "ok" : "refused"}`;
  els.lines.innerHTML = "";
  d.lines.forEach((line, i) => {
    const sold = purchase.lines.find((l) => l.line_id === chosen[i].line_id);
    const li = item(els.lines, `${sold ? sold.name : chosen[i].line_id} × ${chosen[i].quantity}: ${line.allowed ? fmt(line.net) : "refused"}`,
      line.allowed ? "" : "refused");
    const reasons = document.createElement("ul");
    for (const r of line.reasons) item(reasons, r.message, r.refuses ? "refused" : "");
    li.append(reasons);
  });
  els.total.textContent = fmt(preview.refund_total);
  els.plan.innerHTML = "";
  for (const p of d.plan || []) {
    const li = item(els.plan, `${tenderLabel(p, purchase.payments)}: ${fmt(p.amount)}`);
    if (p.fallback_reason) li.append(` — ${p.fallback_reason}`);
  }
  if (d.unplaced) item(els.plan, `Not placed on a tender: ${fmt(d.unplaced)}`, "refused");
  els.score.textContent = `${d.risk.score}`;
  els.risk.innerHTML = "";
  for (const s of preview.risk) item(els.risk, `${s.message} (+${s.points})`);
  if (!preview.risk.length) item(els.risk, "No warning signs.", "muted");
  els.approval.textContent = preview.needs_manager ? `A manager must approve: ${preview.approval_reasons.join("; ")}` : "";
  els.approval.hidden = !preview.needs_manager;
}

/** The return as taken: its lines and the refunds per tender (brand and last four). */
export function renderReturn(els, ret, purchase, fmt) {
  els.number.textContent = ret.number;
  els.meta.textContent = `${ret.kind} · ${ret.status} · ${purchase.number}`;
  els.lines.innerHTML = "";
  for (const l of ret.lines) item(els.lines, `${l.name} × ${l.quantity} (${l.reason}, ${l.disposition}): ${fmt(l.refund - l.fee - l.chargeback)}`);
  els.refunds.innerHTML = "";
  for (const r of ret.refunds) item(els.refunds, `${tenderLabel(r, purchase.payments)}: ${fmt(r.amount)} · ${r.status}`);
  if (!ret.refunds.length) item(els.refunds, ret.kind === "exchange" ? "None: the credit stays for the exchange." : "None.", "muted");
}
