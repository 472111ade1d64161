"""Category slugs: the stable, URL-safe name a category is addressed by."""

from __future__ import annotations

import re
import unicodedata

from omnitill.domain.errors import FieldError

SLUG_MAX = 200
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def slugify(name: str) -> str:
    """``Crème & Soaps`` -> ``creme-soaps``: accents folded, anything else becomes a hyphen."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:SLUG_MAX].rstrip("-")


def check_slug(slug: str, *, field: str = "slug") -> list[FieldError]:
    """Lower-case letters and digits in hyphen-separated words (``mens-shoes``)."""
    if not slug or len(slug) > SLUG_MAX or not _SLUG.match(slug):
        return [FieldError(field, "catalog.invalid_slug", "lower-case letters, digits and hyphens")]
    return []
