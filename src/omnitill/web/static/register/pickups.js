// The pickup queue: this store's part of every order still to pick, pack, ready or hand
// over, kept live by the event stream (GET /api/v1/events/stream, with the session cookie).
// A curbside customer saying "I'm here" raises a banner with bay and car and a beep.
import { api, money, show } from "/static/shared/api.js";
import { requireDevice } from "/static/register/device.js";

const $ = (id) => document.getElementById(id);
const here = requireDevice();
const OPEN = new Set(["assigned", "accepted", "picking", "packed", "ready"]);
const COLLECTED = new Set(["pickup", "curbside"]);
const TOPICS = [
  "order.placed", "order.assigned", "order.accepted", "order.picking", "order.packed",
  "order.ready_for_pickup", "order.customer_arrived", "order.picked_up", "order.shipped",
  "order.cancelled", "order.rejected", "order.updated", "order.payment_received", "order.pickup_expired",
];
let handing = null;

/** The next steps a fulfillment can take here, as [step, button label]. */
function steps(f) {
  const early = ["assigned", "accepted"].includes(f.status);
  if (COLLECTED.has(f.method)) {
    return [
      ...(early ? [["pick", "Pick"]] : []),
      ...(early || f.status === "picking" ? [["ready", "Ready"]] : []),
      ...(f.status === "ready" ? [["pick_up", "Hand over"]] : []),
    ];
  }
  return [
    ...(early ? [["pick", "Pick"]] : []),
    ...(early || f.status === "picking" ? [["pack", "Pack"]] : []),
  ];
}

function card(order, f) {
  const li = document.createElement("li");
  li.dataset.order = order.number;
  li.dataset.status = f.status;
  li.classList.toggle("arrived", Boolean(f.arrived_at) && f.status !== "picked_up");
  const names = new Map(order.lines.map((l) => [l.line_no, l.name]));
  li.innerHTML = `<div class="row spread"><strong class="number"></strong><span><span class="badge method"></span> <span class="badge status"></span></span></div>
    <span class="customer"></span><ul class="items"></ul><span class="arrival-info" hidden></span><span class="due error" hidden></span><div class="row wrap actions"></div>`;
  li.querySelector(".number").textContent = order.number;
  li.querySelector(".method").textContent = f.method;
  li.querySelector(".method").classList.toggle("curbside", f.method === "curbside");
  li.querySelector(".status").textContent = f.status;
  li.querySelector(".status").classList.toggle("ready", f.status === "ready");
  li.querySelector(".customer").textContent = order.customer_name || order.email || "";
  for (const a of f.lines) {
    const item = document.createElement("li");
    item.textContent = `${a.quantity} × ${names.get(a.line_no) || a.sku} (${a.sku})`;
    li.querySelector(".items").append(item);
  }
  if (f.arrived_at) show(li.querySelector(".arrival-info"), `Arrived: bay ${f.arrival_bay}${f.arrival_car ? `, ${f.arrival_car}` : ""}`);
  if (order.balance_due > 0) show(li.querySelector(".due"), `To pay: ${money(order.balance_due, order.currency, here.locale)}`);
  for (const [step, label] of steps(f)) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = step === "pick_up" ? "btn primary" : "btn";
    button.dataset.step = step;
    button.textContent = label;
    button.onclick = () => (step === "pick_up" ? handOver(order, f) : advance(order, f, step, button));
    li.querySelector(".actions").append(button);
  }
  return li;
}

async function load() {
  try {
    const page = await api(`/api/v1/orders?location=${encodeURIComponent(here.location)}&limit=100`);
    const work = [];
    for (const order of page.items) {
      for (const f of order.fulfillments) {
        if (f.location === here.location && OPEN.has(f.status)) work.push([order, f]);
      }
    }
    // customers waiting outside first, then the oldest order
    work.sort(([a, fa], [b, fb]) => Number(Boolean(fb.arrived_at)) - Number(Boolean(fa.arrived_at)) || a.placed_at.localeCompare(b.placed_at));
    $("queue").replaceChildren(...work.map(([order, f]) => card(order, f)));
    $("queue-empty").hidden = work.length > 0;
    show($("queue-error"), "");
  } catch (err) {
    show($("queue-error"), err.message);
  }
}

let pending = null;
function reload() {
  clearTimeout(pending);
  pending = setTimeout(load, 100);
}

async function advance(order, f, step, button) {
  button.disabled = true;
  try {
    await api(`/api/v1/orders/${order.id}/fulfillments/${f.id}/${step}`, { method: "POST", body: {} });
  } catch (err) {
    show($("queue-error"), `${order.number}: ${err.message}`);
  }
  await load();
}

function handOver(order, f) {
  handing = { order, f };
  $("handover-number").textContent = order.number;
  for (const id of ["handover-code", "handover-order", "handover-name"]) $(id).value = "";
  show($("handover-error"), "");
  $("handover-dialog").showModal();
  $("handover-code").focus();
}

$("handover-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const code = $("handover-code").value.trim();
  const body = code ? { pickup_code: code } : { number: $("handover-order").value.trim(), name: $("handover-name").value.trim() };
  if (!code && !(body.number && body.name)) return show($("handover-error"), "Scan the pickup code, or give the order number and the name.");
  try {
    const { order, f } = handing;
    await api(`/api/v1/orders/${order.id}/fulfillments/${f.id}/pick_up`, { method: "POST", body });
    $("handover-dialog").close();
    show($("queue-error"), "");
    $("live-status").textContent = `Handed over ${order.number}.`;
    await load();
  } catch (err) {
    show($("handover-error"), err.errors?.length ? err.errors.map((e) => e.message).join("; ") : err.message);
  }
});
$("handover-cancel").addEventListener("click", () => $("handover-dialog").close());

/** A short two-tone alert, made with WebAudio (no sound file to fetch). */
function beep() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    const audio = new Context();
    if (audio.resume) audio.resume().catch(() => {});
    const gain = audio.createGain();
    gain.gain.value = 0.2;
    gain.connect(audio.destination);
    [880, 660].forEach((hz, i) => {
      const tone = audio.createOscillator();
      tone.frequency.value = hz;
      tone.connect(gain);
      tone.start(audio.currentTime + i * 0.25);
      tone.stop(audio.currentTime + i * 0.25 + 0.2);
    });
    setTimeout(() => audio.close?.(), 1000);
  } catch {
    // no sound is better than no banner
  }
}

function arrived(envelope) {
  const d = envelope.data || {};
  const car = d.car ? ` · ${d.car}` : "";
  $("arrival-text").textContent = `Customer arrived: ${d.customer_name || ""} · ${d.number || ""} · bay ${d.bay}${car}`;
  $("arrival").hidden = false;
  beep();
}
$("arrival-dismiss").addEventListener("click", () => { $("arrival").hidden = true; });
$("refresh").addEventListener("click", load);

function follow() {
  const url = `/api/v1/events/stream?location=${encodeURIComponent(here.location)}&topics=order.*`;
  const stream = new EventSource(url, { withCredentials: true });
  stream.onopen = () => { $("live-status").textContent = "Live"; };
  stream.onerror = () => { $("live-status").textContent = "Reconnecting…"; };
  for (const topic of TOPICS) {
    stream.addEventListener(topic, (event) => {
      if (topic === "order.customer_arrived") arrived(JSON.parse(event.data));
      reload();
    });
  }
  window.addEventListener("pagehide", () => stream.close());
}

if (here) {
  $("register-code").textContent = here.register;
  load().then(follow);
}
