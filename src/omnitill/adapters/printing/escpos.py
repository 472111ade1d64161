"""A `Ticket` as the ESC/POS byte stream a thermal receipt printer takes (python-escpos).

The bytes are built on python-escpos's `Dummy` printer, which records instead of sending:
the same stream goes over TCP (adapters/printing/tcp.py) or back to a register that drives a
USB printer itself. The barcode (Code 128, ``GS k``) and the QR code (``GS ( k``) are drawn by
the printer's own firmware, so they stay sharp at any resolution. The drawer kick is
``ESC p 0`` (pin 2, 100 ms on and off), sent first so the drawer opens while the receipt
prints. Text goes out in the printer's code pages (python-escpos picks them per character);
Babel's non-breaking spaces (``19,99 €``) are sent as plain spaces.
"""

from __future__ import annotations

import contextlib
import io

from escpos.printer import Dummy  # type: ignore[import-untyped]

from omnitill.domain.labels.ticket import Align, BarcodeBlock, QrBlock, Row, Ticket

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
QR_MODULE_DOTS = 6  # about 21 mm for a version 2 code on a 203 dpi printer
BARCODE_HEIGHT_DOTS = 80
BARCODE_MODULE_DOTS = 2  # the narrowest ESC/POS allows: a receipt number fits in 72 mm


def render(ticket: Ticket) -> bytes:
    """The printer's bytes for `ticket`: optional drawer kick, rows, codes, feed and cut."""
    printer = Dummy()
    if ticket.kick_drawer:
        printer.cashdraw(2)
    for block in ticket.blocks:
        if isinstance(block, Row):
            _row(printer, block)
        elif isinstance(block, BarcodeBlock):
            _barcode(printer, block.data)
        elif isinstance(block, QrBlock):
            printer.set(align="center")
            printer.qr(block.data, native=True, size=QR_MODULE_DOTS)
            printer.set(align="left")
    if ticket.cut:
        printer.cut()
    return bytes(printer.output)


def drawer_kick() -> bytes:
    """Just the drawer kick (ESC p), for a no-sale opening."""
    printer = Dummy()
    printer.cashdraw(2)
    return bytes(printer.output)


def _row(printer: Dummy, row: Row) -> None:
    printer.set(
        align="center" if row.align is Align.CENTER else "left",
        bold=row.bold,
        double_height=row.large,
        normal_textsize=not row.large,
    )
    printer.textln(row.text.translate(_SPACES))
    if row.bold or row.large or row.align is not Align.LEFT:
        printer.set(align="left", bold=False, normal_textsize=True)


def _barcode(printer: Dummy, data: str) -> None:
    # python-escpos announces which renderer it picked on stdout; a server keeps it quiet.
    with contextlib.redirect_stdout(io.StringIO()):
        printer.barcode(
            "{B" + data,
            "CODE128",
            height=BARCODE_HEIGHT_DOTS,
            width=BARCODE_MODULE_DOTS,
            pos="OFF",
            function_type="B",
        )
    printer.set(align="left")
