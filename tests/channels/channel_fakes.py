"""Fake Feishu, DingTalk and WeCom group robots, a generic webhook receiver, and an SMTP server with
STARTTLS: real servers on 127.0.0.1, strict the way the real ones are (reference §1.1).

Each robot server speaks HTTPS with a certificate from a local CA (trustme); its `hosts` entry
("127.0.0.1:PORT") goes into `[channels.hosts]` and the CA file into `[channels] ca_file`. The servers
check what the real ones check and answer HTTP 200 with an error body when something is wrong:
- Feishu: `timestamp` + `sign` in the body when the robot has a secret (HMAC key = f"{ts}\\n{secret}",
  empty message, seconds, within an hour) else 19021; 5 a second and 100 a minute per robot else 11232;
  a body over 20 KB 19036 (design limit); msg_type must be text, post or interactive.
- DingTalk: `timestamp` (ms) + `sign` in the URL (HMAC key = secret, message f"{ts}\\n{secret}") else
  310000; 20 a minute per robot, and the 21st blocks the robot for 10 minutes (130101); over 20,000 bytes
  refused; msgtype markdown needs title and text.
- WeCom: markdown content over 4,096 bytes 40058; 20 a minute per robot 45009.
- The generic webhook: the X-Policybot-Signature header must match.
Every accepted message is recorded with its robot; `delay` slows every answer (a burst in flight).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socketserver
import ssl
import threading
import time
import urllib.parse
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme


@dataclass
class Received:
    kind: str
    robot: str  # the token / access_token / key / hook name
    body: dict[str, Any]
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class Robots:
    """What every fake robot server shares: secrets per robot, what arrived, the errors sent back."""

    secrets: dict[str, str] = field(default_factory=dict)  # robot -> secret
    received: list[Received] = field(default_factory=list)
    refused: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, robot, code)
    fail_with: dict[str, int] = field(default_factory=dict)  # robot -> HTTP status for the next answers
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _sent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _blocked_until: dict[str, float] = field(default_factory=dict)

    def texts(self, robot: str | None = None) -> list[str]:
        out = []
        for item in self.received:
            if robot is not None and item.robot != robot:
                continue
            body = item.body
            if item.kind == "feishu":
                out.append(body["card"]["elements"][0]["text"]["content"])
            elif item.kind == "dingtalk":
                out.append(body["markdown"]["text"])
            elif item.kind == "wecom":
                out.append(body["markdown"]["content"])
            else:
                out.append(body["text"])
        return out

    def count_in(self, robot: str, seconds: float, now: float) -> int:
        sent = self._sent[robot]
        while sent and sent[0] <= now - 60:
            sent.popleft()
        return sum(1 for at in sent if at > now - seconds)


def _feishu_sign(secret: str, ts: int) -> str:
    return base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


def _dingtalk_sign(secret: str, ts: int) -> str:
    # The server compares the decoded value (the URL's percent-encoding undone by the query parser).
    return base64.b64encode(
        hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()


class _Handler(BaseHTTPRequestHandler):
    server: _RobotServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the real endpoints (every answer has a Content-Length)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        robots = self.server.robots
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        if robots.delay:
            time.sleep(robots.delay)
        kind = self.server.kind
        robot = {
            "feishu": parts.path.rsplit("/", 1)[-1],
            "dingtalk": query.get("access_token", ""),
            "wecom": query.get("key", ""),
            "webhook": parts.path.rsplit("/", 1)[-1],
        }[kind]
        with robots.lock:
            status = robots.fail_with.get(robot)
            if status is not None:
                self._answer(status, {"error": "fault injected"})
                return
            code, message = getattr(self, f"_check_{kind}")(robot, raw, query)
            if code:
                robots.refused.append((kind, robot, code))
                key = "code" if kind == "feishu" else "errcode"
                self._answer(200, {key: code, "msg" if kind == "feishu" else "errmsg": message})
                return
            robots._sent[robot].append(time.monotonic())
            robots.received.append(
                Received(kind, robot, json.loads(raw), query, dict(self.headers.items()), time.monotonic())
            )
        if kind == "feishu":
            self._answer(200, {"code": 0, "msg": "success", "data": {}})
        elif kind == "webhook":
            self._answer(200, {"ok": True})
        else:
            self._answer(200, {"errcode": 0, "errmsg": "ok"})

    # Each check answers (0, "") or (the channel's error code, its words).

    def _check_feishu(self, robot: str, raw: bytes, query: dict[str, str]) -> tuple[int, str]:
        robots = self.server.robots
        if len(raw) > 20 * 1024:
            return 19036, "request body too large"
        body = json.loads(raw)
        secret = robots.secrets.get(robot)
        if secret is not None:
            ts = int(body.get("timestamp", "0"))
            if abs(time.time() - ts) > 3600 or body.get("sign") != _feishu_sign(secret, ts):
                return 19021, "sign match fail or timestamp is not within one hour from current time"
        now = time.monotonic()
        if robots.count_in(robot, 1.0, now) >= 5 or robots.count_in(robot, 60.0, now) >= 100:
            return 11232, "frequency limited"
        if body.get("msg_type") not in ("text", "post", "interactive"):
            return 19002, "params error, msg_type need"
        return 0, ""

    def _check_dingtalk(self, robot: str, raw: bytes, query: dict[str, str]) -> tuple[int, str]:
        robots = self.server.robots
        now = time.monotonic()
        if robots._blocked_until.get(robot, 0) > now:
            return 130101, "send too fast, exceed 20 times per minute"
        secret = robots.secrets.get(robot)
        if secret is not None:
            ts = int(query.get("timestamp", "0"))
            if abs(time.time() * 1000 - ts) > 3_600_000 or query.get("sign") != _dingtalk_sign(secret, ts):
                return 310000, "sign not match"
        if robots.count_in(robot, 60.0, now) >= 20:
            robots._blocked_until[robot] = now + 600
            return 130101, "send too fast, exceed 20 times per minute"
        if len(raw) > 20_000:
            return 460101, "message too long"
        body = json.loads(raw)
        if body.get("msgtype") == "markdown" and not (
            body["markdown"].get("title") and body["markdown"].get("text")
        ):
            return 300001, "markdown title or text missing"
        return 0, ""

    def _check_wecom(self, robot: str, raw: bytes, query: dict[str, str]) -> tuple[int, str]:
        robots = self.server.robots
        body = json.loads(raw)
        if body.get("msgtype") == "markdown" and len(body["markdown"]["content"].encode()) > 4096:
            return 40058, "markdown.content exceed max length 4096"
        if robots.count_in(robot, 60.0, time.monotonic()) >= 20:
            return 45009, "api freq out of limit"
        return 0, ""

    def _check_webhook(self, robot: str, raw: bytes, query: dict[str, str]) -> tuple[int, str]:
        secret = self.server.robots.secrets.get(robot)
        if secret is not None:
            ts = self.headers.get("X-Policybot-Timestamp", "0")
            mac = hmac.new(secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
            if self.headers.get("X-Policybot-Signature") != "sha256=" + mac:
                return 401, "bad signature"
        return 0, ""


class _RobotServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, kind: str, robots: Robots, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.kind = kind
        self.robots = robots
        self.socket = context.wrap_socket(self.socket, server_side=True)


@dataclass
class FakeChannels:
    """One HTTPS server per kind (so each kind has its own "host:port"), sharing one `Robots`."""

    robots: Robots
    ca_file: Path
    ports: dict[str, int]
    servers: list[_RobotServer]

    def host(self, kind: str) -> str:
        return f"127.0.0.1:{self.ports[kind]}"

    def url(self, kind: str, robot: str) -> str:
        base = f"https://{self.host(kind)}"
        return {
            "feishu": f"{base}/open-apis/bot/v2/hook/{robot}",
            "dingtalk": f"{base}/robot/send?access_token={robot}",
            "wecom": f"{base}/cgi-bin/webhook/send?key={robot}",
            "webhook": f"{base}/hook/{robot}",
        }[kind]

    def config_toml(self) -> str:
        hosts = "\n".join(f'{kind} = ["{self.host(kind)}"]' for kind in self.ports)
        return f'\n[channels]\nca_file = "{self.ca_file}"\n\n[channels.hosts]\n{hosts}\n'

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def start_fake_channels(tmp_path: Path) -> FakeChannels:
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    ca_file = tmp_path / "channels-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    robots = Robots()
    servers, ports = [], {}
    for kind in ("feishu", "dingtalk", "wecom", "webhook"):
        server = _RobotServer(kind, robots, context)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        ports[kind] = server.server_address[1]
    return FakeChannels(robots, ca_file, ports, servers)


# --- SMTP with STARTTLS -------------------------------------------------------------------------------


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str], bool]] = field(default_factory=list)  # from, to, over TLS
    refuse: set[str] = field(default_factory=set)  # recipients answered 550


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def finish(self) -> None:
        super().finish()
        self.connection.close()  # after STARTTLS it is the TLS socket, which the server does not know

    def handle(self) -> None:
        tls = False
        sender, recipients = "", []
        self._say("220 fake.smtp ESMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode().strip()
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                extensions = ["fake.smtp", "8BITMIME", "SMTPUTF8"] + ([] if tls else ["STARTTLS"])
                for index, extension in enumerate(extensions):
                    self._say(f"250{' ' if index == len(extensions) - 1 else '-'}{extension}")
            elif verb == "STARTTLS":
                self._say("220 go ahead")
                self.connection = self.server.context.wrap_socket(self.connection, server_side=True)
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb")
                tls = True
            elif verb == "MAIL":
                if self.server.require_tls and not tls:
                    self._say("530 must issue STARTTLS first")
                    continue
                sender = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                recipients = []
                self._say("250 ok")
            elif verb == "RCPT":
                address = line.split(":", 1)[1].strip().strip("<>").split(">")[0]
                if address in self.server.mailbox.refuse:
                    self._say("550 no such user")
                    continue
                recipients.append(address)
                self._say("250 ok")
            elif verb == "DATA":
                self._say("354 end with .")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.mailbox.messages.append(message_from_bytes(data))
                self.server.mailbox.envelopes.append((sender, recipients, tls))
                self._say("250 queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 ok")


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.mailbox = mailbox
        self.context = context
        self.require_tls = True


def start_fake_smtp(tmp_path: Path) -> tuple[_SmtpServer, Mailbox, Path]:
    authority = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    ca_file = tmp_path / "smtp-ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    mailbox = Mailbox()
    server = _SmtpServer(mailbox, context)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, mailbox, ca_file
