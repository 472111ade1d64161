"""Promotions indexed by what they target, built once per catalog version.

CONTRACT (filled in by the promotions work): `PromotionCatalog.of(promotions)` builds the
index; `catalog.candidates(...)` returns only the promotions a cart's lines can touch, so the
engine's time grows with the promotions that matter to the cart, not with all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from omnitill.domain.promotions.model import Promotion


@dataclass(frozen=True, slots=True)
class PromotionCatalog:
    promotions: tuple[Promotion, ...]

    @classmethod
    def of(cls, promotions: Iterable[Promotion]) -> PromotionCatalog:
        return cls(tuple(promotions))

    def by_id(self, promotion_id: str) -> Promotion | None:
        return next((p for p in self.promotions if p.id == promotion_id), None)
