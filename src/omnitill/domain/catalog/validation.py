"""Catalog input rules that need no database: each check returns every problem it finds.

Checks return lists of `FieldError` (dotted field paths such as ``variants.0.barcode``) so a
client sees all that is wrong with a request at once; `raise_invalid` turns them into one
`ValidationFailed` whose `code` is the first problem's code. Uniqueness against stored rows
(SKU, barcode, slug) is the service's job; duplicates within one request are checked here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omnitill.domain.catalog.gtin import is_valid_gtin
from omnitill.domain.catalog.products import ProductInput, VariantInput
from omnitill.domain.errors import FieldError, ValidationFailed
from omnitill.domain.money import ISO_4217_CODES

SKU_MAX = 64


def raise_invalid(errors: Sequence[FieldError]) -> None:
    """Raise one `ValidationFailed` listing every error, if there is any."""
    if errors:
        raise ValidationFailed(
            errors[0].code,
            "; ".join(f"{e.field}: {e.message}" for e in errors),
            errors=errors,
        )


def gtin_key(code: str) -> str:
    """The form under which equivalent GTINs collide: a UPC-A and its zero-padded EAN-13 or
    GTIN-14 are one barcode to a scanner, so they are one barcode to uniqueness too."""
    if code.isdigit() and len(code) in (12, 13, 14):
        return code.lstrip("0").rjust(14, "0")
    return code


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def check_sku(sku: str, *, field: str) -> list[FieldError]:
    """A SKU is 1 to 64 printable characters without spaces (scanners and CSVs split on them)."""
    if not sku or len(sku) > SKU_MAX or any(c.isspace() or not c.isprintable() for c in sku):
        return [FieldError(field, "catalog.invalid_sku", f"1..{SKU_MAX} characters, no spaces")]
    return []


def check_barcode(barcode: str | None, *, field: str) -> list[FieldError]:
    if barcode is not None and not is_valid_gtin(barcode):
        return [
            FieldError(
                field,
                "catalog.invalid_barcode",
                f"{barcode!r} is not a valid GTIN-8/12/13/14 (length or check digit)",
            )
        ]
    return []


def check_amount(amount: int | None, *, field: str, code: str) -> list[FieldError]:
    if amount is not None and amount < 0:
        return [FieldError(field, code, "must be zero or more minor units")]
    return []


def check_currency_code(currency: str, *, field: str) -> list[FieldError]:
    if currency not in ISO_4217_CODES:
        return [FieldError(field, "money.unknown_currency", f"{currency!r} is not ISO 4217")]
    return []


def check_option_values(
    values: Mapping[str, str], *, options: Sequence[str], field: str
) -> list[FieldError]:
    """Every key must be one of the product's options, and every value non-empty."""
    errors: list[FieldError] = []
    for key, value in values.items():
        if key not in options:
            allowed = ", ".join(options) or "none"
            errors.append(
                FieldError(
                    f"{field}.{key}",
                    "catalog.unknown_option",
                    f"{key!r} is not an option of this product (options: {allowed})",
                )
            )
        elif not str(value).strip():
            errors.append(
                FieldError(f"{field}.{key}", "catalog.invalid_option_value", "must not be empty")
            )
    return errors


def check_options(options: Sequence[str], *, field: str = "options") -> list[FieldError]:
    """Option names are non-empty and distinct regardless of case (``Size`` and ``size``)."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, name in enumerate(options):
        if not name.strip():
            errors.append(FieldError(f"{field}.{i}", "catalog.invalid_option", "empty name"))
        elif name.strip().lower() in seen:
            errors.append(FieldError(f"{field}.{i}", "catalog.duplicate_option", "repeated"))
        seen.add(name.strip().lower())
    return errors


def check_variant(
    variant: VariantInput, *, options: Sequence[str], prefix: str = ""
) -> list[FieldError]:
    """Every rule one variant must meet on its own."""
    return [
        *check_sku(variant.sku, field=_path(prefix, "sku")),
        *check_barcode(variant.barcode, field=_path(prefix, "barcode")),
        *check_amount(variant.price, field=_path(prefix, "price"), code="catalog.invalid_price"),
        *check_amount(
            variant.compare_at_price,
            field=_path(prefix, "compare_at_price"),
            code="catalog.invalid_price",
        ),
        *check_amount(variant.cost, field=_path(prefix, "cost"), code="catalog.invalid_cost"),
        *check_currency_code(variant.currency, field=_path(prefix, "currency")),
        *check_option_values(
            variant.option_values, options=options, field=_path(prefix, "option_values")
        ),
    ]


def check_new_variants(
    variants: Sequence[VariantInput],
    *,
    options: Sequence[str],
    prefix: str = "variants",
    product_currency: str | None = None,
) -> list[FieldError]:
    """Rules for variants created together, indexed ``variants.N``.

    Besides each variant's own rules: no SKU or barcode twice in the request (equivalent GTIN
    paddings count as the same barcode), and one currency per product. `product_currency` is
    the currency of the product's existing variants; without it the first variant sets it.
    """
    errors: list[FieldError] = []
    skus: set[str] = set()
    barcodes: set[str] = set()
    currency = product_currency
    for i, variant in enumerate(variants):
        at = f"{prefix}.{i}" if prefix else ""
        errors.extend(check_variant(variant, options=options, prefix=at))
        if variant.sku in skus:
            errors.append(
                FieldError(_path(at, "sku"), "catalog.duplicate_sku", "repeated in this request")
            )
        skus.add(variant.sku)
        if variant.barcode is not None:
            key = gtin_key(variant.barcode)
            if key in barcodes:
                errors.append(
                    FieldError(
                        _path(at, "barcode"),
                        "catalog.duplicate_barcode",
                        "repeated in this request",
                    )
                )
            barcodes.add(key)
        if currency is None:
            currency = variant.currency
        elif variant.currency != currency:
            errors.append(
                FieldError(
                    _path(at, "currency"),
                    "catalog.currency_mismatch",
                    f"every variant of a product is priced in one currency ({currency})",
                )
            )
    return errors


def check_product(product: ProductInput) -> list[FieldError]:
    """Every rule a new product and its variants must meet, in request order."""
    return [
        *check_product_name(product.name),
        *check_tax_class(product.tax_class),
        *check_options(product.options),
        *check_new_variants(product.variants, options=product.options),
    ]


def check_product_name(name: str, *, field: str = "name") -> list[FieldError]:
    if not name.strip():
        return [FieldError(field, "catalog.invalid_name", "must not be blank")]
    return []


def check_tax_class(tax_class: str, *, field: str = "tax_class") -> list[FieldError]:
    if not tax_class.strip():
        return [FieldError(field, "catalog.invalid_tax_class", "must not be blank")]
    return []


def check_options_in_use(
    options: Sequence[str], used: Sequence[Mapping[str, str]], *, field: str = "options"
) -> list[FieldError]:
    """An option can only be dropped from a product once no variant has a value for it."""
    missing = sorted({key for values in used for key in values if key not in options})
    if missing:
        return [
            FieldError(
                field,
                "catalog.option_in_use",
                f"variants still have values for {', '.join(missing)}",
            )
        ]
    return []
