// The returns page: find the purchase (a receipt scanned into the focused field, a receipt
// or order number, the card on the terminal, an email or a phone), pick the lines, see the
// policy's decision, the refund plan and the risk (POST /api/v1/returns/preview), get a
// manager's PIN when the policy asks for one, and take the return (POST /api/v1/returns).
// An exchange keeps the money as credit and goes on to the sale screen (exchange.js).
import { api, money, show, uuid7 } from "/static/shared/api.js";
import { requireDevice } from "/static/register/device.js";
import { managerApproval } from "/static/register/dialogs.js";
import { settleExchange, startExchange } from "/static/register/exchange.js";
import { chosenLines, renderDecision, renderPickLines, renderReturn } from "/static/register/return_view.js";
import { presentCard } from "/static/register/terminal.js";

const $ = (id) => document.getElementById(id);
const here = requireDevice();
const fmt = (minor) => money(minor, state.purchase?.currency || here.currency, here.locale);
const state = { purchase: null, byCard: false, preview: null, body: null, override: null, ret: null };

function section(name) {
  for (const id of ["find", "pick", "decision", "done"]) $(id).hidden = true;
  for (const id of name) $(id).hidden = false;
}

function problem(err) {
  return err.errors?.length ? err.errors.map((e) => e.message).join("; ") : err.message;
}

/** Which criterion the typed text is: a scan unless it is clearly an email or a phone. */
function criterion(text, kind) {
  if (kind !== "auto") return kind;
  if (text.includes("@")) return "email";
  const digits = text.replace(/\D/g, "");
  if (/^\+/.test(text) || (/[\s().-]/.test(text) && digits.length >= 7 && !/[A-Za-z]/.test(text))) return "phone";
  return "scan";
}

async function find(query, byCard) {
  show($("find-error"), "");
  $("purchases").innerHTML = "";
  try {
    const page = await query();
    state.byCard = byCard;
    if (page.items.length === 1) return choose(page.items[0]);
    if (!page.items.length) return show($("find-error"), "No purchase found.");
    for (const purchase of page.items) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn result";
      const when = new Date(purchase.purchased_at).toLocaleDateString(here.locale.replace("_", "-"));
      button.textContent = `${purchase.number} · ${when} · ${money(purchase.total, purchase.currency, here.locale)}${purchase.customer ? ` · ${purchase.customer.name}` : ""}`;
      button.onclick = () => choose(purchase);
      li.append(button);
      $("purchases").append(li);
    }
  } catch (err) {
    show($("find-error"), problem(err));
  }
}

$("lookup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("lookup").value.trim();
  $("lookup").value = "";
  if (!text) return;
  const kind = criterion(text, $("lookup-kind").value);
  find(() => api(`/api/v1/returns/lookup?${kind}=${encodeURIComponent(text)}`), false);
});

$("lookup-card").addEventListener("click", async () => {
  const paymentData = await presentCard();
  if (!paymentData) return $("lookup").focus();
  find(() => api("/api/v1/returns/lookup/card", { method: "POST", body: { payment_data: paymentData } }), true);
});

function choose(purchase) {
  state.purchase = purchase;
  state.preview = null;
  state.override = null;
  $("purchase-title").textContent = `${purchase.type === "sale" ? "Receipt" : "Order"} ${purchase.number}`;
  const when = new Date(purchase.purchased_at).toLocaleString(here.locale.replace("_", "-"));
  const paid = purchase.payments.map((p) => `${p.method}${p.card_last4 ? ` ••${p.card_last4}` : ""} ${fmt(p.amount)}`).join(", ");
  $("purchase-meta").textContent = `${when} · ${purchase.location || purchase.channel} · ${fmt(purchase.total)} · ${paid}` +
    (purchase.customer ? ` · ${purchase.customer.name}` : "");
  renderPickLines($("return-lines"), purchase);
  show($("pick-error"), "");
  section(["pick"]);
  const first = $("return-lines").querySelector("input:not([disabled])");
  if (first) first.focus();
}

function requestBody() {
  const p = state.purchase;
  const body = {
    kind: document.querySelector("input[name=return-kind]:checked").value,
    location: here.location, register: here.register, card_present: state.byCard,
    note: $("return-note").value.trim(), lines: chosenLines($("return-lines")),
  };
  body[p.type === "sale" ? "sale_id" : "order_id"] = p.id;
  return body;
}

async function preview() {
  show($("pick-error"), "");
  const body = requestBody();
  if (!body.lines.length) return show($("pick-error"), "Choose what comes back.");
  try {
    state.preview = await api("/api/v1/returns/preview", { method: "POST", body });
  } catch (err) {
    $("decision").hidden = true;
    return show($("pick-error"), problem(err));
  }
  // the return's id is born here, once per body: a retry of the same return replays it
  state.body = { id: uuid7(), ...body };
  state.override = null;
  renderDecision({
    verdict: $("decision-verdict"), lines: $("decision-lines"), total: $("refund-total"), plan: $("refund-plan"),
    score: $("risk-score"), risk: $("risk-signals"), approval: $("approval-note"),
  }, state.preview, body.lines, state.purchase, fmt);
  $("confirm-return").disabled = !state.preview.allowed;
  $("confirm-return").textContent = body.kind === "exchange" ? "Take it back for an exchange" : "Take the return";
  $("decision").hidden = false;
  $("confirm-return").focus();
}
$("preview-btn").addEventListener("click", preview);
$("return-lines").addEventListener("change", () => { $("decision").hidden = true; });
for (const radio of document.querySelectorAll("input[name=return-kind]")) {
  radio.addEventListener("change", () => { $("decision").hidden = true; });
}
$("back-to-find").addEventListener("click", restart);

async function approve(why) {
  const grant = await managerApproval(here, "returns.approve", why, $("return-note").value.trim() || "return");
  state.override = grant;
  return grant;
}

async function confirm() {
  show($("pick-error"), "");
  if (state.preview.needs_manager && !state.override) {
    if (!(await approve(state.preview.approval_reasons.join("; ") || "This return needs a manager."))) return;
  }
  const headers = state.override ? { "X-Manager-Override": state.override.token } : {};
  $("confirm-return").disabled = true;
  try {
    state.ret = await api("/api/v1/returns", { method: "POST", body: state.body, headers });
  } catch (err) {
    $("confirm-return").disabled = false;
    if (err.code === "returns.manager_approval_required" && !state.override) {
      if (await approve(err.message)) return confirm();
      return;
    }
    return show($("pick-error"), problem(err));
  }
  done();
}
$("confirm-return").addEventListener("click", confirm);

function done() {
  const ret = state.ret;
  renderReturn({
    number: $("return-number"), meta: $("return-meta"), lines: $("return-summary-lines"), refunds: $("refunds"),
  }, ret, state.purchase, fmt);
  const open = ret.status === "exchange_open";
  show($("exchange-credit"), open ? `Exchange credit ${fmt(ret.exchange_credit - ret.exchange_applied)}: pay the new goods with ${ret.number}.` : "");
  $("exchange-sale").hidden = !open;
  $("exchange-settle").hidden = !open;
  $("done-message").textContent = "";
  section(["done"]);
  (open ? $("exchange-sale") : $("next-return")).focus();
}

$("exchange-sale").addEventListener("click", () => startExchange(state.ret));
$("exchange-settle").addEventListener("click", async () => {
  try {
    const line = await settleExchange(here, { id: state.ret.id });
    state.ret = await api(`/api/v1/returns/${state.ret.id}`);
    done();
    $("done-message").textContent = line;
  } catch (err) {
    $("done-message").textContent = problem(err);
  }
});
$("print-return").addEventListener("click", () => window.print());
$("next-return").addEventListener("click", restart);

function restart() {
  state.purchase = null;
  state.ret = null;
  $("purchases").innerHTML = "";
  $("return-note").value = "";
  document.querySelector("input[name=return-kind][value=return]").checked = true;
  section(["find"]);
  $("lookup").focus();
}

if (here) {
  $("register-code").textContent = here.register;
  restart();
}
