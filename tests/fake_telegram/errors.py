"""The errors of the fake Bot API, and the answers it gives instead of a result.

`ApiError` is what a Bot API method answers when it refuses: it becomes the HTTP status and the JSON body
``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}`` that python-telegram-bot turns
into `BadRequest`, `Forbidden`, `RetryAfter`, `ChatMigrated`, `NetworkError` and so on. The other
exceptions are raised to the *test* that misuses the fake, never sent over HTTP.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal of the Bot API: HTTP status, Telegram's description and optional response parameters."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The JSON body the real server sends with this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 answer worded like Telegram's: "Bad Request: <detail>"."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """A 403 answer worded like Telegram's: "Forbidden: <detail>"."""
    return ApiError(403, f"Forbidden: {detail}")


def not_found() -> ApiError:
    """What the real server answers for an unknown method or a malformed URL."""
    return ApiError(404, "Not Found")


def unauthorized() -> ApiError:
    """What the real server answers for a well-formed but unknown token."""
    return ApiError(401, "Unauthorized")


def too_many_requests(retry_after: int) -> ApiError:
    """A flood-control answer; python-telegram-bot raises RetryAfter from `parameters.retry_after`."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


def chat_migrated(new_chat_id: int) -> ApiError:
    """A group that became a supergroup; python-telegram-bot raises ChatMigrated from the parameters."""
    return ApiError(
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        {"migrate_to_chat_id": new_chat_id},
    )


class NoSuchMessage(LookupError):
    """The test referred to a message the fake server never saw (or that was deleted)."""


class WaitTimeout(AssertionError):
    """A `wait_for` condition did not become true in time; the message lists the recent calls."""
