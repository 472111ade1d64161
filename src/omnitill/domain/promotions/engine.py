"""The promotion engine: which promotions a cart earns, and what each takes off which unit.

    apply_promotions(data: PromotionInput) -> PromotionResult

Lines arrive priced (unit price in the cart's currency, after any permitted override and
manual line discount); `amount` is what a line costs before promotions, and is what the
promotions discount. The result names, per line, each adjustment with the promotion that gave
it (and the coupon that unlocked it), split over the line's units by largest remainder.

How a cart is priced, in order:

1. Entered codes are read (`coupons`): each unlocks its promotion unless the code or the sale's
   context rules it out. Promotions that require a coupon run only when unlocked.
2. Candidates come from the catalog index (only promotions whose target names a cart line),
   plus the unlocked ones; each is checked for eligibility (`eligibility`: active, dates,
   usage limits, channel, location, customer groups, currency, time of day) and then against
   the cart: at least one targeted line, and `min_spend` on the targeted subtotal (before
   discounts; order promotions check it again after product discounts). A free gift needs
   its spend, its gift unit excluded; when the gift is not in the cart the result offers it
   (`GiftOffer`) instead.
3. Product promotions take units, one promotion per unit, in the combination best for the
   customer (`search`); order promotions then apply in precedence order on what remains
   (`order_stage`). Each exclusive promotion is priced alone and wins if it beats that
   combination outright (equal totals keep the combination; between exclusives, the higher
   priority, then the lower id).
4. Discounts are split over lines and units (`allocation`), and every entered code gets its
   answer, including `better_promotion_applied` for a valid code that lost.

Weighed lines count as one unit for rules that count units (tiers, bundles, buy X get Y,
item amounts) and are discounted on their amount by percentages. Lines are handled in an
order of their own content (variant, amount, quantity), never the order they were entered,
so the same cart in any order gets the same discounts. Same input, same output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from omnitill.domain.pricing.cart import (
    Adjustment,
    AppliedPromotion,
    CouponResult,
    GiftOffer,
    PricingContext,
    PromotionGroup,
)
from omnitill.domain.promotions.allocation import split_over_units
from omnitill.domain.promotions.coupons import EnteredCode, read_codes, result
from omnitill.domain.promotions.eligibility import local_time, promotion_refusal
from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import (
    ORDER_KINDS,
    Coupon,
    CouponRefusal,
    Promotion,
    RuleKind,
    StackingClass,
    Usage,
)
from omnitill.domain.promotions.order_stage import (
    OrderScorer,
    couples_with_products,
    order_stage,
    spend_basis,
)
from omnitill.domain.promotions.rules import Offer, is_simple, percent_of
from omnitill.domain.promotions.search import best_product_plan
from omnitill.domain.promotions.targets import precedence, targets_line
from omnitill.domain.promotions.units import Application, Cart, line_discounts, unit_line


@dataclass(frozen=True, slots=True)
class PromoLine:
    key: str
    variant_id: str
    quantity: int  # base units; weighed lines count as one unit for rules that count units
    unit_price: int
    amount: int  # what the line costs before promotions (after manual line discount)
    category_ids: frozenset[str] = frozenset()
    collection_ids: frozenset[str] = frozenset()
    brand_id: str | None = None
    sold_by_weight: bool = False


@dataclass(frozen=True, slots=True)
class PromotionInput:
    context: PricingContext
    lines: Sequence[PromoLine]
    catalog: PromotionCatalog
    usage: Mapping[str, Usage] = field(default_factory=dict)
    coupons: Mapping[str, Coupon] = field(default_factory=dict)
    coupon_codes: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class LineAdjustments:
    key: str
    adjustments: tuple[Adjustment, ...]
    unit_discounts: tuple[int, ...]  # sum of adjustments, split over units (len = units)


@dataclass(frozen=True, slots=True)
class PromotionResult:
    lines: tuple[LineAdjustments, ...]  # one per input line, same order
    applied: tuple[AppliedPromotion, ...]
    coupons: tuple[CouponResult, ...]
    gift_offers: tuple[GiftOffer, ...]
    groups: tuple[PromotionGroup, ...] = ()  # the units each buy-X-get-Y claimed


def apply_promotions(data: PromotionInput) -> PromotionResult:
    """The promotions a priced cart earns, per line and unit, and the answer to every code."""
    order = sorted(range(len(data.lines)), key=lambda i: _content(data.lines[i]))
    items = [data.lines[i] for i in order]
    cart = Cart(
        tuple(
            unit_line(
                variant_id=x.variant_id,
                quantity=x.quantity,
                amount=x.amount,
                weighed=x.sold_by_weight,
            )
            for x in items
        )
    )
    local = local_time(data.context)
    entered = read_codes(
        codes=data.coupon_codes,
        coupons=data.coupons,
        catalog=data.catalog,
        context=data.context,
        usage=data.usage,
        local=local,
    )
    unlocked = {e.promotion.id: e for e in entered if e.refusal is None and e.promotion}
    offers = _gather(data, cart, items, unlocked, local)
    outcome = _choose(cart, offers)
    codes = {pid: e.code for pid, e in unlocked.items()}
    lines = _line_results(data, cart, order, outcome, codes)
    return PromotionResult(
        lines=lines,
        applied=_applied(outcome, codes),
        coupons=tuple(_answer(e, offers, outcome, data.context) for e in entered),
        gift_offers=tuple(offers.gifts),
        groups=_groups(outcome, data.lines, order),
    )


def _gather(
    data: PromotionInput,
    cart: Cart,
    items: Sequence[PromoLine],
    unlocked: Mapping[str, EnteredCode],
    local: datetime,
) -> _Offers:
    """Every promotion that may run on this cart: the catalog's candidates for its lines, and
    the promotions entered codes unlocked."""
    offers = _Offers(cart, items)
    for candidate in data.catalog.candidates(items):
        p = candidate.promotion
        if p.id not in unlocked and not promotion_refusal(
            p, context=data.context, usage=data.usage, local=local
        ):
            offers.admit(p, candidate.lines)
    for e in unlocked.values():
        if e.promotion is not None:
            target = e.promotion.target
            found = tuple(i for i, x in enumerate(items) if targets_line(target, x))
            offers.admit(e.promotion, found)
    return offers


def _line_results(
    data: PromotionInput,
    cart: Cart,
    order: Sequence[int],
    outcome: _Outcome,
    codes: Mapping[str, str],
) -> tuple[LineAdjustments, ...]:
    """Each input line's adjustments and unit discounts, in the order the lines came."""
    items = [data.lines[i] for i in order]
    splits = split_over_units(
        cart,
        counts=[1 if x.sold_by_weight else max(x.quantity, 0) for x in items],
        product=outcome.product,
        order=outcome.order,
    )
    lines: dict[int, LineAdjustments] = {}
    for position, split in zip(order, splits, strict=True):
        lines[position] = LineAdjustments(
            key=data.lines[position].key,
            adjustments=tuple(
                Adjustment(p.id, p.name, amount, coupon=codes.get(p.id))
                for p, amount in split.adjustments
            ),
            unit_discounts=split.unit_discounts,
        )
    return tuple(lines[i] for i in range(len(order)))


def _groups(
    outcome: _Outcome, lines: Sequence[PromoLine], order: Sequence[int]
) -> tuple[PromotionGroup, ...]:
    """Each buy-X-get-Y that applied, in the order `applied` lists it: its units per line
    key (in the order the lines came), the bought ones apart from the given ones."""

    def by_key(counts: Mapping[int, int]) -> tuple[tuple[str, int], ...]:
        found = sorted((order[i], n) for i, n in counts.items() if n)
        return tuple((lines[position].key, n) for position, n in found)

    found: list[PromotionGroup] = []
    for a in sorted(outcome.product, key=lambda a: precedence(a.promotion)):
        p = a.promotion
        if p.kind is not RuleKind.BUY_X_GET_Y:
            continue
        reward = {t.line: t.high + t.low for t in a.rewards}
        bought = {t.line: t.high + t.low - reward.get(t.line, 0) for t in a.takes}
        found.append(
            PromotionGroup(
                promotion_id=p.id,
                kind=p.kind.value,
                buy=p.buy_quantity,
                get=p.get_quantity,
                qualifying=by_key(bought),
                reward=by_key(reward),
                discount=a.discount,
                discounts=by_key(dict(a.shares)),
            )
        )
    return tuple(found)


def _content(line: PromoLine) -> tuple[object, ...]:
    """What a line is, for the canonical order; lines equal on all of it are interchangeable."""
    return (
        line.variant_id,
        line.amount,
        line.quantity,
        line.unit_price,
        line.sold_by_weight,
        sorted(line.category_ids),
        sorted(line.collection_ids),
        line.brand_id or "",
        line.key,
    )


class _Offers:
    """Eligible promotions sorted by how they stack, and why unlocked ones could not run."""

    def __init__(self, cart: Cart, items: Sequence[PromoLine]) -> None:
        self.cart = cart
        self.items = items
        self.simples: dict[int, list[Offer]] = {}
        self.deals: list[Offer] = []
        self.order: list[Offer] = []
        self.exclusive: list[Offer] = []
        self.gifts: list[GiftOffer] = []
        self.refusals: dict[str, CouponRefusal] = {}
        self.by_id: dict[str, Offer] = {}
        self.amounts = [line.amount for line in cart.lines]
        self.discountable = tuple(i for i, line in enumerate(cart.lines) if line.units > 0)
        self.by_variant: dict[str, list[int]] = {}
        for i in self.discountable:
            self.by_variant.setdefault(items[i].variant_id, []).append(i)

    def _lines(self, p: Promotion, lines: Sequence[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        units = self.cart.lines
        own = tuple(i for i in lines if units[i].units > 0)
        extra: tuple[int, ...] = ()
        if p.kind is RuleKind.BUY_X_GET_Y and p.get_target is not None:
            get = p.get_target
            extra = tuple(i for i in self.discountable if targets_line(get, self.items[i]))
        elif p.kind is RuleKind.FREE_GIFT:
            extra = tuple(self.by_variant.get(p.gift_variant_id or "", ()))
        return own, extra

    def admit(self, p: Promotion, lines: Sequence[int]) -> None:
        own, extra = self._lines(p, lines)
        offer = Offer(p, own, extra)
        if p.kind is not RuleKind.FREE_GIFT and not own:
            self.refusals[p.id] = CouponRefusal.NOT_APPLICABLE
        elif p.min_spend is not None and spend_basis(offer, self.cart, self.amounts) < p.min_spend:
            self.refusals[p.id] = CouponRefusal.MINIMUM_SPEND
        elif p.kind is RuleKind.FREE_GIFT and not extra:
            self.gifts.append(GiftOffer(p.id, p.gift_variant_id or ""))
        else:
            self._file(offer)

    def _file(self, offer: Offer) -> None:
        p = offer.promotion
        self.by_id[p.id] = offer
        if p.stacking is StackingClass.EXCLUSIVE:
            self.exclusive.append(offer)
        elif p.stacking is StackingClass.ORDER or p.kind in ORDER_KINDS:
            self.order.append(offer)
        elif is_simple(p):
            for i in offer.lines:
                self.simples.setdefault(i, []).append(offer)
        else:
            self.deals.append(offer)

    def simples_by_line(self) -> dict[int, list[Offer]]:
        return {
            i: sorted(found, key=lambda o: precedence(o.promotion))
            for i, found in self.simples.items()
        }


@dataclass(frozen=True, slots=True)
class _Outcome:
    product: tuple[Application, ...]
    order: tuple[Application, ...]
    short_of_spend: frozenset[str] = frozenset()
    exclusive: str | None = None  # the exclusive promotion that won, if one did

    @property
    def total(self) -> int:
        return sum(a.discount for a in self.product) + sum(a.discount for a in self.order)


def _alone(cart: Cart, offer: Offer) -> _Outcome:
    """One promotion on the whole cart, with nothing else."""
    p = offer.promotion
    if p.stacking is StackingClass.ORDER or p.kind in ORDER_KINDS:
        stage = order_stage(cart, [offer], [0] * len(cart.lines))
        return _Outcome((), stage.applications, stage.short_of_spend, p.id)
    app = offer.apply(cart, cart.full())
    return _Outcome(() if app is None else (app,), (), frozenset(), p.id)


def _choose(cart: Cart, offers: _Offers) -> _Outcome:
    ordered = sorted(offers.order, key=lambda o: precedence(o.promotion))

    coupled = any(couples_with_products(o) for o in ordered)
    product = best_product_plan(
        cart,
        deals=offers.deals,
        simples=offers.simples_by_line(),
        order_score=OrderScorer(cart, ordered) if coupled else None,
    )
    stage = order_stage(cart, ordered, line_discounts(len(cart.lines), product))
    best = _Outcome(product, stage.applications, stage.short_of_spend)
    for offer in sorted(offers.exclusive, key=lambda o: precedence(o.promotion)):
        if _most(cart, offer) <= best.total:
            continue  # cannot win outright
        alone = _alone(cart, offer)
        if alone.total > best.total:
            best = alone
    return best


def _most(cart: Cart, offer: Offer) -> int:
    """An upper bound on what the promotion can take off alone: what its lines cost (times
    its percent for percentage rules)."""
    p = offer.promotion
    lines = offer.footprint if p.kind not in ORDER_KINDS else offer.lines
    most = sum(cart.lines[i].amount for i in lines)
    if p.kind in {RuleKind.ITEM_PERCENT, RuleKind.ORDER_PERCENT} and p.percent is not None:
        return percent_of(most, p.percent)
    return most


def _applied(outcome: _Outcome, codes: Mapping[str, str]) -> tuple[AppliedPromotion, ...]:
    product = sorted(outcome.product, key=lambda a: precedence(a.promotion))
    return tuple(
        AppliedPromotion(a.promotion.id, a.promotion.name, a.discount, codes.get(a.promotion.id))
        for a in (*product, *outcome.order)
    )


def _answer(
    entry: EnteredCode, offers: _Offers, outcome: _Outcome, context: PricingContext
) -> CouponResult:
    p = entry.promotion
    if entry.refusal is not None or p is None:
        return result(entry, entry.refusal or CouponRefusal.UNKNOWN, context)
    if any(a.promotion.id == p.id for a in (*outcome.product, *outcome.order)):
        return result(entry, None, context)
    gift = next((g for g in offers.gifts if g.promotion_id == p.id), None)
    if gift is not None:
        message = f"Coupon {entry.code}: add {gift.variant_id} to the cart to get it free."
        return result(entry, None, context, message)
    if p.id in offers.refusals:
        return result(entry, offers.refusals[p.id], context)
    if outcome.exclusive is None and p.id in outcome.short_of_spend:
        return result(entry, CouponRefusal.MINIMUM_SPEND, context)
    if _alone(offers.cart, offers.by_id[p.id]).total == 0:
        return result(entry, CouponRefusal.NOT_APPLICABLE, context)
    return result(entry, CouponRefusal.NOT_BEST, context)
