"""The Telegram adapter: python-telegram-bot handlers over the answers core and the store.

The only package that imports `telegram` (with cli.py's wiring). On top: it may import every other
package; nothing but cli imports it.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

# Importing the package registers its tables (the update inbox) with the store.
from bot.tg import tables as tables
from bot.tg.app import build_application
from bot.tg.inbox import prune_inbox
from bot.tg.redact import configure_logging
from bot.tg.watching import configured_pages, record_page_change, watch_settings

__all__ = [
    "build_application",
    "configure_logging",
    "configured_pages",
    "prune_inbox",
    "record_page_change",
    "watch_settings",
]
