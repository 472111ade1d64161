"""Return KPIs: reasons, return rates, turnaround, restock rate and totals."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from omnitill.api.deps import DbDep, LocationFilter, require
from omnitill.api.schemas.return_reports import (
    CategoryRateRead,
    ChannelRateRead,
    RestockRead,
    ReturnRatesRead,
    ReturnReasonRead,
    ReturnsReportRead,
    ReturnTotalsRead,
    TurnaroundRead,
)
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.services import return_reports as service

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Reader = Annotated[Actor, Depends(require(Permission.SALES_READ))]


@router.get("/returns", response_model=ReturnsReportRead, summary="Return KPIs")
def returns_report(
    actor: Reader,
    db: DbDep,
    date_from: Annotated[date, Query(alias="from", description="First UTC date, inclusive.")],
    date_to: Annotated[date, Query(alias="to", description="Last UTC date, inclusive.")],
    location: LocationFilter = None,
) -> ReturnsReportRead:
    """Returns initiated in the range, at one location or every location you see; sales
    and orders of the same range for the rates (docs/returns-settings.md). 422
    `reports.invalid_range`, `location.not_found`; 403 `auth.location_forbidden`."""
    report = service.returns_report(
        db=db, actor=actor, date_from=date_from, date_to=date_to, location=location
    )
    return ReturnsReportRead(
        date_from=report.date_from,
        date_to=report.date_to,
        location=report.location,
        totals=[ReturnTotalsRead(**asdict(t)) for t in report.totals],
        reasons=[ReturnReasonRead(**asdict(r)) for r in report.reasons],
        return_rate=ReturnRatesRead(
            by_channel=[ChannelRateRead(channel=r.key, **_rate(r)) for r in report.by_channel],
            by_category=[
                CategoryRateRead(category_id=r.key, category=r.name, **_rate(r))
                for r in report.by_category
            ],
        ),
        turnaround=TurnaroundRead(**asdict(report.turnaround)),
        restock_rate=RestockRead(
            units_received=report.restock.units_received,
            units_resalable=report.restock.units_resalable,
            rate=report.restock.rate,
        ),
    )


def _rate(r: service.Rate) -> dict[str, object]:
    return {
        "currency": r.currency,
        "units_returned": r.units_returned,
        "units_sold": r.units_sold,
        "unit_rate": r.unit_rate,
        "value_returned": r.value_returned,
        "value_sold": r.value_sold,
        "value_rate": r.value_rate,
    }
