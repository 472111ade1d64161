"""The demo retailer, as data: Northwind Outfitters, a small apparel and accessories chain.

Two New York area stores and a New Jersey warehouse, about two hundred variants, staff for every
role and a few customers. Everything here is fixed, so two seeded databases hold the same
content (ids and timestamps aside). Barcodes are GTIN-13 under GS1's documentation company
prefix 0614141, so they scan and validate like real ones without belonging to a real brand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from omnitill.domain.catalog.gtin import gtin_check_digit

CURRENCY = "USD"
RETAILER = "Northwind Outfitters"
DEMO_PASSWORD = "demo-password-1"  # noqa: S105 - published on purpose: it is the demo's login
COMPANY_PREFIX = "0614141"
SKU_PREFIX = "NW"


@dataclass(frozen=True, slots=True)
class DemoLocation:
    code: str
    name: str
    kind: str  # store | warehouse
    address_line1: str
    city: str
    region: str
    postal_code: str
    timezone: str
    latitude: Decimal
    longitude: Decimal
    tax_rate: Decimal
    sells_in_store: bool
    ships: bool
    offers_pickup: bool
    accepts_returns: bool
    prices_include_tax: bool = False
    country: str = "US"
    currency: str = CURRENCY
    offers_curbside: bool = False
    local_delivery_radius_km: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DemoRegister:
    code: str
    location: str
    name: str


@dataclass(frozen=True, slots=True)
class DemoCategory:
    slug: str
    name: str
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class DemoProduct:
    """One product; its variants are every size in every colour."""

    code: str
    name: str
    category: str
    brand: str
    price: int  # minor units
    cost: int
    colours: tuple[str, ...]
    sizes: tuple[str, ...] = ()  # empty: one size
    description: str = ""
    compare_at: int | None = None

    @property
    def tax_class(self) -> str:
        """Clothing and footwear are their own tax class (New York exempts them under $110
        an item; New Jersey altogether); bags, leather goods and eyewear are standard."""
        return "standard" if self.category in STANDARD_RATED else CLOTHING


CLOTHING = "clothing"
STANDARD_RATED = frozenset({"bags", "small-leather-goods", "eyewear"})


@dataclass(frozen=True, slots=True)
class DemoVariant:
    product_code: str
    sku: str
    barcode: str
    name: str
    option_values: dict[str, str]
    price: int
    cost: int
    compare_at: int | None


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    role: str
    display_name: str
    locations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    first_name: str
    last_name: str
    email: str
    phone: str  # E.164; 555-01xx numbers are reserved for fiction


LOCATIONS: tuple[DemoLocation, ...] = (
    DemoLocation(
        code="S01",
        name="Northwind Outfitters SoHo",
        kind="store",
        address_line1="120 Prince Street",
        city="New York",
        region="NY",
        postal_code="10012",
        timezone="America/New_York",
        latitude=Decimal("40.725130"),
        longitude=Decimal("-73.998870"),
        tax_rate=Decimal("0.08875"),
        sells_in_store=True,
        ships=True,
        offers_pickup=True,
        offers_curbside=True,
        local_delivery_radius_km=Decimal(8),
        accepts_returns=True,
    ),
    DemoLocation(
        code="S02",
        name="Northwind Outfitters Amsterdam",
        kind="store",
        address_line1="Kalverstraat 92",
        city="Amsterdam",
        region="NH",
        postal_code="1012 PH",
        timezone="Europe/Amsterdam",
        latitude=Decimal("52.370216"),
        longitude=Decimal("4.891050"),
        tax_rate=Decimal("0.21"),
        sells_in_store=True,
        ships=False,
        offers_pickup=True,
        accepts_returns=True,
        prices_include_tax=True,
        country="NL",
        currency="EUR",
    ),
    DemoLocation(
        code="W01",
        name="Northwind Distribution Center",
        kind="warehouse",
        address_line1="55 Meadowlands Parkway",
        city="Secaucus",
        region="NJ",
        postal_code="07094",
        timezone="America/New_York",
        latitude=Decimal("40.789500"),
        longitude=Decimal("-74.061200"),
        tax_rate=Decimal("0"),
        sells_in_store=False,
        ships=True,
        offers_pickup=False,
        accepts_returns=False,
    ),
)

REGISTERS: tuple[DemoRegister, ...] = (
    DemoRegister("S01-R1", "S01", "SoHo front counter"),
    DemoRegister("S02-R1", "S02", "Jersey City front counter"),
)

CATEGORIES: tuple[DemoCategory, ...] = (
    DemoCategory("tops", "Tops"),
    DemoCategory("shirts", "Shirts", "tops"),
    DemoCategory("t-shirts", "T-Shirts & Polos", "tops"),
    DemoCategory("knitwear", "Knitwear", "tops"),
    DemoCategory("sweatshirts", "Sweatshirts", "tops"),
    DemoCategory("bottoms", "Bottoms"),
    DemoCategory("trousers", "Trousers", "bottoms"),
    DemoCategory("jeans", "Jeans", "bottoms"),
    DemoCategory("shorts", "Shorts", "bottoms"),
    DemoCategory("outerwear", "Outerwear"),
    DemoCategory("jackets", "Jackets & Vests", "outerwear"),
    DemoCategory("coats", "Coats", "outerwear"),
    DemoCategory("footwear", "Footwear"),
    DemoCategory("boots", "Boots", "footwear"),
    DemoCategory("sneakers", "Sneakers", "footwear"),
    DemoCategory("shoes", "Shoes", "footwear"),
    DemoCategory("accessories", "Accessories"),
    DemoCategory("bags", "Bags", "accessories"),
    DemoCategory("hats", "Hats", "accessories"),
    DemoCategory("belts", "Belts", "accessories"),
    DemoCategory("scarves-gloves", "Scarves & Gloves", "accessories"),
    DemoCategory("socks", "Socks", "accessories"),
    DemoCategory("small-leather-goods", "Small Leather Goods", "accessories"),
    DemoCategory("eyewear", "Eyewear", "accessories"),
    DemoCategory("ties", "Ties", "accessories"),
)

BRANDS: tuple[str, ...] = (
    "Northwind",
    "Harbor & Pine",
    "Fieldstone",
    "Kestrel Footwear",
    "Alder & Co.",
)

TOPS = ("S", "M", "L", "XL")
TOPS_WIDE = ("XS", "S", "M", "L", "XL")
WAIST = ("30", "32", "34", "36")
DUO = ("S/M", "L/XL")

# fmt: off
PRODUCTS: tuple[DemoProduct, ...] = (
    DemoProduct("OXF", "Oxford Shirt", "shirts", "Northwind", 6900, 2450,
                ("Navy", "White", "Light Blue"), TOPS, "Button-down collar, washed cotton oxford."),
    DemoProduct("TEE", "Crew Neck T-Shirt", "t-shirts", "Northwind", 2400, 750,
                ("White", "Black", "Heather Grey", "Olive"), TOPS_WIDE,
                "Heavyweight organic cotton jersey."),
    DemoProduct("MVS", "Merino V-Neck Sweater", "knitwear", "Harbor & Pine", 9800, 3900,
                ("Charcoal", "Navy", "Burgundy"), TOPS, "Extra-fine merino, fully fashioned.",
                compare_at=12800),
    DemoProduct("FLN", "Flannel Overshirt", "shirts", "Fieldstone", 7400, 2800,
                ("Red Check", "Green Check"), TOPS, "Brushed cotton flannel with chest pockets."),
    DemoProduct("LCS", "Linen Camp Shirt", "shirts", "Harbor & Pine", 6400, 2300,
                ("Sand", "Sky"), TOPS, "Relaxed camp collar in European linen."),
    DemoProduct("POL", "Piqué Polo Shirt", "t-shirts", "Northwind", 5400, 1900,
                ("White", "Navy", "Green"), TOPS, "Cotton piqué with a two-button placket."),
    DemoProduct("HOD", "Fleece Hoodie", "sweatshirts", "Northwind", 6800, 2500,
                ("Black", "Grey", "Navy"), TOPS_WIDE, "Loopback fleece, kangaroo pocket."),
    DemoProduct("CHN", "Slim Chino", "trousers", "Northwind", 7900, 2900,
                ("Khaki", "Navy", "Stone"), WAIST, "Stretch cotton twill, slim through the leg."),
    DemoProduct("SEL", "Selvedge Jean", "jeans", "Fieldstone", 12800, 4800,
                ("Indigo", "Black"), WAIST, "13.5 oz Japanese selvedge denim."),
    DemoProduct("CRG", "Cargo Short", "shorts", "Fieldstone", 5800, 2100,
                ("Khaki", "Olive"), WAIST, "Ripstop cotton with bellows pockets."),
    DemoProduct("WFJ", "Waxed Field Jacket", "jackets", "Fieldstone", 24800, 9800,
                ("Olive", "Tan"), TOPS, "Waxed cotton with a corduroy collar."),
    DemoProduct("QVS", "Quilted Vest", "jackets", "Harbor & Pine", 11800, 4200,
                ("Navy", "Black"), TOPS, "Lightweight recycled insulation."),
    DemoProduct("RSH", "Packable Rain Shell", "jackets", "Harbor & Pine", 14800, 5600,
                ("Yellow", "Navy"), TOPS_WIDE, "Seam-sealed, packs into its own pocket."),
    DemoProduct("WTC", "Wool Topcoat", "coats", "Harbor & Pine", 39800, 15500,
                ("Camel", "Charcoal"), TOPS, "Italian wool blend, single-breasted."),
    DemoProduct("CHB", "Leather Chelsea Boot", "boots", "Kestrel Footwear", 22800, 9200,
                ("Brown", "Black"), ("8", "9", "10", "11", "12"),
                "Full-grain leather on a Goodyear-welted sole."),
    DemoProduct("CSN", "Canvas Sneaker", "sneakers", "Kestrel Footwear", 6800, 2400,
                ("White", "Navy"), ("7", "8", "9", "10", "11", "12"),
                "Vulcanised rubber sole, cotton canvas upper."),
    DemoProduct("SLF", "Suede Loafer", "shoes", "Kestrel Footwear", 16800, 6400,
                ("Tan", "Brown"), ("8", "9", "10", "11"), "Unlined suede penny loafer."),
    DemoProduct("BLT", "Leather Belt", "belts", "Alder & Co.", 5800, 1900,
                ("Brown", "Black"), ("S", "M", "L"), "Vegetable-tanned leather, brass buckle."),
    DemoProduct("BNI", "Ribbed Beanie", "hats", "Northwind", 2800, 800,
                ("Charcoal", "Mustard", "Navy", "Forest"), (), "Chunky rib-knit lambswool."),
    DemoProduct("CAP", "Baseball Cap", "hats", "Northwind", 3200, 1000,
                ("Navy", "Khaki", "Black"), (), "Six-panel washed twill, leather strap."),
    DemoProduct("SCF", "Lambswool Scarf", "scarves-gloves", "Alder & Co.", 5800, 2000,
                ("Grey", "Camel", "Tartan"), (), "Woven in Scotland."),
    DemoProduct("GLV", "Knit Gloves", "scarves-gloves", "Alder & Co.", 3400, 1100,
                ("Grey", "Black"), DUO, "Touchscreen-friendly fingertips."),
    DemoProduct("SOX", "Crew Socks 3-Pack", "socks", "Northwind", 1800, 550,
                ("Black", "Grey", "Assorted"), DUO, "Combed cotton, reinforced heel and toe."),
    DemoProduct("TOT", "Canvas Tote", "bags", "Northwind", 3400, 1100,
                ("Natural", "Black"), (), "Heavy canvas with an inside zip pocket."),
    DemoProduct("WKD", "Leather Weekender", "bags", "Alder & Co.", 34800, 14000,
                ("Cognac", "Black"), (), "Full-grain leather holdall, fits a cabin bin."),
    DemoProduct("CRD", "Leather Card Holder", "small-leather-goods", "Alder & Co.", 4800, 1500,
                ("Cognac", "Black", "Navy"), (), "Four card slots and a centre pocket."),
    DemoProduct("SUN", "Aviator Sunglasses", "eyewear", "Alder & Co.", 12800, 3800,
                ("Gold/Green", "Silver/Grey"), (), "Polarised lenses, titanium frame."),
    DemoProduct("TIE", "Silk Tie", "ties", "Harbor & Pine", 6800, 2200,
                ("Navy Dot", "Burgundy Stripe", "Green Paisley"), (), "Hand-finished silk twill."),
)
# fmt: on

COLOUR_CODES: dict[str, str] = {
    "Assorted": "AST",
    "Black": "BLK",
    "Brown": "BRN",
    "Burgundy": "BUR",
    "Burgundy Stripe": "BST",
    "Camel": "CML",
    "Charcoal": "CHR",
    "Cognac": "COG",
    "Forest": "FOR",
    "Gold/Green": "GGN",
    "Green": "GRN",
    "Green Check": "GCK",
    "Green Paisley": "GPS",
    "Grey": "GRY",
    "Heather Grey": "HGR",
    "Indigo": "IND",
    "Khaki": "KHK",
    "Light Blue": "LBL",
    "Mustard": "MUS",
    "Natural": "NAT",
    "Navy": "NVY",
    "Navy Dot": "NDT",
    "Olive": "OLV",
    "Red Check": "RCK",
    "Sand": "SND",
    "Silver/Grey": "SGY",
    "Sky": "SKY",
    "Stone": "STN",
    "Tan": "TAN",
    "Tartan": "TRT",
    "White": "WHT",
    "Yellow": "YLW",
}

STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("admin", "admin", "Morgan Reyes"),
    DemoStaff("manager1", "manager", "Maria Lopez", ("S01",)),
    DemoStaff("cashier1", "cashier", "Sam Carter", ("S01",)),
    DemoStaff("cashier2", "cashier", "Priya Shah", ("S02",)),
    DemoStaff("inventory1", "inventory", "Jordan Lee", ("W01", "S01", "S02")),
    DemoStaff("analyst1", "analyst", "Chris Kim"),
)

CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("Olivia", "Bennett", "olivia.bennett@example.com", "+12125550101"),
    DemoCustomer("Marcus", "Johnson", "marcus.johnson@example.com", "+12125550102"),
    DemoCustomer("Sofia", "Martinez", "sofia.martinez@example.com", "+12015550103"),
    DemoCustomer("Ethan", "Nguyen", "ethan.nguyen@example.com", "+12015550104"),
    DemoCustomer("Hannah", "Goldberg", "hannah.goldberg@example.com", "+17185550105"),
    DemoCustomer("Daniel", "Okafor", "daniel.okafor@example.com", "+19175550106"),
)


def barcode_for(item_reference: int) -> str:
    """The GTIN-13 for an item reference (1-99999) under the demo company prefix."""
    data = f"{COMPANY_PREFIX}{item_reference:05d}"
    return data + str(gtin_check_digit(data))


def variants() -> Iterator[DemoVariant]:
    """Every demo variant in catalog order; barcodes are numbered in this order."""
    item_reference = 0
    for product in PRODUCTS:
        for colour in product.colours:
            for size in product.sizes or (None,):
                item_reference += 1
                parts = [SKU_PREFIX, product.code, COLOUR_CODES[colour]]
                options = {"colour": colour}
                label = colour
                if size is not None:
                    parts.append(size.replace("/", ""))
                    options = {"size": size, "colour": colour}
                    label = f"{colour} / {size}"
                yield DemoVariant(
                    product_code=product.code,
                    sku="-".join(parts),
                    barcode=barcode_for(item_reference),
                    name=f"{product.name} — {label}",
                    option_values=options,
                    price=product.price,
                    cost=product.cost,
                    compare_at=product.compare_at,
                )
