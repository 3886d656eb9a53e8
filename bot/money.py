"""Money: amounts with their currency (`Money`, per-currency `Totals`), rounded half-up, and their display."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies were added, subtracted or compared."""


@dataclass(frozen=True, order=False)
class Money:
    """An amount with its currency, from the moment a price is read to the moment it is shown.

    Adding or comparing amounts of two currencies raises CurrencyMismatch: a pound never silently
    becomes a dollar. Totals over several currencies are kept per currency (`Totals`).
    """

    amount: Decimal
    currency: str  # ISO 4217, e.g. "USD"

    def __post_init__(self) -> None:
        if len(self.currency) != 3 or not self.currency.isalpha() or not self.currency.isupper():
            raise ValueError(f"{self.currency!r} is not an ISO 4217 currency code such as USD")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} and {other.currency} cannot be combined")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._same(other)
        return self.amount >= other.amount

    def rounded(self) -> Money:
        """Half-up to the currency's smallest unit."""
        return Money(round_money(self.amount, self.currency), self.currency)

    def format(self) -> str:
        """$1.80, £0.90, JP¥1,234 (see format_money)."""
        return format_money(self.amount, self.currency)

    def __str__(self) -> str:
        return self.format()


class Totals:
    """Sums kept per currency: adding a pound amount to a dollar total starts a pound total."""

    def __init__(self, amounts: Iterable[Money] = ()) -> None:
        self._sums: dict[str, Money] = {}
        for money in amounts:
            self.add(money)

    def add(self, money: Money) -> None:
        current = self._sums.get(money.currency)
        self._sums[money.currency] = money if current is None else current + money

    def __iter__(self) -> Iterator[Money]:
        """Each currency's total, by currency code."""
        return iter(self._sums[code] for code in sorted(self._sums))

    def __len__(self) -> int:
        return len(self._sums)

    def get(self, currency: str) -> Money:
        return self._sums.get(currency, Money.zero(currency))

    def format(self, separator: str = " + ") -> str:
        """ "$12.00 + £3.50", one term per currency; "" when empty."""
        return separator.join(money.format() for money in self)
