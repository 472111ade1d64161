"""A printed ticket (a receipt on the thermal roll) as plain blocks, for any printer driver.

Services lay a receipt out as a `Ticket` of fixed-width text rows, one Code 128 barcode and
one QR code; the ESC/POS adapter turns it into the printer's bytes, the email's text part
joins its rows. Layout is column arithmetic only: a row is at most `width` characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from omnitill.domain.errors import Conflict, Unavailable

RECEIPT_COLUMNS = 42  # Font A on 80 mm paper (576 dots, 12-dot characters, margins)


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of text; `bold` for the total, `large` (double height) for the store name."""

    text: str
    align: Align = Align.LEFT
    bold: bool = False
    large: bool = False


@dataclass(frozen=True, slots=True)
class BarcodeBlock:
    """A Code 128 barcode of `data`, printed by the printer itself."""

    data: str


@dataclass(frozen=True, slots=True)
class QrBlock:
    data: str


Block = Row | BarcodeBlock | QrBlock


@dataclass(frozen=True, slots=True)
class Ticket:
    """What the printer prints, top to bottom, then cuts; `kick_drawer` opens the cash
    drawer wired to the printer (ESC p) before printing."""

    blocks: tuple[Block, ...]
    kick_drawer: bool = False
    cut: bool = True

    def text(self) -> str:
        """The rows as plain text (the barcode and QR code left out)."""
        return "\n".join(b.text for b in self.blocks if isinstance(b, Row)) + "\n"


@dataclass(slots=True)
class TicketBuilder:
    """Lays rows out within `width` columns."""

    width: int = RECEIPT_COLUMNS
    blocks: list[Block] = field(default_factory=list)

    def row(self, text: str = "", *, bold: bool = False) -> None:
        for part in wrap(text, self.width):
            self.blocks.append(Row(part, bold=bold))

    def center(self, text: str, *, bold: bool = False, large: bool = False) -> None:
        for part in wrap(text, self.width):
            self.blocks.append(Row(part, Align.CENTER, bold=bold, large=large))

    def pair(self, left: str, right: str, *, bold: bool = False) -> None:
        """`left` and `right` on one row, right flush; `left` wraps above when both do not
        fit."""
        room = self.width - len(right) - 1
        parts = wrap(left, max(room, 1))
        for part in parts[:-1]:
            self.blocks.append(Row(part, bold=bold))
        last = parts[-1] if parts else ""
        if len(last) > room:
            self.blocks.append(Row(last, bold=bold))
            last = ""
        self.blocks.append(
            Row(f"{last}{' ' * (self.width - len(last) - len(right))}{right}", bold=bold)
        )

    def rule(self) -> None:
        self.blocks.append(Row("-" * self.width))

    def add(self, block: Block) -> None:
        self.blocks.append(block)

    def build(self, *, kick_drawer: bool = False) -> Ticket:
        return Ticket(tuple(self.blocks), kick_drawer=kick_drawer)


def wrap(text: str, width: int) -> list[str]:
    """Words onto rows of at most `width` characters; a longer word is cut. Line breaks in
    `text` (a store's return policy) are kept."""
    rows: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            while len(word) > width:
                if current:
                    rows.append(current)
                    current = ""
                rows.append(word[:width])
                word = word[width:]
            if not current:
                current = word
            elif len(current) + 1 + len(word) <= width:
                current = f"{current} {word}"
            else:
                rows.append(current)
                current = word
        rows.append(current)
    return rows


class PrinterNotConfigured(Conflict):
    """The register has no receipt printer set (409 `printer.not_configured`)."""

    def __init__(self, register: str) -> None:
        super().__init__(
            "printer.not_configured",
            f"register {register} has no receipt printer: set one with "
            f"PUT /api/v1/registers/{register}/printer",
            {"register": register},
        )


class PrinterUnreachable(Unavailable):
    """The printer did not take the job (503 `printer.unreachable`): it is off, out of
    network or busy. Nothing was printed, or the job was cut short."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(
            "printer.unreachable",
            f"the receipt printer at {host}:{port} does not answer ({reason}); check that it "
            "is on and connected, then try again",
            {"host": host, "port": port, "reason": reason},
        )
