// The sale screen's dialogs: line editor, order discount, weighing, customer, manager PIN.
import { api, parseMoney, show, toDecimal } from "/static/shared/api.js";
import { pinPad } from "/static/register/pinpad.js";

const $ = (id) => document.getElementById(id);

/** Open a <dialog> and resolve with the button value it closed with. */
function ask(dialog) {
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true });
    dialog.returnValue = "cancel";
    dialog.showModal();
  });
}

function discountFrom(kind, value, reason, here) {
  if (!String(value).trim()) return null;
  const amount = kind === "amount" ? String(parseMoney(value, here.currency, here.locale)) : String(value).trim();
  return { kind, value: amount, reason: reason.trim() };
}

/** Edit a line; resolves to {action: "save"|"remove"|"cancel", quantity, unit_price, reason, discount}. */
export async function editLine(line, here) {
  $("line-dialog-title").textContent = line.name;
  $("line-unit").textContent = line.unit === "g" ? "(g)" : "";
  $("line-qty").value = String(line.quantity);
  $("line-price").value = line.unit_price != null ? toDecimal(line.unit_price, here.currency, here.locale) : "";
  $("line-price-reason").value = line.price_override_reason || "";
  $("line-discount-kind").value = line.discount?.kind || "percent";
  $("line-discount-value").value = line.discount
    ? (line.discount.kind === "amount" ? toDecimal(Number(line.discount.value), here.currency, here.locale) : line.discount.value)
    : "";
  $("line-discount-reason").value = line.discount?.reason || "";
  const action = await ask($("line-dialog"));
  const price = $("line-price").value.trim();
  return {
    action,
    quantity: Number.parseInt($("line-qty").value, 10),
    unit_price: price ? parseMoney(price, here.currency, here.locale) : null,
    reason: $("line-price-reason").value.trim(),
    discount: discountFrom($("line-discount-kind").value, $("line-discount-value").value, $("line-discount-reason").value, here),
  };
}

export async function orderDiscount(current, here) {
  $("order-discount-kind").value = current?.kind || "percent";
  $("order-discount-value").value = current
    ? (current.kind === "amount" ? toDecimal(Number(current.value), here.currency, here.locale) : current.value)
    : "";
  $("order-discount-reason").value = current?.reason || "";
  const action = await ask($("discount-dialog"));
  if (action === "clear") return { action, discount: null };
  return {
    action,
    discount: discountFrom($("order-discount-kind").value, $("order-discount-value").value, $("order-discount-reason").value, here),
  };
}

/** Weighed goods: the quantity is grams (read from a scale, or typed). */
export async function weigh(variant) {
  $("weight-item").textContent = variant.name;
  $("weight-grams").value = "";
  setTimeout(() => $("weight-grams").focus(), 0);
  const action = await ask($("weight-dialog"));
  const grams = Number.parseInt($("weight-grams").value, 10);
  return action === "save" && grams > 0 ? grams : null;
}

function customerName(c) {
  return [c.first_name, c.last_name].filter(Boolean).join(" ") || c.email || c.phone || c.id;
}

/** Find or create a customer; resolves to {id, name}, null to detach, undefined to keep. */
export function chooseCustomer() {
  const dialog = $("customer-dialog");
  const results = $("customer-results");
  const error = $("customer-error");
  let chosen;
  results.innerHTML = "";
  show(error, "");
  const pick = (c) => {
    chosen = { id: c.id, name: customerName(c) };
    dialog.close("picked");
  };
  $("customer-find").onclick = async () => {
    show(error, "");
    try {
      const q = encodeURIComponent($("customer-search").value.trim());
      const page = await api(`/api/v1/customers?q=${q}&limit=10`);
      results.innerHTML = "";
      for (const c of page.items) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "btn result";
        button.textContent = `${customerName(c)} ${c.email ? "· " + c.email : ""}`;
        button.onclick = () => pick(c);
        li.append(button);
        results.append(li);
      }
      if (!page.items.length) show(error, "No customer found.");
    } catch (err) {
      show(error, err.message);
    }
  };
  $("customer-create").onclick = async () => {
    show(error, "");
    const body = { first_name: $("customer-first").value.trim(), last_name: $("customer-last").value.trim() };
    if ($("customer-email").value.trim()) body.email = $("customer-email").value.trim();
    if ($("customer-phone").value.trim()) body.phone = $("customer-phone").value.trim();
    try {
      pick(await api("/api/v1/customers", { method: "POST", body }));
    } catch (err) {
      show(error, err.errors.length ? err.errors.map((e) => e.message).join("; ") : err.message);
    }
  };
  return ask(dialog).then((action) => (action === "detach" ? null : chosen));
}

/** A manager approves one permission with their PIN at this register; resolves to the
 * override {token, permission}, or null when cancelled. */
export function managerApproval(here, permission, why, reason) {
  const dialog = $("manager-dialog");
  const error = $("manager-error");
  $("manager-why").textContent = why;
  $("manager-reason").value = reason || "";
  show(error, "");
  return new Promise((resolve) => {
    let granted = null;
    const pad = pinPad($("manager-pinpad"), {
      label: "Manager PIN",
      onSubmit: async (pin) => {
        show(error, "");
        try {
          const grant = await api("/api/v1/overrides", {
            method: "POST",
            body: {
              manager_pin: pin, register: here.register, device_key: here.device_key,
              permission, reason: $("manager-reason").value.trim() || why,
            },
          });
          granted = { token: grant.override_token, permission, approvedBy: grant.approved_by };
          dialog.close("granted");
        } catch (err) {
          show(error, err.message);
        }
      },
    });
    $("manager-cancel").onclick = () => dialog.close("cancel");
    dialog.addEventListener("close", () => resolve(granted), { once: true });
    dialog.showModal();
    pad.focus();
  });
}
