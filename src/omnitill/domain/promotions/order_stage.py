"""Order promotions: after product discounts, on what the order still costs.

Order-class promotions (every `order_percent`, `order_amount` and `spend_tiers`, and any rule
whose stacking is `order`) combine with each other and with product promotions. They apply
one after another in precedence order (higher priority first, then the lower id), each on
what its lines still cost after the product discounts and the order promotions before it; so
10 % then 5.00 off 100.00 is 10.00 + 5.00, while 5.00 then 10 % would be 5.00 + 9.50.

A minimum spend, and the thresholds of spend tiers, are measured on the promotion's eligible
subtotal after product discounts (what its targeted lines cost once item promotions are
taken), not after other order promotions: the shopper sees that figure on the receipt. Each
discount is spread over the promotion's lines by largest remainder, weighted by what each
still costs, so no line goes below zero. A free gift's own unit never counts towards the
spend that earns it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omnitill.domain.promotions.model import ORDER_KINDS, RuleKind
from omnitill.domain.promotions.rules import Offer, apply_rule, order_kind_discount
from omnitill.domain.promotions.units import Application, Cart, spread


@dataclass(frozen=True, slots=True)
class OrderStage:
    applications: tuple[Application, ...]
    short_of_spend: frozenset[str]  # promotions whose minimum spend was not reached

    @property
    def total(self) -> int:
        return sum(a.discount for a in self.applications)


def spend_basis(offer: Offer, cart: Cart, amounts: Sequence[int]) -> int:
    """What the offer's lines cost (at `amounts`), less the gift unit for a free gift."""
    spend = sum(amounts[i] for i in offer.lines)
    if offer.promotion.kind is RuleKind.FREE_GIFT and offer.extra:

        def dearest_unit(i: int) -> int:
            units = cart.lines[i].units
            return -(-amounts[i] // units) if units else 0

        gift = max(offer.extra, key=lambda i: (dearest_unit(i), -i))
        if gift in offer.lines:
            spend -= dearest_unit(gift)
    return spend


def couples_with_products(offer: Offer) -> bool:
    """Whether this order promotion can make a smaller product discount better for the
    customer: anything measured after product discounts, or on some lines only."""
    p = offer.promotion
    return (
        p.min_spend is not None
        or p.kind is RuleKind.SPEND_TIERS
        or p.kind not in ORDER_KINDS
        or not p.target.all_items
    )


def order_stage(cart: Cart, offers: Sequence[Offer], product: Sequence[int]) -> OrderStage:
    """Apply `offers` (in precedence order) after `product` discounts per line."""
    remaining = [line.amount - d for line, d in zip(cart.lines, product, strict=True)]
    after_product = tuple(remaining)
    found: list[Application] = []
    short: set[str] = set()
    for offer in offers:
        p = offer.promotion
        eligible = spend_basis(offer, cart, after_product)
        if p.min_spend is not None and eligible < p.min_spend:
            short.add(p.id)
            continue
        if p.kind in ORDER_KINDS:
            room = {i: remaining[i] for i in offer.lines if remaining[i] > 0}
            discount = order_kind_discount(p, remaining=sum(room.values()), eligible=eligible)
            shares = spread(discount, room)
        else:
            now = cart.with_amounts(remaining)
            app = apply_rule(p, now, offer.lines, now.full(), offer.extra)
            discount, shares = (0, ()) if app is None else (app.discount, app.shares)
        if discount <= 0:
            continue
        for i, share in shares:
            remaining[i] -= share
        found.append(Application(p, discount, (), shares))
    return OrderStage(tuple(found), frozenset(short))


class OrderScorer:
    """The order stage's total for a given product discount, as the combination search needs
    it. When every order promotion is an order rule on all items, only the total product
    discount matters, and the stage is computed from totals alone."""

    def __init__(self, cart: Cart, offers: Sequence[Offer]) -> None:
        self._cart = cart
        self._offers = tuple(offers)
        self.needs_lines = not all(
            o.promotion.kind in ORDER_KINDS and o.promotion.target.all_items for o in offers
        )
        self._base = [sum(cart.lines[i].amount for i in o.lines) for o in offers]

    def by_lines(self, product: Sequence[int]) -> int:
        return order_stage(self._cart, self._offers, product).total

    def by_total(self, product: int) -> int:
        taken = 0
        for offer, base in zip(self._offers, self._base, strict=True):
            p = offer.promotion
            eligible = base - product
            if p.min_spend is not None and eligible < p.min_spend:
                continue
            remaining = eligible - taken
            taken += max(0, order_kind_discount(p, remaining=remaining, eligible=eligible))
        return taken

    def could_gain_from_less(self, product: int) -> bool:
        """Whether a smaller product discount than `product` could reach a minimum spend or
        spend tier the order does not reach now (always, when lines matter)."""
        if self.needs_lines:
            return True
        for offer, base in zip(self._offers, self._base, strict=True):
            p = offer.promotion
            thresholds = [t.threshold for t in p.tiers]
            if p.min_spend is not None:
                thresholds.append(p.min_spend)
            if any(base - product < t <= base for t in thresholds):
                return True
        return False
