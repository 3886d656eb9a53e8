"""`ChannelSender`: the `Sender` (bot/reminders/sender.py) of every destination beside Telegram.

One httpx client for the webhooks (Feishu/Lark, DingTalk, WeCom, the generic JSON webhook), smtplib in a
thread for e-mail. The destination is the chat id of a destination (bot/channels/destinations.py); its
row says the kind, URL and secret.

What the channel answers becomes a `SendResult` (reference §1.1: all three answer HTTP 200 on failure,
so the JSON body decides):
- HTTP 200 and code 0                                  -> Sent
- "too fast": DingTalk 130101 (robot blocked 10 min), WeCom 45009, Feishu 11232, HTTP 429
                                                       -> RetryLater (that robot only; see `pace`)
- a timeout, a lost connection, HTTP 5xx, SMTP 4xx     -> Failed, transient (the dispatcher backs off)
- any other code, HTTP 4xx, SMTP 5xx                   -> Failed, permanent; after `disable_after` of
  them in a row the destination is disabled (Blocked: the dispatcher marks its chat inactive) and its
  owner is told: the Telegram chat that connected it, else the audit log and the log.

Pacing: before each request the robot's windows (bot/channels/pace.py) must allow it; a wait longer than
`MAX_WAIT` is not slept through but answered RetryLater, so a dispatcher worker never idles on one robot.

Secrets: no URL, key or secret is ever put into a log line, a reason or the audit; reasons carry the
channel's code and words only.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import httpx

from bot.channels.destinations import (
    Destination,
    destination_by_chat,
    record_failure,
    record_success,
    set_enabled,
)
from bot.channels.formats import (
    BYTE_LIMITS,
    dingtalk_body,
    feishu_body,
    markdown_of,
    plain_of,
    split_by_bytes,
    title_of,
    wecom_body,
)
from bot.channels.kinds import Kind
from bot.channels.pace import WINDOWS, RobotPace
from bot.channels.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    dingtalk_sign,
    feishu_sign,
    webhook_signature,
)
from bot.config import ChannelsConfig
from bot.i18n import t
from bot.reminders import (
    Blocked,
    Failed,
    Limits,
    Outbox,
    OutgoingMessage,
    Planned,
    RetryLater,
    SendResult,
    Sent,
    TextFormat,
)
from bot.reminders import Destination as Address
from bot.store import Store

__all__ = ["MAX_WAIT", "ChannelSender", "interpret"]

log = logging.getLogger(__name__)

MAX_WAIT = 2.0  # seconds a send may wait for its robot's window before the rows are put back instead
# "Too fast" codes and how long to keep off the robot (reference §1.1; WeCom: wecom-notifier's 65 s).
_TOO_FAST = {
    (Kind.DINGTALK, 130101): 600.0,  # throttled for 10 minutes
    (Kind.WECOM, 45009): 65.0,
    (Kind.FEISHU, 11232): 60.0,
}


def interpret(kind: Kind, status: int, body: bytes, retry_after: str | None = None) -> SendResult:
    """A webhook's HTTP answer as a result (module docstring)."""
    if status == 429:
        return RetryLater(_seconds(retry_after, 60.0))
    if status >= 500:
        return Failed(f"HTTP {status}", transient=True)
    if status >= 400:
        return Failed(f"HTTP {status}", transient=False)
    if kind is Kind.WEBHOOK:  # ours: any 2xx is taken, its body is the integrator's business
        return Sent(None)
    try:
        answer: Any = json.loads(body or b"{}")
    except ValueError:
        return Failed(f"HTTP {status} with a body that is not JSON", transient=True)
    if not isinstance(answer, dict):
        return Failed(f"HTTP {status} with an unexpected JSON body", transient=True)
    # Feishu: "code" (older bots: "StatusCode"); DingTalk and WeCom: "errcode".
    code = answer.get("code", answer.get("StatusCode", answer.get("errcode", 0)))
    words = answer.get("msg", answer.get("StatusMessage", answer.get("errmsg", "")))
    if code in (0, None):
        return Sent(None)
    reason = f"{kind.value} error {code}: {str(words)[:200]}"
    pause = _TOO_FAST.get((kind, code))
    if pause is not None:
        return RetryLater(pause)
    return Failed(reason, transient=False)


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(1.0, float(value)) if value else default
    except ValueError:
        return default


class ChannelSender:
    """Sends to destinations; `limits` are only the dispatcher's fallback (each robot is paced here)."""

    def __init__(
        self,
        store: Store,
        config: ChannelsConfig,
        *,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.config = config
        verify: ssl.SSLContext | bool = True
        if config.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(config.ca_file))
        self._client = client or httpx.AsyncClient(
            timeout=config.timeout, verify=verify, follow_redirects=False
        )
        self._own_client = client is None
        # httpx logs every request's URL at INFO, and a webhook's URL holds its key: whoever runs this
        # sender (the bot, the CLI, a test) must not have them in the log.
        for noisy in ("httpx", "httpcore"):
            if logging.getLogger(noisy).getEffectiveLevel() < logging.WARNING:
                logging.getLogger(noisy).setLevel(logging.WARNING)
        self._clock = clock
        self._wall_clock = wall_clock  # signatures carry the real time, whatever POLICYBOT_NOW says
        self._robots: dict[str, RobotPace] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def limits(self) -> Limits:
        return Limits()

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    # --- the Sender protocol ---

    async def send(self, destination: Address, message: OutgoingMessage) -> SendResult:
        if not isinstance(destination, int):
            return Failed("not a destination's chat id", transient=False)
        found = destination_by_chat(self.store, destination)
        if found is None:
            return Failed("no such destination (removed?)", transient=False)
        if not found.enabled:
            return Blocked(found.disabled_reason or "the destination is disabled")
        text_html = message.text if message.format is TextFormat.HTML else _escape(message.text)
        try:
            result = await self._send(found, text_html)
        except Exception as error:  # a bug on our side: transient, the rows are retried
            log.exception("sending to destination %s (%s) failed", found.name, found.kind.value)
            result = Failed(f"{type(error).__name__}", transient=True)
        return self._settle(found, result)

    async def send_to(self, destination: Destination, message: OutgoingMessage) -> SendResult:
        """Send to a destination not kept yet (the test message of /connect); nothing is recorded."""
        text_html = message.text if message.format is TextFormat.HTML else _escape(message.text)
        try:
            return await self._send(destination, text_html)
        except Exception as error:
            log.exception("sending a test message to a %s destination failed", destination.kind.value)
            return Failed(f"{type(error).__name__}", transient=True)

    def _settle(self, destination: Destination, result: SendResult) -> SendResult:
        """Count the destination's failures; disable it after too many permanent ones in a row."""
        if isinstance(result, Sent):
            record_success(self.store, destination)
            return result
        if isinstance(result, Failed):
            failures = record_failure(self.store, destination, result.reason, permanent=not result.transient)
            log.warning("destination %s (%s): %s", destination.name, destination.kind.value, result.reason)
            if not result.transient and failures >= self.config.disable_after:
                reason = f"{failures} permanent failures in a row, the last: {result.reason}"
                self._disable(destination, reason)
                return Blocked(reason)
        return result

    def _disable(self, destination: Destination, reason: str) -> None:
        set_enabled(self.store, destination, False, reason)
        log.warning("destination %s (%s) disabled: %s", destination.name, destination.kind.value, reason)
        self.store.audit(None, destination.mirror_of, "destination-disabled", f"{destination.name}: {reason}")
        owner = destination.mirror_of
        settings = self.store.chat(owner) if owner is not None else None
        if owner is None or settings is None:
            return
        now = self.store.clock.now()
        text = t(settings.language, "channels_disabled_notice", name=destination.name, reason=reason)
        # A "broadcast" row: the outbox carries it like an operator's words (bot/reminders/text.py).
        notice = Planned(owner, "broadcast", f"channels-disabled:{destination.id}:{now.isoformat()}", 0, now,
                         None, {"text": plain_of(text)})  # fmt: skip
        Outbox(self.store).enqueue([notice])

    # --- per kind ---

    async def _send(self, destination: Destination, text_html: str) -> SendResult:
        if destination.kind is Kind.EMAIL:
            return await asyncio.to_thread(self._send_email, destination, text_html)
        if destination.kind is Kind.WEBHOOK:
            return await self._post(destination, self._webhook_request(destination, text_html))
        title = title_of(text_html)
        markdown = markdown_of(text_html)
        result: SendResult = Sent(None)
        # A piece after a failed one is not sent: the retry sends them all again (a repeat, not a loss).
        for piece in split_by_bytes(markdown, BYTE_LIMITS[destination.kind.value]):
            result = await self._post(destination, self._request(destination, piece, title))
            if not isinstance(result, Sent):
                return result
        return result

    def _request(
        self, destination: Destination, markdown: str, title: str
    ) -> tuple[str, bytes, dict[str, str]]:
        url = destination.url
        body: dict[str, Any]
        if destination.kind is Kind.FEISHU:
            body = feishu_body(markdown, title)
            if destination.secret:
                seconds = int(self._wall_clock())
                body = {"timestamp": str(seconds), "sign": feishu_sign(destination.secret, seconds), **body}
        elif destination.kind is Kind.DINGTALK:
            body = dingtalk_body(markdown, title)
            if destination.secret:
                millis = int(self._wall_clock() * 1000)
                sign = dingtalk_sign(destination.secret, millis)
                url = f"{url}{'&' if '?' in url else '?'}timestamp={millis}&sign={sign}"
        else:
            body = wecom_body(markdown)
        data = json.dumps(body, ensure_ascii=False).encode()
        return url, data, {"Content-Type": "application/json; charset=utf-8"}

    def _webhook_request(self, destination: Destination, text_html: str) -> tuple[str, bytes, dict[str, str]]:
        body = {
            "title": title_of(text_html),
            "text": plain_of(text_html),
            "markdown": markdown_of(text_html),
            "html": text_html,
        }
        data = json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if destination.secret:
            seconds = int(self._wall_clock())
            headers[TIMESTAMP_HEADER] = str(seconds)
            headers[SIGNATURE_HEADER] = webhook_signature(destination.secret, seconds, data)
        return destination.url, data, headers

    async def _post(self, destination: Destination, request: tuple[str, bytes, dict[str, str]]) -> SendResult:
        url, data, headers = request
        robot = destination.url
        lock = self._locks.setdefault(robot, asyncio.Lock())
        async with lock:  # one request at a time per robot, so its windows count what really left
            pace = self._robots.get(robot)
            if pace is None:
                pace = self._robots[robot] = RobotPace(WINDOWS[destination.kind], clock=self._clock)
            wait = pace.delay()
            if wait > MAX_WAIT:
                return RetryLater(wait)
            if wait > 0:
                await asyncio.sleep(wait)
            pace.take()
            try:
                response = await self._client.post(url, content=data, headers=headers)
            except httpx.TimeoutException:
                return Failed("timeout", transient=True)
            except httpx.HTTPError as error:  # the message names no URL: only the error's type
                return Failed(f"connection failed ({type(error).__name__})", transient=True)
            result = interpret(destination.kind, response.status_code, response.content,
                               response.headers.get("Retry-After"))  # fmt: skip
            if isinstance(result, RetryLater):
                pace.block(result.seconds)
            return result

    def _send_email(self, destination: Destination, text_html: str) -> SendResult:
        smtp = self.config.smtp
        if not smtp.host:
            return Failed("no SMTP server configured ([channels.smtp] host)", transient=False)
        message = EmailMessage()
        message["Subject"] = title_of(text_html)
        message["From"] = smtp.sender
        message["To"] = destination.url.removeprefix("mailto:")
        message.set_content(plain_of(text_html))
        body = text_html.replace("\n", "<br>\n")
        message.add_alternative(f"<!DOCTYPE html><html><body>{body}</body></html>", subtype="html")
        context = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
                if smtp.starttls:
                    client.starttls(context=context)
                if smtp.username:
                    client.login(smtp.username, smtp.password or "")
                client.send_message(message)
        except smtplib.SMTPResponseException as error:
            return Failed(f"SMTP {error.smtp_code}", transient=400 <= error.smtp_code < 500)
        except smtplib.SMTPRecipientsRefused as error:
            codes = sorted({code for code, _ in error.recipients.values()})
            return Failed(f"SMTP recipient refused {codes}", transient=all(400 <= c < 500 for c in codes))
        except (OSError, smtplib.SMTPException) as error:
            return Failed(f"SMTP connection failed ({type(error).__name__})", transient=True)
        return Sent(None)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)
