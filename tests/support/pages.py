"""An official page for the watcher's tests: a real HTTP server on 127.0.0.1 whose body a test changes,
and a one-rule policy file that cites it."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Page:
    """The page's HTML; `body` may be set between requests."""

    def __init__(self, body: str) -> None:
        self.body = body
        self.url = ""


@contextmanager
def served(page: Page, path: str = "/page") -> Iterator[Page]:
    """Serve `page` at http://127.0.0.1:<free port><path> until the block ends; sets `page.url`."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = page.body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    page.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        yield page
    finally:
        server.shutdown()
        server.server_close()


def surcharge_policy(url: str, reviewed: str | None = None) -> str:
    """A "demo" platform with one rule citing `url`: 15% from 2026-04-17 (a figure and an event)."""
    review = f"reviewed = {reviewed}\n" if reviewed else ""
    return f'''platform = "demo"
name = {{ en = "Demo", zh = "演示" }}
time_zone = "UTC"

[[rules]]
id = "demo-fuel-surcharge"
marketplaces = ["US"]
topic = "fees"
title = {{ en = "Demo fuel surcharge", zh = "演示燃油附加费" }}
summary = {{ en = "15% of the fulfilment fee from 2026-04-17.", zh = "自2026-04-17起按配送费的15%收取。" }}
confidence = "high"
{review}
[[rules.numbers]]
id = "rate"
value = "15"
unit = "percent"
label = {{ en = "Rate", zh = "费率" }}

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-04-17
label = {{ en = "Surcharge starts", zh = "附加费开始" }}

[[rules.sources]]
url = "{url}"
says = "15% from April 17, 2026"
confidence = "high"
'''
