"""A chat's private calendar subscription URL (`/calendar link`): the chat's dates, always current.

Calendar apps fetch a subscribed URL when they like (Google every 8 to 24 hours, Apple and Outlook every
few hours; `REFRESH-INTERVAL` and `X-PUBLISHED-TTL` ask for 6 hours), so near deadlines are still pushed
as reminders. The URL is `GET /cal/<token>.ics` on the bot's own HTTP server. The token is 32 random
URL-safe characters; only its sha256 is stored, it is never logged, and `/calendar reset` replaces it
(the old URL then answers 404, as an unknown one does). Each event keeps its UID, and its SEQUENCE is the
rule's version in the catalog history, so an app updates a moved date instead of adding a second one.
An unchanged calendar answers 304 to the app's If-None-Match (the ETag ignores DTSTAMP, which is the
time of the request).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Mapping

from bot.catalog import Catalog
from bot.i18n import t
from bot.reminders.changes import rule_versions
from bot.reminders.ics import calendar_ics
from bot.reminders.tracks import list_tracks
from bot.store import Store

__all__ = [
    "CALENDAR_PATH",
    "HttpAnswer",
    "calendar_answer",
    "calendar_link_created",
    "chat_for_token",
    "create_calendar_link",
    "remove_calendar_link",
]

CALENDAR_PATH = re.compile(r"^/cal/(?P<token>[A-Za-z0-9_-]{20,64})\.ics$")
REFRESH_HOURS = 6
# (status, headers, body), what the bot's HTTP server sends back.
HttpAnswer = tuple[int, dict[str, str], bytes]
_NOT_FOUND: HttpAnswer = (404, {"Content-Type": "text/plain; charset=utf-8"}, b"not found\n")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_calendar_link(store: Store, chat_id: int, *, replace: bool = False) -> str | None:
    """A new token for the chat's calendar URL; None when it has one already and `replace` is False
    (only its hash is stored, so an existing token cannot be shown again)."""
    token = secrets.token_urlsafe(24)
    now = store.clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
    with store.transaction():
        exists = store.db.execute("SELECT 1 FROM calendar_links WHERE chat_id = ?", [chat_id]).fetchone()
        if exists and not replace:
            return None
        store.db.execute(
            "INSERT INTO calendar_links (chat_id, token_hash, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET token_hash = excluded.token_hash,"
            " created_at = excluded.created_at",
            [chat_id, _hash(token), now],
        )
    return token


def calendar_link_created(store: Store, chat_id: int) -> dt.datetime | None:
    """When the chat's current link was made, if it has one."""
    row = store.db.execute("SELECT created_at FROM calendar_links WHERE chat_id = ?", [chat_id]).fetchone()
    return None if row is None else dt.datetime.fromisoformat(row[0])


def remove_calendar_link(store: Store, chat_id: int) -> bool:
    """Revoke the chat's link; True if it had one."""
    with store.transaction():
        cursor = store.db.execute("DELETE FROM calendar_links WHERE chat_id = ?", [chat_id])
    return cursor.rowcount > 0


def chat_for_token(store: Store, token: str) -> int | None:
    row = store.db.execute(
        "SELECT chat_id FROM calendar_links WHERE token_hash = ?", [_hash(token)]
    ).fetchone()
    return None if row is None else int(row[0])


def _etag(body: bytes) -> str:
    # DTSTAMP is the moment of the request: it must not make an unchanged calendar look changed.
    stable = b"\n".join(line for line in body.splitlines() if not line.startswith(b"DTSTAMP"))
    return '"' + hashlib.sha256(stable).hexdigest()[:32] + '"'


def calendar_answer(
    store: Store, catalog: Catalog, path: str, headers: Mapping[str, str], now: dt.datetime
) -> HttpAnswer:
    """The answer to `GET /cal/<token>.ics`: the chat's calendar, 304 when unchanged, 404 when unknown."""
    match = CALENDAR_PATH.match(path)
    chat_id = chat_for_token(store, match["token"]) if match else None
    settings = store.chat(chat_id) if chat_id is not None else None
    if settings is None or not settings.active:
        return _NOT_FOUND
    lang = settings.language
    tracks = [
        (str(t(lang, "calendar_track", rule_id=track.rule_id)), track.rule_id, track.deadline)
        for track in list_tracks(store, settings.chat_id)
    ]
    body = calendar_ics(
        catalog,
        store.subscriptions(settings.chat_id),
        lang,
        now,
        tracks=tracks,
        sequences=rule_versions(store),
        refresh_hours=REFRESH_HOURS,
        name=settings.title or "policybot",
    )
    etag = _etag(body)
    common = {"ETag": etag, "Cache-Control": f"private, max-age={REFRESH_HOURS * 3600}"}
    if etag in {tag.strip() for tag in headers.get("if-none-match", "").split(",")}:
        return 304, common, b""
    return 200, {"Content-Type": "text/calendar; charset=utf-8", **common}, body
