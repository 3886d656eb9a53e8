"""A chat's SKUs in SQLite: replaced as a whole by an import (one transaction), listed, erased.

The file itself is never stored: only the parsed rows and when, from which file name, they came.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal

from bot.money import Money
from bot.skus.read import MARKETPLACE_CURRENCY, SkuFile, SkuRow
from bot.store import Store

__all__ = ["ImportInfo", "SkuRecords", "skus_version"]

# Bumped by every import and erase in this process, per database file and chat. With the import record
# (file, row count, time) it tells a cache that a chat's SKUs changed, even for two imports in one second.
_changes = itertools.count(1)
_last_change: dict[tuple[str, int], int] = {}


def _database_file(store: Store) -> str:
    return str(store.db.execute("PRAGMA database_list").fetchone()[2])


def skus_version(store: Store, chat_id: int) -> tuple[object, ...] | None:
    """What identifies the chat's stored SKUs (None: it has none); it differs after any import or erase."""
    info = SkuRecords(store).info(chat_id)
    if info is None:
        return None
    return (info, _last_change.get((_database_file(store), chat_id), 0))


@dataclass(frozen=True)
class ImportInfo:
    file_name: str
    kind: str
    rows: int
    imported_at: dt.datetime


_COLUMNS = (
    "chat_id, sku, row, category, price, marketplace, asin, name, currency, size_tier, "
    "longest, median, shortest, weight_lb, monthly_units, days_of_supply, report_fba_fee"
)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class SkuRecords:
    """The seller_skus and seller_sku_imports tables of the store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def replace(self, chat_id: int, file: SkuFile, file_name: str, actor_id: int | None = None) -> int:
        """Put the file's SKUs in place of the chat's previous ones, all or nothing; return the count."""
        db = self._store.db
        with self._store.transaction():
            db.execute("DELETE FROM seller_skus WHERE chat_id = ?", [chat_id])
            db.conn.executemany(
                f"INSERT INTO seller_skus ({_COLUMNS}) VALUES ({', '.join('?' * 17)})",
                (
                    (
                        chat_id,
                        r.sku,
                        r.row,
                        r.category,
                        str(r.price.amount),
                        r.marketplace,
                        r.asin,
                        r.name,
                        r.price.currency,
                        r.size_tier,
                        _text(r.longest),
                        _text(r.median),
                        _text(r.shortest),
                        _text(r.weight_lb),
                        r.monthly_units,
                        _text(r.days_of_supply),
                        _text(r.report_fba_fee.amount) if r.report_fba_fee else None,
                    )
                    for r in file.rows
                ),
            )
            db.execute(
                "INSERT OR REPLACE INTO seller_sku_imports "
                "(chat_id, file_name, kind, rows, imported_at, imported_by) VALUES (?, ?, ?, ?, ?, ?)",
                [chat_id, file_name[:200], file.kind, len(file.rows), self._now(), actor_id],
            )
        self._changed(chat_id)
        return len(file.rows)

    def delete(self, chat_id: int) -> int:
        """Erase the chat's SKUs and the record of the import; return how many SKUs there were."""
        db = self._store.db
        with self._store.transaction():
            count = int(
                db.execute("SELECT count(*) FROM seller_skus WHERE chat_id = ?", [chat_id]).fetchone()[0]
            )
            db.execute("DELETE FROM seller_skus WHERE chat_id = ?", [chat_id])
            db.execute("DELETE FROM seller_sku_imports WHERE chat_id = ?", [chat_id])
        self._changed(chat_id)
        return count

    def info(self, chat_id: int) -> ImportInfo | None:
        row = self._store.db.execute(
            "SELECT file_name, kind, rows, imported_at FROM seller_sku_imports WHERE chat_id = ?", [chat_id]
        ).fetchone()
        if row is None:
            return None
        return ImportInfo(row[0], row[1], int(row[2]), dt.datetime.fromisoformat(row[3]))

    def has_skus(self, chat_id: int) -> bool:
        found = self._store.db.execute("SELECT 1 FROM seller_skus WHERE chat_id = ? LIMIT 1", [chat_id])
        return found.fetchone() is not None

    def rows(self, chat_id: int) -> list[SkuRow]:
        cursor = self._store.db.execute(
            f"SELECT {_COLUMNS} FROM seller_skus WHERE chat_id = ? ORDER BY row", [chat_id]
        )
        rows = []
        for r in cursor:
            # Migration 2 gave every row its currency; a marketplace it did not know takes today's map.
            currency = r[8] or MARKETPLACE_CURRENCY.get(r[5], "USD")
            rows.append(self._row(r, currency))
        return rows

    @staticmethod
    def _row(r: tuple[object, ...], currency: str) -> SkuRow:
        def decimal(index: int) -> Decimal | None:
            value = r[index]
            return None if value is None else Decimal(str(value))

        fee = decimal(16)
        return SkuRow(
            row=int(str(r[2])),
            sku=str(r[1]),
            category=str(r[3]),
            price=Money(Decimal(str(r[4])), currency),
            marketplace=str(r[5]),
            asin=None if r[6] is None else str(r[6]),
            name=None if r[7] is None else str(r[7]),
            size_tier=None if r[9] is None else str(r[9]),
            longest=decimal(10),
            median=decimal(11),
            shortest=decimal(12),
            weight_lb=decimal(13),
            monthly_units=None if r[14] is None else int(str(r[14])),
            days_of_supply=decimal(15),
            report_fba_fee=None if fee is None else Money(fee, currency),
        )

    def _changed(self, chat_id: int) -> None:
        _last_change[(_database_file(self._store), chat_id)] = next(_changes)

    def _now(self) -> str:
        return self._store.clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
