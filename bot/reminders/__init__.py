"""Reminders: catalog -> plan -> outbox -> dispatch; catalog changes -> alerts; countdowns; calendar.

It imports answers, the catalog, the store and the shared base; never tg, cli or watch.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

# Importing the package registers its tables with the store.
from bot.reminders import tables as tables
from bot.reminders.calendar_links import (
    calendar_answer,
    calendar_link_created,
    create_calendar_link,
    remove_calendar_link,
)
from bot.reminders.change_feeds import FEED_PATHS, changes_feed_answer
from bot.reminders.changes import (
    Change,
    catalog_version,
    changes_text,
    get_change,
    queue_change_alerts,
    recent_changes,
    record_change,
    sync_catalog,
)
from bot.reminders.dispatcher import Dispatcher
from bot.reminders.ics import calendar_ics, calendar_ics_all
from bot.reminders.outbox import ACTIVE, Delivery, DeliveryStatus, Outbox, Planned
from bot.reminders.pacing import ArrivalWindow, ChatSpacing, GroupWindow, Slot
from bot.reminders.planner import plan_all
from bot.reminders.retention import prune_attempts, prune_changes, prune_deliveries
from bot.reminders.sender import (
    Blocked,
    ChatMoved,
    Destination,
    Failed,
    Keyboard,
    Limits,
    OutgoingMessage,
    RetryLater,
    SendResult,
    Sent,
    TextFormat,
)
from bot.reminders.text import reminder_keyboard, render_digest
from bot.reminders.tracks import add_track, list_tracks, remove_track

__all__ = [
    "ACTIVE",
    "FEED_PATHS",
    "ArrivalWindow",
    "Blocked",
    "Change",
    "ChatMoved",
    "ChatSpacing",
    "Delivery",
    "DeliveryStatus",
    "Destination",
    "Dispatcher",
    "Failed",
    "GroupWindow",
    "Keyboard",
    "Limits",
    "Outbox",
    "OutgoingMessage",
    "Planned",
    "RetryLater",
    "SendResult",
    "Sent",
    "Slot",
    "TextFormat",
    "add_track",
    "calendar_answer",
    "calendar_ics",
    "calendar_ics_all",
    "calendar_link_created",
    "catalog_version",
    "changes_feed_answer",
    "changes_text",
    "create_calendar_link",
    "get_change",
    "list_tracks",
    "plan_all",
    "prune_attempts",
    "prune_changes",
    "prune_deliveries",
    "queue_change_alerts",
    "recent_changes",
    "record_change",
    "reminder_keyboard",
    "remove_calendar_link",
    "remove_track",
    "render_digest",
    "sync_catalog",
]
