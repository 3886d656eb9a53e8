"""Money: Decimal amounts rounded half-up to cents, and their display."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
YEN = Decimal(1)
# "¥" alone is the yuan here (our readers are mostly Chinese sellers), so the yen is written JP¥.
SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CNY": "¥", "JPY": "JP¥", "CAD": "C$", "MXN": "MX$"}
# The smallest unit each currency is counted in (ISO 4217 minor units); cents unless listed.
MINOR_UNITS = {"JPY": YEN}


def round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def minor_unit(currency: str) -> Decimal:
    """0.01 for dollars, pounds and euros; 1 for the yen, which has no cents."""
    return MINOR_UNITS.get(currency, CENT)


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's smallest unit: cents, or whole yen."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str) -> str:
    """$1.80, -$1.26, £0.90, JP¥1,234; unknown currencies as "1.80 RON"."""
    value = round_money(amount, currency)
    sign = "-" if value < 0 else ""
    digits = f"{abs(value):,.0f}" if minor_unit(currency) == YEN else f"{abs(value):,.2f}"
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
