"""Deciding a return before anything is written: the purchase read from its snapshot, every
line decided by the policy engine, the buy-X-get-Y charge-backs, the shipping refunded by
rule, the fraud score and the refund plan over the purchase's tenders. Pure reads: the
caller (services/returns.py) writes, in the same transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from omnitill.adapters.db.database import UnitOfWork
from omnitill.adapters.db.models import Location
from omnitill.adapters.db.repositories import catalog as catalog_repo
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.returns import model as m
from omnitill.domain.returns.policy import decide_return
from omnitill.domain.returns.risk import RiskScore, score_return
from omnitill.domain.returns.tenders import RefundPlan, directed_plan, plan_refund
from omnitill.services import return_facts, return_promotions, return_settings
from omnitill.services.auth import check_authorised
from omnitill.services.return_requests import ReturnInput
from omnitill.services.return_sources import Source, SourceLine, load


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Everything decided about a return before anything is written."""

    source: Source | None
    decision: m.ReturnDecision
    lines: tuple[SourceLine | None, ...]
    variants: tuple[tuple[uuid.UUID, str, str, uuid.UUID | None], ...]  # id, sku, name, cat
    chargebacks: tuple[int, ...]  # per line, net of earlier charge-backs given back
    chargeback_reasons: tuple[tuple[m.Reason, ...], ...]
    shipping: int
    risk: RiskScore
    plan: RefundPlan | None
    refund_total: int  # what the lines give back, fees and charge-backs deducted, + shipping

    @property
    def needs_manager(self) -> bool:
        plan_needs = self.plan is not None and self.plan.needs_manager
        return self.decision.needs_manager or self.risk.needs_manager or plan_needs

    def approval_reasons(self) -> list[str]:
        found = [
            r.code
            for line in self.decision.lines
            if line.needs_manager
            for r in line.reasons
            if r.refuses or r.code in (m.MANAGER_APPROVAL, m.NO_RECEIPT_STORE_CREDIT)
        ]
        if self.risk.needs_manager:
            found += list(self.risk.codes)
        if self.plan is not None:
            found += [p.fallback_reason for p in self.plan.refunds if p.fallback_reason]
        return sorted(set(found))


def evaluate(
    uow: UnitOfWork, actor: Actor, request: ReturnInput, loc: Location, now: datetime
) -> Evaluation:
    """Decide the return from fresh figures (see the module doc, step 1)."""
    settings = return_settings.load(uow, loc.currency)
    source = None
    if request.sale_id is not None or request.order_id is not None:
        source = load(uow, sale_id=request.sale_id, order_id=request.order_id)
        if source.currency != loc.currency:
            raise ValidationFailed(
                "returns.currency_mismatch",
                f"the purchase was in {source.currency}; {loc.code} refunds {loc.currency}",
                errors=[FieldError("location", "returns.currency_mismatch", source.currency)],
            )
    lines, variants, domain_lines = _lines(uow, request, source, settings.policy, now)
    history = m.NoReceiptHistory()
    if source is None and request.customer_id is not None:
        history = return_facts.no_receipt_history(uow, request.customer_id, settings.policy, now)
    decision = decide_return(
        m.ReturnRequest(
            currency=loc.currency,
            timezone=loc.timezone,
            lines=tuple(domain_lines),
            customer_id=None if request.customer_id is None else str(request.customer_id),
            no_receipt_history=history,
            manager_override=_may_approve(uow, actor, request),
        ),
        policy=settings.policy,
        now=now,
    )
    chargebacks, chargeback_reasons = _chargebacks(uow, source, request, lines, decision)
    net = sum(
        max(d.net - cb, 0) for d, cb in zip(decision.lines, chargebacks, strict=True) if d.allowed
    )
    shipping = _shipping(source, request, lines, settings.refunds.shipping_refund)
    refund_total = net + shipping
    customer = request.customer_id or (None if source is None else source.customer_id)
    risk = score_return(
        return_facts.risk_input(
            uow,
            customer_id=customer,
            card_fingerprints=_fingerprints(source, request),
            no_receipt=source is None,
            refund_value=refund_total,
            purchase_value=None if source is None else source.total,
            cashier_id=actor.user_id,
            buyer_employee_ids=(
                frozenset() if customer is None else return_facts.buyer_employees(uow, customer)
            ),
            location_id=loc.id,
            purchase_location_ids=frozenset() if source is None else source.location_ids,
            risk=settings.risk,
            now=now,
        ),
        policy=settings.risk,
    )
    plan = None
    if source is not None and request.kind != "exchange":
        rules = settings.refunds.for_plan()
        present = request.card_present
        if request.refund_to:
            plan = directed_plan(
                refund_total,
                request.refund_to,
                source.tenders,
                rules=rules,
                now=now,
                card_present=present,
            )
        else:
            plan = plan_refund(
                refund_total, source.tenders, rules=rules, now=now, card_present=present
            )
    return Evaluation(
        source,
        decision,
        lines,
        variants,
        chargebacks,
        chargeback_reasons,
        shipping,
        risk,
        plan,
        refund_total,
    )


def _lines(
    uow: UnitOfWork,
    request: ReturnInput,
    source: Source | None,
    policy: m.ReturnPolicy,
    now: datetime,
) -> tuple[
    tuple[SourceLine | None, ...],
    tuple[tuple[uuid.UUID, str, str, uuid.UUID | None], ...],
    list[m.ReturnLine],
]:
    errors: list[FieldError] = []
    found: list[SourceLine | None] = []
    variants: list[tuple[uuid.UUID, str, str, uuid.UUID | None]] = []
    domain: list[m.ReturnLine] = []
    condition_of = {c.value: c for c in m.Condition}
    skus = [x.sku for x in request.lines if x.sku]
    by_sku, _ = catalog_repo.variant_refs(uow.connection, skus=skus)
    for i, x in enumerate(request.lines):
        condition = condition_of.get(x.condition or "")
        if source is not None:
            sl = None if x.line_id is None else source.lines.get(x.line_id)
            if sl is None:
                errors.append(
                    FieldError(f"lines.{i}.line_id", "returns.unknown_line", "not on the purchase")
                )
                continue
            found.append(sl)
            variants.append((sl.variant_id, sl.sku, sl.name, sl.category_id))
            domain.append(m.ReturnLine(x.quantity, condition, sl.sold, x.serials))
            continue
        ref = by_sku.get(x.sku or "")
        if ref is None:
            errors.append(FieldError(f"lines.{i}.sku", "returns.unknown_sku", "no such item"))
            continue
        price = return_facts.lowest_price(
            uow, ref.id, policy.no_receipt_price_days, now, policy.currency
        )
        found.append(None)
        variants.append((ref.id, ref.sku, ref.name, ref.category_id))
        domain.append(
            m.ReturnLine(
                x.quantity,
                condition,
                serials=x.serials,
                category_id=None if ref.category_id is None else str(ref.category_id),
                lowest_unit_price=ref.price_minor if price is None else price,
            )
        )
    if errors:
        raise ValidationFailed(errors[0].code, "some return lines are not valid", errors=errors)
    return tuple(found), tuple(variants), domain


def _chargebacks(
    uow: UnitOfWork,
    source: Source | None,
    request: ReturnInput,
    lines: tuple[SourceLine | None, ...],
    decision: m.ReturnDecision,
) -> tuple[tuple[int, ...], tuple[tuple[m.Reason, ...], ...]]:
    """What each line gives up of a buy-X-get-Y benefit the customer keeps."""
    if source is None or not source.promotion_groups:
        return tuple(0 for _ in request.lines), tuple(() for _ in request.lines)
    return return_promotions.chargebacks(uow, source, request.lines, lines, decision.lines)


def _shipping(
    source: Source | None,
    request: ReturnInput,
    lines: tuple[SourceLine | None, ...],
    rule: str,
) -> int:
    """The order's shipping, refunded by rule: `always_prorated` (its share by units),
    `full_return` (all of it when nothing of the order is kept after this return) or
    `never`."""
    if source is None or source.kind != "order" or source.shipping <= 0 or rule == "never":
        return 0
    units = sum(x.quantity for x in request.lines)
    sold_units = sum(sl.sold.quantity for sl in source.lines.values())
    if rule == "always_prorated":
        return source.shipping * units // max(sold_units, 1)
    kept_after = source.units_kept - units
    unfulfilled = sum(sl.sold.quantity - sl.limit for sl in source.lines.values())
    return source.shipping if kept_after <= 0 and unfulfilled == 0 else 0


def _fingerprints(source: Source | None, request: ReturnInput) -> frozenset[str]:
    found = set() if source is None else set(source.card_fingerprints)
    if request.card_fingerprint:
        found.add(request.card_fingerprint)
    return frozenset(found)


def _may_approve(uow: UnitOfWork, actor: Actor, request: ReturnInput) -> bool:
    """Whether a manager approves this return: the actor's role, or an override token (it
    is checked here and spent when the return is recorded)."""
    if actor.can(Permission.RETURNS_APPROVE):
        return True
    if request.override_token is None:
        return False
    check_authorised(
        uow,
        actor=actor,
        permission=Permission.RETURNS_APPROVE,
        override_token=request.override_token,
    )
    return True
