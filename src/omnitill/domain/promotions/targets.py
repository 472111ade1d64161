"""Which cart lines a promotion's target names, and the promotion order used to break ties."""

from __future__ import annotations

from typing import Protocol

from omnitill.domain.promotions.model import Promotion, Target


class TargetedLine(Protocol):
    """What a target looks at on a line: its variant, categories, collections and brand."""

    @property
    def variant_id(self) -> str: ...

    @property
    def category_ids(self) -> frozenset[str]: ...

    @property
    def collection_ids(self) -> frozenset[str]: ...

    @property
    def brand_id(self) -> str | None: ...


def targets_line(target: Target, line: TargetedLine) -> bool:
    """Whether `target` names the line: all items, its variant, any of its categories (the
    product's category and its ancestors), any of its collections, or its brand."""
    return (
        target.all_items
        or line.variant_id in target.variant_ids
        or not target.category_ids.isdisjoint(line.category_ids)
        or not target.collection_ids.isdisjoint(line.collection_ids)
        or (line.brand_id is not None and line.brand_id in target.brand_ids)
    )


def precedence(promotion: Promotion) -> tuple[int, str]:
    """Sort key: higher `priority` first, then the lower id, so ties never depend on load
    order."""
    return (-promotion.priority, promotion.id)
