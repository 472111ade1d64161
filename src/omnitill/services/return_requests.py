"""What a return request says, checked before anything is read: the kinds, reasons,
dispositions and line references, each problem a field error with a stable code."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.returns import model as m
from omnitill.domain.returns.tenders import PlannedRefund

if TYPE_CHECKING:
    from omnitill.services.return_evaluation import Evaluation

KINDS = ("return", "exchange", "mail_in")


@dataclass(frozen=True, slots=True)
class LineInput:
    """One line back: `line_id` of the sold sale or order line (None without a receipt,
    then `sku` says what came back)."""

    quantity: int
    reason: str
    condition: str | None = None
    disposition: str | None = None
    line_id: uuid.UUID | None = None
    sku: str | None = None
    serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReturnInput:
    id: uuid.UUID
    location: str
    lines: tuple[LineInput, ...]
    kind: str = "return"
    register: str | None = None
    sale_id: uuid.UUID | None = None
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    card_present: bool = False
    card_fingerprint: str | None = None
    note: str = ""
    # the cashier's own split of the refund over the purchase's payments (payment id,
    # amount); empty: the default order (domain/returns/tenders.py)
    refund_to: tuple[tuple[str, int], ...] = ()
    override_token: str | None = field(default=None, compare=False)

    def fingerprint(self) -> str:
        body = asdict(self)
        body.pop("override_token")
        return hashlib.sha256(json.dumps(body, default=str, sort_keys=True).encode()).hexdigest()


def check_shape(request: ReturnInput) -> None:
    errors: list[FieldError] = []
    reasons = {r.value for r in m.ReturnReason}
    dispositions = {d.value for d in m.Disposition}
    if request.kind not in KINDS:
        errors.append(FieldError("kind", "returns.invalid_kind", f"one of {', '.join(KINDS)}"))
    if request.sale_id is not None and request.order_id is not None:
        errors.append(FieldError("order_id", "returns.one_purchase", "a sale or an order"))
    if request.kind == "mail_in" and request.order_id is None:
        errors.append(FieldError("order_id", "returns.mail_in_order", "mail-in returns an order"))
    if not request.lines:
        errors.append(FieldError("lines", "returns.no_lines", "at least one line"))
    for i, x in enumerate(request.lines):
        if x.quantity <= 0:
            errors.append(FieldError(f"lines.{i}.quantity", "returns.invalid_quantity", "> 0"))
        if x.reason not in reasons:
            errors.append(
                FieldError(
                    f"lines.{i}.reason", "returns.invalid_reason", ", ".join(sorted(reasons))
                )
            )
        if request.kind != "mail_in" and x.disposition not in dispositions:
            errors.append(
                FieldError(
                    f"lines.{i}.disposition",
                    "returns.invalid_disposition",
                    ", ".join(sorted(dispositions)),
                )
            )
        if x.serials and len(set(x.serials)) != len(x.serials):
            errors.append(FieldError(f"lines.{i}.serials", "returns.serial_repeated", "distinct"))
        if (x.line_id is None) == (x.sku is None) and (request.sale_id or request.order_id):
            errors.append(FieldError(f"lines.{i}.line_id", "returns.line_required", "required"))
        if request.sale_id is None and request.order_id is None and not x.sku:
            errors.append(FieldError(f"lines.{i}.sku", "returns.sku_required", "no receipt"))
    if errors:
        raise ValidationFailed(errors[0].code, "the return is not valid", errors=errors)


def reason_json(r: m.Reason) -> dict[str, Any]:
    return {
        "code": r.code,
        "message": r.message,
        "refuses": r.refuses,
        "overridable": r.overridable,
        "overridden": r.overridden,
    }


def decision_json(ev: Evaluation) -> dict[str, Any]:
    """The decision as stored on the return and answered to the register."""
    return {
        "lines": [
            {
                "index": d.index,
                "allowed": d.allowed,
                "refund": d.refund,
                "fee": d.fee,
                "chargeback": cb,
                "net": max(d.net - cb, 0),
                "refund_to": d.refund_to.value,
                "needs_manager": d.needs_manager,
                "reasons": [reason_json(r) for r in (*d.reasons, *why)],
            }
            for d, cb, why in zip(
                ev.decision.lines, ev.chargebacks, ev.chargeback_reasons, strict=True
            )
        ],
        "shipping": ev.shipping,
        "refund_total": ev.refund_total,
        "plan": None if ev.plan is None else [planned_json(p) for p in ev.plan.refunds],
        "unplaced": 0 if ev.plan is None else ev.plan.unplaced,
        "risk": {"score": ev.risk.score, "needs_manager": ev.risk.needs_manager},
        "needs_manager": ev.needs_manager,
    }


def planned_json(p: PlannedRefund) -> dict[str, Any]:
    """One planned refund, as the decision and the audit trail keep it."""
    return {
        "payment_id": p.payment_id,
        "method": p.method,
        "given_as": p.given_as,
        "amount": p.amount,
        "fallback_reason": p.fallback_reason,
    }
