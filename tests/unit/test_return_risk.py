"""Fraud risk scoring of returns (domain/returns/risk.py): each check at its boundary, the
threshold, combinations and custom weights."""

from __future__ import annotations

import pytest

from omnitill.domain.errors import ValidationFailed
from omnitill.domain.returns import risk
from omnitill.domain.returns.risk import RiskInput, RiskPolicy, score_return


def test_a_plain_return_scores_nothing():
    result = score_return(RiskInput(refund_value=1000, purchase_value=1000, customer_returns=0))
    assert (result.score, result.needs_manager, result.signals) == (0, False, ())


@pytest.mark.parametrize(
    ("facts", "code", "points"),
    [
        (RiskInput(refund_value=1, customer_returns=3), risk.CUSTOMER_VELOCITY, 20),
        (RiskInput(refund_value=1, card_returns=3), risk.CARD_VELOCITY, 25),
        (
            RiskInput(refund_value=1, no_receipt=True, no_receipt_returns=2),
            risk.NO_RECEIPT_FREQUENCY,
            25,
        ),
        (RiskInput(refund_value=1, serial_mismatches=1), risk.SERIAL_MISMATCH, 50),
        (RiskInput(refund_value=1001, purchase_value=1000), risk.VALUE_ABOVE_PURCHASE, 50),
        (
            RiskInput(refund_value=1, cashier_id="E7", buyer_employee_ids=frozenset({"E7"})),
            risk.EMPLOYEE_OWN_PURCHASE,
            50,
        ),
        (RiskInput(refund_value=1, km_to_nearest_purchase=150.5), risk.FAR_FROM_PURCHASE, 15),
    ],
)
def test_each_check_fires_just_past_its_limit(facts: RiskInput, code: str, points: int):
    result = score_return(facts)
    assert result.codes == (code,)
    assert result.score == points == result.signals[0].points
    assert result.needs_manager is (points >= 50)
    assert result.signals[0].message


@pytest.mark.parametrize(
    "facts",
    [
        RiskInput(refund_value=1, customer_returns=2),  # the third return in the window
        RiskInput(refund_value=1, card_returns=2),
        RiskInput(refund_value=1, customer_returns=None, card_returns=None),
        RiskInput(refund_value=1, no_receipt=True, no_receipt_returns=1),
        RiskInput(refund_value=1, no_receipt=False, no_receipt_returns=9),
        RiskInput(refund_value=1000, purchase_value=1000),
        RiskInput(refund_value=1000, purchase_value=None),
        RiskInput(refund_value=1, cashier_id="E7", buyer_employee_ids=frozenset({"E8"})),
        RiskInput(refund_value=1, cashier_id=None, buyer_employee_ids=frozenset({"E8"})),
        RiskInput(refund_value=1, km_to_nearest_purchase=150.0),
        RiskInput(refund_value=1, km_to_nearest_purchase=None),
    ],
)
def test_each_check_stays_quiet_at_its_limit(facts: RiskInput):
    result = score_return(facts)
    assert result.score == 0
    assert result.signals == ()
    assert not result.needs_manager


def test_soft_signals_must_combine_to_reach_the_threshold():
    soft = RiskInput(refund_value=500, customer_returns=5, card_returns=4)
    below = score_return(soft)
    assert (below.score, below.needs_manager) == (45, False)
    assert below.codes == (risk.CUSTOMER_VELOCITY, risk.CARD_VELOCITY)
    far = score_return(
        RiskInput(refund_value=500, customer_returns=5, card_returns=4, km_to_nearest_purchase=900)
    )
    assert (far.score, far.needs_manager) == (60, True)
    assert far.codes == (risk.CUSTOMER_VELOCITY, risk.CARD_VELOCITY, risk.FAR_FROM_PURCHASE)
    assert "Bought 900 km from here (more than 150 km)" in far.signals[-1].message


def test_every_check_at_once_adds_every_weight():
    everything = RiskInput(
        refund_value=2000,
        purchase_value=1500,
        customer_returns=9,
        card_returns=9,
        no_receipt=True,
        no_receipt_returns=9,
        serial_mismatches=2,
        cashier_id="E1",
        buyer_employee_ids=frozenset({"E1", "E2"}),
        km_to_nearest_purchase=400,
    )
    result = score_return(everything)
    assert result.score == 20 + 25 + 25 + 50 + 50 + 50 + 15
    assert len(set(result.codes)) == 7
    assert result.needs_manager
    assert "Return 10 by this customer in 30 days (more than 3)" in result.signals[0].message


def test_a_retailer_tunes_limits_weights_and_threshold():
    strict = RiskPolicy(customer_limit=1, customer_points=30, manager_threshold=30)
    result = score_return(RiskInput(refund_value=1, customer_returns=1), policy=strict)
    assert (result.score, result.needs_manager) == (30, True)
    lax = RiskPolicy(serial_mismatch_points=10, manager_threshold=11)
    assert not score_return(
        RiskInput(refund_value=1, serial_mismatches=1), policy=lax
    ).needs_manager


def test_negative_figures_are_refused_naming_each_field():
    with pytest.raises(ValidationFailed) as caught:
        score_return(
            RiskInput(refund_value=-1, card_returns=-2, km_to_nearest_purchase=-3.0),
            policy=RiskPolicy(far_points=-1),
        )
    assert caught.value.code == "returns.invalid_request"
    assert [e.field for e in caught.value.errors] == [
        "refund_value",
        "card_returns",
        "km_to_nearest_purchase",
        "policy.far_points",
    ]
