"""Register shifts and cash management: open, drawer movements, X report, blind close, Z."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query, status

from omnitill.api.deps import CurrentActor, DbDep, OverrideHeader
from omnitill.api.schemas.shifts import (
    CashManagementRead,
    CashManagementUpdate,
    CashMovementCreate,
    NoSaleCreate,
    ShiftClose,
    ShiftOpen,
    ShiftRead,
    XReportRead,
    ZReportRead,
)
from omnitill.domain.errors import FieldError, NotFound, ValidationFailed
from omnitill.domain.payments.shifts import ShiftSummary, render
from omnitill.services import shifts as service

router = APIRouter(prefix="/api/v1", tags=["payments"])


def _read(view: service.ShiftView) -> ShiftRead:
    return ShiftRead(
        id=str(view.id),
        register=view.register,
        location=view.location,
        status=view.status,
        currency=view.currency,
        opened_by=view.opened_by,
        opened_at=view.opened_at,
        business_date=view.business_date,
        float=view.float_amount,
        closed_at=view.closed_at,
    )


def _uuid(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise ValidationFailed(
            "shift.invalid_id",
            "the shift id is not a UUID",
            errors=[FieldError("id", "shift.invalid_id", "a UUID")],
        ) from exc


@router.post(
    "/shifts",
    response_model=ShiftRead,
    status_code=status.HTTP_201_CREATED,
    summary="Open a shift with a counted float",
)
def open_shift(body: ShiftOpen, actor: CurrentActor, db: DbDep) -> ShiftRead:
    """The same `id` again replays. 409 `shift.already_open`; 422 `register.unknown`,
    `cash.unknown_denomination`, `cash.negative_count`."""
    return _read(
        service.open_shift(
            db=db,
            actor=actor,
            register=body.register,
            denominations=body.denominations,
            shift_id=_uuid(body.id),
        )
    )


@router.get("/shifts/current", response_model=ShiftRead, summary="The register's open shift")
def current_shift(
    actor: CurrentActor, db: DbDep, register: str = Query(description="Register code.")
) -> ShiftRead:
    """404 `shift.none_open` when the register has no unclosed shift."""
    view = service.current(db=db, actor=actor, register=register)
    if view is None:
        raise NotFound("shift.none_open", f"register {register} has no open shift")
    return _read(view)


@router.post(
    "/shifts/{shift_id}/cash-movements",
    response_model=ShiftRead,
    status_code=status.HTTP_201_CREATED,
    summary="Drop, pickup, paid in or paid out",
)
def cash_movement(
    shift_id: uuid.UUID,
    body: CashMovementCreate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> ShiftRead:
    """Paid out needs cash.pay_out or a manager override; paid in and out need a reason.
    422 `cash.invalid_kind`, `cash.invalid_amount`, `cash.reason_required`,
    `cash.exceeds_drawer`; 409 `shift.not_open`."""
    return _read(
        service.record_cash(
            db=db,
            actor=actor,
            shift_id=shift_id,
            kind=body.kind,
            amount=body.amount,
            reason=body.reason,
            override_token=override,
        )
    )


@router.post(
    "/shifts/{shift_id}/no-sale",
    response_model=ShiftRead,
    status_code=status.HTTP_201_CREATED,
    summary="Open the drawer without a sale (audited)",
)
def no_sale(
    shift_id: uuid.UUID,
    body: NoSaleCreate,
    actor: CurrentActor,
    db: DbDep,
    override: OverrideHeader = None,
) -> ShiftRead:
    """Needs cash.no_sale or a manager override, and a reason."""
    return _read(
        service.no_sale(
            db=db, actor=actor, shift_id=shift_id, reason=body.reason, override_token=override
        )
    )


@router.get("/shifts/{shift_id}/x-report", response_model=XReportRead, summary="X report")
def x_report(shift_id: uuid.UUID, actor: CurrentActor, db: DbDep) -> XReportRead:
    """The shift so far. Needs shifts.report (managers): the cashier's close is blind."""
    view = service.x_report(db=db, actor=actor, shift_id=shift_id)
    summary = view.summary
    assert summary is not None
    header = [f"{view.location} {view.register}", f"Shift {view.id}", f"{view.business_date}"]
    return XReportRead(
        shift=_read(view),
        cash_movements=dict(summary.by_kind),
        no_sales=summary.no_sales,
        payments=dict(summary.payments),
        expected=summary.expected(),
        text=render(title="X REPORT", header=header, summary=summary),
    )


def _z_read(z: service.ZReportView) -> ZReportRead:
    totals = z.totals
    summary = ShiftSummary(
        currency=z.currency,
        float_amount=int(totals["float"]),
        by_kind=totals["cash_movements"],
        no_sales=int(totals["no_sales"]),
        payments=totals["payments"],
        expected_cash=next(
            (int(t["expected"]) for t in totals["tenders"] if t["method"] == "cash"), 0
        ),
    )
    closing = [(t["method"], t["expected"], t["counted"], t["variance"]) for t in totals["tenders"]]
    header = [
        f"{z.location} {z.register}",
        f"Z {z.z_number:06d}  {z.business_date}",
        f"Closed by {z.closed_by}",
    ]
    text = render(
        title="Z REPORT",
        header=header,
        summary=summary,
        closing=closing,
        footer=[f"Reason: {z.variance_reason}"] if z.variance_reason else [],
    )
    return ZReportRead(
        shift_id=str(z.shift_id),
        register=z.register,
        location=z.location,
        z_number=z.z_number,
        business_date=z.business_date,
        currency=z.currency,
        totals=dict(z.totals),
        variance=z.variance,
        variance_reason=z.variance_reason,
        closed_by=z.closed_by,
        created_at=z.created_at,
        text=text,
    )


@router.post(
    "/shifts/{shift_id}/close",
    response_model=ZReportRead,
    summary="Close with a blind count; answers the Z report",
)
def close_shift(
    shift_id: uuid.UUID, body: ShiftClose, actor: CurrentActor, db: DbDep
) -> ZReportRead:
    """The first count is frozen. 422 `shift.variance_reason_required` (the shift waits,
    counted, for a reason: send it again with `reason`), `shift.count_required`; 409
    `shift.count_frozen`, `shift.closed`."""
    return _z_read(
        service.close_shift(
            db=db,
            actor=actor,
            shift_id=shift_id,
            counted=body.counted,
            cash_denominations=body.cash_denominations,
            reason=body.reason,
        )
    )


@router.get(
    "/registers/{register}/z-reports/{z_number}",
    response_model=ZReportRead,
    summary="A Z report, as written",
)
def get_z_report(register: str, z_number: int, actor: CurrentActor, db: DbDep) -> ZReportRead:
    """Needs shifts.report. 404 `z_report.not_found`."""
    return _z_read(service.z_report(db=db, actor=actor, register=register, z_number=z_number))


@router.put(
    "/locations/{code}/cash-management",
    response_model=CashManagementRead,
    summary="Whether cash sales need an open shift (audited)",
)
def set_cash_management(
    code: str, body: CashManagementUpdate, actor: CurrentActor, db: DbDep
) -> CashManagementRead:
    """Needs locations.write. 404 `location.not_found`."""
    previous = service.set_cash_management(db=db, actor=actor, location=code, enabled=body.enabled)
    return CashManagementRead(location=code, enabled=body.enabled, previous=previous)
