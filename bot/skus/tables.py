"""The SKU tables: a seller's SKUs per chat and the import they came from. Created and migrated through
the store's runner; other packages ask bot.skus, never SQL on these tables.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.store import Migrations, register

__all__ = ["SKU_MIGRATIONS"]


def _create_seller_skus(db: Database) -> None:
    # A seller's SKUs per chat (bot/skus/): replaced as a whole by each import, erased by /skus delete.
    # Decimals are kept as text so no cent is lost; sides are sorted, in inches; weights in pounds.
    db.execute(
        """
        CREATE TABLE seller_skus (
            chat_id INTEGER NOT NULL,
            sku TEXT NOT NULL,
            row INTEGER NOT NULL,
            category TEXT NOT NULL,
            price TEXT NOT NULL,
            marketplace TEXT NOT NULL,
            asin TEXT,
            name TEXT,
            currency TEXT,
            size_tier TEXT,
            longest TEXT,
            median TEXT,
            shortest TEXT,
            weight_lb TEXT,
            monthly_units INTEGER,
            days_of_supply TEXT,
            PRIMARY KEY (chat_id, sku)
        )
        """
    )
    db.execute(
        """
        CREATE TABLE seller_sku_imports (
            chat_id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            kind TEXT NOT NULL,
            rows INTEGER NOT NULL,
            imported_at TEXT NOT NULL,
            imported_by INTEGER
        )
        """
    )


def _move_chat(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """A seller's SKUs move whole, never merged: the new chat's own import, if it has one, wins."""
    has_own = db.execute("SELECT 1 FROM seller_sku_imports WHERE chat_id = ?", [new_chat_id])
    if has_own.fetchone() is None:
        for table in ("seller_skus", "seller_sku_imports"):
            db.execute(f"UPDATE {table} SET chat_id = ? WHERE chat_id = ?", [new_chat_id, old_chat_id])
    for table in ("seller_skus", "seller_sku_imports"):
        db.execute(f"DELETE FROM {table} WHERE chat_id = ?", [old_chat_id])


# Each marketplace's currency as of this step (issue #16); written out here, not imported, so the step
# does the same thing whenever it runs.
_CURRENCY_OF_MARKETPLACE_AT_STEP_2 = {
    "US": "USD", "UK": "GBP", "DE": "EUR", "FR": "EUR", "IT": "EUR", "ES": "EUR", "EU": "EUR",
    "CA": "CAD", "MX": "MXN", "JP": "JPY",
}  # fmt: skip


def _currency_of_every_amount(db: Database) -> None:
    """Every SKU amount carries its currency (#16): existing rows take their marketplace's currency, so a
    UK row stored as "14" with no currency (once shown as $14.00) becomes £14.00; and the fulfilment fee a
    Fee Preview report states is kept, for marketplaces whose rate card we do not hold."""
    for marketplace, currency in _CURRENCY_OF_MARKETPLACE_AT_STEP_2.items():
        db.execute("UPDATE seller_skus SET currency = ? WHERE marketplace = ?", [currency, marketplace])
    db.execute("ALTER TABLE seller_skus ADD COLUMN report_fba_fee TEXT")


# Step 1 was global migration 5 before the split.
SKU_MIGRATIONS = register(
    Migrations("skus", (_create_seller_skus, _currency_of_every_amount), move_chat=_move_chat)
)
