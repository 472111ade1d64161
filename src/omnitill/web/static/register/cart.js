// The sale being rung up: lines, customer, coupons, discounts and a manager override, and
// its live price from the quote API (the same engine the sale uses, so the screen and the
// receipt always agree). Quotes are sequenced: an answer older than the cart is dropped.
import { api, uuid7 } from "/static/shared/api.js";

export class Cart {
  constructor(here) {
    this.here = here;
    this.reset();
  }

  reset() {
    this.saleId = uuid7();
    this.lines = [];
    this.coupons = [];
    this.customer = null; // {id, name}
    this.discount = null; // {kind, value, reason}
    this.override = null; // {token, permission}
    this.quote = null;
    this.seq = 0;
  }

  /** Add a scanned variant; units "each" merge into the line of the same SKU. */
  add(variant, quantity = 1) {
    const same = variant.unit === "each" &&
      this.lines.find((l) => l.sku === variant.sku && l.unit_price == null && !l.discount);
    if (same) {
      same.quantity += quantity;
      return same;
    }
    const line = {
      key: uuid7(), sku: variant.sku, name: variant.name, unit: variant.unit,
      price: variant.price, quantity,
    };
    this.lines.push(line);
    return line;
  }

  remove(key) {
    this.lines = this.lines.filter((l) => l.key !== key);
  }

  line(key) {
    return this.lines.find((l) => l.key === key);
  }

  headers() {
    return this.override ? { "X-Manager-Override": this.override.token } : {};
  }

  wireLines() {
    return this.lines.map((l) => {
      const wire = { sku: l.sku, quantity: l.quantity };
      if (l.unit_price != null) {
        wire.unit_price = l.unit_price;
        wire.price_override_reason = l.price_override_reason;
      }
      if (l.discount) wire.discount = l.discount;
      return wire;
    });
  }

  body() {
    const body = { location: this.here.location, lines: this.wireLines(), coupons: this.coupons };
    if (this.customer) body.customer = this.customer.id;
    if (this.discount) body.discount = this.discount;
    return body;
  }

  /** Price the cart; resolves to the quote, or null when a newer change overtook it. */
  async price() {
    const seq = ++this.seq;
    if (this.lines.length === 0) {
      this.quote = null;
      return null;
    }
    const quote = await api("/api/v1/quotes", { method: "POST", body: this.body(), headers: this.headers() });
    if (seq !== this.seq) return null;
    this.quote = quote;
    return quote;
  }

  saleBody(payments) {
    return { id: this.saleId, register: this.here.register, ...this.body(), payments };
  }
}
