"""Register shifts: open with a counted float, move cash, X report, blind close, Z report.

A shift belongs to one register and is keyed by a UUID born where it is opened (a store node
may open one offline). The database allows one unclosed shift per register (a partial unique
index). The drawer's cash is the append-only `cash_movements` ledger; the other tenders come
from the shift's payments. Closing is blind and the count is frozen once given
(domain/payments/shifts.py); the Z report gets the register's next Z number from a gapless
sequence, and neither the report nor its number can be changed or issued again (the table is
append-only and the number unique per register).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import (
    CashMovement,
    Location,
    Payment,
    Register,
    Shift,
    User,
    ZReport,
)
from omnitill.adapters.db.repositories.sequences import next_value
from omnitill.adapters.db.types import utcnow
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from omnitill.domain.ids import uuid7
from omnitill.domain.payments import shifts as rules
from omnitill.domain.payments.cash import CashCount, check_count
from omnitill.domain.payments.shifts import CashKind, ShiftSummary
from omnitill.services import audit
from omnitill.services.auth import authorise
from omnitill.services.retries import run_retrying


@dataclass(frozen=True, slots=True)
class ShiftView:
    id: uuid.UUID
    register: str
    location: str
    status: str
    currency: str
    opened_by: str
    opened_at: datetime
    business_date: date
    float_amount: int
    closed_at: datetime | None
    summary: ShiftSummary | None = None  # the X report, for those allowed to see it


@dataclass(frozen=True, slots=True)
class ZReportView:
    shift_id: uuid.UUID
    register: str
    location: str
    z_number: int
    business_date: date
    currency: str
    totals: Mapping[str, Any]
    variance: int
    variance_reason: str | None
    closed_by: str
    created_at: datetime


# --- opening -----------------------------------------------------------------------------------


def open_shift(
    *,
    db: Database,
    actor: Actor,
    register: str,
    denominations: Mapping[int, int],
    shift_id: uuid.UUID | None = None,
) -> ShiftView:
    """Open a shift on `register` with a float counted by denomination (minor units ->
    pieces). The same `shift_id` sent again replays; 409 `shift.already_open` when the
    register has an unclosed shift."""
    actor.require(Permission.SHIFTS_OPERATE)
    sid = shift_id or uuid7()

    def once() -> ShiftView:
        with db.uow() as uow:
            existing = uow.session.get(Shift, sid)
            if existing is not None:
                return _view(uow, existing)
            reg, loc = _register(uow, actor, register)
            total = check_count(CashCount(loc.currency, denominations))
            now = utcnow()
            shift = Shift(
                id=sid,
                register_id=reg.id,
                location_id=loc.id,
                currency=loc.currency,
                status="open",
                opened_by_id=actor.user_id,
                opened_at=now,
                float_minor=total,
                float_count={str(k): v for k, v in sorted(denominations.items())},
                business_date=now.astimezone(ZoneInfo(loc.timezone)).date(),
            )
            code = reg.code  # the failed flush below expires every loaded object
            uow.session.add(shift)
            try:
                uow.session.flush()
            except IntegrityError as exc:  # the partial unique index: one unclosed shift
                raise Conflict(
                    "shift.already_open",
                    f"register {code} has a shift that is not closed",
                    {"register": code},
                ) from exc
            _move(uow, shift, CashKind.FLOAT, total, "opening float", actor, now)
            audit.record(
                uow,
                action="shift.opened",
                actor=actor,
                subject_type="register",
                subject_id=reg.code,
                details={"shift": str(sid), "float": total, "currency": loc.currency},
            )
            uow.commit()
            return _view(uow, shift)

    return run_retrying(once)


def _register(uow: UnitOfWork, actor: Actor, code: str) -> tuple[Register, Location]:
    row = uow.session.execute(
        select(Register, Location)
        .join(Location, Location.id == Register.location_id)
        .where(Register.code == code)
    ).first()
    if row is None or not row[0].active:
        raise ValidationFailed(
            "register.unknown",
            f"no active register {code!r}",
            errors=[FieldError("register", "register.unknown", code)],
        )
    reg, loc = row
    actor.require_location(loc.id, loc.code)
    return reg, loc


# --- the drawer ----------------------------------------------------------------------------------


def record_cash(
    *,
    db: Database,
    actor: Actor,
    shift_id: uuid.UUID,
    kind: str,
    amount: int,
    reason: str = "",
    override_token: str | None = None,
) -> ShiftView:
    """A drop to the safe, a pickup, paid in or paid out (sensitive: `cash.pay_out` or a
    manager override). Never more out of the drawer than it should hold."""
    actor.require(Permission.SHIFTS_OPERATE)

    def once() -> ShiftView:
        with db.uow() as uow:
            shift = _open(uow, actor, shift_id)
            summary = _summary(uow, shift)
            parsed = rules.check_manual(kind, amount, reason, expected_cash=summary.expected_cash)
            details: dict[str, Any] = {}
            if parsed is CashKind.PAID_OUT:
                details = authorise(
                    uow,
                    actor=actor,
                    permission=Permission.CASH_PAY_OUT,
                    override_token=override_token,
                    used_for=f"shift:{shift.id}:paid_out",
                ).as_details()
            _move(uow, shift, parsed, amount, reason.strip(), actor, utcnow())
            audit.record(
                uow,
                action=f"cash.{parsed}",
                actor=actor,
                subject_type="shift",
                subject_id=str(shift.id),
                details={"amount": amount, "reason": reason.strip(), **details},
            )
            uow.commit()
            return _view(uow, shift)

    return run_retrying(once)


def no_sale(
    *,
    db: Database,
    actor: Actor,
    shift_id: uuid.UUID,
    reason: str,
    override_token: str | None = None,
) -> ShiftView:
    """Open the drawer without a sale: permission `cash.no_sale` (or an override), a reason,
    a zero movement that the X and Z reports count, and the audit trail."""
    if not reason.strip():
        raise ValidationFailed(
            "cash.reason_required",
            "opening the drawer needs a reason",
            errors=[FieldError("reason", "cash.reason_required", "required")],
        )

    def once() -> ShiftView:
        with db.uow() as uow:
            shift = _open(uow, actor, shift_id)
            authorisation = authorise(
                uow,
                actor=actor,
                permission=Permission.DRAWER_OPEN,
                override_token=override_token,
                used_for=f"shift:{shift.id}:no_sale",
            )
            _move(uow, shift, CashKind.NO_SALE, 0, reason.strip(), actor, utcnow())
            audit.record(
                uow,
                action="cash.no_sale",
                actor=actor,
                subject_type="shift",
                subject_id=str(shift.id),
                details={"reason": reason.strip(), **authorisation.as_details()},
            )
            uow.commit()
            return _view(uow, shift)

    return run_retrying(once)


def record_sale_cash(
    uow: UnitOfWork,
    *,
    shift_id: uuid.UUID,
    amount: int,
    actor: Actor,
    reference_type: str,
    reference_id: str,
    kind: CashKind = CashKind.SALE,
) -> None:
    """The net cash of a sale (or a cash refund, `kind=REFUND`) into the drawer's ledger,
    in the caller's transaction."""
    shift = uow.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("shift.not_found", "no such shift")
    _move(uow, shift, kind, amount, "", actor, utcnow(), reference_type, reference_id)


def open_shift_of(uow: UnitOfWork, register_id: uuid.UUID) -> uuid.UUID | None:
    """The open shift of a register, if any (a cash sale records its cash in it)."""
    return uow.session.scalar(
        select(Shift.id).where(Shift.register_id == register_id, Shift.status == "open")
    )


def _move(
    uow: UnitOfWork,
    shift: Shift,
    kind: CashKind,
    amount: int,
    reason: str,
    actor: Actor,
    now: datetime,
    reference_type: str | None = None,
    reference_id: str | None = None,
) -> None:
    uow.session.add(
        CashMovement(
            id=uuid7(),
            shift_id=shift.id,
            kind=str(kind),
            amount_minor=rules.SIGN[kind] * amount,
            currency=shift.currency,
            reason=reason,
            reference_type=reference_type,
            reference_id=reference_id,
            actor_id=actor.user_id,
            created_at=now,
        )
    )
    uow.session.flush()


# --- reports and closing -------------------------------------------------------------------------


def x_report(*, db: Database, actor: Actor, shift_id: uuid.UUID) -> ShiftView:
    """The shift so far: float, cash movements, payments per tender, expected cash. Needs
    `shifts.report` (managers): a cashier who could read the expected cash would make the
    blind closing count pointless."""
    actor.require(Permission.SHIFTS_REPORT)
    with db.uow(write=False) as uow:
        shift = _shift(uow, actor, shift_id)
        return _view(uow, shift, with_summary=True)


def current(*, db: Database, actor: Actor, register: str) -> ShiftView | None:
    """The unclosed shift of a register, without its totals (the register's start screen)."""
    actor.require(Permission.SHIFTS_OPERATE)
    with db.uow(write=False) as uow:
        reg, _ = _register(uow, actor, register)
        shift = uow.session.scalars(
            select(Shift).where(Shift.register_id == reg.id, Shift.status != "closed")
        ).one_or_none()
        return None if shift is None else _view(uow, shift)


def close_shift(
    *,
    db: Database,
    actor: Actor,
    shift_id: uuid.UUID,
    counted: Mapping[str, int] | None,
    cash_denominations: Mapping[int, int] | None = None,
    reason: str | None = None,
) -> ZReportView:
    """Close with a blind count per tender (cash as an amount or by denomination).

    The first count is frozen: a variance beyond the store's threshold then answers 422
    `shift.variance_reason_required` (with the variance) and the shift waits, counted, for
    a reason; sending other counts then is 409 `shift.count_frozen`. Closing twice is 409
    `shift.closed`. Writes the Z report with the register's next Z number.
    """
    actor.require(Permission.SHIFTS_OPERATE)
    counts = dict(counted or {})

    def once() -> ZReportView:
        with db.uow() as uow:
            shift = _shift(uow, actor, shift_id, lock=True)
            if shift.status == "closed":
                raise Conflict("shift.closed", "this shift is closed", {"shift": str(shift.id)})
            if cash_denominations is not None:
                counts["cash"] = check_count(
                    CashCount(shift.currency, cash_denominations), field="cash_denominations"
                )
            if shift.status == "counted":
                assert shift.counted is not None
                frozen = {k: int(v) for k, v in shift.counted.items()}
                if counts and counts != frozen:
                    raise Conflict(
                        "shift.count_frozen",
                        "the closing count was given already and cannot change",
                        {"counted": frozen},
                    )
                counts.clear()
                counts.update(frozen)
            summary = _summary(uow, shift)
            closing = rules.close(summary, counted=counts)
            location = uow.session.get(Location, shift.location_id)
            assert location is not None
            now = utcnow()
            cleaned = (reason or "").strip() or None
            if shift.status == "open":
                shift.status = "counted"
                shift.counted = dict(counts)
                shift.counted_at = now
            if closing.needs_reason(location.cash_variance_threshold_minor) and cleaned is None:
                audit.record(
                    uow,
                    action="shift.counted",
                    actor=actor,
                    subject_type="shift",
                    subject_id=str(shift.id),
                    details={"counted": counts, "variance": closing.variance},
                )
                uow.commit()  # the count stays frozen; the close waits for a reason
                raise ValidationFailed(
                    "shift.variance_reason_required",
                    f"the count is {closing.variance:+d} off the expected: explain it to close",
                    {
                        "variance": closing.variance,
                        "threshold": location.cash_variance_threshold_minor,
                    },
                    errors=[FieldError("reason", "shift.variance_reason_required", "explain")],
                )
            register = uow.session.get(Register, shift.register_id)
            assert register is not None
            number = next_value(uow.connection, f"z:{register.id}")
            totals = _totals(summary, closing)
            report = ZReport(
                id=uuid7(),
                shift_id=shift.id,
                register_id=register.id,
                z_number=number,
                business_date=shift.business_date,
                currency=shift.currency,
                totals=totals,
                variance_minor=closing.variance,
                variance_reason=cleaned,
                closed_by_id=actor.user_id,
                created_at=now,
            )
            uow.session.add(report)
            shift.status = "closed"
            shift.closed_by_id = actor.user_id
            shift.closed_at = now
            audit.record(
                uow,
                action="shift.closed",
                actor=actor,
                subject_type="register",
                subject_id=register.code,
                details={
                    "shift": str(shift.id),
                    "z_number": number,
                    "variance": closing.variance,
                    "reason": cleaned,
                },
            )
            uow.commit()
            return _z_view(uow, report)

    return run_retrying(once)


def z_report(*, db: Database, actor: Actor, register: str, z_number: int) -> ZReportView:
    """A Z report by register and number, as it was written."""
    actor.require(Permission.SHIFTS_REPORT)
    with db.uow(write=False) as uow:
        reg, _ = _register(uow, actor, register)
        report = uow.session.scalars(
            select(ZReport).where(ZReport.register_id == reg.id, ZReport.z_number == z_number)
        ).one_or_none()
        if report is None:
            raise NotFound("z_report.not_found", f"no Z report {z_number} on {register}")
        return _z_view(uow, report)


def _totals(summary: ShiftSummary, closing: rules.Closing) -> dict[str, Any]:
    return {
        "float": summary.float_amount,
        "cash_movements": dict(summary.by_kind),
        "no_sales": summary.no_sales,
        "payments": dict(summary.payments),
        "tenders": [
            {
                "method": t.method,
                "expected": t.expected,
                "counted": t.counted,
                "variance": t.variance,
            }
            for t in closing.tenders
        ],
    }


def _summary(uow: UnitOfWork, shift: Shift) -> ShiftSummary:
    movements = uow.session.execute(
        select(CashMovement.kind, CashMovement.amount_minor)
        .where(CashMovement.shift_id == shift.id)
        .order_by(CashMovement.id)
    ).all()
    payments = {
        method: int(total)
        for method, total in uow.session.execute(
            select(Payment.method, func.sum(Payment.amount_minor - Payment.refunded_minor))
            .where(Payment.shift_id == shift.id, Payment.status == "captured")
            .group_by(Payment.method)
        ).all()
    }
    return rules.summarize(
        currency=shift.currency,
        movements=[(k, int(a)) for k, a in movements],
        payments=payments,
    )


def _shift(uow: UnitOfWork, actor: Actor, shift_id: uuid.UUID, *, lock: bool = False) -> Shift:
    shift = uow.session.get(Shift, shift_id, with_for_update=lock)
    if shift is None:
        raise NotFound("shift.not_found", "no such shift", {"id": str(shift_id)})
    location = uow.session.get(Location, shift.location_id)
    assert location is not None
    actor.require_location(location.id, location.code)
    return shift


def _open(uow: UnitOfWork, actor: Actor, shift_id: uuid.UUID) -> Shift:
    shift = _shift(uow, actor, shift_id)
    if shift.status != "open":
        raise Conflict("shift.not_open", f"the shift is {shift.status}", {"status": shift.status})
    return shift


def _view(uow: UnitOfWork, shift: Shift, *, with_summary: bool = False) -> ShiftView:
    register = uow.session.get(Register, shift.register_id)
    location = uow.session.get(Location, shift.location_id)
    opener = uow.session.get(User, shift.opened_by_id)
    assert register is not None
    assert location is not None
    assert opener is not None
    return ShiftView(
        id=shift.id,
        register=register.code,
        location=location.code,
        status=shift.status,
        currency=shift.currency,
        opened_by=opener.username,
        opened_at=shift.opened_at,
        business_date=shift.business_date,
        float_amount=shift.float_minor,
        closed_at=shift.closed_at,
        summary=_summary(uow, shift) if with_summary else None,
    )


def _z_view(uow: UnitOfWork, report: ZReport) -> ZReportView:
    register = uow.session.get(Register, report.register_id)
    closer = uow.session.get(User, report.closed_by_id)
    assert register is not None
    assert closer is not None
    location = uow.session.get(Location, register.location_id)
    assert location is not None
    return ZReportView(
        shift_id=report.shift_id,
        register=register.code,
        location=location.code,
        z_number=report.z_number,
        business_date=report.business_date,
        currency=report.currency,
        totals=report.totals,
        variance=report.variance_minor,
        variance_reason=report.variance_reason,
        closed_by=closer.username,
        created_at=report.created_at,
    )


def set_cash_management(*, db: Database, actor: Actor, location: str, enabled: bool) -> bool:
    """Whether cash sales at a store need an open shift on their register; the old value."""
    actor.require(Permission.LOCATIONS_WRITE)
    with db.uow() as uow:
        loc = uow.session.scalars(select(Location).where(Location.code == location)).one_or_none()
        if loc is None:
            raise NotFound("location.not_found", f"no location {location!r}")
        before = loc.cash_management
        uow.session.execute(
            update(Location).where(Location.id == loc.id).values(cash_management=enabled)
        )
        audit.record(
            uow,
            action="location.cash_management_set",
            actor=actor,
            subject_type="location",
            subject_id=loc.code,
            details={"from": before, "to": enabled},
        )
        uow.commit()
        return before
