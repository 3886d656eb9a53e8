"""One place that turns a SKU's category word (an Amazon product-group or the seller's own word) into a fee
category id of the catalog, or None: a row that maps to nothing is listed to the seller, never guessed.

It reads the categories' names and aliases from the catalog (the same words /fees understands) and the
product-group table in policies/mappings/. The issue-10 category matcher can replace `CategoryMapper.find`.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.catalog.load import Catalog, default_policies_dir

__all__ = ["CategoryMapper", "fold_category"]


def fold_category(word: str) -> str:
    """ "gl_Baby_Product" -> "baby product": case, gl_ prefixes, underscores and spaces do not matter."""
    folded = word.strip().casefold()
    folded = re.sub(r"^gl_", "", folded)
    return re.sub(r"[\s_]+", " ", folded).strip()


class CategoryMapper:
    """Category words -> category ids of one platform; cached, since a file repeats a few words."""

    def __init__(self, catalog: Catalog, platform: str = "amazon", mappings: Path | None = None) -> None:
        self._names: dict[str, str] = {}
        info = catalog.platforms.get(platform)
        if info is not None:
            for category in info.categories:
                for name in (category.id, category.name.en, category.name.zh, *category.aliases):
                    self._names.setdefault(fold_category(name), category.id)
            known = {category.id for category in info.categories}
            for group, category_id in _product_groups(platform, mappings).items():
                if category_id in known:
                    self._names.setdefault(fold_category(group), category_id)
        self._cache: dict[str, str | None] = {}

    def find(self, word: str) -> str | None:
        if word not in self._cache:
            self._cache[word] = self._names.get(fold_category(word)) if word.strip() else None
        return self._cache[word]


def _product_groups(platform: str, mappings: Path | None) -> dict[str, str]:
    path = (mappings or default_policies_dir() / "mappings") / f"{platform}-product-groups.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    groups = data.get("groups", {})
    return {str(key): str(value) for key, value in groups.items()}
