"""Getting a receipt to the customer: printed on the register's thermal printer (ESC/POS over
TCP), as ESC/POS bytes for a register that drives a USB printer itself, or by email; and the
register's printer settings and cash drawer.

A print is sent after everything is checked (the sale is the caller's to see, the register
has a printer) and audited once the printer took it (``receipt.printed``): a copy of a
receipt is what a fraudulent return starts from. The drawer opens through the printer (ESC p):
with a receipt only for a sale paid in cash within the last `KICK_WINDOW`, otherwise through
`open_drawer`, which is a recorded no-sale (`services.shifts.no_sale`: permission
`cash.no_sale` or a manager override, a reason, the audit trail). A no-sale is recorded before
the kick is sent: a drawer that opens must never go unrecorded, so a printer that is off
leaves a recorded no-sale and a 503.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from omnitill.adapters.db.database import Database, UnitOfWork
from omnitill.adapters.db.models import Location, Register
from omnitill.adapters.db.types import utcnow
from omnitill.adapters.printing import escpos, tcp
from omnitill.config import Settings
from omnitill.domain.auth.actor import Actor
from omnitill.domain.auth.permissions import Permission
from omnitill.domain.customers.contacts import is_plausible_email
from omnitill.domain.errors import (
    Conflict,
    FieldError,
    NotFound,
    OutcomeUnknown,
    Unavailable,
    ValidationFailed,
)
from omnitill.domain.integrations.notifications import InvalidRecipient, Message
from omnitill.domain.labels.ticket import PrinterNotConfigured
from omnitill.services import audit, notifications, shifts
from omnitill.services.receipts import Receipt, build_receipt, receipt_ticket

KICK_WINDOW = timedelta(minutes=15)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


@dataclass(frozen=True, slots=True)
class Printed:
    receipt_number: str
    register: str
    bytes: int


@dataclass(frozen=True, slots=True)
class PrinterSetting:
    register: str
    host: str | None
    port: int


@dataclass(frozen=True, slots=True)
class DrawerOpened:
    register: str
    shift_id: uuid.UUID
    bytes: int


def receipt_escpos(
    *, db: Database, actor: Actor, sale_id: uuid.UUID, gift: bool = False
) -> tuple[Receipt, bytes]:
    """The receipt as ESC/POS bytes (for a register that prints over USB itself)."""
    receipt = build_receipt(db=db, actor=actor, sale_id=sale_id, gift=gift)
    return receipt, escpos.render(receipt_ticket(receipt))


def print_receipt(
    *,
    db: Database,
    actor: Actor,
    sale_id: uuid.UUID,
    register: str | None = None,
    gift: bool = False,
    kick_drawer: bool = False,
) -> Printed:
    """Print the receipt on `register`'s printer (default: the register of the sale)."""
    receipt = build_receipt(db=db, actor=actor, sale_id=sale_id, gift=gift)
    code = register or receipt.sale.register
    with db.uow(write=False) as uow:
        host, port = _printer_of(uow, actor, code, field="register" if register else None)
    if kick_drawer:
        _check_kick(receipt)
    sent = tcp.send(host, port, escpos.render(receipt_ticket(receipt, kick_drawer=kick_drawer)))
    with db.uow() as uow:
        audit.record(
            uow,
            action="receipt.printed",
            actor=actor,
            subject_type="sale",
            subject_id=str(sale_id),
            details={
                "receipt_number": receipt.receipt_number,
                "register": code,
                "gift": gift,
                "kick_drawer": kick_drawer,
            },
        )
        uow.commit()
    return Printed(receipt.receipt_number, code, sent)


def email_receipt(
    *,
    db: Database,
    actor: Actor,
    settings: Settings,
    sale_id: uuid.UUID,
    to: str,
    gift: bool = False,
    render_html: Callable[[Receipt], str],
) -> notifications.NotificationView:
    """Email the receipt (text and HTML) through the configured SMTP server; the send is
    recorded in `notifications`. 503 `notification.not_configured` without an SMTP server,
    `notification.delivery_failed` when it fails, 422 `notification.recipient_refused`."""
    to = to.strip()
    if not is_plausible_email(to):
        raise InvalidRecipient(
            f"{to!r} is not an email address",
            errors=[FieldError("email", InvalidRecipient.CODE, "not an email address")],
        )
    receipt = build_receipt(db=db, actor=actor, sale_id=sale_id, gift=gift)
    kind = "Gift receipt" if gift else "Receipt"
    message = Message(
        to=to,
        subject=f"{kind} {receipt.receipt_number} from {receipt.store_name}",
        text=receipt_ticket(receipt).text(),
        html=render_html(receipt),
    )
    sent = notifications.send(
        db,
        order_id=None,
        template="gift_receipt" if gift else "receipt",
        message=message,
        sender=notifications.email_sender_for(settings),
    )
    if not sent.sent:
        code, text = sent.error_code or "notification.delivery_failed", sent.error or ""
        if code == "notification.recipient_refused":
            raise ValidationFailed(code, text, errors=[FieldError("email", code, text)])
        if code == "notification.timeout":
            raise OutcomeUnknown(code, text)
        raise Unavailable(code, text or "the receipt could not be emailed")
    return sent


def set_printer(
    *, db: Database, actor: Actor, register: str, host: str | None, port: int = tcp.DEFAULT_PORT
) -> PrinterSetting:
    """Set (or, with `host` None, remove) the register's network receipt printer."""
    actor.require(Permission.LOCATIONS_WRITE)
    host = host.strip() if host is not None else None
    errors: list[FieldError] = []
    if host is not None and not _valid_host(host):
        errors.append(FieldError("host", "printer.invalid_host", "a host name or IP address"))
    if not 1 <= port <= 65535:
        errors.append(FieldError("port", "printer.invalid_port", "1 to 65535"))
    if errors:
        raise ValidationFailed("printer.invalid", "the printer address is invalid", errors=errors)
    with db.uow() as uow:
        row = _register(uow, actor, register)
        row.printer_host, row.printer_port = host, port
        audit.record(
            uow,
            action="register.printer_set",
            actor=actor,
            subject_type="register",
            subject_id=str(row.id),
            details={"register": register, "host": host, "port": port},
        )
        uow.commit()
    return PrinterSetting(register, host, port)


def get_printer(*, db: Database, actor: Actor, register: str) -> PrinterSetting:
    with db.uow(write=False) as uow:
        row = _register(uow, actor, register)
        return PrinterSetting(register, row.printer_host, row.printer_port)


def open_drawer(
    *,
    db: Database,
    actor: Actor,
    register: str,
    reason: str,
    override_token: str | None = None,
) -> DrawerOpened:
    """Open the cash drawer without a sale: recorded as a no-sale on the register's open
    shift (permission `cash.no_sale` or an override, a reason, audited), then kicked."""
    with db.uow(write=False) as uow:
        host, port = _printer_of(uow, actor, register, field=None)
        row = _register(uow, actor, register)
        shift_id = shifts.open_shift_of(uow, row.id)
    if shift_id is None:
        raise Conflict(
            "shift.not_open",
            f"register {register} has no open shift; open one before opening the drawer",
            {"register": register},
        )
    shifts.no_sale(
        db=db, actor=actor, shift_id=shift_id, reason=reason, override_token=override_token
    )
    return DrawerOpened(register, shift_id, tcp.send(host, port, escpos.drawer_kick()))


# --- helpers -------------------------------------------------------------------------------


def _register(uow: UnitOfWork, actor: Actor, code: str, field: str | None = None) -> Register:
    found = uow.session.execute(
        select(Register, Location.id).join(Location).where(Register.code == code)
    ).one_or_none()
    if found is None or not actor.may_access(found[1]):
        errors = [FieldError(field, "register.not_found", "no such register")] if field else []
        raise NotFound(
            "register.not_found", f"no register {code!r}", {"register": code}, errors=errors
        )
    register: Register = found[0]
    return register


def _printer_of(uow: UnitOfWork, actor: Actor, code: str, *, field: str | None) -> tuple[str, int]:
    register = _register(uow, actor, code, field)
    if not register.printer_host:
        raise PrinterNotConfigured(code)
    return register.printer_host, register.printer_port


def _check_kick(receipt: Receipt) -> None:
    """A receipt opens the drawer only for the cash sale just rung up; any other opening is a
    no-sale, which needs its permission and reason."""
    paid_cash = any(p.method == "cash" for p in receipt.sale.payments)
    recent = utcnow() - receipt.sale.completed_at <= KICK_WINDOW
    if not (paid_cash and recent):
        raise Conflict(
            "drawer.kick_refused",
            "a receipt opens the drawer only for a cash sale of the last "
            f"{int(KICK_WINDOW.total_seconds() // 60)} minutes; use the register's drawer "
            "(a recorded no-sale) instead",
            {"paid_cash": paid_cash, "recent": recent},
        )


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return bool(_HOSTNAME.match(host))
    return True
