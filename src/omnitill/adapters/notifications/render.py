"""Customer messages rendered from Jinja2 templates (templates/ beside this module).

Each template has four files: ``<name>.subject.txt`` (one line), ``<name>.txt`` (the text
part), ``<name>.html`` (the HTML part, autoescaped, on ``_layout.html``) and
``<name>.sms.txt`` (a short text message; whitespace is collapsed to single spaces). The
context is the template's dataclass in `domain.integrations.notifications`; its fields are
the template's variables. A missing variable is an error, never a blank in a customer's mail.

`ready_for_pickup` carries the QR code of its `pickup_qr_payload` as a PNG (segno), attached
inline and shown in the HTML by its Content-ID (``cid:``), so mail clients that block remote
images still show it.
"""

from __future__ import annotations

import io
from dataclasses import fields
from datetime import date
from typing import Any

import segno
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from omnitill.domain.integrations.notifications import (
    Attachment,
    Context,
    Message,
    ReadyForPickup,
    SmsMessage,
    template_of,
)
from omnitill.domain.money import format_major

QR_SCALE = 8  # pixels per module: about 264 px for a version 3 code with its quiet zone
QR_BORDER = 4  # the quiet zone ISO/IEC 18004 asks for, in modules


def _money(amount: int, currency: str) -> str:
    return f"{format_major(amount, currency)} {currency}"


def _long_date(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _short_date(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


_env = Environment(
    loader=PackageLoader("omnitill.adapters.notifications", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters.update(money=_money, long_date=_long_date, short_date=_short_date)


def qr_png(payload: str) -> bytes:
    """A QR code (never Micro QR, which phone cameras do not read) of `payload`, as PNG."""
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(
        buffer, kind="png", scale=QR_SCALE, border=QR_BORDER
    )
    return buffer.getvalue()


def qr_content_id(order_number: int) -> str:
    return f"pickup-qr-{order_number}@omnitill"


def render(template: str, context: Context, *, to: str) -> Message:
    """The email `template` says for `context`, addressed to `to`."""
    name = template_of(template, context)
    values = _values(context)
    attachments: tuple[Attachment, ...] = ()
    if isinstance(context, ReadyForPickup):
        cid = qr_content_id(context.order_number)
        values["qr_cid"] = cid
        attachments = (
            Attachment("pickup-qr.png", "image/png", qr_png(context.pickup_qr_payload), cid),
        )
    subject = _env.get_template(f"{name}.subject.txt").render(values)
    return Message(
        to=to,
        subject=" ".join(subject.split()),
        text=_env.get_template(f"{name}.txt").render(values),
        html=_env.get_template(f"{name}.html").render(values),
        attachments=attachments,
    )


def render_sms(template: str, context: Context, *, to: str) -> SmsMessage:
    """The short text `template` says for `context`, to the E.164 number `to`."""
    name = template_of(template, context)
    body = _env.get_template(f"{name}.sms.txt").render(_values(context))
    return SmsMessage(to=to, body=" ".join(body.split()))


def _values(context: Context) -> dict[str, Any]:
    values = {f.name: getattr(context, f.name) for f in fields(context)}
    if "store_address" in values:
        values["store_address_lines"] = values["store_address"].splitlines()
    if isinstance(context, ReadyForPickup):
        values["curbside"] = context.curbside
    return values
