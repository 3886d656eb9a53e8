"""What the answers core gives back: the reply's text, and what the adapter may send with it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.catalog import FeeSchedule
from bot.i18n import Html, to_plain_text

__all__ = ["BUTTON_DATA_LIMIT", "Button", "Chart", "Reply"]

# Telegram's limit for a button's callback data, in bytes.
BUTTON_DATA_LIMIT = 64


@dataclass(frozen=True)
class Chart:
    """A fee-against-price chart the adapter may draw and send with the reply."""

    schedule: FeeSchedule
    title: str


@dataclass(frozen=True)
class Button:
    """A next step under a reply; `data` goes back to `Answers.press` when pressed."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode()) > BUTTON_DATA_LIMIT:
            raise ValueError(f"button data over {BUTTON_DATA_LIMIT} bytes: {self.data!r}")


@dataclass(frozen=True)
class Reply:
    html: Html
    # Set when the reply changes the chat's language (/lang), for the adapter to store.
    language: str | None = None
    chart: Chart | None = None
    buttons: tuple[Button, ...] = ()
    # The ids of the rules the reply rests on, in the order it uses them: for operators and tools
    # (`policybot ask --json`), never shown to a seller.
    rules: tuple[str, ...] = ()

    @property
    def plain(self) -> str:
        return to_plain_text(self.html)
