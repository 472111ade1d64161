"""Receipts in every form (HTML, ESC/POS, printed, emailed), and the register's receipt
printer and cash drawer. See docs/receipts.md."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse

from omnitill.api.deps import CurrentActor, DbDep, OverrideHeader, SettingsDep
from omnitill.api.schemas.receipts import (
    DrawerOpen,
    DrawerOpened,
    PrinterRead,
    PrinterUpdate,
    ReceiptEmail,
    ReceiptEmailed,
    ReceiptPrint,
    ReceiptPrinted,
)
from omnitill.services import receipt_delivery as delivery
from omnitill.services import receipts as receipt_service
from omnitill.web.receipts import Paper, render_receipt_html

router = APIRouter(prefix="/api/v1", tags=["sales"])

Gift = Annotated[bool, Query(description="A gift receipt: no prices, no tenders.")]
_PROBLEMS = {
    404: {"description": "`sale.not_found` or `register.not_found`."},
    409: {"description": "`printer.not_configured`: the register has no printer."},
    503: {"description": "`printer.unreachable`: the printer did not take the job."},
}


@router.get(
    "/sales/{sale_id}/receipt.html",
    response_class=HTMLResponse,
    summary="The printable HTML receipt",
)
def get_receipt_html(
    sale_id: UUID,
    actor: CurrentActor,
    db: DbDep,
    gift: Gift = False,
    paper: Annotated[Paper, Query(description="Print stylesheet: 80 mm roll or A4.")] = "80mm",
) -> HTMLResponse:
    """Sized for an 80 mm receipt printer (or A4); prints from any browser."""
    receipt = receipt_service.build_receipt(db=db, actor=actor, sale_id=sale_id, gift=gift)
    return HTMLResponse(render_receipt_html(receipt, paper=paper))


@router.get(
    "/sales/{sale_id}/receipt.escpos",
    response_class=Response,
    summary="The receipt as ESC/POS bytes",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def get_receipt_escpos(
    sale_id: UUID, actor: CurrentActor, db: DbDep, gift: Gift = False
) -> Response:
    """For a register that drives a USB receipt printer itself: send these bytes as they are."""
    receipt, data = delivery.receipt_escpos(db=db, actor=actor, sale_id=sale_id, gift=gift)
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{receipt.receipt_number}.bin"'},
    )


@router.post(
    "/sales/{sale_id}/receipt/print",
    response_model=ReceiptPrinted,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Print the receipt on a register's printer",
    responses=_PROBLEMS,
)
def print_receipt(
    sale_id: UUID, body: ReceiptPrint, actor: CurrentActor, db: DbDep
) -> ReceiptPrinted:
    """ESC/POS over TCP to the register's printer; audited as `receipt.printed`. With
    `kick_drawer` the drawer opens too (409 `drawer.kick_refused` unless the sale was paid
    in cash in the last 15 minutes)."""
    printed = delivery.print_receipt(
        db=db,
        actor=actor,
        sale_id=sale_id,
        register=body.register,
        gift=body.gift,
        kick_drawer=body.kick_drawer,
    )
    return ReceiptPrinted(
        printed=True,
        bytes=printed.bytes,
        receipt_number=printed.receipt_number,
        register=printed.register,
    )


@router.post(
    "/sales/{sale_id}/receipt/email",
    response_model=ReceiptEmailed,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Email the receipt",
    responses={503: {"description": "`notification.not_configured` or `.delivery_failed`."}},
)
def email_receipt(
    sale_id: UUID, body: ReceiptEmail, actor: CurrentActor, db: DbDep, settings: SettingsDep
) -> ReceiptEmailed:
    """Through the SMTP server (`OMNITILL_SMTP_HOST`); 422 `notification.invalid_recipient`."""
    sent = delivery.email_receipt(
        db=db,
        actor=actor,
        settings=settings,
        sale_id=sale_id,
        to=body.email,
        gift=body.gift,
        render_html=render_receipt_html,
    )
    return ReceiptEmailed(
        sent=True,
        email=sent.recipient,
        notification_id=sent.id,
        message_id=sent.provider_reference,
    )


@router.get("/registers/{code}/printer", response_model=PrinterRead, summary="A register's printer")
def get_printer(code: str, actor: CurrentActor, db: DbDep) -> PrinterRead:
    """404 `register.not_found`, also for another store's register."""
    found = delivery.get_printer(db=db, actor=actor, register=code)
    return PrinterRead(register=found.register, host=found.host, port=found.port)


@router.put(
    "/registers/{code}/printer", response_model=PrinterRead, summary="Set a register's printer"
)
def set_printer(code: str, body: PrinterUpdate, actor: CurrentActor, db: DbDep) -> PrinterRead:
    """Permission `locations.write`; 422 `printer.invalid_host` / `printer.invalid_port`."""
    found = delivery.set_printer(db=db, actor=actor, register=code, host=body.host, port=body.port)
    return PrinterRead(register=found.register, host=found.host, port=found.port)


@router.post(
    "/registers/{code}/drawer",
    response_model=DrawerOpened,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Open the cash drawer (no sale)",
    responses=_PROBLEMS,
)
def open_drawer(
    code: str, body: DrawerOpen, actor: CurrentActor, db: DbDep, override: OverrideHeader = None
) -> DrawerOpened:
    """A recorded no-sale on the open shift (permission `cash.no_sale` or a manager override,
    a reason; 409 `shift.not_open`), then the kick through the register's printer."""
    opened = delivery.open_drawer(
        db=db, actor=actor, register=code, reason=body.reason, override_token=override
    )
    return DrawerOpened(
        opened=True, register=opened.register, shift_id=opened.shift_id, bytes=opened.bytes
    )
