"""The catalog index hands the engine only the promotions a cart's lines can touch."""

from __future__ import annotations

from omnitill.domain.promotions.index import PromotionCatalog
from omnitill.domain.promotions.model import RuleKind, StackingClass, Target
from tests.unit.test_promotions_builders import line, on, promo

K = RuleKind


def ids(catalog: PromotionCatalog, lines) -> dict[str, tuple[int, ...]]:
    return {c.promotion.id: c.lines for c in catalog.candidates(lines)}


CATALOG = PromotionCatalog.of(
    [
        promo("variant", K.ITEM_PERCENT, target=on("A"), percent=10),
        promo("category", K.ITEM_PERCENT, target=Target(category_ids=frozenset({"c"})), percent=10),
        promo(
            "collection",
            K.ITEM_PERCENT,
            target=Target(collection_ids=frozenset({"summer"})),
            percent=10,
        ),
        promo("brand", K.ITEM_PERCENT, target=Target(brand_ids=frozenset({"acme"})), percent=10),
        promo("everything", K.ITEM_PERCENT, target=Target(all_items=True), percent=5),
        promo("order", K.ORDER_PERCENT, stacking=StackingClass.ORDER, percent=5),
        promo("gift", K.FREE_GIFT, gift_variant_id="TOTE", min_spend=100),
        promo("elsewhere", K.ITEM_PERCENT, target=on("Z"), percent=10),
        promo("coupon", K.ITEM_PERCENT, target=on("A"), percent=10, requires_coupon=True),
        promo("off", K.ITEM_PERCENT, target=on("A"), percent=10, active=False),
    ]
)


def test_candidates_are_the_promotions_targeting_the_cart_with_their_lines():
    lines = [
        line("A", 100),
        line("B", 100, categories={"c", "parent"}),
        line("C", 100, collections={"summer"}, brand="acme"),
    ]
    assert ids(CATALOG, lines) == {
        "variant": (0,),
        "category": (1,),
        "collection": (2,),
        "brand": (2,),
        "everything": (0, 1, 2),
        "order": (0, 1, 2),
        "gift": (0, 1, 2),
    }


def test_a_line_matched_twice_by_one_promotion_is_listed_once():
    catalog = PromotionCatalog.of(
        [
            promo(
                "both",
                K.ITEM_PERCENT,
                target=Target(variant_ids=frozenset({"A"}), category_ids=frozenset({"c"})),
                percent=10,
            )
        ]
    )
    assert ids(catalog, [line("A", 100, categories={"c"})]) == {"both": (0,)}


def test_an_empty_cart_has_no_candidates():
    assert CATALOG.candidates([]) == ()


def test_by_id_finds_every_promotion_including_coupon_only_and_inactive_ones():
    assert CATALOG.by_id("coupon") is not None
    assert CATALOG.by_id("off") is not None
    assert CATALOG.by_id("missing") is None


def test_a_catalog_built_directly_is_indexed_too():
    direct = PromotionCatalog(CATALOG.promotions)
    assert direct == CATALOG
    assert ids(direct, [line("A", 100)]) == ids(CATALOG, [line("A", 100)])
