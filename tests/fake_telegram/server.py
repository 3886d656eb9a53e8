"""`FakeBotAPI`: the strict fake Telegram Bot API server, on 127.0.0.1 in a background thread.

The real python-telegram-bot talks to it over real HTTP through ``base_url``; the test injects updates,
plans faults and inspects every call. One ThreadingHTTPServer thread per connection lets a long poll wait
while the bot sends; all state sits behind one lock, and long polls wait on the update queue's own
Condition so that they never hold that lock while waiting.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import unquote, urlsplit

from . import methods, rules, updates
from .errors import ApiError, NoSuchMessage, WaitTimeout, bad_request, not_found, unauthorized
from .faults import (
    ANY_METHOD,
    Fault,
    FaultKind,
    FaultPlan,
    NetworkDelay,
    RandomFaults,
    RateLimiter,
    is_rate_limited,
)
from .polling import UpdateQueue
from .spec import SPEC_PATH, ApiSpec, MethodDef
from .transport import HttpServer
from .wire import Upload, WireError, decode_request
from .world import SUPERGROUP_PREFIX, World

DEFAULT_TOKEN = "123456:TEST-token"
DEFAULT_USERNAME = "PolicyTestBot"
ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
SENT_MESSAGE_METHODS = ("sendMessage", "sendPhoto", "sendDocument")

_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,100}")
_API_PATH = re.compile(r"/bot([^/]*)/([^/]*)")
_FILE_PATH = re.compile(r"/file/bot([^/]*)/(.+)")
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


@dataclass(frozen=True)
class Call:
    """One request as the server understood it.

    `params` are decoded to Python values (JSON objects parsed); a file uploaded for a parameter shows as
    ``"attach://<part>"`` there and its bytes are ``files[<part>]``. `status` is the HTTP status answered
    (200, or the error a fault, flood control or Telegram's rules produced), `result` the answered result.
    For a *rejected* request `params` are the raw strings that failed to decode.
    """

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    description: str | None = None
    result: Any = None
    file_names: dict[str, str | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200


class FakeBotAPI:
    """A strict fake of api.telegram.org for one bot; see the package docstring for the whole picture."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = DEFAULT_USERNAME,
        first_name: str = "Policy Test Bot",
        spec_path: Path = SPEC_PATH,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
    ) -> None:
        if not _TOKEN.fullmatch(token):
            raise ValueError(f"{token!r} is not shaped like a bot token (<bot id>:<secret>)")
        self.token = token
        self.spec = ApiSpec.load(spec_path)
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self._host = host
        self._lock = threading.RLock()
        self._world = World(self.bot_user, clock)
        self._queue = UpdateQueue()
        self._faults = FaultPlan()
        self._limiter = RateLimiter()
        self._random_faults = RandomFaults()
        self._network = NetworkDelay()
        self._calls: list[Call] = []
        self._rejected: list[Call] = []
        self._internal_errors: list[str] = []
        self._rejections_expected = False
        self._stopping = threading.Event()
        self._httpd: HttpServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("a FakeBotAPI starts once; create a new one for a fresh server")
        self._httpd = HttpServer((self._host, 0), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-telegram",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down promptly, releasing waiting long polls and slow answers; idempotent."""
        httpd, thread = self._httpd, self._thread
        if httpd is None or thread is None or self._stopping.is_set():
            return
        self._stopping.set()
        self._queue.close()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()  # joins the connection threads
        thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("start() the server first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """For `Bot(base_url=...)`/`ApplicationBuilder().base_url(...)`: PTB appends token and method."""
        return f"http://{self._host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For `base_file_url(...)`: file downloads are served from here."""
        return f"http://{self._host}:{self.port}/file/bot"

    @property
    def bot_id(self) -> int:
        return int(self.bot_user["id"])

    @property
    def bot_username(self) -> str:
        return str(self.bot_user["username"])

    # What happened

    @property
    def calls(self) -> list[Call]:
        """Every request that passed validation, in the order answered (a copy)."""
        with self._lock:
            return list(self._calls)

    @property
    def rejected(self) -> list[Call]:
        """Every request refused for breaking the API contract: 401/404, bad parameters, limits, HTML."""
        with self._lock:
            return list(self._rejected)

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of bugs in the fake itself (answered 500); should always be empty."""
        with self._lock:
            return list(self._internal_errors)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method, whatever they were answered."""
        return [call for call in self.calls if call.method == method]

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Params of successful sendMessage/sendPhoto/sendDocument calls, optionally to one chat."""
        return [
            call.params
            for call in self.calls
            if call.ok
            and call.method in SENT_MESSAGE_METHODS
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def chat_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The messages of a chat as Telegram now holds them (edits applied, deletions gone)."""
        with self._lock:
            return self._world.chat_messages(chat_id)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates injected but not yet confirmed by the bot."""
        return self._queue.pending()

    @property
    def webhook(self) -> dict[str, Any] | None:
        """The parameters of the last setWebhook, or None when no webhook is set."""
        with self._lock:
            return dict(self._world.webhook) if self._world.webhook else None

    def my_commands(
        self, language_code: str = "", scope: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The commands set with setMyCommands for that scope (default scope) and language."""
        params = {"language_code": language_code, "scope": dict(scope) if scope else None}
        with self._lock:
            return list(methods.get_my_commands(self._world, params, {}))

    def expect_rejections(self) -> None:
        """Tell the pytest fixture that this test provokes rejections on purpose."""
        self._rejections_expected = True

    @property
    def rejections_expected(self) -> bool:
        return self._rejections_expected

    def assert_no_rejections(self) -> None:
        """Fail with every rejected request and internal error, if there was any."""
        problems = [
            f"{c.method}: {c.status} {c.description} (params {_brief(c.params)})" for c in self.rejected
        ]
        problems += self.internal_errors
        if problems:
            raise AssertionError("the fake Telegram server refused requests:\n" + "\n".join(problems))

    # The test's side of Telegram

    def add_chat(
        self,
        chat_id: int,
        chat_type: ChatType,
        *,
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
    ) -> dict[str, Any]:
        """Declare a chat so that messages carry the right type and title; returns the Chat object."""
        with self._lock:
            return self._world.declare_chat(
                chat_id, chat_type, title=title, username=username, first_name=first_name
            ).as_chat()

    def set_admins(self, chat_id: int, admins: Iterable[int], *, creator: int | None = None) -> None:
        """Who getChatMember reports as "administrator" (and "creator"); everyone else is "member"."""
        with self._lock:
            self._world.admins[chat_id] = set(admins)
            if creator is not None:
                self._world.owners[chat_id] = creator
            else:
                self._world.owners.pop(chat_id, None)

    def message(
        self,
        chat_id: int,
        text: str | None,
        *,
        user_id: int | None = None,
        chat_type: ChatType | None = None,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to: int | None = None,
        anonymous_admin: bool = False,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """A user writes `text` in a chat; returns the update_id.

        Private chats default to the user whose id is the chat id; groups to user 1001. A leading
        /command (with or without @botname) and @mentions get their entities. `reply_to` is the id of a
        message in the chat (the bot's, say). `anonymous_admin` sends as the group itself, as Telegram
        does for anonymous admins. `extra` adds fields to the Message (e.g. a document).
        """
        with self._lock:
            world = self._world
            chat = world.declare_chat(chat_id, chat_type, title=title) if chat_type else world.chat(chat_id)
            if chat.type == "private":
                if user_id not in (None, chat_id):
                    raise ValueError(f"in the private chat {chat_id} only user {chat_id} writes")
                user_id = chat_id
            self._check_reachable(chat_id)
            known = world.users.get(user_id or updates.DEFAULT_USER_ID, {})
            sender = world.declare_user(
                user_id or updates.DEFAULT_USER_ID,
                first_name=first_name,
                username=username,
                language_code=language_code or known.get("language_code") or "en",
            )
            if chat.type == "private":
                chat.first_name, chat.username = sender["first_name"], sender.get("username")
            replied = None
            if reply_to is not None:
                replied = world.stored(chat_id, reply_to)
                if replied is None:
                    raise NoSuchMessage(f"no message {reply_to} in chat {chat_id} to reply to")
            message = updates.user_message(
                message_id=world.next_message_id(chat_id),
                date=world.now(),
                chat=chat.as_chat(),
                sender=dict(updates.GROUP_ANONYMOUS_BOT) if anonymous_admin else sender,
                text=text,
                reply_to=replied,
                sender_chat=chat.as_chat() if anonymous_admin else None,
                extra=dict(extra) if extra else None,
            )
            world.store_message(message)
        return self._queue.push({"message": message})

    def document(
        self,
        chat_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        **message_options: Any,
    ) -> int:
        """A user sends a file as a document; getFile and the file download URL then serve its bytes.

        The Message carries a Document (file_id, file_unique_id, file_name, mime_type, file_size) as the
        Bot API describes it; `message_options` are those of `message` (user_id, chat_type, ...).
        """
        with self._lock:
            stored = self._world.store_file(
                data, file_name=file_name, mime_type=mime_type, folder="documents"
            )
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": file_name,
            "file_size": len(data),
        }
        if mime_type is not None:
            document["mime_type"] = mime_type
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return self.message(chat_id, None, extra=extra, **message_options)

    def callback(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        message_id: int | None = None,
        *,
        check_button: bool = True,
    ) -> int:
        """A user presses a button under a message (by default the bot's latest in the chat).

        With `check_button`, the message must carry a button with exactly this callback_data, as only
        such a button can produce the query; pass False to forge one.
        """
        with self._lock:
            world = self._world
            if message_id is None:
                message = world.last_bot_message(chat_id)
                if message is None:
                    raise NoSuchMessage(f"the bot has sent no message in chat {chat_id}")
            else:
                message = world.stored(chat_id, message_id)
                if message is None:
                    raise NoSuchMessage(f"no message {message_id} in chat {chat_id}")
            if check_button:
                rows = message.get("reply_markup", {}).get("inline_keyboard", [])
                buttons = [button.get("callback_data") for row in rows for button in row]
                if data not in buttons:
                    raise ValueError(
                        f"message {message['message_id']} in chat {chat_id} has no button with "
                        f"callback_data {data!r}; it has {buttons}"
                    )
            query_id = str(4_000_000_000_000_000 + world.new_id())
            world.callback_queries[query_id] = False
            query = updates.callback_query(
                query_id=query_id,
                sender=world.user(user_id),
                message=message,
                data=data,
                chat_instance=str(abs(chat_id) * 7 + 1_000_003),
            )
        return self._queue.push({"callback_query": query})

    def migrate(self, old_chat_id: int, new_chat_id: int, *, user_id: int | None = None) -> int:
        """A basic group becomes a supergroup, as Telegram reports it; returns the first update_id.

        Two updates are queued, as Telegram sends them: a service message in the old group with
        `migrate_to_chat_id`, then one in the new supergroup with `migrate_from_chat_id`. From now on,
        requests to the old chat answer 400 with `migrate_to_chat_id` (PTB's ChatMigrated).
        """
        if new_chat_id >= SUPERGROUP_PREFIX:
            raise ValueError(f"a supergroup id looks like -100xxxxxxxxxx, not {new_chat_id}")
        with self._lock:
            world = self._world
            old = world.chat(old_chat_id)
            if old.type != "group":
                raise ValueError(f"only a basic group migrates; chat {old_chat_id} is a {old.type}")
            self._check_reachable(old_chat_id)
            new = world.declare_chat(new_chat_id, "supergroup", title=old.as_chat()["title"])
            world.admins[new_chat_id] = set(world.admins.get(old_chat_id, set()))
            if old_chat_id in world.owners:
                world.owners[new_chat_id] = world.owners[old_chat_id]
            sender = world.user(user_id or updates.DEFAULT_USER_ID)
            moved_out = updates.user_message(
                message_id=world.next_message_id(old_chat_id),
                date=world.now(),
                chat=old.as_chat(),
                sender=sender,
                extra={"migrate_to_chat_id": new_chat_id},
            )
            moved_in = updates.user_message(
                message_id=world.next_message_id(new_chat_id),
                date=world.now(),
                chat=new.as_chat(),
                sender=sender,
                extra={"migrate_from_chat_id": old_chat_id},
            )
            world.store_message(moved_out)
            world.store_message(moved_in)
            old.migrated_to = new_chat_id
        first = self._queue.push({"message": moved_out})
        self._queue.push({"message": moved_in})
        return first

    def my_chat_member(
        self,
        chat_id: int,
        status: MemberStatus,
        *,
        old_status: MemberStatus | None = None,
        user_id: int | None = None,
    ) -> int:
        """The bot's own membership changes (added, promoted, removed, blocked); returns the update_id.

        In a private chat "kicked" means the user blocked the bot. Afterwards requests to a chat the
        bot was removed from (or blocked in) answer 403 like Telegram does, until it is "member" again.
        """
        with self._lock:
            world = self._world
            chat = world.chat(chat_id)
            joining = status in ("member", "administrator") and chat.type != "private"
            previous = old_status or world.bot_status.get(chat_id) or ("left" if joining else "member")
            actor = user_id or (chat_id if chat.type == "private" else updates.DEFAULT_USER_ID)
            change = {
                "chat": chat.as_chat(),
                "from": world.user(actor),
                "date": world.now(),
                "old_chat_member": updates.chat_member(dict(self.bot_user), previous),
                "new_chat_member": updates.chat_member(dict(self.bot_user), status),
            }
            world.bot_status[chat_id] = status
        return self._queue.push({"my_chat_member": change})

    def inject(self, payload: Mapping[str, Any]) -> int:
        """Queue a raw update payload such as ``{"edited_message": {...}}``; returns the update_id."""
        return self._queue.push(dict(payload))

    def _check_reachable(self, chat_id: int) -> None:
        record = self._world.chats.get(chat_id)
        if record is not None and record.migrated_to is not None:
            raise ValueError(f"chat {chat_id} migrated to {record.migrated_to}; nobody writes there any more")
        if self._world.bot_status.get(chat_id) in ("kicked", "left"):
            raise ValueError(f"the bot is not in chat {chat_id}; Telegram would deliver nothing from it")

    # Faults and flood control

    def fail_next(
        self,
        method: str,
        kind: FaultKind,
        times: int = 1,
        chat_id: int | None = None,
        *,
        retry_after: int = 5,
        delay: float = 1.0,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        """Make the next `times` valid calls of `method` ("*" for any) to `chat_id` (any chat if None) fail.

        Kinds: "blocked" (403 bot was blocked by the user), "kicked" (403 kicked from the group chat),
        "chat_not_found" (400), "retry_after" (429 with parameters.retry_after=`retry_after`),
        "migrated" (400 with parameters.migrate_to_chat_id=`migrate_to_chat_id`), "server_error" (500),
        "slow" (answer normally after `delay` seconds; the call is still carried out).
        """
        if method != ANY_METHOD:
            definition = self.spec.method(method)
            if definition is None:
                raise ValueError(f"{method!r} is not a Bot API method")
            method = definition.name
        fault = Fault(method, kind, times, chat_id, retry_after, delay, migrate_to_chat_id)
        with self._lock:
            self._faults.add(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def limit_rate(
        self,
        per_second: int | None = None,
        *,
        per_chat_per_second: int | None = None,
        per_group_per_minute: int | None = None,
    ) -> None:
        """Answer 429 (retry_after = seconds until the window frees) beyond these rates; None = no limit.

        Telegram's documented limits are about 30 per second overall, 1 per second per chat and 20 per
        minute per group. Counted: message sends and edits that passed validation and the limits.
        """
        with self._lock:
            self._limiter.configure(per_second, per_chat_per_second, per_group_per_minute)

    def random_faults(
        self,
        server_error: float = 0.0,
        slow: float = 0.0,
        *,
        slow_delay: float = 1.0,
        seed: int | None = None,
    ) -> None:
        """Answer this share of message sends and edits with 500, and this share after `slow_delay` seconds
        (carried out, as a slow Telegram does), at random; planned faults (`fail_next`) come first."""
        with self._lock:
            self._random_faults.configure(server_error, slow, slow_delay, seed)

    def network_delay(self, max_delay: float, *, seed: int | None = None) -> None:
        """Delay every request's round trip by a random 0 to `max_delay` seconds, half on the way in (so
        arrivals jitter, as flood control sees them) and half on the way out."""
        with self._lock:
            self._network.configure(max_delay, seed)

    # Waiting from tests

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5.0, *, interval: float = 0.01
    ) -> Any:
        """Poll `predicate` with asyncio.sleep (the event loop keeps running); return its truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise WaitTimeout(self._timeout_report(timeout))
            await asyncio.sleep(interval)

    def wait_for_sync(
        self, predicate: Callable[[], Any], timeout: float = 5.0, *, interval: float = 0.01
    ) -> Any:
        """The blocking twin of `wait_for`, for code that has no event loop."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise WaitTimeout(self._timeout_report(timeout))
            time.sleep(interval)

    async def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        """Wait until the bot has sent at least `count` messages to the chat; return all of them."""
        await self.wait_for(lambda: len(self.sent_messages(chat_id)) >= count, timeout)
        return self.sent_messages(chat_id)

    def _timeout_report(self, timeout: float) -> str:
        calls = self.calls[-15:]
        lines = [f"condition still false after {timeout}s; last calls:"]
        lines += [
            f"  {c.method} chat_id={c.params.get('chat_id')} -> {c.status} {c.description or ''}"
            for c in calls
        ]
        lines += [f"  REJECTED {c.method}: {c.description}" for c in self.rejected]
        lines += [f"  INTERNAL ERROR {error}" for error in self.internal_errors]
        return "\n".join(lines)

    # Answering requests (server threads)

    def answer_http(self, path: str, content_type: str | None, body: bytes) -> tuple[int, bytes, str]:
        """One HTTP request -> (status, body, content type). Never raises."""
        try:
            split = urlsplit(path)
            download = _FILE_PATH.fullmatch(split.path)
            if download:
                return self._download(unquote(download.group(1)), unquote(download.group(2)))
            status, payload = self._answer_api(split.path, split.query, content_type, body)
        except Exception:
            status, payload = 500, self._internal_error().payload()
        return status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json"

    def _answer_api(
        self, path: str, query: str, content_type: str | None, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        route = _API_PATH.fullmatch(path)
        if route is None:
            return self._reject(path, {}, {}, not_found())
        token, name = unquote(route.group(1)), unquote(route.group(2))
        if token != self.token:
            return self._reject(name, {}, {}, unauthorized())
        method = self.spec.method(name)
        if method is None:
            return self._reject(name, {}, {}, not_found())
        try:
            wire = decode_request(content_type, body, query)
        except WireError as error:
            return self._reject(method.name, {}, {}, bad_request(str(error)))
        files = {name: upload.data for name, upload in wire.uploads.items()}
        try:
            params = self.spec.decode_params(method, wire.fields, wire.uploads)
            rules.check_request(method.name, params)
        except ApiError as error:
            return self._reject(method.name, dict(wire.fields), files, error)
        return self._carry_out(method, params, wire.uploads)

    def _carry_out(
        self, method: MethodDef, params: dict[str, Any], uploads: Mapping[str, Upload]
    ) -> tuple[int, dict[str, Any]]:
        """The request travels, is handled, and its answer travels back (see `network_delay`)."""
        with self._lock:
            one_way = self._network.draw()
        if one_way:
            self._stopping.wait(one_way)
        answer = self._handle(method, params, uploads)
        if one_way:
            self._stopping.wait(one_way)
        return answer

    def _handle(
        self, method: MethodDef, params: dict[str, Any], uploads: Mapping[str, Upload]
    ) -> tuple[int, dict[str, Any]]:
        call = Call(
            method.name,
            params,
            {name: upload.data for name, upload in uploads.items()},
            file_names={name: upload.filename for name, upload in uploads.items()},
        )
        with self._lock:
            fault = self._faults.take(method.name, params.get("chat_id")) or self._random_faults.draw(
                method.name
            )
        if fault is not None:
            error = fault.error()
            if error is not None:
                return self._record(call, error)
            self._stopping.wait(fault.delay)
        if method.name == "getUpdates":
            return self._get_updates(call)
        try:
            with self._lock:
                result = self._dispatch(method, params, uploads)
        except ApiError as error:
            return self._record(call, error)
        except methods.NotImplementedByFake as missing:
            return self._reject(method.name, params, call.files, ApiError(501, f"Not Implemented: {missing}"))
        return self._record(call, result=result)

    def _dispatch(self, method: MethodDef, params: dict[str, Any], uploads: Mapping[str, Upload]) -> Any:
        """Flood control, then the method itself; the caller holds the lock."""
        chat_id = params.get("chat_id")
        if is_rate_limited(method.name):
            is_group = isinstance(chat_id, int) and self._world.chat(chat_id).type in ("group", "supergroup")
            flood = self._limiter.admit(chat_id, is_group)
            if flood is not None:
                raise flood
        if method.name == "deleteWebhook":
            self._world.webhook = None
            if params.get("drop_pending_updates"):
                self._queue.clear()
            return True
        result = methods.dispatch(self._world, method, params, uploads)
        if method.name == "getWebhookInfo":
            result["pending_update_count"] = len(self._queue.pending())
        return result

    def _get_updates(self, call: Call) -> tuple[int, dict[str, Any]]:
        with self._lock:
            webhook_active = self._world.webhook is not None
        if webhook_active:
            return self._record(call, ApiError(409, _WEBHOOK_CONFLICT))
        params = call.params
        try:
            result = self._queue.poll(
                params.get("offset"),
                params.get("limit"),
                params.get("timeout", 0),
                params.get("allowed_updates"),
            )
        except ApiError as error:
            return self._record(call, error)
        return self._record(call, result=result)

    def _download(self, token: str, file_path: str) -> tuple[int, bytes, str]:
        with self._lock:
            stored = self._world.file_by_path(file_path) if token == self.token else None
        if stored is None:
            error = not_found() if token == self.token else unauthorized()
            return error.code, json.dumps(error.payload()).encode("utf-8"), "application/json"
        return 200, stored.data, stored.mime_type or "application/octet-stream"

    def _record(
        self, call: Call, error: ApiError | None = None, result: Any = None
    ) -> tuple[int, dict[str, Any]]:
        if error is not None:
            call = Call(
                call.method, call.params, call.files, error.code, error.description, None, call.file_names
            )
            payload = error.payload()
        else:
            call = Call(call.method, call.params, call.files, 200, None, result, call.file_names)
            payload = {"ok": True, "result": result}
        with self._lock:
            self._calls.append(call)
        return call.status, payload

    def _reject(
        self, method: str, params: dict[str, Any], files: dict[str, bytes], error: ApiError
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self._rejected.append(Call(method, params, files, error.code, error.description))
        return error.code, error.payload()

    def report_internal_error(self) -> None:
        """Keep the traceback of the exception being handled: a bug of the fake, for the test to see."""
        with self._lock:
            self._internal_errors.append(traceback.format_exc())

    def _internal_error(self) -> ApiError:
        self.report_internal_error()
        return ApiError(500, f"Internal Server Error: fake server bug: {sys.exc_info()[1]!r}")


def _brief(params: Mapping[str, Any], width: int = 80) -> str:
    """Parameters for a failure message, long values cut (a rejected 5000-character text, say)."""
    shown = {
        key: value if len(repr(value)) <= width else f"{repr(value)[:width]}..."
        for key, value in params.items()
    }
    return repr(shown)
