"""Money: Decimal amounts rounded half-up to cents, and their display."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CNY": "¥"}


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """$1.80, -$1.26, £0.90; unknown currencies as "1.80 RON"."""
    value = round_cents(amount)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {currency}"


def format_rate(rate: Decimal) -> str:
    """0.17 -> 17%, 0.025 -> 2.5%."""
    percent = (rate * 100).normalize()
    text = f"{percent:f}"
    return f"{text}%"


def format_number(value: Decimal) -> str:
    """A figure without trailing zeros: 28, 0.5, 5,000."""
    normal = value.normalize()
    if normal == normal.to_integral_value():
        return f"{int(normal):,}"
    return f"{normal:,f}"
