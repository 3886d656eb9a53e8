"""Seller SKU files as Amazon writes them: the Fee Preview report (US variant, tab-separated)."""

from __future__ import annotations

FEE_PREVIEW_HEADER = [
    "sku", "fnsku", "asin", "product-name", "product-group", "brand", "fulfilled-by", "your-price",
    "sales-price", "longest-side", "median-side", "shortest-side", "length-and-girth", "unit-of-dimension",
    "item-package-weight", "unit-of-weight", "product-size-tier", "currency", "estimated-fee-total",
    "estimated-referral-fee-per-unit", "estimated-variable-closing-fee",
    "estimated-order-handling-fee-per-order",
    "estimated-pick-pack-fee-per-unit", "estimated-weight-handling-fee-per-unit",
    "expected-fulfillment-fee-per-unit",
]  # fmt: skip


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


SMALL = ("6", "4", "0.5")  # small standard by size: weight decides
