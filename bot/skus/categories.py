"""One place that turns a SKU's category word (an Amazon product-group or the seller's own word) into a fee
category id of the catalog, or None: a row that maps to nothing is listed to the seller, never guessed.

Two sources, in order: Amazon's `product-group` values (policies/mappings/, loaded with the catalog: exact,
after folding), then
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

from bot.catalog import Catalog, fold_product_group, match_category, tokens_of

__all__ = ["SAFE_TYPO_SCORE", "CategoryMapper"]

# The lowest rapidfuzz ratio (0-100) of a misspelt category word we map without asking (see above).
SAFE_TYPO_SCORE = 90.0


class CategoryMapper:
    """Category words -> category ids of one platform in one marketplace; cached, since a file repeats a
    few words."""

    def __init__(self, catalog: Catalog, platform: str = "amazon") -> None:
        self._catalog = catalog
        self._platform = platform
        self._groups = catalog.product_groups.get(platform, {})
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

    def category_of(self, word: str) -> str | None:
        """The fee category `word` names, whether or not a marketplace has a schedule for it (an Apparel
        SKU in Canada is apparel, though we hold no Canadian apparel referral schedule)."""
        key = (word, "")
        if key not in self._cache:
            self._cache[key] = self._category(word)
        return self._cache[key]

    def _category(self, word: str) -> str | None:
        folded = fold_product_group(word)
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
