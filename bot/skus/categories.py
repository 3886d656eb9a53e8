"""One place that turns a SKU's category word (an Amazon product-group or the seller's own word) into a fee
category id of the catalog, or None: a row that maps to nothing is listed to the seller, never guessed.

Two sources, in order: Amazon's `product-group` values in policies/mappings/ (exact, after folding), then
the category words the question understanding uses (`match_category` over the categories' names, aliases
and policies/words.toml). A category counts only if the catalog holds a fee schedule for it in the SKU's
marketplace.

A spreadsheet cell names one category, so the match must cover the whole cell: "Health and Beauty" is not
"Beauty" (a question may mention a category inside a sentence; a category column may not). A misspelling
maps only from SAFE_TYPO_SCORE up: one wrong or missing letter in a word of five or more ("Jewelery",
"Electornics", "Sneaker") scores 88-95; two changes in a short word ("Furnature" 88.9 maps, but
"Electric" -> "electronic" 88.9 is a different thing) are where guesses start, hence the line at 90.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.catalog.load import Catalog, default_policies_dir
from bot.catalog.vocabulary import match_category, tokens_of

__all__ = ["SAFE_TYPO_SCORE", "CategoryMapper", "fold_category"]

# The lowest rapidfuzz ratio (0-100) of a misspelt category word we map without asking (see above).
SAFE_TYPO_SCORE = 90.0


def fold_category(word: str) -> str:
    """ "gl_Baby_Product" -> "baby product": case, gl_ prefixes, underscores and spaces do not matter."""
    folded = word.strip().casefold()
    folded = re.sub(r"^gl_", "", folded)
    return re.sub(r"[\s_]+", " ", folded).strip()


class CategoryMapper:
    """Category words -> category ids of one platform in one marketplace; cached, since a file repeats a
    few words."""

    def __init__(self, catalog: Catalog, platform: str = "amazon", mappings: Path | None = None) -> None:
        self._catalog = catalog
        self._platform = platform
        info = catalog.platforms.get(platform)
        known = {category.id for category in info.categories} if info is not None else set()
        self._groups = {
            fold_category(group): category_id
            for group, category_id in _product_groups(platform, mappings).items()
            if category_id in known
        }
        self._cache: dict[tuple[str, str], str | None] = {}

    def find(self, word: str, marketplace: str = "US") -> str | None:
        """The fee category `word` names, if the catalog has a fee schedule for it in `marketplace`."""
        key = (word, marketplace)
        if key not in self._cache:
            category = self._category(word)
            scheduled = (self._platform, marketplace, category) in self._catalog.fee_schedules
            if category is not None and not scheduled:
                category = None
            self._cache[key] = category
        return self._cache[key]

    def _category(self, word: str) -> str | None:
        folded = fold_category(word)
        if not folded:
            return None
        if folded in self._groups:
            return self._groups[folded]
        match = match_category(self._catalog.vocabulary, folded, self._platform)
        if match is None or match.platform != self._platform:
            return None
        # The matched name must be the whole cell, not a word inside it ("Health and Beauty").
        if len(tokens_of(match.word)) != len(tokens_of(folded)):
            return None
        return match.category if match.score >= SAFE_TYPO_SCORE else None


def _product_groups(platform: str, mappings: Path | None) -> dict[str, str]:
    path = (mappings or default_policies_dir() / "mappings") / f"{platform}-product-groups.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    groups = data.get("groups", {})
    return {str(key): str(value) for key, value in groups.items()}
