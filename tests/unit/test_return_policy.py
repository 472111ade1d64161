"""The returns policy engine (domain/returns/policy.py): windows, final sale, condition,
restocking fees, serials, partial returns, no-receipt caps and manager overrides."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.returns import model as m
from omnitill.domain.returns.model import (
    Condition,
    HolidayWindow,
    NoReceiptHistory,
    RefundTo,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    SoldLine,
    WindowRule,
)
from omnitill.domain.returns.policy import decide_return
from omnitill.domain.returns.windows import deadline, window_days

NY = "America/New_York"
POLICY = ReturnPolicy(
    currency="USD",
    default_window_days=30,
    window_rules=(
        WindowRule(15, category_id="electronics"),
        WindowRule(60, channel="web"),
        WindowRule(20, category_id="electronics", channel="web"),
    ),
    holiday_windows=(HolidayWindow(date(2026, 11, 15), date(2026, 12, 24), date(2027, 1, 31)),),
    final_sale_category_ids=frozenset({"clearance"}),
    restocking_fee_percent={"electronics": Decimal("15")},
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sold(**kw: object) -> SoldLine:
    base = SoldLine(
        line_id="L1",
        category_id="apparel",
        channel="in_store",
        sold_at=utc(2026, 3, 2, 3, 0),  # 1 March, 22:00 in New York
        timezone=NY,
        quantity=1,
        paid_total=1000,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def line(s: SoldLine | None = None, **kw: object) -> ReturnLine:
    base = ReturnLine(quantity=1, condition=Condition.UNOPENED, sold=s or sold())
    return replace(base, **kw)  # type: ignore[arg-type]


def decide(*lines: ReturnLine, now: datetime, policy: ReturnPolicy = POLICY, **kw: object):
    request = ReturnRequest(currency="USD", timezone=NY, lines=lines)
    return decide_return(replace(request, **kw), policy=policy, now=now)  # type: ignore[arg-type]


def test_the_most_specific_window_rule_wins():
    assert window_days(POLICY, category_id="apparel", channel="in_store") == 30
    assert window_days(POLICY, category_id="electronics", channel="in_store") == 15
    assert window_days(POLICY, category_id="apparel", channel="web") == 60
    assert window_days(POLICY, category_id="electronics", channel="web") == 20
    assert window_days(POLICY, category_id=None, channel="web") == 60


def test_the_last_day_is_counted_in_local_dates_not_utc():
    # Bought 1 March 22:00 New York (2 March in UTC): the window ends on 31 March local.
    due = deadline(POLICY, sold())
    assert (due.bought_on, due.last_day, due.holiday) == (date(2026, 3, 1), date(2026, 3, 31), None)
    last_minute = decide(line(), now=utc(2026, 4, 1, 3, 59))  # 23:59 EDT on 31 March
    assert last_minute.allowed
    assert last_minute.lines[0].refund == 1000
    assert last_minute.lines[0].reasons == ()
    next_day = decide(line(), now=utc(2026, 4, 1, 4, 0))  # 00:00 EDT on 1 April
    (refused,) = next_day.lines
    assert not refused.allowed
    assert refused.codes == (m.WINDOW_EXPIRED,)
    assert "until 2026-03-31 (bought 2026-03-01); 1 day(s) late" in refused.reasons[0].message


def test_a_category_window_is_shorter_and_a_web_order_longer():
    tv = line(sold(category_id="electronics"))
    assert decide(tv, now=utc(2026, 3, 16, 12)).allowed
    assert not decide(tv, now=utc(2026, 3, 17, 12)).allowed
    web = line(sold(channel="web"))
    assert decide(web, now=utc(2026, 4, 30, 12)).allowed
    assert not decide(web, now=utc(2026, 5, 1, 12)).allowed


def test_holiday_purchases_come_back_until_the_holiday_deadline():
    gift = line(sold(sold_at=utc(2026, 12, 10, 17)))  # usual deadline 9 January
    on_time = decide(gift, now=utc(2027, 1, 31, 23))  # 18:00 on 31 January in New York
    assert on_time.allowed
    assert on_time.lines[0].codes == (m.HOLIDAY_WINDOW,)
    assert "2027-01-31" in on_time.lines[0].reasons[0].message
    late = decide(gift, now=utc(2027, 2, 1, 12))
    assert late.lines[0].codes == (m.HOLIDAY_WINDOW, m.WINDOW_EXPIRED)
    # Bought the day after the holiday range: the usual 30 days (until 24 January).
    after = line(sold(sold_at=utc(2026, 12, 25, 17)))
    assert not decide(after, now=utc(2027, 1, 25, 17)).allowed
    assert decide(after, now=utc(2027, 1, 24, 17)).allowed


def test_a_holiday_window_never_shortens_a_longer_one():
    web = sold(channel="web", sold_at=utc(2026, 12, 20, 17))  # 60 days: 18 February
    due = deadline(POLICY, web)
    assert (due.last_day, due.holiday) == (date(2027, 2, 18), None)
    assert decide(line(web), now=utc(2027, 2, 18, 17)).allowed


def test_final_sale_is_refused_and_by_default_no_manager_lifts_it():
    for item in (sold(final_sale=True), sold(category_id="clearance")):
        decision = decide(line(item), now=utc(2026, 3, 5), manager_override=True)
        (refused,) = decision.lines
        assert refused.codes == (m.FINAL_SALE,)
        assert not refused.allowed
        assert not refused.needs_manager
    lenient = replace(POLICY, overridable=POLICY.overridable | {m.FINAL_SALE})
    lifted = decide(line(sold(final_sale=True)), now=utc(2026, 3, 5), policy=lenient)
    assert not lifted.allowed
    assert lifted.needs_manager
    assert lifted.lines[0].liftable == {m.FINAL_SALE}


def test_the_condition_is_required_and_damaged_items_need_a_manager():
    missing = decide(line(condition=None), now=utc(2026, 3, 5), manager_override=True)
    assert missing.lines[0].codes == (m.CONDITION_REQUIRED,)
    assert not missing.allowed
    assert not missing.needs_manager
    damaged = decide(line(condition=Condition.DAMAGED), now=utc(2026, 3, 5))
    assert not damaged.allowed
    assert damaged.needs_manager
    assert damaged.lines[0].liftable == {m.DAMAGED}
    accepting = replace(POLICY, accept_damaged=True)
    taken = decide(line(condition=Condition.DAMAGED), now=utc(2026, 3, 5), policy=accepting)
    assert taken.allowed
    assert not taken.needs_manager
    assert taken.lines[0].refund == 1000


def test_opened_units_of_fee_categories_pay_a_restocking_fee_on_the_price_before_tax():
    tv = sold(category_id="electronics", paid_total=10825, tax_total=825)
    opened = decide(line(tv, condition=Condition.OPENED), now=utc(2026, 3, 5)).lines[0]
    assert (opened.refund, opened.fee, opened.net) == (10825, 1500, 9325)
    assert opened.allowed
    assert opened.codes == (m.RESTOCKING_FEE,)
    assert "15 % restocking fee (15.00 USD)" in opened.reasons[0].message
    unopened = decide(line(tv), now=utc(2026, 3, 5)).lines[0]
    assert (unopened.fee, unopened.reasons) == (0, ())
    shirt = decide(line(condition=Condition.OPENED), now=utc(2026, 3, 5)).lines[0]
    assert shirt.fee == 0
    # 15 % of 3.33 is 0.4995: half-up to 0.50.
    small = sold(category_id="electronics", paid_total=333)
    assert decide(line(small, condition=Condition.OPENED), now=utc(2026, 3, 5)).lines[0].fee == 50


def test_partial_returns_split_the_paid_total_and_never_refund_more():
    three = sold(quantity=3, paid_total=1000)
    first = decide(line(three), now=utc(2026, 3, 5)).lines[0]
    rest = decide(line(replace(three, returned_quantity=1), quantity=2), now=utc(2026, 3, 5))
    assert (first.refund, rest.lines[0].refund) == (334, 666)
    assert first.refund + rest.lines[0].refund == three.paid_total
    too_many = decide(line(replace(three, returned_quantity=2), quantity=2), now=utc(2026, 3, 5))
    assert too_many.lines[0].codes == (m.MORE_THAN_SOLD,)
    assert too_many.lines[0].refund == 0
    assert not too_many.needs_manager
    assert "Only 1 of 3 left" in too_many.lines[0].reasons[0].message
    gone = decide(
        line(replace(three, returned_quantity=3)), now=utc(2026, 3, 5), manager_override=True
    )
    assert gone.lines[0].codes == (m.ALREADY_RETURNED,)
    assert not gone.allowed


def test_two_lines_of_one_request_share_what_is_left_of_the_sold_line():
    three = sold(quantity=3, paid_total=1000)
    decision = decide(line(three, quantity=2), line(three, quantity=2), now=utc(2026, 3, 5))
    first, second = decision.lines
    assert first.allowed
    assert first.refund == 667
    assert second.codes == (m.MORE_THAN_SOLD,)
    assert not second.allowed
    assert decision.refund_total == 667
    both = decide(line(three, quantity=2), line(three), now=utc(2026, 3, 5))
    assert [d.refund for d in both.lines] == [667, 333]


def test_serials_must_be_units_sold_on_the_line_and_not_returned_yet():
    phones = sold(quantity=3, paid_total=3000, serials=frozenset({"A", "B", "C"}))
    ok = decide(line(phones, serials=("B",)), now=utc(2026, 3, 5))
    assert ok.allowed
    assert ok.lines[0].refund == 1000
    cases = {
        (): m.SERIAL_REQUIRED,
        ("A", "A"): m.SERIAL_REQUIRED,
        ("Z",): m.SERIAL_MISMATCH,
    }
    for serials, code in cases.items():
        bad = decide(
            line(phones, quantity=max(1, len(serials)), serials=serials),
            now=utc(2026, 3, 5),
            manager_override=True,
        )
        assert bad.lines[0].codes == (code,), serials
        assert not bad.allowed
        assert not bad.needs_manager
    again = decide(
        line(
            replace(phones, returned_quantity=1, returned_serials=frozenset({"A"})), serials=("A",)
        ),
        now=utc(2026, 3, 5),
    )
    assert again.lines[0].codes == (m.SERIAL_MISMATCH,)
    assert "Already returned: A" in again.lines[0].reasons[0].message
    twice = decide(line(phones, serials=("C",)), line(phones, serials=("C",)), now=utc(2026, 3, 5))
    assert [d.allowed for d in twice.lines] == [True, False]
    assert twice.lines[1].codes == (m.SERIAL_MISMATCH,)


def test_a_manager_override_lifts_a_late_return_and_says_so():
    late = line(sold(sold_at=utc(2026, 1, 2, 17)))
    asked = decide(late, now=utc(2026, 3, 5))
    assert not asked.allowed
    assert asked.needs_manager
    assert asked.lines[0].liftable == {m.WINDOW_EXPIRED}
    approved = decide(late, now=utc(2026, 3, 5), manager_override=True)
    (lifted,) = approved.lines
    assert lifted.allowed
    assert lifted.needs_manager
    assert lifted.refund == 1000
    assert lifted.codes == (m.WINDOW_EXPIRED, m.MANAGER_OVERRIDE)
    assert lifted.reasons[0].overridden
    assert lifted.reasons[0].refuses
    assert approved.refund_total == 1000


def test_an_override_cannot_carry_a_late_return_of_a_foreign_serial():
    phones = sold(sold_at=utc(2026, 1, 2, 17), serials=frozenset({"A"}))
    decision = decide(line(phones, serials=("Z",)), now=utc(2026, 3, 5), manager_override=True)
    (refused,) = decision.lines
    assert refused.codes == (m.WINDOW_EXPIRED, m.SERIAL_MISMATCH, m.MANAGER_OVERRIDE)
    assert not refused.allowed
    assert not refused.needs_manager
    assert decision.refund_total == 0


def no_receipt(price: int = 2500, quantity: int = 1, category: str = "apparel") -> ReturnLine:
    return ReturnLine(
        quantity=quantity,
        condition=Condition.UNOPENED,
        category_id=category,
        lowest_unit_price=price,
    )


def test_a_no_receipt_return_is_store_credit_at_the_lowest_price_with_a_manager():
    decision = decide(no_receipt(quantity=2), now=utc(2026, 3, 5), customer_id="C1")
    (credit,) = decision.lines
    assert credit.allowed
    assert credit.needs_manager
    assert (credit.refund, credit.refund_to) == (5000, RefundTo.STORE_CREDIT)
    assert credit.codes == (m.NO_RECEIPT_STORE_CREDIT, m.MANAGER_APPROVAL)
    assert "lowest price of the last 90 days (25.00 USD each)" in credit.reasons[0].message
    receipt = decide(line(), now=utc(2026, 3, 5)).lines[0]
    assert receipt.refund_to is RefundTo.ORIGINAL_TENDERS
    assert not receipt.needs_manager


def test_a_no_receipt_return_needs_an_identified_customer():
    decision = decide(no_receipt(), now=utc(2026, 3, 5), manager_override=True)
    assert m.CUSTOMER_REQUIRED in decision.lines[0].codes
    assert not decision.allowed
    assert not decision.needs_manager


def test_the_no_receipt_count_cap_counts_returns_and_a_manager_may_lift_it():
    at_cap = NoReceiptHistory(count=2, value=0)
    assert decide(
        no_receipt(), now=utc(2026, 3, 5), customer_id="C1", no_receipt_history=at_cap
    ).allowed
    over = NoReceiptHistory(count=3, value=0)
    refused = decide(no_receipt(), now=utc(2026, 3, 5), customer_id="C1", no_receipt_history=over)
    assert m.NO_RECEIPT_COUNT_CAP in refused.lines[0].codes
    assert not refused.allowed
    assert "no-receipt return 4 in 365 days; the limit is 3" in refused.lines[0].reasons[2].message
    lifted = decide(
        no_receipt(),
        now=utc(2026, 3, 5),
        customer_id="C1",
        no_receipt_history=over,
        manager_override=True,
    )
    assert lifted.allowed
    assert lifted.lines[0].codes[-1] == m.MANAGER_OVERRIDE


def test_the_no_receipt_value_cap_counts_history_and_earlier_lines():
    history = NoReceiptHistory(count=0, value=6000)
    decision = decide(
        no_receipt(3000),
        no_receipt(2000),
        no_receipt(1000),
        now=utc(2026, 3, 5),
        customer_id="C1",
        no_receipt_history=history,
        manager_override=True,
    )
    first, second, third = decision.lines
    assert first.allowed
    assert third.allowed
    assert m.NO_RECEIPT_VALUE_CAP in second.codes
    assert not second.allowed
    assert "capped at 100.00 USD in 365 days; 90.00 USD already used" in second.reasons[2].message
    assert decision.refund_total == 4000
    lenient = replace(POLICY, overridable=POLICY.overridable | {m.NO_RECEIPT_VALUE_CAP})
    lifted = decide(
        no_receipt(3000),
        no_receipt(2000),
        now=utc(2026, 3, 5),
        customer_id="C1",
        no_receipt_history=history,
        manager_override=True,
        policy=lenient,
    )
    assert lifted.allowed
    assert lifted.refund_total == 5000


def test_no_receipt_final_sale_categories_and_fees_apply_too():
    clearance = decide(no_receipt(category="clearance"), now=utc(2026, 3, 5), customer_id="C1")
    assert m.FINAL_SALE in clearance.lines[0].codes
    assert not clearance.allowed
    opened = replace(no_receipt(2000, category="electronics"), condition=Condition.OPENED)
    fee = decide(opened, now=utc(2026, 3, 5), customer_id="C1").lines[0]
    assert (fee.refund, fee.fee, fee.net) == (2000, 300, 1700)


def test_totals_count_only_allowed_lines_and_decisions_are_deterministic():
    lines = (
        line(sold(category_id="electronics", paid_total=5000), condition=Condition.OPENED),
        line(sold(line_id="L2", final_sale=True)),
        line(sold(line_id="L3", paid_total=700)),
    )
    first = decide(*lines, now=utc(2026, 3, 5))
    assert [d.allowed for d in first.lines] == [True, False, True]
    assert [d.index for d in first.lines] == [0, 1, 2]
    assert (first.refund_total, first.fee_total) == (5700, 750)
    assert not first.allowed
    assert not first.needs_manager
    assert decide(*lines, now=utc(2026, 3, 5)) == first


def test_bad_input_is_refused_naming_every_field():
    bad_sold = sold(sold_at=datetime(2026, 3, 1), tax_total=2000)
    with pytest.raises(ValidationFailed) as caught:
        decide(
            line(quantity=0),
            ReturnLine(quantity=1, condition=Condition.OPENED),
            line(bad_sold),
            now=datetime(2026, 3, 5),
            currency="EUR",
            timezone="Mars/Olympus",
        )
    fields = {e.field for e in caught.value.errors}
    assert caught.value.code == "returns.invalid_request"
    assert fields == {
        "currency",
        "now",
        "timezone",
        "lines.0.quantity",
        "lines.1",
        "lines.2.sold.sold_at",
        "lines.2.sold",
    }


def test_a_policy_cannot_let_a_manager_lift_a_fact():
    policies = {
        "policy.overridable": replace(POLICY, overridable=frozenset({m.SERIAL_MISMATCH})),
        "policy.window_rules.1": replace(POLICY, window_rules=(WindowRule(5, channel="web"),) * 2),
        "policy.holiday_windows.0": replace(
            POLICY,
            holiday_windows=(
                HolidayWindow(date(2026, 12, 1), date(2026, 12, 24), date(2026, 12, 20)),
            ),
        ),
        "policy.restocking_fee_percent.x": replace(
            POLICY, restocking_fee_percent={"x": Decimal(101)}
        ),
        "policy.no_receipt_max_value": replace(POLICY, no_receipt_max_value=-1),
    }
    for path, policy in policies.items():
        with pytest.raises(ValidationFailed) as caught:
            decide(line(), now=utc(2026, 3, 5), policy=policy)
        assert [e.field for e in caught.value.errors] == [path]
