"""Fetching a watched page safely: http(s) only, public addresses only, redirects checked hop by hop.

What is refused, and where:

- a URL whose scheme is not http or https (file:, ftp:, data:, ...), at the start and at every redirect;
- a host that resolves to an address that is not public: private, loopback, link-local, multicast,
  reserved, unspecified, or otherwise not globally routable (IPv4 and IPv6; an IPv4-mapped or 6to4
  IPv6 address is judged by the IPv4 address inside it). Every address a name resolves to must be
  public, not just one of them;
- a body larger than `max_bytes`, before or after decompression (a Content-Length above it is refused
  unread; otherwise the body is streamed and reading stops past the cap, so an endless body costs at
  most `max_bytes`);
- more than `max_redirects` redirects.

`allow_hosts` lifts the address check for the hosts it names. It matches the host as written in the
URL (a name, or an IP address in any spelling of it), never the address a name resolves to: with
`allow_hosts=("127.0.0.1",)`, "http://127.0.0.1:8080/" is fetched but "http://localhost:8080/" is
refused, because any name (a stranger's DNS included) can be made to resolve to 127.0.0.1. An allowed
name is trusted with whatever it resolves to.

Where the check happens. The client `guarded_client` builds connects through a network backend that
resolves the host itself (loop.getaddrinfo), checks every address, and only then connects, to the
addresses it checked: what is checked is what is connected to, with no second lookup in between (no
DNS-rebinding window). That holds for every new connection, so for the first request and after every
redirect; a refused address is never connected to. (A kept-alive connection to a host already
checked is reused without a new lookup.) httpx offers no public hook for a network backend, so
`guarded_client` replaces the connection pool of its transport, and fails loudly if httpx changes.
A client the caller supplies cannot be changed that way; for it the Fetcher resolves and checks
each hop's host before the request, and httpx then resolves the name again to connect. A DNS server
that answers differently the second time (rebinding) can slip through that window; use
`guarded_client` when the URLs are not all your own.

The guarded client ignores proxy settings from the environment (HTTP_PROXY and the like): a proxy
would connect on our behalf, out of reach of the address check.

Exceptions:

    FetchError               the page could not be fetched; the message says why
    +-- RefusedURL           the URL, or an address its host resolves to, is not one we fetch
    +-- TooManyRedirects     more redirects than allowed (a loop, most likely)
    +-- BodyTooLarge         the body is larger than the cap
    +-- HTTPStatusFailure    the server answered an error status; `status`, `retry_after` (seconds)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import ipaddress
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import httpcore
import httpx

__all__ = [
    "MAX_RETRY_AFTER",
    "AddressGuard",
    "BodyTooLarge",
    "FetchError",
    "FetchedPage",
    "Fetcher",
    "GuardedNetworkBackend",
    "HTTPStatusFailure",
    "RefusedURL",
    "TooManyRedirects",
    "checked_url",
    "guarded_client",
    "refusal_reason",
    "retry_after_seconds",
]

# A server cannot silence a source for longer than this by answering Retry-After.
MAX_RETRY_AFTER = dt.timedelta(days=7)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SCHEMES = ("http", "https")
_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The page could not be fetched; the message says why."""


class RefusedURL(FetchError):
    """The URL, or an address its host resolves to, is not one the watcher fetches."""


class TooManyRedirects(FetchError):
    """More redirects than allowed (most likely a loop)."""


class BodyTooLarge(FetchError):
    """The body is larger than the cap."""


class HTTPStatusFailure(FetchError):
    """The server answered an error status; `retry_after` is in seconds, from a 429 or 503."""

    def __init__(self, status: int, reason: str, retry_after: float | None = None) -> None:
        text = f"HTTP {status} {reason}".rstrip()
        if retry_after is not None:
            text += f" (retry after {retry_after:.0f} s)"
        super().__init__(text)
        self.status = status
        self.retry_after = retry_after


# --- addresses ---------------------------------------------------------------------------------------


def refusal_reason(address: IPAddress) -> str | None:
    """Why the watcher does not connect to `address` ("a private address", ...), or None if public."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is not None:
            return refusal_reason(inner)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _host_key(host: str) -> str:
    """One spelling per host: an IP address in its canonical form, a name lowercased, in ASCII (IDNA)."""
    address = _ip(host)
    if address is not None:
        return str(address)
    name = host.strip().rstrip(".").lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return name


async def _system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


class AddressGuard:
    """Decides which hosts may be connected to, and to which of their addresses."""

    def __init__(self, allow_hosts: Iterable[str] = (), *, resolve: Resolver | None = None) -> None:
        self._allowed = frozenset(_host_key(host) for host in allow_hosts)
        self._resolve = resolve or _system_resolve

    def allows_host(self, host: str) -> bool:
        """Whether `host`, as written in a URL, is in allow_hosts (its addresses are then not checked)."""
        return _host_key(host) in self._allowed

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, all checked; raise RefusedURL if any is not public.

        An allowed host is returned as it is, to be resolved by whoever connects.
        """
        if self.allows_host(host):
            return [host]
        literal = _ip(host)
        if literal is not None:
            found = [literal]
        else:
            try:
                resolved = await self._resolve(host, port)
            except OSError as error:  # socket.gaierror
                raise FetchError(f"cannot resolve {host}: {error}") from None
            found = []
            for text in resolved:
                address = _ip(text.split("%", 1)[0])  # an IPv6 scope ("fe80::1%eth0") is not needed
                if address is None:
                    raise RefusedURL(f"{host} resolves to {text!r}, which is not an IP address")
                if address not in found:
                    found.append(address)
            if not found:
                raise FetchError(f"cannot resolve {host}: no addresses")
        for address in found:
            reason = refusal_reason(address)
            if reason is not None:
                shown = host if literal is not None else f"{host} resolves to {address}, which"
                raise RefusedURL(f"refused: {shown} is {reason} (not in allow_hosts)")
        return [str(address) for address in found]


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks every host before connecting, then connects to the checked addresses only.

    `inner` does the connecting (httpcore's AnyIOBackend unless given); it is handed the addresses that
    were checked, never a name it could resolve again (an allowed host excepted: it is passed as is).
    """

    def __init__(self, guard: AddressGuard, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._guard = guard
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        # TLS still verifies the certificate against the host name: httpcore passes the URL's host to
        # start_tls, whatever address the stream connected to.
        for address in await self._guard.addresses(host, port):
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error  # try the next address, as a resolver-driven connect would
        assert failure is not None  # addresses() never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedURL("refused: unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(
    guard: AddressGuard, *, timeout: float, max_connections: int, user_agent: str, ca_file: str | None = None
) -> httpx.AsyncClient:
    """An AsyncClient that connects only to addresses `guard` allows, checked as it connects.

    Certificates are verified against the system's CAs (certifi's), or only those in `ca_file`."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx has no public way to give its connection pool a network backend, so the pool it built is
    # replaced by one with ours, configured as httpx configures it. Fail loudly if httpx changes shape.
    if not isinstance(getattr(transport, "_pool", None), httpcore.AsyncConnectionPool):
        raise RuntimeError("this httpx version has no _pool to guard: the address check cannot be pinned")
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=(
            ssl.create_default_context(cafile=ca_file)
            if ca_file
            else httpx.create_ssl_context(trust_env=False)
        ),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedNetworkBackend(guard),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": user_agent},
    )


# --- fetching ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedPage:
    """A final response: 304 (no body), or a 2xx with its body, decompressed."""

    url: str  # after redirects
    status: int
    body: bytes
    content_type: str | None  # media type, lowercased, without parameters
    charset: str | None
    etag: str | None
    last_modified: str | None


def checked_url(url: str | httpx.URL) -> httpx.URL:
    """The URL parsed, if its scheme is http or https and it has a host; RefusedURL otherwise."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL as error:
        raise RefusedURL(f"refused: {url!s} is not a valid URL ({error})") from None
    if parsed.scheme not in _SCHEMES:
        what = f"{parsed.scheme}:" if parsed.scheme else "a relative URL"
        raise RefusedURL(f"refused: only http and https are fetched, not {what} ({url!s})")
    if not parsed.host:
        raise RefusedURL(f"refused: {url!s} has no host")
    return parsed


def retry_after_seconds(value: str | None, date: str | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), within 0..MAX_RETRY_AFTER.

    A date is measured from the response's Date header when there is one (the server's own clock),
    else from now. None when the header is missing or unreadable.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        when = _http_date(value)
        if when is None:
            return None
        base = _http_date(date) if date else None
        seconds = (when - (base or dt.datetime.now(dt.UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER.total_seconds())


def _http_date(value: str) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


class Fetcher:
    """GETs a page through `client`, following and checking redirects, with conditional headers.

    `check_addresses`: resolve and check each hop's host before the request. Needed for a client not
    built by `guarded_client` (see the module docstring); redundant, so off, for one that is.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        guard: AddressGuard,
        *,
        check_addresses: bool,
        max_bytes: int,
        timeout: float,
        max_redirects: int,
        user_agent: str,
    ) -> None:
        self._client = client
        self._guard = guard
        self._check_addresses = check_addresses
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._max_redirects = max_redirects
        self._user_agent = user_agent

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedPage:
        """The page at `url` (a 304 if the validators still match); FetchError or httpx errors if not."""
        target = checked_url(url)
        headers = {"User-Agent": self._user_agent, "Accept": _ACCEPT, "Accept-Encoding": "gzip, deflate"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _hop in range(self._max_redirects + 1):
            if self._check_addresses and not self._guard.allows_host(target.host):
                await self._guard.addresses(target.host, target.port or _default_port(target))
            async with self._client.stream(
                "GET", target, headers=headers, timeout=self._timeout, follow_redirects=False
            ) as response:
                status = response.status_code
                if status in _REDIRECTS:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(f"HTTP {status} redirect without a Location")
                    try:
                        target = checked_url(response.url.join(location))
                    except httpx.InvalidURL as error:
                        raise RefusedURL(f"refused: bad redirect Location {location!r} ({error})") from None
                    continue
                if status == 304:
                    await (
                        response.aread()
                    )  # nothing to read: a 304 has no body; lets the connection be reused
                    return self._page(response, b"")
                if not 200 <= status < 300:
                    retry_after = None
                    if status in (429, 503):
                        retry_after = retry_after_seconds(
                            response.headers.get("retry-after"), response.headers.get("date")
                        )
                    raise HTTPStatusFailure(status, response.reason_phrase, retry_after)
                return self._page(response, await self._read_body(response))
        raise TooManyRedirects(f"more than {self._max_redirects} redirects (last to {target})")

    async def _read_body(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise BodyTooLarge(f"the body is {int(declared)} bytes, more than the cap of {self._max_bytes}")
        raw = bytearray()
        # aiter_raw: the bytes as sent, so the cap bounds what the network delivers; decompression
        # below has a cap of its own.
        async for chunk in response.aiter_raw():
            raw += chunk
            if len(raw) > self._max_bytes:
                raise BodyTooLarge(f"the body is larger than the cap of {self._max_bytes} bytes")
        encodings = [part.strip().lower() for part in response.headers.get("content-encoding", "").split(",")]
        body = bytes(raw)
        for encoding in reversed([e for e in encodings if e and e != "identity"]):
            body = _decompress(body, encoding, self._max_bytes)
        return body

    @staticmethod
    def _page(response: httpx.Response, body: bytes) -> FetchedPage:
        content_type = response.headers.get("content-type")
        media_type = content_type.split(";", 1)[0].strip().lower() if content_type else None
        return FetchedPage(
            url=str(response.url),
            status=response.status_code,
            body=body,
            content_type=media_type or None,
            charset=response.charset_encoding,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        )


def _default_port(url: httpx.URL) -> int:
    return 443 if url.scheme == "https" else 80


def _decompress(data: bytes, encoding: str, max_bytes: int) -> bytes:
    if encoding in ("gzip", "x-gzip"):
        candidates = [zlib.MAX_WBITS | 16]
    elif encoding == "deflate":
        candidates = [zlib.MAX_WBITS, -zlib.MAX_WBITS]  # zlib-wrapped as specified, or raw as some send
    else:
        raise FetchError(f"unsupported Content-Encoding {encoding!r}")
    for wbits in candidates:
        try:
            output = zlib.decompressobj(wbits).decompress(data, max_bytes + 1)
        except zlib.error:
            continue
        if len(output) > max_bytes:
            raise BodyTooLarge(f"the body decompresses to more than the cap of {max_bytes} bytes")
        return output
    raise FetchError(f"the body is not valid {encoding} data")
