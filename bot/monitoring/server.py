"""A small HTTP server in the bot's event loop: `GET /healthz` and `GET /metrics`, and the routes other
packages add (the calendar subscription URLs and the feeds of changes, wired in tg/monitoring.py).

It runs beside long polling (where python-telegram-bot serves nothing) and beside the webhook server
alike, on its own address (`[monitoring] listen`), so a load balancer or Docker's HEALTHCHECK can ask
without going through the proxy that carries Telegram's updates. Asking is cheap and never blocks the
bot: each check is a few attribute reads and one `SELECT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping

from bot.monitoring.metrics import CONTENT_TYPE, Metrics

__all__ = ["HealthCheck", "MonitoringServer", "Route", "parse_listen"]

log = logging.getLogger(__name__)

# A check returns None when healthy, else the reason (one line for the operator).
HealthCheck = Callable[[], str | None]
# A route answers (path, query, request headers with lower-case names) with (status, headers, body).
Route = Callable[[str, str, Mapping[str, str]], tuple[int, dict[str, str], bytes]]
_REASONS = {
    200: "OK",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}
_READ_TIMEOUT = 5.0
_MAX_HEADER_LINES = 100


def parse_listen(listen: str) -> tuple[str, int]:
    """ "127.0.0.1:9090" or "[::1]:9090" -> (host, port); ValueError naming what is wrong."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f'{listen!r} is not an address such as "127.0.0.1:9090"')
    return host.strip("[]"), int(port)


class MonitoringServer:
    """Serves /healthz (200 "ok", or 503 with every failing check's reason) and /metrics."""

    def __init__(
        self,
        host: str,
        port: int,
        checks: dict[str, HealthCheck],
        metrics: Metrics,
        routes: Mapping[str, Route] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.checks = checks
        self.metrics = metrics
        self.routes = dict(routes or {})  # path prefix -> route, e.g. "/cal/"
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]  # the real one when asked for port 0
        log.info("health and metrics at http://%s:%s/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def problems(self) -> list[str]:
        found = []
        for name, check in self.checks.items():
            try:
                reason = check()
            except Exception as error:  # a check that breaks is itself a failed check
                reason = f"{type(error).__name__}: {error}"
            if reason:
                found.append(f"{name}: {reason}")
        return found

    def answer(
        self, method: str, target: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, response headers, body) for one request."""
        plain = "text/plain; charset=utf-8"
        if method not in ("GET", "HEAD"):
            return 405, {"Content-Type": plain}, b"only GET\n"
        path, _, query = target.partition("?")
        if path == "/healthz":
            problems = self.problems()
            if problems:
                return 503, {"Content-Type": plain}, ("\n".join(problems) + "\n").encode()
            return 200, {"Content-Type": plain}, b"ok\n"
        if path == "/metrics":
            return 200, {"Content-Type": CONTENT_TYPE}, self.metrics.render()
        for prefix, route in self.routes.items():
            if path.startswith(prefix):
                return route(path, query, headers or {})
        return 404, {"Content-Type": plain}, b"not found: try /healthz or /metrics\n"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT)
            headers: dict[str, str] = {}
            for _ in range(_MAX_HEADER_LINES):
                line = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT)
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            parts = request.decode("latin-1").split()
            if len(parts) < 2:
                status, extra, body = 400, {"Content-Type": "text/plain; charset=utf-8"}, b"bad request\n"
            else:
                status, extra, body = self.answer(parts[0], parts[1], headers)
            reason = _REASONS.get(status, "Service Unavailable")
            lines = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
            head = (
                f"HTTP/1.1 {status} {reason}\r\n{lines}"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + (b"" if parts[:1] == ["HEAD"] else body))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass  # a client that went away or never spoke: nothing to answer
        except Exception:  # never let one request break the server
            log.exception("monitoring request failed")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
