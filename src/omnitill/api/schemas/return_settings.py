"""The return policy document: return rules, fraud-check limits and refund routing.

Defaults are read from the domain and service objects, so the schema shows what a field left
out becomes. Money is minor units; percents are decimal strings ("15" is 15 %).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from omnitill.domain.returns.model import ReturnPolicy
from omnitill.domain.returns.risk import RiskPolicy
from omnitill.services.return_settings import RefundRules

_P = ReturnPolicy(currency="USD")
_R = RiskPolicy()
_F = RefundRules()
_Strict = ConfigDict(extra="forbid")


class WindowRuleBody(BaseModel):
    """A window for one category, one channel, or one category on one channel."""

    model_config = _Strict
    days: int
    category_id: str | None = Field(None, max_length=64, description="A category id.")
    channel: str | None = Field(None, max_length=16, description="in_store, web, ...")


class HolidayWindowBody(BaseModel):
    """Purchases between two local dates (inclusive) come back until `return_until`."""

    model_config = _Strict
    purchased_from: date
    purchased_until: date
    return_until: date


class ReturnPolicyBody(BaseModel):
    model_config = _Strict
    default_window_days: int = _P.default_window_days
    window_rules: list[WindowRuleBody] = Field(default_factory=list)
    holiday_windows: list[HolidayWindowBody] = Field(default_factory=list)
    final_sale_category_ids: list[str] = Field(default_factory=list)
    restocking_fee_percent: dict[str, Decimal] = Field(
        default_factory=dict, description='Category id -> percent on opened units: {"<id>": "15"}.'
    )
    accept_damaged: bool = _P.accept_damaged
    no_receipt_allowed: bool = _P.no_receipt_allowed
    no_receipt_price_days: int = _P.no_receipt_price_days
    no_receipt_period_days: int = _P.no_receipt_period_days
    no_receipt_max_count: int = _P.no_receipt_max_count
    no_receipt_max_value: int = Field(
        _P.no_receipt_max_value, description="Minor units of the return's currency."
    )
    overridable: list[str] = Field(
        default_factory=lambda: sorted(_P.overridable),
        description="Refusal codes a manager may lift.",
    )


class RiskPolicyBody(BaseModel):
    model_config = _Strict
    velocity_window_days: int = _R.velocity_window_days
    customer_limit: int = _R.customer_limit
    customer_points: int = _R.customer_points
    card_limit: int = _R.card_limit
    card_points: int = _R.card_points
    no_receipt_window_days: int = _R.no_receipt_window_days
    no_receipt_limit: int = _R.no_receipt_limit
    no_receipt_points: int = _R.no_receipt_points
    serial_mismatch_points: int = _R.serial_mismatch_points
    value_above_purchase_points: int = _R.value_above_purchase_points
    employee_own_purchase_points: int = _R.employee_own_purchase_points
    far_km: float = Field(_R.far_km, allow_inf_nan=False)
    far_points: int = _R.far_points
    manager_threshold: int = _R.manager_threshold


class RefundRulesBody(BaseModel):
    model_config = _Strict
    card_refund_max_days: int = _F.card_refund_max_days
    card_present_required: bool = _F.card_present_required
    fallback: str = Field(_F.fallback, description="store_credit or cash.")
    shipping_refund: str = Field(
        _F.shipping_refund, description="never, full_return or always_prorated."
    )


class ReturnSettingsUpdate(BaseModel):
    """The whole document; a part or field left out takes its default."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "policy": {"default_window_days": 60, "accept_damaged": False},
                    "risk": {"manager_threshold": 60},
                    "refunds": {"fallback": "store_credit", "shipping_refund": "never"},
                }
            ]
        },
    )
    policy: ReturnPolicyBody = Field(default_factory=ReturnPolicyBody)
    risk: RiskPolicyBody = Field(default_factory=RiskPolicyBody)
    refunds: RefundRulesBody = Field(default_factory=RefundRulesBody)


class ReturnSettingsRead(BaseModel):
    policy: ReturnPolicyBody
    risk: RiskPolicyBody
    refunds: RefundRulesBody
    updated_at: datetime | None = Field(description="None: never saved, every default.")
    updated_by: str | None = Field(description="Username of who saved it last.")
