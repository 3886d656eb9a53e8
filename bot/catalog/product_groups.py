"""Amazon's `product-group` values (the Fee Preview report's column) -> fee category ids, as data.

policies/mappings/<platform>-product-groups.toml lists them; the catalog loads and checks them with the
policy files (an unknown platform or category is a problem naming the file and the group), so a reload
keeps the last good table and `policybot check` reports a bad one. Keys compare folded: case, "gl_"
prefixes, underscores and runs of spaces do not matter ("gl_Baby_Product" = "baby product").
"""

from __future__ import annotations

import re

from pydantic import Field

from bot.catalog.fields import Identifier, Strict

__all__ = ["MAPPINGS_DIR", "ProductGroupsFile", "fold_product_group"]

MAPPINGS_DIR = "mappings"


class ProductGroupsFile(Strict):
    platform: Identifier
    groups: dict[str, Identifier] = Field(default_factory=dict)


def fold_product_group(word: str) -> str:
    """ "gl_Baby_Product" -> "baby product"."""
    folded = re.sub(r"^gl_", "", word.strip().casefold())
    return re.sub(r"[\s_]+", " ", folded).strip()
