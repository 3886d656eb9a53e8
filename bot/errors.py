"""Exceptions the answers raise.

UserInputError is the only one a user ever sees: the adapters turn it into a reply in the user's
language. Anything else is a bug, logged and reported to the admins, never shown as a traceback.
"""

from __future__ import annotations

from typing import Any


class UserInputError(ValueError):
    """The user's input cannot be answered; `key` names the message that says why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
