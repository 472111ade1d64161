// Taking payment: cash with change and quick-cash buttons, card through the terminal, gift
// card, store credit and QR, in any split. Card and QR payments are taken first (each with
// its own UUID, for this sale's id); the sale is then posted naming them, with cash last
// (cash settles what is left and gives change).
import { api, money, parseMoney, show, toDecimal, uuid7 } from "/static/shared/api.js";
import { takeCard } from "/static/register/terminal.js";

const $ = (id) => document.getElementById(id);
const QUICK_NOTES = [500, 1000, 2000, 5000, 10000];

export class Tender {
  constructor({ here, cart, display, onComplete }) {
    this.here = here;
    this.cart = cart;
    this.display = display;
    this.onComplete = onComplete;
    this.tenders = [];
    this.polling = null;
    for (const tab of document.querySelectorAll("#tender .tab")) {
      tab.addEventListener("click", () => this.choose(tab.dataset.method));
    }
    $("cash-form").addEventListener("submit", (e) => { e.preventDefault(); this.cash(); });
    $("cash-amount").addEventListener("input", () => this.showChange());
    $("card-form").addEventListener("submit", (e) => { e.preventDefault(); this.card(); });
    $("gift-form").addEventListener("submit", (e) => { e.preventDefault(); this.simple("gift_card", "gift-amount"); });
    $("credit-form").addEventListener("submit", (e) => { e.preventDefault(); this.simple("store_credit", "credit-amount"); });
    $("exchange-form").addEventListener("submit", (e) => { e.preventDefault(); this.simple("exchange", "exchange-amount"); });
    $("qr-form").addEventListener("submit", (e) => { e.preventDefault(); this.qr(); });
    $("qr-cancel").addEventListener("click", () => this.stopQr("Stopped waiting."));
  }

  fmt(minor) { return money(minor, this.here.currency, this.here.locale); }
  get total() { return this.cart.quote.total; }
  get paid() { return this.tenders.reduce((sum, t) => sum + t.amount, 0); }
  get due() { return Math.max(0, this.total - this.paid); }

  open() {
    this.tenders = [];
    $("tender").hidden = false;
    this.render();
    this.choose("cash");
  }

  close() {
    this.stopQr();
    $("tender").hidden = true;
  }

  error(message) { show($("tender-error"), message); }

  render() {
    $("tender-total").textContent = this.fmt(this.total);
    $("tender-paid").textContent = this.fmt(this.paid);
    $("tender-due").textContent = this.fmt(this.due);
    const list = $("tenders");
    list.innerHTML = "";
    for (const t of this.tenders) {
      const li = document.createElement("li");
      li.textContent = `${t.label} ${this.fmt(t.amount)}`;
      list.append(li);
    }
    const quick = $("quick-cash");
    quick.innerHTML = "";
    const options = [this.due, ...QUICK_NOTES.filter((n) => n > this.due).slice(0, 3)];
    for (const amount of options) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "btn quick";
      button.dataset.amount = String(amount);
      button.textContent = amount === this.due ? `Exact ${this.fmt(amount)}` : this.fmt(amount);
      button.onclick = () => { $("cash-amount").value = toDecimal(amount, this.here.currency, this.here.locale); this.cash(); };
      quick.append(button);
    }
    for (const id of ["card-amount", "gift-amount", "credit-amount", "qr-amount", "exchange-amount"]) {
      $(id).value = toDecimal(this.due, this.here.currency, this.here.locale);
    }
    this.showChange();
  }

  choose(method) {
    this.error("");
    for (const tab of document.querySelectorAll("#tender .tab")) tab.classList.toggle("active", tab.dataset.method === method);
    for (const form of document.querySelectorAll("#tender .tender-form")) form.hidden = form.dataset.method !== method;
    const first = document.querySelector(`#tender .tender-form[data-method="${method}"] input`);
    if (first) first.focus();
  }

  amountOf(id) {
    const amount = parseMoney($(id).value, this.here.currency, this.here.locale);
    if (!(amount > 0)) {
      this.error("Enter an amount.");
      return null;
    }
    return amount;
  }

  showChange() {
    const given = parseMoney($("cash-amount").value, this.here.currency, this.here.locale);
    $("change").textContent = given > this.due ? this.fmt(given - this.due) : this.fmt(0);
  }

  async add(tender) {
    this.tenders.push(tender);
    this.render();
    if (this.due === 0) await this.complete();
  }

  async cash() {
    const amount = this.amountOf("cash-amount");
    if (amount == null) return;
    const cash = this.tenders.find((t) => t.method === "cash");
    if (cash) cash.given += amount;
    const applied = Math.min(amount, this.due);
    if (cash) cash.amount += applied;
    else this.tenders.push({ method: "cash", label: "Cash", amount: applied, given: amount });
    $("cash-amount").value = "";
    this.render();
    if (this.due === 0) await this.complete();
  }

  async card() {
    const amount = this.amountOf("card-amount");
    if (amount == null) return;
    if (amount > this.due) return this.error("A card pays at most what is due.");
    const payment = await takeCard({ here: this.here, saleId: this.cart.saleId, amount });
    if (!payment) return;
    const card = payment.card || {};
    await this.add({ method: "card", amount, payment_id: payment.id, label: `${card.brand || "Card"} ••${card.last4 || ""}` });
  }

  async simple(method, field) {
    const amount = this.amountOf(field);
    if (amount == null) return;
    if (amount > this.due) return this.error("This tender pays at most what is due.");
    if (method === "store_credit" && !this.cart.customer) return this.error("Attach the customer first.");
    const labels = { gift_card: "Gift card", store_credit: "Store credit", exchange: "Exchange" };
    const tender = { method, amount, label: labels[method] };
    if (method === "gift_card") tender.code = $("gift-code").value.trim();
    if (method === "exchange") {
      tender.code = $("exchange-code").value.trim();
      if (!tender.code) return this.error("Enter the return number.");
      tender.label = `Exchange ${tender.code}`;
    }
    await this.add(tender);
  }

  async qr() {
    const amount = this.amountOf("qr-amount");
    if (amount == null) return;
    const id = uuid7();
    try {
      const link = await api("/api/v1/qr-payments", {
        method: "POST",
        body: { id, register: this.here.register, sale_id: this.cart.saleId, amount },
      });
      $("qr-image").innerHTML = link.qr_svg;
      $("qr-image").hidden = false;
      $("qr-cancel").hidden = false;
      $("qr-status").textContent = "Waiting for the customer to pay…";
      this.display({ type: "qr", svg: link.qr_svg, amount });
      this.polling = setInterval(async () => {
        try {
          const payment = await api(`/api/v1/qr-payments/${id}`);
          if (payment.status === "captured") {
            this.stopQr("Paid.");
            await this.add({ method: "qr", amount, payment_id: id, label: "QR" });
          } else if (payment.status !== "pending") {
            this.stopQr(`QR payment ${payment.status}.`);
          }
        } catch (err) {
          this.stopQr(err.message);
        }
      }, 1000);
    } catch (err) {
      this.error(err.message);
    }
  }

  stopQr(message) {
    if (this.polling) clearInterval(this.polling);
    this.polling = null;
    $("qr-image").hidden = true;
    $("qr-cancel").hidden = true;
    if (message) $("qr-status").textContent = message;
    this.display({ type: "qr-done" });
  }

  async complete() {
    const payments = this.tenders.filter((t) => t.method !== "cash").map((t) => {
      const wire = { method: t.method, amount: t.amount };
      if (t.payment_id) wire.payment_id = t.payment_id;
      if (t.code) wire.code = t.code;
      return wire;
    });
    const cash = this.tenders.find((t) => t.method === "cash");
    if (cash) payments.push({ method: "cash", amount: cash.given });
    try {
      const sale = await api("/api/v1/sales", {
        method: "POST", body: this.cart.saleBody(payments), headers: this.cart.headers(),
      });
      this.close();
      this.onComplete(sale);
    } catch (err) {
      // nothing was recorded: drop the tender that cannot pay and let the cashier retry
      this.error(err.errors.length ? err.errors.map((e) => e.message).join("; ") : err.message);
      this.tenders = this.tenders.filter((t) => t.payment_id);
      this.render();
    }
  }
}
