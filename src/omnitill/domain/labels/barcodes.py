"""Linear barcodes as bar and space widths, for SVG, PDF and any other drawing.

A `Barcode` is the run lengths of its modules, bar first, then space, then bar...: the
quiet zones either side are the drawer's (ten modules for Code 128, eleven left and seven
right for EAN-13). Both encoders follow their standards:

- **EAN-13** (GS1 General Specifications, section 5.2): a start guard ``101``, the six left
  digits in code sets L and G chosen by the first digit's parity pattern, a centre guard
  ``01010``, the six right digits in set R, an end guard ``101``: 95 modules. The 13th digit
  is the GS1 modulo-10 check digit (weights 1 and 3 from the left).
- **Code 128** (ISO/IEC 15417): a start character, the data in code set B (printable ASCII)
  or C (digit pairs) where a run of digits makes C shorter, the modulo-103 check character
  (start value plus each value times its position), and the stop pattern ``2331112``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby

from omnitill.domain.errors import FieldError, ValidationFailed


class Symbology(StrEnum):
    EAN13 = "ean13"
    CODE128 = "code128"


@dataclass(frozen=True, slots=True)
class Barcode:
    """What a barcode holds and how it is drawn: `widths` alternate bar, space, bar..."""

    symbology: Symbology
    data: str
    widths: tuple[int, ...]

    @property
    def modules(self) -> int:
        """The symbol's width in modules, without quiet zones."""
        return sum(self.widths)

    @property
    def quiet_zone(self) -> tuple[int, int]:
        """Modules of blank needed left and right."""
        return (11, 7) if self.symbology is Symbology.EAN13 else (10, 10)

    def bars(self) -> list[tuple[int, int]]:
        """Each bar as (start module, width in modules), from the left edge of the symbol."""
        found: list[tuple[int, int]] = []
        x = 0
        for i, width in enumerate(self.widths):
            if i % 2 == 0:
                found.append((x, width))
            x += width
        return found


# --- EAN-13 ------------------------------------------------------------------------------------

_L = ("0001101", "0011001", "0010011", "0111101", "0100011",
      "0110001", "0101111", "0111011", "0110111", "0001011")  # fmt: skip
_R = tuple("".join("1" if m == "0" else "0" for m in code) for code in _L)
_G = tuple(code[::-1] for code in _R)
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
           "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")  # fmt: skip


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit of `digits` (the code without it): weights 3 and 1 from the right."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError("a GTIN is digits only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def is_gtin13(code: str) -> bool:
    """Thirteen digits whose last is the check digit of the twelve before it."""
    return (
        len(code) == 13
        and code.isdigit()
        and code.isascii()
        and gtin_check_digit(code[:12]) == int(code[12])
    )


def ean13_modules(code: str) -> str:
    """The 95 modules of an EAN-13 symbol, ``1`` for bar and ``0`` for space."""
    if not is_gtin13(code):
        raise ValueError(f"{code!r} is not a GTIN-13 with a valid check digit")
    parity = _PARITY[int(code[0])]
    left = "".join((_L if p == "L" else _G)[int(d)] for p, d in zip(parity, code[1:7], strict=True))
    right = "".join(_R[int(d)] for d in code[7:])
    return f"101{left}01010{right}101"


def ean13(code: str) -> Barcode:
    return Barcode(Symbology.EAN13, code, runs(ean13_modules(code)))


def runs(modules: str) -> tuple[int, ...]:
    """``1110100`` -> (3, 1, 1, 2): run lengths, starting with a bar."""
    if not modules.startswith("1"):
        raise ValueError("a symbol starts with a bar")
    return tuple(len(list(group)) for _, group in groupby(modules))


# --- Code 128 ----------------------------------------------------------------------------------

# The bar-space widths of values 0 to 105 (ISO/IEC 15417 table 1); each adds up to 11 modules.
_CODE128 = (
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122", "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123", "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331", "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311", "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411", "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412", "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111", "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232",
)  # fmt: skip
STOP = "2331112"
START_B, START_C = 104, 105
CODE_B, CODE_C = 100, 99


def code128_values(text: str) -> list[int]:
    """The symbol characters of `text`, start to check character (stop excluded).

    Set B carries printable ASCII; a run of digits switches to set C (two digits per
    character) when that is shorter: four or more at either end of the text, six or more
    inside it. An odd run keeps its last digit in set B."""
    if not text or any(not 32 <= ord(c) <= 126 for c in text):
        raise ValueError("Code 128 (set B) carries 1 or more printable ASCII characters")
    values: list[int] = []
    mode = ""
    i = 0
    while i < len(text):
        run = _digits_from(text, i)
        at_edge = i == 0 or i + run == len(text)
        if run >= (4 if at_edge else 6):
            even = run - run % 2
            if mode != "C":
                values.append(START_C if not values else CODE_C)
            values += [int(text[j : j + 2]) for j in range(i, i + even, 2)]
            mode, i = "C", i + even
        else:
            if mode != "B":
                values.append(START_B if not values else CODE_B)
            values.append(ord(text[i]) - 32)
            mode, i = "B", i + 1
    values.append((values[0] + sum(p * v for p, v in enumerate(values[1:], start=1))) % 103)
    return values


def code128(text: str) -> Barcode:
    patterns = [_CODE128[v] for v in code128_values(text)] + [STOP]
    return Barcode(Symbology.CODE128, text, tuple(int(w) for p in patterns for w in p))


def _digits_from(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] in "0123456789":
        end += 1
    return end - start


# --- choosing -----------------------------------------------------------------------------------


def product_barcode(code: str, *, field: str = "barcode") -> Barcode:
    """EAN-13 for a valid GTIN-13, else Code 128; 422 `labels.unencodable` for text neither
    can carry (non-ASCII)."""
    if is_gtin13(code):
        return ean13(code)
    try:
        return code128(code)
    except ValueError as exc:
        raise ValidationFailed(
            "labels.unencodable",
            f"{code!r} cannot be printed as a barcode",
            errors=[FieldError(field, "labels.unencodable", str(exc))],
        ) from exc
