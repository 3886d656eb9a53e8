"""The expected errors: one root, and the user's bad input under it.

    PolicyBotError              expected, with a message fit for the person who caused it
    ├── UserInputError          a user's input cannot be answered: a reply in the user's language
    │   └── SkuFileError        (bot/skus/read.py) a SKU file that cannot be imported
    ├── ConfigError             (bot/config.py) the config file is wrong
    ├── CatalogError            (bot/catalog/load.py) the policy files are wrong
    ├── StoreError              (bot/store.py) the database cannot be used as asked
    ├── ClockError              (bot/clock.py) POLICYBOT_NOW is not a time
    └── BackupError             (bot/monitoring/backup.py) a backup could not be written

The Telegram adapter turns a UserInputError into a reply in the chat's language (bot/tg/handlers.py);
the command line turns any PolicyBotError into one line on stderr and exit status 2 (bot/cli.py's
main). Anything else is a bug: logged with its traceback and reported to the operators, never shown to
a user as a traceback.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import Html, t


class PolicyBotError(Exception):
    """An expected failure, with a message for whoever caused it (not a bug)."""


class UserInputError(PolicyBotError, ValueError):
    """The user's input cannot be answered; `key` names the message that says why."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values

    def message(self, lang: str) -> Html:
        """What the user is told, in their language."""
        return t(lang, self.key, **self.values)
