"""What a SKU upload may be: the limits that keep a hostile or broken file from costing memory or time.

Every check runs before the expensive step it guards: the size before anything is read; for an .xlsx,
the unpacked size and compression ratio from the zip's central directory before openpyxl opens it
(CPython's zipfile never inflates an entry past the size the directory declares, so the declared sizes
bound the work); rows, columns and cell lengths as the rows stream by. A refused file raises
SkuFileError naming the limit, so the chat's stored SKUs stay as they were.

XML entity bombs inside an .xlsx are refused by the XML parser itself (expat 2.4 and later limit entity
amplification); openpyxl's read-only mode streams the sheet, so only one row is in memory at a time.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bot.skus.errors import SkuFileError

__all__ = [
    "DEFAULT_LIMITS",
    "SNIFF_BYTES",
    "UploadLimits",
    "UploadRefused",
    "bounded_rows",
    "check_size",
    "check_xlsx_archive",
    "human_bytes",
    "readable_xlsx",
    "sniff_delimiter",
]

# How much of a text file's first line decides its delimiter: a header is a few hundred characters, and
# a bounded sample keeps a file with no line break from being scanned whole to find its first line.
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """The limits of one SKU upload (config `[skus]`)."""

    # Telegram lets bots download 20 MB; a Fee Preview report of 50,000 SKUs is about 12 MB as text.
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 100_000  # SKU rows, the header and blank rows not counted
    max_columns: int = 1_000  # Amazon's Fee Preview report has about 30
    max_cell_chars: int = 5_000  # an Amazon title is at most 200 characters
    # An .xlsx: what its zip entries unpack to together, and the largest ratio of any entry. Sheet XML
    # usually compresses 5 to 20 times; a zip bomb thousands of times. openpyxl holds the shared strings
    # in memory, so the unpacked size bounds them too.
    max_unpacked_bytes: int = 100 * 1024 * 1024
    max_compression_ratio: int = 100


DEFAULT_LIMITS = UploadLimits()


class UploadRefused(SkuFileError):
    """The file breaks one of the upload limits; the message names the limit."""


def human_bytes(count: int) -> str:
    """10485760 -> "10 MB" (binary megabytes, as file managers show them), small sizes in KB."""
    if count >= 1024 * 1024:
        return f"{count / (1024 * 1024):g} MB"
    return f"{count / 1024:g} KB"


def check_size(size: int, limits: UploadLimits) -> None:
    """Refuse a file larger than the limit (call it with Telegram's file_size before downloading, too)."""
    if size > limits.max_bytes:
        raise _refused("skus_too_big", limit=human_bytes(limits.max_bytes))


def check_xlsx_archive(data: bytes, limits: UploadLimits) -> None:
    """Refuse an .xlsx whose entries would unpack past the limits, reading only the zip's directory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return  # not a readable zip: openpyxl refuses it next, in its own words (SkuFileError)
    total = 0
    for entry in entries:
        total += entry.file_size
        if total > limits.max_unpacked_bytes:
            raise _refused("skus_limit_unpacked", limit=human_bytes(limits.max_unpacked_bytes))
        # A stored (uncompressed) or tiny entry cannot be a bomb; the ratio matters past a few KB.
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > 64 * 1024 and ratio > limits.max_compression_ratio:
            raise _refused(
                "skus_limit_ratio", name=entry.filename[:60], limit=str(limits.max_compression_ratio)
            )


def readable_xlsx(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    """The rows of an .xlsx reader, with any failure of openpyxl on a malformed file (a bad deflate
    stream, broken XML, a missing part: it raises assorted exceptions, zlib.error, ParseError, KeyError,
    TypeError ...) turned into SkuFileError("skus_bad_xlsx"). Opening happens at the first row, so it
    is covered too. Our own refusals pass through unchanged."""
    try:
        yield from rows
    except SkuFileError:
        raise
    except Exception as error:  # see above: openpyxl has no error type of its own for a corrupt file
        raise SkuFileError("skus_bad_xlsx", error=f"{type(error).__name__}: {error}"[:200]) from None


def sniff_delimiter(text: str) -> str:
    """Tab or comma, from the first line of a bounded sample (whichever the header uses more)."""
    first = text[:SNIFF_BYTES].split("\n", 1)[0]
    return "\t" if first.count("\t") >= max(1, first.count(",")) else ","


def bounded_rows(rows: Iterable[list[str]], limits: UploadLimits) -> Iterator[list[str]]:
    """The rows as they come, refusing the file at the first one past a limit (line 1 is the header)."""
    filled = 0
    for line, values in enumerate(rows, start=1):
        # A sheet pads short rows with empty cells; only cells that hold something count.
        if len(values) > limits.max_columns and any(values[limits.max_columns :]):
            raise _refused("skus_limit_columns", row=line, limit=f"{limits.max_columns:,}")
        for column, value in enumerate(values, start=1):
            if len(value) > limits.max_cell_chars:
                raise _refused("skus_limit_cell", row=line, column=column, limit=f"{limits.max_cell_chars:,}")
        if line > 1 and any(value.strip() for value in values):
            filled += 1
            if filled > limits.max_rows:
                raise _refused("skus_too_many_rows", limit=f"{limits.max_rows:,}")
        yield values


def _refused(key: str, **values: object) -> UploadRefused:
    return UploadRefused(key, **values)
