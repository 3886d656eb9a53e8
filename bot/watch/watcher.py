"""The page watcher: notice, within hours, when an official page behind a rule changes.

Sources are every http(s) source of every rule (a "report:..." source is not a page) plus the pages
the config lists. Each is checked on its own schedule (`interval`, 6 hours by default, ±10% jitter so
checks spread out; a new source at once), through one shared httpx client with bounded concurrency,
conditional GETs (a 304 costs one request and nothing else) and the safety rules of `bot.watch.fetch`
(http(s) only, public addresses only unless allowed, redirects checked hop by hop, body capped,
Retry-After honoured).

A check's text is the page's visible text, normalised by `bot.watch.text` (volatile bits such as
"Last updated: ..." masked); a page changed when the sha256 of that text differs from the last one
stored. The first fetch stores a baseline ("first"), later ones report "changed" with a short diff,
"unchanged", or "not_modified" (304). Each version's text is kept in `page_snapshots`.

Failures are counted per source. After `failures_before_alert` in a row, the result carries
alert="failing", once; the first success after that carries alert="recovered", once. A failed check
is retried at the source's normal interval; a 429 or 503 with Retry-After is not retried before the
time it gives (at most 7 days), not even by a check asked for by hand: that one is "skipped".

`check` and `check_all` check what they are given; `due` picks what is due. So a scheduler runs
`check_all(due(sources, now))`, and an operator's "check now" runs `check_all(sources)`.

Exceptions:

    InvalidSource    (also a ValueError) a page the watcher cannot watch: not http(s), a bad selector,
                     a non-positive interval

Everything that goes wrong while checking (network, HTTP status, refused address, a selector that
matches nothing) is a "failed" CheckResult, never an exception.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.catalog import Catalog, Text
from bot.store import Store
from bot.watch.fetch import (
    AddressGuard,
    FetchedPage,
    Fetcher,
    FetchError,
    HTTPStatusFailure,
    guarded_client,
)
from bot.watch.text import PageTextError, check_selector, page_text, short_diff, text_hash

__all__ = [
    "DEFAULT_INTERVAL",
    "JITTER",
    "CheckResult",
    "InvalidSource",
    "Source",
    "WatchSettings",
    "Watcher",
    "last_snapshot_text",
    "page_changes",
    "short_diff",
    "snapshot_texts",
    "sources_from",
    "watched_pages",
]

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = dt.timedelta(hours=6)
JITTER = 0.10  # each next check is planned at interval × a uniform factor in [1 - JITTER, 1 + JITTER]


class InvalidSource(ValueError):
    """A page the watcher cannot watch: not http(s), a bad CSS selector, or a non-positive interval."""


@dataclass(frozen=True)
class Source:
    """A page to watch: its URL, and optionally the part of it that matters (a CSS selector)."""

    url: str
    selector: str | None = None
    platform: str | None = None
    interval: dt.timedelta = DEFAULT_INTERVAL
    rule_id: str | None = None
    about: Text | None = None  # what to look for (a policy file's page to watch), shown to the operators

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
            host = parts.hostname
        except ValueError:  # "http://[::1" and the like
            host = None
        if host is None or parts.scheme.lower() not in ("http", "https"):
            raise InvalidSource(f"{self.url!r}: only http and https URLs with a host are watched")
        if self.selector is not None:
            try:
                check_selector(self.selector)
            except ValueError as error:
                raise InvalidSource(f"{self.url}: {error}") from None
        if self.interval <= dt.timedelta(0):
            raise InvalidSource(f"{self.url}: the interval must be positive, not {self.interval}")

    @property
    def key(self) -> str:
        """Stable identity of this page and selector: url#selector, or the url alone."""
        return f"{self.url}#{self.selector}" if self.selector else self.url


@dataclass(frozen=True)
class WatchSettings:
    allow_hosts: tuple[str, ...] = ()  # hosts (as written in URLs) exempt from the public-address check
    max_bytes: int = 2_000_000  # body cap, before and after decompression
    timeout: float = 20.0  # seconds for a whole fetch: every redirect, the body included
    concurrency: int = 8  # checks (and connections) at once
    max_redirects: int = 5
    failures_before_alert: int = 3
    user_agent: str = "policybot/0.1 (+policy page watcher)"
    keep_snapshots: int = 10  # versions of each page's text kept; older ones are pruned
    ca_file: str | None = None  # a CA bundle to trust instead of the system's (a TLS-inspecting proxy)


@dataclass(frozen=True)
class CheckResult:
    source: Source
    status: str  # "first", "changed", "unchanged", "not_modified", "failed", "skipped" (Retry-After)
    diff: str = ""  # short_diff text when changed
    error: str | None = None
    alert: str | None = None  # "failing" or "recovered", at most once per episode
    http_status: int | None = None
    # When changed: the page's text before and after, for a proposal (bot.watch.proposal).
    previous_text: str | None = None
    text: str | None = None


def sources_from(catalog: Catalog, pages: Iterable[Source]) -> list[Source]:
    """The http(s) sources of every rule, the policy files' pages to watch, then the config's, one per key.

    A rule source carries its rule's platform and id (the first rule, when several cite one page). A
    policy file's page (`[[watch]]`, unconfirmed measures that ship with the catalog) carries its
    platform. A config page with the same key replaces either, keeping the rule's id and, if it names
    none, the platform.
    """
    found: dict[str, Source] = {}
    for rule_id in sorted(catalog.rules):
        for cited in catalog.rules[rule_id].sources:
            if not cited.url.lower().startswith(("http://", "https://")):
                continue  # "report:..." names a document, not a page
            try:
                source = Source(url=cited.url, platform=catalog.rule_platform[rule_id], rule_id=rule_id)
            except InvalidSource as error:
                logger.warning("rule %s: not watched: %s", rule_id, error)
                continue
            found.setdefault(source.key, source)
    for platform, listed in catalog.watch_pages():
        try:
            source = Source(url=listed.url, platform=platform, about=listed.about)
        except InvalidSource as error:
            logger.warning("%s: page to watch not watched: %s", platform, error)
            continue
        found.setdefault(source.key, source)
    for page in pages:
        known = found.get(page.key)
        if known is not None:
            page = dataclasses.replace(
                page,
                platform=page.platform or known.platform,
                rule_id=page.rule_id or known.rule_id,
                about=page.about or known.about,
            )
        found[page.key] = page
    return list(found.values())


def last_snapshot_text(store: Store, key: str) -> str | None:
    """The text of the latest version stored for the source with this key, if any."""
    row = store.db.execute(
        "SELECT text FROM page_snapshots WHERE key = ? ORDER BY id DESC LIMIT 1", [key]
    ).fetchone()
    return None if row is None else str(row[0])


def snapshot_texts(store: Store, key: str, count: int = 2) -> list[str]:
    """The texts of the page's latest `count` stored versions, newest first."""
    rows = store.db.execute(
        "SELECT text FROM page_snapshots WHERE key = ? ORDER BY id DESC LIMIT ?", [key, count]
    ).fetchall()
    return [str(row[0]) for row in rows]


def page_changes(store: Store) -> dict[str, dt.datetime]:
    """When each watched URL last changed (the latest over its selectors), by URL as watched."""
    found: dict[str, dt.datetime] = {}
    rows = store.db.execute("SELECT url, last_changed_at FROM page_sources WHERE last_changed_at IS NOT NULL")
    for url, changed in rows.fetchall():
        moment = dt.datetime.fromisoformat(changed)
        found[url] = max(found.get(url, moment), moment)
    return found


def watched_pages(store: Store) -> dict[str, str]:
    """Every page the watcher has stored: key -> URL, by key."""
    rows = store.db.execute("SELECT key, url FROM page_sources ORDER BY key").fetchall()
    return {str(key): str(url) for key, url in rows}


@dataclass(frozen=True)
class _State:
    etag: str | None
    last_modified: str | None
    last_hash: str | None
    last_checked_at: dt.datetime | None
    next_check_at: dt.datetime | None
    not_before: dt.datetime | None
    consecutive_failures: int
    failing_alerted: bool


class Watcher:
    """Checks sources and records what it saw in the store (tables page_sources and page_snapshots).

    Without `client`, the watcher builds and owns a guarded one (see `bot.watch.fetch`), closed by
    `aclose`. A client passed in is used as it is (its addresses are checked before each request
    instead) and left open. `rng` draws the jitter; pass a seeded one for repeatable schedules.
    """

    def __init__(
        self,
        store: Store,
        settings: WatchSettings = WatchSettings(),  # frozen: a shared default is safe
        *,
        client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        if (
            min(
                settings.concurrency,
                settings.max_bytes,
                settings.failures_before_alert,
                settings.keep_snapshots,
            )
            < 1
        ):
            raise ValueError(
                "concurrency, max_bytes, failures_before_alert and keep_snapshots must be at least 1"
            )
        if settings.timeout <= 0 or settings.max_redirects < 0:
            raise ValueError("timeout must be positive and max_redirects not negative")
        self._store = store
        self._settings = settings
        self._rng = rng or random.Random()
        guard = AddressGuard(settings.allow_hosts)
        self._owns_client = client is None
        self._client = client or guarded_client(
            guard,
            timeout=settings.timeout,
            max_connections=settings.concurrency,
            user_agent=settings.user_agent,
            ca_file=settings.ca_file,
        )
        self._fetcher = Fetcher(
            self._client,
            guard,
            check_addresses=not self._owns_client,
            max_bytes=settings.max_bytes,
            timeout=settings.timeout,
            max_redirects=settings.max_redirects,
            user_agent=settings.user_agent,
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Watcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- schedule ---

    def due(self, sources: Sequence[Source], now: dt.datetime) -> list[Source]:
        """The sources to check at `now`, in the given order.

        Due: never checked; or its planned next check (interval ±10% after the last) has come; or
        its current interval +10% has passed since the last check, so a shortened interval counts at
        once. Never before a server's Retry-After time.
        """
        states = {key: _state_from_row(row) for key, row in self._rows().items()}
        return [source for source in sources if _is_due(source, states.get(source.key), now)]

    # --- checks ---

    async def check_all(
        self, sources: Sequence[Source], progress: Callable[[CheckResult], None] | None = None
    ) -> list[CheckResult]:
        """Check every source, at most `concurrency` at once; results in the order of `sources`.

        `progress` is called with each result as it comes (in completion order).
        """
        limit = asyncio.Semaphore(self._settings.concurrency)

        async def one(source: Source) -> CheckResult:
            async with limit:
                result = await self.check(source)
            if progress is not None:
                progress(result)
            return result

        return list(await asyncio.gather(*(one(source) for source in sources)))

    async def check(self, source: Source) -> CheckResult:
        """Fetch `source` once (unless a Retry-After holds it back) and record the outcome."""
        state = self._state(source.key)
        now = self._store.clock.now()
        if state is not None and state.not_before is not None and now < state.not_before:
            return CheckResult(
                source, "skipped", error=f"the server asked not to be fetched before {_iso(state.not_before)}"
            )
        # Validators only with a baseline: without a stored text, a 304 would leave nothing to compare.
        baseline = state if state is not None and state.last_hash is not None else None
        text: str | None = None
        try:
            async with asyncio.timeout(self._settings.timeout):
                page = await self._fetcher.fetch(
                    source.url,
                    etag=baseline.etag if baseline else None,
                    last_modified=baseline.last_modified if baseline else None,
                )
            if page.status == 304 and baseline is None:
                raise FetchError("HTTP 304 Not Modified to a request that had nothing to compare with")
            if page.status != 304:
                # Parsing a large page takes a while: off the event loop, so other checks keep pace.
                text = await asyncio.to_thread(
                    page_text, page.body, page.content_type, page.charset, source.selector
                )
        except HTTPStatusFailure as error:
            return self._record_failure(source, str(error), error.status, error.retry_after)
        except (TimeoutError, httpx.TimeoutException):
            return self._record_failure(source, f"timed out (limit {self._settings.timeout:g} s)")
        except (FetchError, PageTextError) as error:
            return self._record_failure(source, str(error))
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as error:
            return self._record_failure(source, _describe(error))
        except Exception as error:
            # A page that trips a bug must not stop the others; the traceback goes to the log.
            logger.exception("unexpected error checking %s", source.url)
            return self._record_failure(source, f"unexpected error: {_describe(error)}")
        if text is None:
            return self._record_not_modified(source, page)
        return await self._record_text(source, page, text)

    # --- recording ---

    def _record_failure(
        self, source: Source, error: str, http_status: int | None = None, retry_after: float | None = None
    ) -> CheckResult:
        alert = None
        with self._store.transaction():
            state = self._upsert(source)
            now = self._store.clock.now()
            failures = state.consecutive_failures + 1
            alerted = state.failing_alerted
            if failures >= self._settings.failures_before_alert and not alerted:
                alert, alerted = "failing", True
            next_check = now + self._jittered(source.interval)
            not_before = None
            if retry_after is not None:
                # Rounded up to the second stored: never a moment before the time the server gave.
                not_before = _ceil_second(now + dt.timedelta(seconds=retry_after))
                next_check = max(next_check, not_before)
            self._update(
                source.key,
                last_checked_at=_iso(now),
                next_check_at=_iso(next_check),
                not_before=_iso(not_before) if not_before is not None else None,
                consecutive_failures=failures,
                failing_alerted=int(alerted),
                last_error=error,
            )
        log = logger.warning if alert else logger.info
        log("watch %s failed (%d in a row): %s", source.url, failures, error)
        return CheckResult(source, "failed", error=error, alert=alert, http_status=http_status)

    def _record_not_modified(self, source: Source, page: FetchedPage) -> CheckResult:
        with self._store.transaction():
            state = self._upsert(source)
            alert = self._succeeded(source, state, {})
        return CheckResult(source, "not_modified", alert=alert, http_status=page.status)

    def _succeeded(self, source: Source, state: _State, changes: dict[str, Any]) -> str | None:
        """Record a success (inside a transaction); return "recovered" if a failing alert was given."""
        now = self._store.clock.now()
        self._update(
            source.key,
            last_checked_at=_iso(now),
            next_check_at=_iso(now + self._jittered(source.interval)),
            not_before=None,
            consecutive_failures=0,
            failing_alerted=0,
            last_error=None,
            **changes,
        )
        return "recovered" if state.failing_alerted else None

    async def _record_text(self, source: Source, page: FetchedPage, text: str) -> CheckResult:
        digest = text_hash(text)
        previous: str | None = None
        with self._store.transaction():
            # Compared under the write lock: another process checking the same page at the same time
            # cannot make both report the change, or neither.
            state = self._upsert(source)
            if state.last_hash == digest:
                status = "unchanged"
            else:
                status = "first" if state.last_hash is None else "changed"
                if status == "changed":
                    previous = last_snapshot_text(self._store, source.key) or ""
                self._store.db.execute(
                    "INSERT INTO page_snapshots (key, fetched_at, hash, text) VALUES (?, ?, ?, ?)",
                    [source.key, _iso(self._store.clock.now()), digest, text],
                )
                self._prune_snapshots(source.key)
            # The validators are stored only with the text they belong to: a page whose text could
            # not be read must be fetched in full next time, not answered with a 304.
            validators: dict[str, Any] = {"etag": page.etag, "last_modified": page.last_modified}
            if status == "changed":
                validators["last_changed_at"] = _iso(self._store.clock.now())
            alert = self._succeeded(source, state, {**validators, "last_hash": digest})
        diff = "" if previous is None else await asyncio.to_thread(short_diff, previous, text)
        if status != "changed":
            return CheckResult(source, status, alert=alert, http_status=page.status)
        logger.info("watch %s changed", source.url)
        return CheckResult(
            source, status, diff=diff, alert=alert, http_status=page.status, previous_text=previous, text=text
        )

    # --- rows ---

    def _prune_snapshots(self, key: str) -> None:
        """Keep the page's last `keep_snapshots` versions: the diffs need only the latest; a few more
        help an operator see how a page moved, and the table stays small however long the bot runs."""
        self._store.db.execute(
            "DELETE FROM page_snapshots WHERE key = ? AND id NOT IN"
            " (SELECT id FROM page_snapshots WHERE key = ? ORDER BY id DESC LIMIT ?)",
            [key, key, self._settings.keep_snapshots],
        )

    def _jittered(self, interval: dt.timedelta) -> dt.timedelta:
        return interval * self._rng.uniform(1 - JITTER, 1 + JITTER)

    def _rows(self) -> dict[str, dict[str, Any]]:
        return {row["key"]: row for row in self._select("")}

    def _state(self, key: str) -> _State | None:
        rows = self._select("WHERE key = ?", key)
        return _state_from_row(rows[0]) if rows else None

    def _select(self, where: str, *params: object) -> list[dict[str, Any]]:
        cursor = self._store.db.execute(f"SELECT * FROM page_sources {where}", list(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]

    def _upsert(self, source: Source) -> _State:
        """The source's row (created if new, url/selector/platform kept current), read under the lock."""
        self._store.db.execute(
            "INSERT INTO page_sources (key, url, selector, platform) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET url = excluded.url, selector = excluded.selector,"
            " platform = excluded.platform",
            [source.key, source.url, source.selector, source.platform],
        )
        state = self._state(source.key)
        assert state is not None
        return state

    def _update(self, key: str, **values: Any) -> None:
        # Column names come from this module only, never from outside.
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._store.db.execute(
            f"UPDATE page_sources SET {assignments} WHERE key = ?", [*values.values(), key]
        )


def _is_due(source: Source, state: _State | None, now: dt.datetime) -> bool:
    if state is None or state.last_checked_at is None:
        return True
    if state.not_before is not None and now < state.not_before:
        return False
    planned = state.next_check_at or now
    latest = state.last_checked_at + source.interval * (1 + JITTER)
    return now >= min(planned, latest)


def _state_from_row(row: dict[str, Any]) -> _State:
    return _State(
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_hash=row["last_hash"],
        last_checked_at=_parse(row["last_checked_at"]),
        next_check_at=_parse(row["next_check_at"]),
        not_before=_parse(row["not_before"]),
        consecutive_failures=int(row["consecutive_failures"]),
        failing_alerted=bool(row["failing_alerted"]),
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _ceil_second(moment: dt.datetime) -> dt.datetime:
    whole = moment.replace(microsecond=0)
    return whole if whole == moment else whole + dt.timedelta(seconds=1)


def _parse(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def _describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
