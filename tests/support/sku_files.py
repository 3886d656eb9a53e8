"""Seller SKU files as Amazon writes them: the Fee Preview report in its five public variants.

The column lists, in file order (Amazon publishes none; these are the MWS-era layouts a widely used PHP
client checks headers against, CaponicaAmazonMwsComplete `ReportFbaPaymentsFeePreview`, and the reference
/work/shared/reference/referral-fees.md § B): US 25 columns, UK 29, UK with the future-fee columns 37,
Europe 28, Canada 22. Parsers must map by header name: these tests write each variant whole.
"""

from __future__ import annotations

_COMMON_HEAD = ["sku", "fnsku", "asin", "product-name", "product-group", "brand", "fulfilled-by"]
_SIZES = [
    "longest-side", "median-side", "shortest-side", "length-and-girth", "unit-of-dimension",
    "item-package-weight", "unit-of-weight",
]  # fmt: skip
_EFN = [f"expected-efn-fulfilment-fee-per-unit-{store}" for store in ("uk", "de", "fr", "it", "es")]

FEE_PREVIEW_HEADER = [
    *_COMMON_HEAD, "your-price", "sales-price", *_SIZES, "product-size-tier", "currency",
    "estimated-fee-total", "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "estimated-order-handling-fee-per-order",
    "estimated-pick-pack-fee-per-unit", "estimated-weight-handling-fee-per-unit",
    "expected-fulfillment-fee-per-unit",
]  # fmt: skip

UK_HEADER = [
    *_COMMON_HEAD, "has-local-inventory", "your-price", "sales-price", *_SIZES, "product-size-weight-band",
    "currency", "estimated-fee-total", "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "estimated-order-handling-fee-per-order", "expected-domestic-fulfilment-fee-per-unit", *_EFN,
]  # fmt: skip

UK_FUTURE_HEADER = [
    *UK_HEADER[:24],  # up to expected-domestic-fulfilment-fee-per-unit
    "estimated-future-fee (Current Selling on Amazon + Future Fulfillment fees)",
    "estimated-future-order-handling-fee-per-order", "expected-future-domestic-fulfilment-fee-per-unit",
    *_EFN, *[name.replace("expected-efn", "expected-future-efn") for name in _EFN],
]  # fmt: skip

EUROPE_HEADER = [name for name in UK_HEADER if name != "estimated-order-handling-fee-per-order"]

CANADA_HEADER = [
    *_COMMON_HEAD, "your-price", "sales-price", *_SIZES, "currency", "estimated-fee-total",
    "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "estimated-pick-pack-fee-per-unit", "estimated-weight-handling-fee-per-unit",
]  # fmt: skip

VARIANTS = {
    "US": FEE_PREVIEW_HEADER,
    "UK": UK_HEADER,
    "UK-future": UK_FUTURE_HEADER,
    "Europe": EUROPE_HEADER,
    "Canada": CANADA_HEADER,
}
VARIANT_CURRENCY = {"US": "USD", "UK": "GBP", "UK-future": "GBP", "Europe": "EUR", "Canada": "CAD"}


def fee_preview_row(
    sku: str,
    group: str,
    price: str,
    sides: tuple[str, str, str],
    weight: str,
    unit: str,
    dims: str = "inches",
) -> str:
    values = {
        "sku": sku, "fnsku": "X00" + sku, "asin": "B0" + sku, "product-name": f"Item {sku}",
        "product-group": group, "brand": "Acme", "fulfilled-by": "Amazon", "your-price": price,
        "sales-price": price, "longest-side": sides[0], "median-side": sides[1], "shortest-side": sides[2],
        "length-and-girth": "0", "unit-of-dimension": dims, "item-package-weight": weight,
        "unit-of-weight": unit, "product-size-tier": "Small Standard", "currency": "USD",
    }  # fmt: skip
    return "\t".join(values.get(name, "0") for name in FEE_PREVIEW_HEADER)


def fee_preview(rows: list[str]) -> bytes:
    return ("\t".join(FEE_PREVIEW_HEADER) + "\n" + "\n".join(rows) + "\n").encode()


def variant_report(variant: str, rows: list[dict[str, str]]) -> bytes:
    """A Fee Preview report of one variant (a key of VARIANTS): each row names the cells it sets; the
    others are what Amazon writes for them ("--" for fees not stated, "0" elsewhere)."""
    header = VARIANTS[variant]
    defaults = {
        "fnsku": "X00", "asin": "B0", "product-name": "Item", "brand": "Acme", "fulfilled-by": "Amazon",
        "has-local-inventory": "Yes", "longest-side": "20", "median-side": "15", "shortest-side": "2",
        "length-and-girth": "54", "unit-of-dimension": "centimeters", "item-package-weight": "150",
        "unit-of-weight": "grams", "product-size-tier": "Small Standard",
        "product-size-weight-band": "Standard Parcel", "currency": VARIANT_CURRENCY[variant],
    }  # fmt: skip
    lines = ["\t".join(header)]
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"the {variant} variant has no column {sorted(unknown)}"
        cells = {**defaults, "sales-price": row.get("your-price", "0"), **row}
        lines.append("\t".join(cells.get(name, "--" if "fee" in name else "0") for name in header))
    return ("\n".join(lines) + "\n").encode()


SMALL = ("6", "4", "0.5")  # small standard by size: weight decides
