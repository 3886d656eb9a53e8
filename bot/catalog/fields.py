"""The field types every part of a policy file shares: identifiers, amounts, texts, time zones, confidence.

A leaf module: schema.py (rules) and fba_schema.py (FBA rate cards) both build on it, and it imports
neither, so the two never import each other.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "ID_PATTERN",
    "MARKETPLACE_PATTERN",
    "Amount",
    "ClockTime",
    "Confidence",
    "Identifier",
    "Strict",
    "Text",
    "TimeZoneName",
]

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*[a-z0-9]$"
MARKETPLACE_PATTERN = r"^(?:[A-Z]{2}|EU|ALL)$"


def _exact_decimal(value: Any) -> Decimal:
    """Accept "1.80" or 2, refuse 1.8: a float in a policy file has already lost its exact value."""
    if isinstance(value, (bool, float)):
        raise ValueError('write numbers as a string such as "0.30" or as a whole number, not a float')
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return number
    raise ValueError('expected a number written as a string such as "0.30"')


def _non_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder: IsADirectoryError
        raise ValueError(f'{value!r} is not an IANA time zone such as "America/New_York"') from None
    return value


def _clock_time(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not a time of day written HH:MM")
    return value


Amount = Annotated[Decimal, BeforeValidator(_exact_decimal), AfterValidator(_non_negative)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
ClockTime = Annotated[str, AfterValidator(_clock_time)]
Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=80)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Text(Strict):
    """A text in both languages the bot speaks."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
