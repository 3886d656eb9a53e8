"""The SKU file's error, apart so that both the reader and the upload limits raise it."""

from __future__ import annotations

from bot.errors import UserInputError
from bot.i18n import Html, t

__all__ = ["SkuFileError"]


class SkuFileError(UserInputError):
    """The SKU file cannot be imported; the message names the row and the column, or the limit."""

    def message(self, lang: str) -> Html:
        return t(lang, "skus_import_failed", reason=super().message(lang))
