// The one way omnitill's web apps call the JSON API: same-origin credentials (the HttpOnly
// session cookie), the double-submit CSRF header on writes, JSON in and out, and
// problem+json errors raised as ApiError with the stable `code` and per-field `errors`.
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "http.error";
    this.errors = problem.errors || [];
    this.details = problem.details || {};
  }

  /** The message of the first field error whose path starts with `prefix`, else the detail. */
  fieldMessage(prefix) {
    const hit = this.errors.find((e) => e.field === prefix || e.field.startsWith(prefix + "."));
    return hit ? hit.message : this.message;
  }
}

export function cookie(name) {
  const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
}

/** Call the API: `api("/api/v1/quotes", {method: "POST", body: {...}})`. Options: headers,
 * token (a bearer token instead of the session, e.g. at enrolment), idempotencyKey. */
export async function api(path, { method = "GET", body, headers = {}, token, idempotencyKey } = {}) {
  const sent = { Accept: "application/json", ...headers };
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (token) sent.Authorization = `Bearer ${token}`;
  else if (!SAFE.has(method)) sent["X-CSRF-Token"] = cookie("ot_csrf");
  if (idempotencyKey) sent["Idempotency-Key"] = idempotencyKey;
  const response = await fetch(path, {
    method,
    headers: sent,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data || {});
  return data;
}

/** A UUIDv7 made in the browser: records are born where they happen (sales, payments). */
export function uuid7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const formats = new Map();

function currencyFormat(currency, locale) {
  const key = `${locale}|${currency}`;
  if (!formats.has(key)) {
    formats.set(key, new Intl.NumberFormat(locale.replace("_", "-"), { style: "currency", currency }));
  }
  return formats.get(key);
}

/** Minor units as the store's locale writes money ("$19.99"). */
export function money(minor, currency, locale = "en_US") {
  const format = currencyFormat(currency, locale);
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(minor / 10 ** digits);
}

/** What a cashier typed ("19.99", "19,99", "20") in minor units; NaN when it is not money. */
export function parseMoney(text, currency, locale = "en_US") {
  const digits = currencyFormat(currency, locale).resolvedOptions().maximumFractionDigits;
  const clean = String(text).trim().replace(/[^0-9.,-]/g, "").replace(",", ".");
  if (!/^-?\d+(\.\d+)?$/.test(clean)) return NaN;
  return Math.round(Number(clean) * 10 ** digits);
}

/** Minor units as a plain decimal for an input field ("19.99"). */
export function toDecimal(minor, currency, locale = "en_US") {
  const digits = currencyFormat(currency, locale).resolvedOptions().maximumFractionDigits;
  return (minor / 10 ** digits).toFixed(digits);
}

export function toast(message) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = message;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3000);
}

export function show(element, message) {
  element.textContent = message || "";
  element.hidden = !message;
}
