"""The page watcher against a real HTTP server on 127.0.0.1 (a thread, a real socket) whose pages change.

Time moves by opening the store again with a later Clock, never by sleeping.
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.catalog.load import Catalog
from bot.clock import Clock
from bot.store import Store
from bot.watch.fetch import (
    AddressGuard,
    FetchError,
    GuardedNetworkBackend,
    RefusedURL,
    checked_url,
    refusal_reason,
    retry_after_seconds,
)
from bot.watch.text import PageTextError, mask_volatile, page_text
from bot.watch.watcher import (
    DEFAULT_INTERVAL,
    CheckResult,
    InvalidSource,
    Source,
    Watcher,
    WatchSettings,
    last_snapshot_text,
    short_diff,
    sources_from,
)

T0 = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)
UA = "policybot/0.1 (+policy page watcher)"


# --- the site -----------------------------------------------------------------------------------------


@dataclass
class Page:
    body: bytes = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    endless: bool = False
    drip: bool = False  # a byte at a time, never long enough apart for a read timeout
    gzip: bool = False


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    status: int = 0


class Site:
    """The pages the server serves, changed by the tests, and every request it received."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.base = ""
        self.port = 0

    def html(self, path: str, body: str, **options: object) -> str:
        self.pages[path] = Page(body=f"<html><body>{body}</body></html>".encode(), **options)  # type: ignore[arg-type]
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Request]:
        with self.lock:
            return [request for request in self.requests if request.path == path]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SiteServer

    def do_GET(self) -> None:
        site = self.server.site
        request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
        with site.lock:
            site.requests.append(request)
            site.active += 1
            site.max_active = max(site.max_active, site.active)
        try:
            self._answer(site.pages.get(self.path), request)
        except OSError:
            self.close_connection = True  # the client went away (a timeout, a cap)
        finally:
            with site.lock:
                site.active -= 1

    def _answer(self, page: Page | None, request: Request) -> None:
        if page is None:
            page = Page(status=404, body=b"not found", content_type="text/plain")
        if page.delay:
            time.sleep(page.delay)
        if page.endless:
            request.status = 200
            self._endless(b"<p>" + b"more " * 2000 + b"</p>", pause=0.0)
            return
        if page.drip:
            request.status = 200
            self._endless(b"x", pause=0.05)
            return
        modified = (page.etag is not None and request.headers.get("if-none-match") == page.etag) or (
            page.last_modified is not None and request.headers.get("if-modified-since") == page.last_modified
        )
        request.status = 304 if modified else page.status
        self.send_response(request.status)
        for name, value in (("ETag", page.etag), ("Last-Modified", page.last_modified)):
            if value is not None:
                self.send_header(name, value)
        for name, value in page.headers.items():
            self.send_header(name, value)
        if modified:
            self.end_headers()
            return
        body = gzip.compress(page.body) if page.gzip else page.body
        if page.gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _endless(self, chunk: bytes, pause: float) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        deadline = time.monotonic() + 30  # never ends, as far as a client with a cap can tell
        while time.monotonic() < deadline:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if pause:
                self.wfile.flush()
                time.sleep(pause)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: Site) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.site = site

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client hanging up mid-answer is what some tests do on purpose


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    server = SiteServer(site)
    site.port = server.server_address[1]
    site.base = f"http://127.0.0.1:{site.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


SETTINGS = WatchSettings(allow_hosts=("127.0.0.1",), timeout=3.0, max_bytes=200_000)


@asynccontextmanager
async def watching(
    path: Path,
    at: dt.datetime = T0,
    settings: WatchSettings = SETTINGS,
    client: httpx.AsyncClient | None = None,
) -> AsyncIterator[Watcher]:
    """A watcher on the store at `path` whose clock reads `at` (and runs on from there)."""
    store = Store(path, clock=Clock(at))
    watcher = Watcher(store, settings, client=client, rng=random.Random(7))
    try:
        yield watcher
    finally:
        await watcher.aclose()
        store.close()


def snapshot_count(path: Path) -> int:
    with Store(path) as store:
        return int(store.db.execute("SELECT count(*) FROM page_snapshots").fetchone()[0])


def row(path: Path, key: str) -> dict[str, object]:
    with Store(path) as store:
        return dict(store.db.table("page_sources").get(key))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


# --- change detection ---------------------------------------------------------------------------------


async def test_first_fetch_is_a_baseline_then_a_change_comes_with_a_diff(site: Site, db: Path) -> None:
    source = Source(site.html("/fees", "<h1>Fees</h1><p>Referral fee 15%</p><p>Minimum $0.30</p>"))
    async with watching(db) as watcher:
        first = await watcher.check(source)
        assert (first.status, first.diff, first.error, first.alert, first.http_status) == (
            "first",
            "",
            None,
            None,
            200,
        )
        assert (await watcher.check(source)).status == "unchanged"

        site.html("/fees", "<h1>Fees</h1><p>Referral fee 12%</p><p>Minimum $0.30</p>")
        changed = await watcher.check(source)

    assert changed.status == "changed"
    assert changed.diff == "- Referral fee 15%\n+ Referral fee 12%"
    assert snapshot_count(db) == 2
    with Store(db) as store:
        assert last_snapshot_text(store, source.key) == "Fees\nReferral fee 12%\nMinimum $0.30"
        assert last_snapshot_text(store, "https://never.example/") is None
    assert site.hits("/fees")[0].headers["user-agent"] == UA


async def test_an_etag_gives_a_304_that_costs_nothing(site: Site, db: Path) -> None:
    source = Source(site.html("/etag", "<p>v1</p>", etag='"v1"'))
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        again = await watcher.check(source)
        assert (again.status, again.http_status) == ("not_modified", 304)
        assert snapshot_count(db) == 1
        first, second = site.hits("/etag")
        assert "if-none-match" not in first.headers
        assert (second.headers["if-none-match"], second.status) == ('"v1"', 304)

        site.html("/etag", "<p>v2</p>", etag='"v2"')
        changed = await watcher.check(source)
    assert (changed.status, changed.diff) == ("changed", "- v1\n+ v2")
    assert row(db, source.key)["etag"] == '"v2"'


async def test_last_modified_gives_a_304(site: Site, db: Path) -> None:
    stamp = "Tue, 24 Nov 2026 10:00:00 GMT"
    source = Source(site.html("/lm", "<p>rules</p>", last_modified=stamp))
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        assert (await watcher.check(source)).status == "not_modified"
    assert site.hits("/lm")[1].headers["if-modified-since"] == stamp


async def test_validators_are_stored_only_with_a_text_that_was_read(site: Site, db: Path) -> None:
    # The selector matches nothing: the page is "failed", and its ETag must not turn the next check
    # into a 304 that would hide the failure.
    source = Source(site.html("/moved", "<div id='old'>rules</div>", etag='"e1"'), selector="#rules")
    async with watching(db) as watcher:
        failed = await watcher.check(source)
        assert failed.status == "failed" and "matched nothing" in (failed.error or "")
        assert (await watcher.check(source)).status == "failed"
        site.html("/moved", "<div id='rules'>rules</div>", etag='"e2"')
        assert (await watcher.check(source)).status == "first"
    assert ["if-none-match" in hit.headers for hit in site.hits("/moved")] == [False, False, False]


async def test_a_change_only_in_volatile_bits_is_no_change(site: Site, db: Path) -> None:
    source = Source(
        site.html("/volatile", "<p>Fee 15%</p><p>Last updated: 2026-11-25 09:00</p><p>1,234 views</p>")
    )
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        site.html(
            "/volatile",
            "<p>Fee 15%</p><p>Last updated: Nov 26, 2026 at 10:11</p><p>1,240 views</p>"
            "<p>Rendered at 10:11:12</p>",
        )
        # The new line "Rendered at [time]" is a change; the date and counter alone would not be.
        assert (await watcher.check(source)).status == "changed"
        site.html(
            "/volatile",
            "<p>Fee 15%</p><p>Last updated: 2026-11-27</p><p>2,001 views</p><p>Rendered at 23:59:01</p>",
        )
        assert (await watcher.check(source)).status == "unchanged"


async def test_a_selector_limits_what_is_compared(site: Site, db: Path) -> None:
    url = site.html("/sel", "<main id='rules'><p>Fee 15%</p></main><aside>Ad 1</aside>")
    source = Source(url, selector="#rules")
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        site.html("/sel", "<main id='rules'><p>Fee 15%</p></main><aside>Ad 2</aside>")
        assert (await watcher.check(source)).status == "unchanged"
        site.html("/sel", "<main id='rules'><p>Fee 16%</p></main><aside>Ad 2</aside>")
        assert (await watcher.check(source)).diff == "- Fee 15%\n+ Fee 16%"
    assert source.key == f"{url}#{'#rules'}"
    assert Source(url).key == url


async def test_site_chrome_and_scripts_are_not_compared_without_a_selector(site: Site, db: Path) -> None:
    def page(counter: int) -> str:
        return (
            f"<header>Hi {counter}</header><nav>Menu {counter}</nav><p>Rules</p>"
            f"<script>var n={counter}</script>"
            f"<footer>Visitors {counter}</footer><noscript>{counter}</noscript><div hidden>{counter}</div>"
        )

    source = Source(site.html("/chrome", page(1)))
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        site.html("/chrome", page(2))
        assert (await watcher.check(source)).status == "unchanged"
    assert snapshot_count(db) == 1


async def test_a_gzip_body_is_decoded(site: Site, db: Path) -> None:
    source = Source(site.html("/gz", "<p>compressed rules</p>", gzip=True))
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        with Store(db) as store:
            assert last_snapshot_text(store, source.key) == "compressed rules"


async def test_a_non_html_page_is_watched_by_fingerprint(site: Site, db: Path) -> None:
    site.pages["/rules.pdf"] = Page(body=b"%PDF-1.4 one", content_type="application/pdf")
    source = Source(site.url("/rules.pdf"))
    async with watching(db) as watcher:
        assert (await watcher.check(source)).status == "first"
        site.pages["/rules.pdf"] = Page(body=b"%PDF-1.4 two", content_type="application/pdf")
        changed = await watcher.check(source)
    assert changed.status == "changed"
    assert changed.diff.startswith("- [application/pdf, 12 bytes, sha256 ")


# --- failures -----------------------------------------------------------------------------------------


async def test_a_slow_server_times_out(site: Site, db: Path) -> None:
    source = Source(site.html("/slow", "<p>late</p>", delay=2.0))
    started = time.monotonic()
    async with watching(db, settings=WatchSettings(allow_hosts=("127.0.0.1",), timeout=0.3)) as watcher:
        result = await watcher.check(source)
    assert time.monotonic() - started < 1.5
    assert result.status == "failed" and "timed out" in (result.error or "")


async def test_an_endless_body_is_cut_at_the_cap_quickly(site: Site, db: Path) -> None:
    site.pages["/endless"] = Page(endless=True)
    started = time.monotonic()
    async with watching(db) as watcher:
        result = await watcher.check(Source(site.url("/endless")))
    assert time.monotonic() - started < 2
    assert result.status == "failed"
    assert "larger than the cap of 200000 bytes" in (result.error or "")


async def test_a_body_that_drips_forever_meets_the_overall_timeout(site: Site, db: Path) -> None:
    site.pages["/drip"] = Page(drip=True)  # a byte every 50 ms: no single read waits long enough to time out
    started = time.monotonic()
    async with watching(db, settings=WatchSettings(allow_hosts=("127.0.0.1",), timeout=0.5)) as watcher:
        result = await watcher.check(Source(site.url("/drip")))
    assert time.monotonic() - started < 1.5
    assert result.status == "failed" and "timed out" in (result.error or "")


@pytest.mark.parametrize(
    ("page", "message"),
    [
        (Page(body=b"x" * 300_000), "300000 bytes, more than the cap"),  # Content-Length: refused unread
        (Page(body=b"<p>" + b" " * 5_000_000 + b"</p>", gzip=True), "decompresses to more than the cap"),
    ],
    ids=["declared", "gzip-bomb"],
)
async def test_a_large_body_is_refused(site: Site, db: Path, page: Page, message: str) -> None:
    site.pages["/big"] = page
    async with watching(db) as watcher:
        result = await watcher.check(Source(site.url("/big")))
    assert result.status == "failed" and message in (result.error or "")


async def test_an_error_status_is_a_failure(site: Site, db: Path) -> None:
    site.pages["/broken"] = Page(status=500, body=b"oops")
    async with watching(db) as watcher:
        result = await watcher.check(Source(site.url("/broken")))
    assert (result.status, result.http_status, result.error) == (
        "failed",
        500,
        "HTTP 500 Internal Server Error",
    )
    assert row(db, site.url("/broken"))["last_error"] == "HTTP 500 Internal Server Error"


async def test_failing_is_alerted_once_and_recovered_once(site: Site, db: Path) -> None:
    site.pages["/flaky"] = Page(status=503, body=b"down")
    source = Source(site.url("/flaky"))

    async def alerts(times: int) -> list[tuple[str, str | None]]:
        return [((r := await watcher.check(source)).status, r.alert) for _ in range(times)]

    async with watching(db) as watcher:
        assert await alerts(5) == [("failed", None)] * 2 + [("failed", "failing")] + [("failed", None)] * 2
        site.html("/flaky", "<p>back</p>")
        assert await alerts(2) == [("first", "recovered"), ("unchanged", None)]
        site.pages["/flaky"] = Page(status=500)
        assert await alerts(3) == [("failed", None), ("failed", None), ("failed", "failing")]
        site.html("/flaky", "<p>back again</p>")
        assert await alerts(1) == [("changed", "recovered")]
    assert row(db, source.key)["consecutive_failures"] == 0


async def test_fewer_failures_than_the_threshold_alert_nothing(site: Site, db: Path) -> None:
    site.pages["/blip"] = Page(status=500)
    source = Source(site.url("/blip"))
    async with watching(db) as watcher:
        assert [(await watcher.check(source)).alert for _ in range(2)] == [None, None]
        site.html("/blip", "<p>ok</p>")
        assert (await watcher.check(source)).alert is None


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_honoured(site: Site, db: Path, status: int) -> None:
    site.pages["/busy"] = Page(status=status, headers={"Retry-After": "7200"})
    source = Source(site.url("/busy"), interval=dt.timedelta(hours=1))
    async with watching(db) as watcher:
        result = await watcher.check(source)
    assert (result.status, result.http_status) == ("failed", status)
    assert (
        result.error
        == f"HTTP {status} {'Too Many Requests' if status == 429 else 'Service Unavailable'}"
        + (" (retry after 7200 s)")
    )

    site.html("/busy", "<p>free again</p>")
    # An hour and a half later: its interval has passed, but the server asked for two hours.
    async with watching(db, T0 + dt.timedelta(minutes=90)) as watcher:
        assert watcher.due([source], T0 + dt.timedelta(minutes=90)) == []
        skipped = await watcher.check(source)
    assert skipped.status == "skipped" and "not to be fetched before" in (skipped.error or "")
    assert len(site.hits("/busy")) == 1

    async with watching(db, T0 + dt.timedelta(hours=2, seconds=2)) as watcher:
        assert watcher.due([source], T0 + dt.timedelta(hours=2, seconds=2)) == [source]
        assert (await watcher.check(source)).status == "first"
    assert row(db, source.key)["not_before"] is None


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds("Wed, 25 Nov 2026 11:00:00 GMT", "Wed, 25 Nov 2026 09:00:00 GMT") == 7200
    assert retry_after_seconds("Wed, 25 Nov 2026 08:00:00 GMT", "Wed, 25 Nov 2026 09:00:00 GMT") == 0
    assert retry_after_seconds("99999999") == 7 * 24 * 3600  # no server silences a source for ever
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


# --- redirects and safety -----------------------------------------------------------------------------


async def test_redirects_are_followed_within_the_limit(site: Site, db: Path) -> None:
    site.pages["/old"] = Page(status=301, headers={"Location": "/older"})
    site.pages["/older"] = Page(status=302, headers={"Location": site.url("/new")})
    site.html("/new", "<p>moved rules</p>")
    site.pages["/loop"] = Page(status=302, headers={"Location": "/loop"})
    async with watching(db) as watcher:
        assert (await watcher.check(Source(site.url("/old")))).status == "first"
        loop = await watcher.check(Source(site.url("/loop")))
    assert loop.status == "failed" and "more than 5 redirects" in (loop.error or "")
    assert len(site.hits("/loop")) == 6  # the first request and five redirects


class RecordingTransport(httpx.AsyncHTTPTransport):
    """Notes the host of every request the client really sends."""

    def __init__(self) -> None:
        super().__init__()
        self.hosts: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(request.url.host)
        return await super().handle_async_request(request)


@pytest.mark.parametrize("client_kind", ["own", "supplied"])
@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.0.0.1/", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[::1]:{port}/", "::1 is a loopback address"),
        ("http://[::ffff:7f00:1]:{port}/", "is a loopback address"),
        ("http://0.0.0.0:{port}/", "0.0.0.0 is an unspecified address"),
        ("http://localhost:{port}/ok", "localhost resolves to"),
        ("http://2130706433:{port}/ok", "resolves to 127.0.0.1, which is a loopback address"),
        ("file:///etc/passwd", "only http and https are fetched, not file:"),
        ("ftp://example.com/rules.txt", "only http and https are fetched, not ftp:"),
    ],
)
async def test_a_redirect_to_a_refused_address_is_stopped_before_connecting(
    site: Site, db: Path, client_kind: str, target: str, reason: str
) -> None:
    site.html("/ok", "<p>would be fetched if allowed</p>")
    site.pages["/jump"] = Page(status=302, headers={"Location": target.format(port=site.port)})
    transport = RecordingTransport()
    client = httpx.AsyncClient(transport=transport) if client_kind == "supplied" else None
    started = time.monotonic()
    async with watching(db, client=client) as watcher:
        result = await watcher.check(Source(site.url("/jump")))
    if client is not None:
        await client.aclose()
        assert transport.hosts == ["127.0.0.1"]  # nothing sent anywhere else
    assert time.monotonic() - started < 1  # no connection attempt left to time out
    assert result.status == "failed"
    assert (result.error or "").startswith("refused: ") and reason in (result.error or "")
    assert len(site.hits("/ok")) == 0


async def test_allow_hosts_matches_the_host_as_written(site: Site, db: Path) -> None:
    site.html("/ok", "<p>local rules</p>")
    by_name = Source(f"http://localhost:{site.port}/ok")
    async with watching(db) as watcher:  # allows "127.0.0.1", not a name that resolves to it
        refused = await watcher.check(by_name)
        assert refused.status == "failed" and "localhost resolves to" in (refused.error or "")
        assert (await watcher.check(Source(site.url("/ok")))).status == "first"
    allow_name = WatchSettings(allow_hosts=("LOCALHOST",))
    async with watching(db, settings=allow_name) as watcher:
        assert (await watcher.check(by_name)).status == "first"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        "/rules",
        "http://",
    ],
)
def test_only_http_and_https_urls_are_sources(url: str) -> None:
    with pytest.raises(InvalidSource):
        Source(url)
    with pytest.raises(RefusedURL):
        checked_url(url)


def test_a_source_needs_a_valid_selector_and_a_positive_interval() -> None:
    with pytest.raises(InvalidSource, match="not a CSS selector"):
        Source("https://example.com/", selector="div[")
    with pytest.raises(InvalidSource, match="interval"):
        Source("https://example.com/", interval=dt.timedelta(0))
    assert Source("HTTPS://example.com/x").interval == DEFAULT_INTERVAL


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("240.0.0.1", "a reserved address"),
        ("0.0.0.0", "an unspecified address"),
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("::1", "a loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a link-local address"),
        ("ff02::1", "a multicast address"),
        ("fc00::1", "a private address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("2002:7f00:1::1", "a loopback address"),  # 6to4 around 127.0.0.1
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_which_addresses_are_refused(address: str, reason: str | None) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason


async def test_every_address_a_name_resolves_to_must_be_public() -> None:
    answers = {"mixed.test": ["93.184.216.34", "10.0.0.5"], "public.test": ["93.184.216.34", "93.184.216.34"]}

    async def resolve(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("Name or service not known")
        return answers[host]

    guard = AddressGuard(["intranet.test"], resolve=resolve)
    assert await guard.addresses("public.test", 443) == ["93.184.216.34"]
    assert await guard.addresses("INTRANET.test.", 443) == ["INTRANET.test."]  # allowed: not resolved here
    with pytest.raises(RefusedURL, match=r"mixed\.test resolves to 10\.0\.0\.5, which is a private address"):
        await guard.addresses("mixed.test", 443)
    with pytest.raises(FetchError, match=r"cannot resolve nowhere\.test"):
        await guard.addresses("nowhere.test", 443)


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the network: notes where it was asked to connect."""

    def __init__(self) -> None:
        self.connects: list[str] = []

    async def connect_tcp(self, host: str, port: int, **options: object) -> httpcore.AsyncNetworkStream:
        self.connects.append(host)
        return httpcore.AsyncMockStream([])


async def test_the_guarded_backend_connects_to_the_address_it_checked() -> None:
    # A rebinding DNS server: a public address for the check, a private one for any second lookup.
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["93.184.216.34"] if len(lookups) == 1 else ["10.0.0.1"]

    network = RecordingBackend()
    backend = GuardedNetworkBackend(AddressGuard(resolve=rebinding), inner=network)
    await backend.connect_tcp("rebind.test", 80)
    assert (lookups, network.connects) == (["rebind.test"], ["93.184.216.34"])  # one lookup, its address
    with pytest.raises(RefusedURL):
        await backend.connect_tcp("rebind.test", 80)  # a new connection looks up again, and is refused
    assert network.connects == ["93.184.216.34"]


# --- schedule -----------------------------------------------------------------------------------------


async def test_due_uses_the_stored_schedule_with_jitter(site: Site, db: Path) -> None:
    sources = [Source(site.html(f"/p{index}", f"<p>page {index}</p>")) for index in range(30)]
    async with watching(db) as watcher:
        assert watcher.due(sources, T0) == sources  # never checked: due at once
        results = await watcher.check_all(sources)
        assert {result.status for result in results} == {"first"}
        assert watcher.due(sources, T0 + dt.timedelta(hours=5, minutes=20)) == []  # before -10%
        assert watcher.due(sources, T0 + dt.timedelta(hours=6, minutes=40)) == sources  # after +10%
        middle = watcher.due(sources, T0 + dt.timedelta(hours=6))
        assert 0 < len(middle) < len(sources)
        new = Source(site.url("/p-new"))
        assert watcher.due([*sources, new], T0 + dt.timedelta(hours=1)) == [new]

    with Store(db) as store:
        factors = [
            (dt.datetime.fromisoformat(r["next_check_at"]) - dt.datetime.fromisoformat(r["last_checked_at"]))
            / DEFAULT_INTERVAL
            for r in store.db.table("page_sources").rows
        ]
    assert all(0.9 - 1e-4 <= factor <= 1.1 + 1e-4 for factor in factors)
    assert max(factors) - min(factors) > 0.05  # spread out, not all at once


async def test_a_shortened_interval_counts_at_once(site: Site, db: Path) -> None:
    source = Source(site.html("/p", "<p>x</p>"))
    async with watching(db) as watcher:
        await watcher.check(source)
        hourly = Source(source.url, interval=dt.timedelta(hours=1))
        assert watcher.due([hourly], T0 + dt.timedelta(minutes=50)) == []
        assert watcher.due([hourly], T0 + dt.timedelta(minutes=67)) == [hourly]


async def test_check_all_bounds_concurrency_and_reports_progress(site: Site, db: Path) -> None:
    sources = [Source(site.html(f"/s{index}", f"<p>{index}</p>", delay=0.2)) for index in range(6)]
    seen: list[CheckResult] = []
    settings = WatchSettings(allow_hosts=("127.0.0.1",), concurrency=2)
    async with watching(db, settings=settings) as watcher:
        results = await watcher.check_all(sources, progress=seen.append)
    assert [result.source for result in results] == sources
    assert sorted(r.source.url for r in seen) == sorted(s.url for s in sources)
    assert site.max_active == 2


# --- sources ------------------------------------------------------------------------------------------


def test_sources_come_from_the_rules_the_policy_watch_lists_and_the_config(catalog: Catalog) -> None:
    found = sources_from(catalog, [])
    cited = {
        source.url
        for rule in catalog.rules.values()
        for source in rule.sources
        if source.url.startswith(("http://", "https://"))
    }
    listed = {page.url: platform for platform, page in catalog.watch_pages()}
    assert {source.url for source in found} == cited | set(listed)
    # A page only a policy file lists carries that file's platform (and no rule).
    only_listed = [source for source in found if source.url in set(listed) - cited]
    assert only_listed and all(
        source.platform == listed[source.url] and source.rule_id is None for source in only_listed
    )
    # ... and what to look for on it, which a config page for the same URL keeps.
    abouts = {page.url: page.about for _, page in catalog.watch_pages()}
    assert all(source.about == abouts[source.url] for source in only_listed)
    kept = sources_from(catalog, [Source(only_listed[0].url, interval=dt.timedelta(hours=2))])
    assert next(s for s in kept if s.key == only_listed[0].key).about == abouts[only_listed[0].url]
    assert len({source.key for source in found}) == len(found)
    assert all(not source.url.startswith("report:") for source in found)
    first = found[0]
    assert first.rule_id is not None and first.platform == catalog.rule_platform[first.rule_id]

    page = Source(first.url, interval=dt.timedelta(hours=1))
    extra = Source("https://seller.example.com/news", selector="main", platform="temu")
    merged = sources_from(catalog, [page, extra, extra])
    assert len(merged) == len(found) + 1
    replaced = next(source for source in merged if source.key == first.key)
    assert (replaced.interval, replaced.rule_id, replaced.platform) == (
        dt.timedelta(hours=1),
        first.rule_id,
        first.platform,
    )
    assert merged[-1] == extra


# --- text and diff ------------------------------------------------------------------------------------


def test_page_text_is_the_visible_text_line_by_line() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html><html><head><title>T</title>'
        b"<style>p{}</style></head><body><p>Fee is <b>15%</b>&nbsp; now.<br>Next\n   line</p><!-- note -->"
        b"<ul><li>One</li><li>Two <a href='#'>link</a></li></ul><template><p>t</p></template>"
        b"<svg><text>chart</text></svg><table><tr><td>Tier</td><td>8%</td></tr></table></body></html>"
    )
    assert page_text(body, "application/xhtml+xml", None, None) == (
        "Fee is 15% now.\nNext line\nOne\nTwo link\nTier\n8%"
    )


def test_page_text_of_other_kinds_of_body() -> None:
    assert page_text(b"http://example.com/", "text/html", None, None) == "http://example.com/"
    assert page_text(b"a  b\n\n c ", "text/plain", None, None) == "a b\nc"
    assert page_text("费用 <b>8%</b>".encode("gbk"), "text/html", "gbk", None) == "费用 8%"
    assert (
        page_text(
            b"<rss><item><title>A</title><title>B</title></item></rss>", "application/rss+xml", None, None
        )
        == "A\nB"
    )
    assert page_text(b"<title>T</title><p>x</p>", "text/html", None, None) == "x"  # no <body>
    # Nested matches are read once, with the outer one.
    assert page_text(b"<div>a<div>b</div>c</div><div>d</div>", "text/html", None, "div") == "a\nb\nc\nd"
    with pytest.raises(PageTextError, match="needs an HTML page"):
        page_text(b"{}", "application/json", None, "main")
    with pytest.raises(PageTextError, match="matched nothing"):
        page_text(b"<p>x</p>", "text/html", None, "main")


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("Last updated: 2026-11-25", "Last updated: [date]"),
        ("Updated on Nov 25, 2026", "Updated on [date]"),
        ("Page last modified 25 November 2026 at 9:00 AM", "Page last modified [date]"),
        ("更新时间：2026年11月25日", "更新时间：[date]"),
        ("Built 2026-11-25T09:00:00Z", "Built [time]"),
        ("Server time 14:03:22", "Server time [time]"),
        ("Posted 5 minutes ago", "Posted [time] ago"),
        ("发布于3小时前", "发布于[time]前"),
        ("1,234 views", "[n] views"),
        ("Views: 1.2k", "Views: [n]"),
        ("阅读 1.2万", "阅读 [n]"),
        ("3万次浏览", "[n]次浏览"),
        ("See /fees.pdf?v=1700000000", "See /fees.pdf?v=[n]"),
        ("© 2024-2026 Example Inc.", "© [year] Example Inc."),
        # Policy text keeps its dates, times and numbers.
        ("The fee rises to 15% on 2026-11-25 at 09:00", "The fee rises to 15% on 2026-11-25 at 09:00"),
        ("The update takes effect on 2026-02-01", "The update takes effect on 2026-02-01"),
        ("Respond within 10 days", "Respond within 10 days"),
    ],
)
def test_volatile_bits_are_masked(line: str, masked: str) -> None:
    assert mask_volatile(line) == masked


def test_volatile_bits_never_span_lines() -> None:
    # page_text masks the whole text at once: that must equal masking it line by line.
    text = "Last updated:\n2026-11-25\n1,234\nviews\n10:00:\n00\n©\n2026"
    assert mask_volatile(text) == text


def test_short_diff_keeps_the_first_changed_lines_and_counts_the_rest() -> None:
    old = "\n".join(f"line {i}" for i in range(100))
    new = "\n".join(f"line {i}" if i % 10 else f"LINE {i}" for i in range(100))
    diff = short_diff(old, new, max_chars=120)
    assert len(diff) <= 120
    assert diff.startswith("- line 0\n+ LINE 0\n…\n- line 10\n+ LINE 10\n")
    shown = sum(line.startswith(("- ", "+ ")) for line in diff.splitlines())
    assert diff.endswith(f"… {20 - shown} more changed lines")
    assert short_diff(old, old) == ""
    assert short_diff("a", "a\nb") == "+ b"
    with pytest.raises(ValueError):
        short_diff(old, new, max_chars=10)


def test_short_diff_cuts_a_huge_first_line() -> None:
    diff = short_diff("", "x" * 10_000, max_chars=200)
    assert len(diff) <= 200 and diff.startswith("+ xxx") and "…" in diff


@given(
    st.lists(st.text(min_size=0, max_size=60), max_size=40),
    st.lists(st.text(min_size=0, max_size=60), max_size=40),
    st.integers(min_value=80, max_value=1500),
)
def test_short_diff_always_fits(old: list[str], new: list[str], max_chars: int) -> None:
    diff = short_diff("\n".join(old), "\n".join(new), max_chars)
    assert len(diff) <= max_chars


# --- snapshots kept, and HTTPS end to end -------------------------------------------------------------


async def test_only_the_last_snapshots_of_each_page_are_kept(site: Site, db: Path) -> None:
    settings = WatchSettings(allow_hosts=("127.0.0.1",), timeout=3.0, keep_snapshots=3)
    source, other = Source(site.html("/a", "<p>version 0</p>")), Source(site.html("/b", "<p>other</p>"))
    async with watching(db, settings=settings) as watcher:
        await watcher.check(other)
        for version in range(1, 6):
            site.html("/a", f"<p>version {version}</p>")
            assert (await watcher.check(source)).status in ("first", "changed")
    with Store(db) as store:
        kept = [
            r[0]
            for r in store.db.execute(
                "SELECT text FROM page_snapshots WHERE key = ? ORDER BY id", [source.key]
            )
        ]
        assert kept == ["version 3", "version 4", "version 5"]
        assert last_snapshot_text(store, other.key) == "other"  # another page's snapshots are its own
    with Store(db) as store, pytest.raises(ValueError):
        Watcher(store, WatchSettings(keep_snapshots=0))


@pytest.fixture
def tls_site(tmp_path: Path) -> Iterator[tuple[Site, Path]]:
    """The same site over HTTPS, its certificate for "localhost" issued by a local CA (trustme)."""
    import ssl

    import trustme

    authority = trustme.CA()
    certificate = authority.issue_cert("localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    site = Site()
    server = SiteServer(site)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    site.port = server.server_address[1]
    site.base = f"https://localhost:{site.port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield site, ca_file
    server.shutdown()
    server.server_close()


async def test_https_with_a_trusted_certificate_end_to_end(tls_site: tuple[Site, Path], db: Path) -> None:
    site, ca_file = tls_site
    source = Source(site.html("/fees", "<p>Referral fee 15%</p>"))
    trusted = WatchSettings(allow_hosts=("localhost",), timeout=5.0, ca_file=str(ca_file))
    async with watching(db, settings=trusted) as watcher:
        assert (await watcher.check(source)).status == "first"
        site.html("/fees", "<p>Referral fee 12%</p>")
        changed = await watcher.check(source)
    assert (changed.status, changed.diff) == ("changed", "- Referral fee 15%\n+ Referral fee 12%")
    # Without the local CA the certificate is not trusted: a failure that says so, never a silent fetch.
    untrusted = WatchSettings(allow_hosts=("localhost",), timeout=5.0)
    async with watching(db, settings=untrusted) as watcher:
        failed = await watcher.check(Source(site.url("/fees"), interval=DEFAULT_INTERVAL))
    assert failed.status == "failed" and "certificate" in str(failed.error).lower()
