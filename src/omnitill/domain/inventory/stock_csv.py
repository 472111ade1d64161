"""CSV files of stock levels: the columns, parsing an import, and the per-row error report.

Pure (standard library `csv` only): the service resolves SKUs and locations and applies the
rows; this module decides what a row says and what is wrong with it on its face.

Import files have a header row naming at least `sku`, `location` and `quantity` (any order,
any case; other columns are ignored). In `set` mode a file without `quantity` takes
`on_hand`, so an export file imports as it is. Line numbers are the file's own, the header
being line 1.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from omnitill.domain.errors import FieldError, ValidationFailed

EXPORT_COLUMNS: tuple[str, ...] = (
    "sku",
    "location",
    "on_hand",
    "reserved",
    "available",
    "safety_stock",
    "reorder_point",
    "max_level",
    "quarantine",
    "damaged",
    "qc",
    "expired",
    "incoming",
    "in_transit",
    "updated_at",
)
IMPORT_COLUMNS: tuple[str, ...] = ("sku", "location", "quantity")
REPORT_COLUMNS: tuple[str, ...] = ("line", "row", "code", "message")
MAX_QUANTITY = 10**12
_INTEGER = re.compile(r"[+-]?[0-9]+")


class ImportMode(StrEnum):
    SET = "set"  # the quantity is the counted on_hand
    ADJUST = "adjust"  # the quantity is a signed change of on_hand


def import_mode(value: str) -> ImportMode:
    """The mode named by `value`, or 422 `stock_csv.invalid_mode` naming `mode`."""
    try:
        return ImportMode(value)
    except ValueError as exc:
        raise ValidationFailed(
            "stock_csv.invalid_mode",
            f"mode must be one of {', '.join(ImportMode)}",
            {"mode": value},
            errors=[FieldError("mode", "stock_csv.invalid_mode", "set or adjust")],
        ) from exc


@dataclass(frozen=True, slots=True)
class ImportRow:
    """A row whose values are well formed; the service still checks SKU and location."""

    line: int
    sku: str
    location: str
    quantity: int
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RowError:
    """Why the row on `line` was not applied; `values` are its fields as read."""

    line: int
    values: tuple[str, ...]
    code: str
    message: str

    @property
    def row(self) -> str:
        """The row as CSV text, as it would appear in the file."""
        return format_csv([self.values]).rstrip("\n")


@dataclass(frozen=True, slots=True)
class ParsedImport:
    rows: tuple[ImportRow, ...]
    errors: tuple[RowError, ...]

    @property
    def total(self) -> int:
        return len(self.rows) + len(self.errors)


def parse_import(lines: Iterable[str], mode: ImportMode) -> ParsedImport:
    """Split a CSV import into well-formed rows and row errors.

    Blank lines are skipped. Errors on the face of a row: `stock_csv.missing_value` (no
    sku or location), `stock_csv.invalid_quantity` (not a whole number, or beyond
    +/-10^12), `stock.count_negative` (a negative count in `set` mode), and
    `stock_csv.duplicate_row` on *every* row naming a (sku, location) another row names too,
    since which of them is right cannot be told. A file without the needed columns is
    refused as a whole: 422 `stock_csv.missing_columns` (`stock_csv.empty_file` if empty).
    """
    reader = csv.reader(lines)
    header = _header(reader, mode)
    good: list[ImportRow] = []
    bad: list[RowError] = []
    seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue
        line = reader.line_num
        values = tuple(fields)
        sku, location, raw_qty = (fields[i].strip() if i < len(fields) else "" for i in header)
        if sku and location:
            seen[(sku, location)].append(line)
        result = _check(line, values, sku, location, raw_qty, mode)
        if isinstance(result, ImportRow):
            good.append(result)
        else:
            bad.append(result)
    repeated = {line: lines_ for lines_ in seen.values() if len(lines_) > 1 for line in lines_}
    if repeated:
        bad += [_duplicate(row, repeated[row.line]) for row in good if row.line in repeated]
        good = [row for row in good if row.line not in repeated]
        bad.sort(key=lambda e: e.line)
    return ParsedImport(tuple(good), tuple(bad))


def _duplicate(row: ImportRow, lines: list[int]) -> RowError:
    others = [n for n in lines[:6] if n != row.line][:5]
    more = len(lines) - 1 - len(others)
    named = ", ".join(map(str, others)) + (f" and {more} more" if more else "")
    return RowError(
        row.line,
        row.values,
        "stock_csv.duplicate_row",
        f"{row.sku} at {row.location} is also on line(s) {named}; none applied",
    )


def _header(reader: Iterator[list[str]], mode: ImportMode) -> tuple[int, int, int]:
    """Positions of sku, location and quantity (on_hand in set mode) in the header."""
    first = next(reader, None)
    if first is None:
        raise ValidationFailed(
            "stock_csv.empty_file",
            "the file is empty; it needs a header row and rows",
            errors=[FieldError("file", "stock_csv.empty_file", "no header row")],
        )
    names = [name.strip().lstrip("\ufeff").lower() for name in first]
    quantity = "quantity"
    if quantity not in names and mode is ImportMode.SET and "on_hand" in names:
        quantity = "on_hand"
    missing = [name for name in ("sku", "location", quantity) if name not in names]
    if missing:
        raise ValidationFailed(
            "stock_csv.missing_columns",
            f"the header row lacks {', '.join(missing)}; expected {','.join(IMPORT_COLUMNS)}",
            {"missing": missing, "header": names},
            errors=[FieldError("header", "stock_csv.missing_columns", ", ".join(missing))],
        )
    return names.index("sku"), names.index("location"), names.index(quantity)


def _check(
    line: int, values: tuple[str, ...], sku: str, location: str, raw: str, mode: ImportMode
) -> ImportRow | RowError:
    if not sku or not location:
        missing = " and ".join(n for n, v in (("sku", sku), ("location", location)) if not v)
        return RowError(line, values, "stock_csv.missing_value", f"{missing} required")
    if not _INTEGER.fullmatch(raw) or abs(int(raw)) > MAX_QUANTITY:
        return RowError(
            line, values, "stock_csv.invalid_quantity", f"{raw!r} is not a whole number"
        )
    quantity = int(raw)
    if mode is ImportMode.SET and quantity < 0:
        return RowError(line, values, "stock.count_negative", "a count is 0 or more")
    return ImportRow(line, sku, location, quantity, values)


def decode_csv(data: bytes) -> list[str]:
    """The lines of an uploaded file: UTF-8 (a byte order mark is dropped), else 422
    `stock_csv.not_utf8` naming `body`."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "stock_csv.not_utf8",
            f"the file is not UTF-8 text (byte {exc.start})",
            errors=[FieldError("body", "stock_csv.not_utf8", "send UTF-8 CSV")],
        ) from exc
    return list(io.StringIO(text, newline=""))


def format_csv(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text (one line each, `\\n` endings; None becomes an empty field)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()


def report_rows(errors: Iterable[RowError]) -> Iterator[tuple[object, ...]]:
    """The error report's rows (header first): line, row, code, message."""
    yield REPORT_COLUMNS
    for e in errors:
        yield (e.line, e.row, e.code, e.message)
