"""Promotions indexed by what they target, built once per catalog version.

`PromotionCatalog.of(promotions)` builds the index; `catalog.candidates(lines)` returns only
the automatic promotions a cart's lines can touch, each with the lines its target names, so
the engine's time grows with the promotions that matter to the cart, not with all of them.

The index keys each active promotion that needs no coupon by every id its target names
(variant, category, collection, brand); promotions on all items, which include the usual
order-level rules and free gifts, are candidates for every non-empty cart. Promotions that
require a coupon are reached only through `by_id`, from the coupon that names them.
Inactive promotions are left out of the index (a coupon naming one is refused as inactive).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from omnitill.domain.promotions.model import Promotion
from omnitill.domain.promotions.targets import TargetedLine

_Buckets = Mapping[str, tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A promotion that can touch the cart, and the positions of the lines its target names."""

    promotion: Promotion
    lines: tuple[int, ...]


def _bucket(index: dict[str, list[int]], keys: Iterable[str], position: int) -> None:
    for key in keys:
        index.setdefault(key, []).append(position)


def _frozen(index: dict[str, list[int]]) -> dict[str, tuple[int, ...]]:
    return {key: tuple(positions) for key, positions in index.items()}


@dataclass(frozen=True, slots=True)
class PromotionCatalog:
    promotions: tuple[Promotion, ...]
    _by_id: Mapping[str, Promotion] = field(init=False, repr=False, compare=False)
    _by_variant: _Buckets = field(init=False, repr=False, compare=False)
    _by_category: _Buckets = field(init=False, repr=False, compare=False)
    _by_collection: _Buckets = field(init=False, repr=False, compare=False)
    _by_brand: _Buckets = field(init=False, repr=False, compare=False)
    _all_items: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        variants: dict[str, list[int]] = {}
        categories: dict[str, list[int]] = {}
        collections: dict[str, list[int]] = {}
        brands: dict[str, list[int]] = {}
        everywhere: list[int] = []
        for position, p in enumerate(self.promotions):
            if not p.active or p.requires_coupon:
                continue
            if p.target.all_items:
                everywhere.append(position)
                continue
            _bucket(variants, p.target.variant_ids, position)
            _bucket(categories, p.target.category_ids, position)
            _bucket(collections, p.target.collection_ids, position)
            _bucket(brands, p.target.brand_ids, position)
        set_ = object.__setattr__
        set_(self, "_by_id", {p.id: p for p in self.promotions})
        set_(self, "_by_variant", _frozen(variants))
        set_(self, "_by_category", _frozen(categories))
        set_(self, "_by_collection", _frozen(collections))
        set_(self, "_by_brand", _frozen(brands))
        set_(self, "_all_items", tuple(everywhere))

    @classmethod
    def of(cls, promotions: Iterable[Promotion]) -> PromotionCatalog:
        return cls(tuple(promotions))

    def by_id(self, promotion_id: str) -> Promotion | None:
        return self._by_id.get(promotion_id)

    def candidates(self, lines: Sequence[TargetedLine]) -> tuple[Candidate, ...]:
        """Active automatic promotions whose target names at least one of `lines`, in catalog
        order, each with the positions (in `lines`) of the lines it names."""
        touched: dict[int, list[int]] = {}
        for i, line in enumerate(lines):
            found: set[int] = set(self._by_variant.get(line.variant_id, ()))
            for category in line.category_ids:
                found.update(self._by_category.get(category, ()))
            for collection in line.collection_ids:
                found.update(self._by_collection.get(collection, ()))
            if line.brand_id is not None:
                found.update(self._by_brand.get(line.brand_id, ()))
            for position in found:
                touched.setdefault(position, []).append(i)
        if lines:
            every = list(range(len(lines)))
            for position in self._all_items:
                touched[position] = every
        return tuple(
            Candidate(self.promotions[position], tuple(touched[position]))
            for position in sorted(touched)
        )
