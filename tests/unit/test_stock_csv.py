"""Parsing stock CSV imports: the header, each row's face value, duplicates, the report."""

from __future__ import annotations

import csv
import io

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.inventory.stock_csv import (
    EXPORT_COLUMNS,
    ImportMode,
    decode_csv,
    format_csv,
    import_mode,
    parse_import,
    report_rows,
)


def parse(text: str, mode: ImportMode = ImportMode.SET):
    return parse_import(io.StringIO(text, newline=""), mode)


def codes(parsed):
    return [(e.line, e.code) for e in parsed.errors]


def test_good_rows_parse_with_their_line_numbers():
    parsed = parse("sku,location,quantity\nTEE,S01,5\n\nBELT,W01, 12 \n")
    assert [(r.line, r.sku, r.location, r.quantity) for r in parsed.rows] == [
        (2, "TEE", "S01", 5),
        (4, "BELT", "W01", 12),
    ]
    assert parsed.errors == ()
    assert parsed.total == 2


def test_columns_may_come_in_any_order_and_case_and_extra_columns_are_ignored():
    parsed = parse("\ufeffQuantity,Note,LOCATION,Sku\n3,shelf B,S01,TEE\n")
    assert [(r.sku, r.location, r.quantity) for r in parsed.rows] == [("TEE", "S01", 3)]


def test_a_set_import_reads_on_hand_when_there_is_no_quantity_so_an_export_imports_as_is():
    header = ",".join(EXPORT_COLUMNS)
    parsed = parse(f"{header}\nTEE,S01,7,2,5,0,,,0,0,0,0,0,0,2024-01-01T00:00:00+00:00\n")
    assert [(r.sku, r.quantity) for r in parsed.rows] == [("TEE", 7)]
    with pytest.raises(ValidationFailed) as refused:
        parse(f"{header}\n", ImportMode.ADJUST)
    assert refused.value.code == "stock_csv.missing_columns"


def test_a_file_without_the_needed_columns_is_refused_as_a_whole():
    with pytest.raises(ValidationFailed) as refused:
        parse("sku,qty\nTEE,1\n")
    assert refused.value.code == "stock_csv.missing_columns"
    assert refused.value.details["missing"] == ["location", "quantity"]
    assert [e.field for e in refused.value.errors] == ["header"]
    with pytest.raises(ValidationFailed) as empty:
        parse("")
    assert empty.value.code == "stock_csv.empty_file"


def test_rows_with_bad_values_are_reported_with_their_line_and_code():
    parsed = parse(
        "sku,location,quantity\n"
        "TEE,S01,abc\n"
        ",S01,1\n"
        "TEE,,1\n"
        "CAP,S01,1.5\n"
        "HAT,S01,-2\n"
        "BAG,S01,1_000\n"
        "MUG,S01,10000000000000\n"
        "OK,S01,4\n"
    )
    assert codes(parsed) == [
        (2, "stock_csv.invalid_quantity"),
        (3, "stock_csv.missing_value"),
        (4, "stock_csv.missing_value"),
        (5, "stock_csv.invalid_quantity"),
        (6, "stock.count_negative"),
        (7, "stock_csv.invalid_quantity"),
        (8, "stock_csv.invalid_quantity"),
    ]
    assert [r.sku for r in parsed.rows] == ["OK"]
    assert parsed.errors[1].message == "sku required"
    assert parsed.errors[0].row == "TEE,S01,abc"


def test_adjust_mode_takes_signed_changes():
    parsed = parse("sku,location,quantity\nTEE,S01,-2\nCAP,S01,+3\nHAT,S01,0\n", ImportMode.ADJUST)
    assert [r.quantity for r in parsed.rows] == [-2, 3, 0]
    assert parsed.errors == ()


def test_every_row_of_a_duplicated_sku_and_location_is_refused():
    parsed = parse("sku,location,quantity\nTEE,S01,5\nTEE,S02,1\nTEE,S01,7\nTEE,S01,x\n")
    assert [r.line for r in parsed.rows] == [3]
    assert codes(parsed) == [
        (2, "stock_csv.duplicate_row"),
        (4, "stock_csv.duplicate_row"),
        (5, "stock_csv.invalid_quantity"),
    ]
    assert "also on line(s) 4, 5" in parsed.errors[0].message


def test_the_mode_must_be_set_or_adjust():
    assert import_mode("adjust") is ImportMode.ADJUST
    with pytest.raises(ValidationFailed) as refused:
        import_mode("replace")
    assert [e.field for e in refused.value.errors] == ["mode"]


def test_uploads_must_be_utf8_and_a_byte_order_mark_is_dropped():
    assert decode_csv("\ufeffsku\r\nTÉE\r\n".encode()) == ["sku\r\n", "TÉE\r\n"]
    with pytest.raises(ValidationFailed) as refused:
        decode_csv(b"sku\n\xff\n")
    assert refused.value.code == "stock_csv.not_utf8"


def test_the_error_report_is_csv_with_line_row_code_and_message():
    parsed = parse('sku,location,quantity\n"TEE, navy",S01,lots\n')
    text = format_csv(report_rows(parsed.errors))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        ["line", "row", "code", "message"],
        ["2", '"TEE, navy",S01,lots', "stock_csv.invalid_quantity", "'lots' is not a whole number"],
    ]


def test_csv_output_leaves_missing_values_empty():
    assert format_csv([("TEE", None, 3)]) == "TEE,,3\n"


def test_a_row_repeated_many_times_names_a_few_of_its_twins_and_counts_the_rest():
    parsed = parse("sku,location,quantity\n" + "TEE,S01,1\n" * 9)
    assert len(parsed.errors) == 9
    assert parsed.rows == ()
    assert parsed.errors[0].message == (
        "TEE at S01 is also on line(s) 3, 4, 5, 6, 7 and 3 more; none applied"
    )
