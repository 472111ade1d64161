"""Staff roles and the named permissions each one grants.

Routes and services ask for a permission, never a role, so a role can change without touching
them. Sensitive permissions are the ones a manager override may grant for a single action.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    CASHIER = "cashier"
    INVENTORY = "inventory"
    ANALYST = "analyst"


class Permission(StrEnum):
    SALES_CREATE = "sales.create"
    SALES_READ = "sales.read"
    PRICE_OVERRIDE = "sales.price_override"
    MANUAL_DISCOUNT = "sales.manual_discount"
    CATALOG_READ = "catalog.read"
    CATALOG_WRITE = "catalog.write"
    CUSTOMERS_READ = "customers.read"
    CUSTOMERS_WRITE = "customers.write"
    LOCATIONS_READ = "locations.read"
    LOCATIONS_WRITE = "locations.write"
    STOCK_READ = "stock.read"
    STOCK_RECEIVE = "stock.receive"
    STOCK_ADJUST = "stock.adjust"
    STOCK_RESERVE = "stock.reserve"  # hold, release and fulfil stock reservations
    STOCK_TRANSFER = "stock.transfer"  # request, ship and receive transfers
    STOCK_COUNT = "stock.count"  # start cycle counts and enter counted quantities
    STOCK_OVER_RECEIVE = "stock.over_receive"  # receive more than a purchase order line
    PURCHASING_WRITE = "purchasing.write"  # suppliers and purchase orders
    GIFT_CARDS_SELL = "gift_cards.sell"  # issue, activate, reload, check a balance
    GIFT_CARDS_MANAGE = "gift_cards.manage"  # print batches, read ledgers, void cards
    STORE_CREDIT_ISSUE = "store_credit.issue"  # grant store credit by hand
    SHIFTS_OPERATE = "shifts.operate"  # open and close shifts, drops, pickups, paid in
    CASH_PAY_OUT = "cash.pay_out"  # take cash out of a drawer for an expense
    DRAWER_OPEN = "cash.no_sale"  # open the drawer without a sale
    SHIFTS_REPORT = "shifts.report"  # X reports during a shift, Z reports after
    PAYMENTS_REFUND = "payments.refund"  # refund a payment to the tender it came from
    USERS_READ = "users.read"
    USERS_WRITE = "users.write"
    OVERRIDES_GRANT = "overrides.grant"
    AUDIT_READ = "audit.read"
    PRICING_READ = "pricing.read"
    PRICING_WRITE = "pricing.write"  # price lists, exchange rates, promotions, coupons
    TAX_WRITE = "tax.write"  # tax classes, jurisdictions and rates
    ORDERS_READ = "orders.read"  # orders, their timeline and routing explanation
    ORDERS_CREATE = "orders.create"  # place orders (channels, endless aisle, layaway)
    ORDERS_FULFIL = "orders.fulfil"  # accept, reject, pick, pack, ship, hand over
    ORDERS_CANCEL = "orders.cancel"  # cancel orders or lines
    CHANNELS_WRITE = "channels.write"  # channels and their fulfillment methods
    EVENTS_READ = "events.read"  # the live event stream
    WEBHOOKS_MANAGE = "webhooks.manage"  # webhook subscriptions, deliveries, replays
    RETURNS_POLICY = "returns.policy"  # return windows, fraud-check limits, refund routing
    RETURNS_CREATE = "returns.create"  # take returns and exchanges back, with a receipt
    # approve what the returns policy or the fraud checks send to a manager (no receipt,
    # past the window, a risky return, a refund that cannot go to the original card)
    RETURNS_APPROVE = "returns.approve"


# A manager override may authorise one of these for a cashier; the rest need the role.
SENSITIVE: frozenset[Permission] = frozenset(
    {
        Permission.PRICE_OVERRIDE,
        Permission.MANUAL_DISCOUNT,
        Permission.STOCK_ADJUST,
        Permission.STOCK_OVER_RECEIVE,
        Permission.STORE_CREDIT_ISSUE,
        Permission.CASH_PAY_OUT,
        Permission.DRAWER_OPEN,
        Permission.PAYMENTS_REFUND,
        Permission.RETURNS_APPROVE,
    }
)

_READ_ALL = {
    Permission.SALES_READ,
    Permission.CATALOG_READ,
    Permission.CUSTOMERS_READ,
    Permission.LOCATIONS_READ,
    Permission.STOCK_READ,
    Permission.PRICING_READ,
    Permission.ORDERS_READ,
    Permission.EVENTS_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.MANAGER: frozenset(
        _READ_ALL
        | {
            Permission.SALES_CREATE,
            Permission.PRICE_OVERRIDE,
            Permission.MANUAL_DISCOUNT,
            Permission.CATALOG_WRITE,
            Permission.PRICING_WRITE,
            Permission.CUSTOMERS_WRITE,
            Permission.STOCK_RECEIVE,
            Permission.STOCK_ADJUST,
            Permission.STOCK_RESERVE,
            Permission.STOCK_TRANSFER,
            Permission.STOCK_COUNT,
            Permission.STOCK_OVER_RECEIVE,
            Permission.PURCHASING_WRITE,
            Permission.GIFT_CARDS_SELL,
            Permission.GIFT_CARDS_MANAGE,
            Permission.STORE_CREDIT_ISSUE,
            Permission.SHIFTS_OPERATE,
            Permission.CASH_PAY_OUT,
            Permission.DRAWER_OPEN,
            Permission.SHIFTS_REPORT,
            Permission.PAYMENTS_REFUND,
            Permission.USERS_READ,
            Permission.OVERRIDES_GRANT,
            Permission.AUDIT_READ,
            Permission.ORDERS_CREATE,
            Permission.ORDERS_FULFIL,
            Permission.ORDERS_CANCEL,
            Permission.RETURNS_CREATE,
            Permission.RETURNS_APPROVE,
            Permission.RETURNS_POLICY,
        }
    ),
    Role.CASHIER: frozenset(
        {
            Permission.SALES_CREATE,
            Permission.SALES_READ,
            Permission.CATALOG_READ,
            Permission.PRICING_READ,
            Permission.CUSTOMERS_READ,
            Permission.CUSTOMERS_WRITE,
            Permission.LOCATIONS_READ,
            Permission.STOCK_READ,
            Permission.STOCK_RESERVE,
            Permission.STOCK_COUNT,
            Permission.GIFT_CARDS_SELL,
            Permission.SHIFTS_OPERATE,
            Permission.ORDERS_READ,
            Permission.ORDERS_CREATE,
            Permission.ORDERS_FULFIL,
            Permission.EVENTS_READ,
            Permission.RETURNS_CREATE,
        }
    ),
    Role.INVENTORY: frozenset(
        {
            Permission.CATALOG_READ,
            Permission.CATALOG_WRITE,
            Permission.PRICING_READ,
            Permission.LOCATIONS_READ,
            Permission.STOCK_READ,
            Permission.STOCK_RECEIVE,
            Permission.STOCK_ADJUST,
            Permission.STOCK_RESERVE,
            Permission.STOCK_TRANSFER,
            Permission.STOCK_COUNT,
            Permission.PURCHASING_WRITE,
            Permission.ORDERS_READ,
            Permission.ORDERS_FULFIL,
            Permission.EVENTS_READ,
        }
    ),
    Role.ANALYST: frozenset(_READ_ALL | {Permission.AUDIT_READ, Permission.SHIFTS_REPORT}),
}

# Roles that see every location whatever their bindings.
ESTATE_WIDE: frozenset[Role] = frozenset({Role.ADMIN, Role.ANALYST})
# Roles that see nothing until bound to a store: a cashier works at named stores only.
# Other roles are restricted by their bindings when they have any (a store manager), and see
# every location when they have none (a regional manager, a central buyer).
BOUND_ONLY: frozenset[Role] = frozenset({Role.CASHIER})

MIN_PASSWORD_LENGTH = 12


def permissions_for(role: Role) -> frozenset[Permission]:
    """The permissions a role grants."""
    return ROLE_PERMISSIONS[role]
