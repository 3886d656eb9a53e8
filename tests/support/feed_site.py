"""A static feed host over HTTPS on 127.0.0.1 (trustme's local CA): serves a SITE folder as a CDN would,
with ETag and 304, and can be told to misbehave (serve other bytes, stop halfway)."""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

from bot.clock import Clock
from bot.feed import CatalogFolders, Feed, FeedSettings, catalog_folder, publish
from bot.store import Store

POLICIES = Path(__file__).resolve().parents[2] / "policies"
NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)


class FeedSite:
    def __init__(self, folder: Path, ca_file: Path) -> None:
        self.folder = folder
        self.ca_file = ca_file
        self.base = ""
        self.requests: list[tuple[str, int]] = []  # (path, status)
        self.replace: dict[str, bytes] = {}  # path -> the bytes served instead of the file's
        self.stall_after: dict[str, int] = {}  # path -> send this many bytes, then hang until released
        self.stalled = threading.Event()  # set once a stalled response has sent its first bytes
        self.release = threading.Event()

    @property
    def manifest_url(self) -> str:
        return f"{self.base}/feed/manifest.json"

    def body(self, path: str) -> bytes | None:
        if path in self.replace:
            return self.replace[path]
        file = self.folder / path.removeprefix("/feed/")
        return file.read_bytes() if path.startswith("/feed/") and file.is_file() else None


def serve(site: FeedSite) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = site.body(self.path)
            if body is None:
                site.requests.append((self.path, 404))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag:
                site.requests.append((self.path, 304))
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            site.requests.append((self.path, 200))
            self.send_response(200)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in site.stall_after:
                self.wfile.write(body[: site.stall_after[self.path]])
                self.wfile.flush()
                site.stalled.set()
                site.release.wait(30)
                return
            self.wfile.write(body)

    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("localhost").configure_cert(context)
    authority.cert_pem.write_to_path(str(site.ca_file))
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    site.base = f"https://localhost:{server.server_address[1]}"
    return server


def public_key(keys: Path) -> str:
    return (keys / "catalog.pub").read_text(encoding="utf-8").splitlines()[1]


def publish_to(
    site: FeedSite, policies: Path, keys: Path, version: int, now: dt.datetime = NOW, **options
) -> None:
    publish(policies, keys / "catalog.key", site.folder, now=now, version=version, **options)


def open_feed(
    site: FeedSite,
    keys: Path,
    db: Path,
    *,
    local: Path | None = None,
    max_bytes: int = 5_000_000,
    other_keys: list[str] | None = None,
    now: dt.datetime = NOW,
) -> Feed:
    store = Store(db, clock=Clock(now))
    settings = FeedSettings(
        url=site.manifest_url,
        public_keys=other_keys if other_keys is not None else [public_key(keys)],
        max_bytes=max_bytes,
        ca_file=site.ca_file,
        local=local,
    )
    return Feed(settings, store, CatalogFolders(catalog_folder(db)), POLICIES)
