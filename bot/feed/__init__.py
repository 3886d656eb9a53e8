"""The catalog feed: the reviewed catalog travels on its own, signed, to every running bot.

Publishing (keygen, publish: a content-addressed payload, manifest.json and its minisign signature) and
pulling (verify, refuse rollback, equivocation, expiry and broken catalogs, install atomically, keep the
previous two, roll back on the operator's word), with the operator's local rules on top. Over the
catalog, the store and the base; the running bot's job that swaps the live catalog is in tg/.

Other packages import only the names in `__all__`, from the package itself (tests/test_layout.py).
"""

from bot.feed.errors import FeedError, Refused
from bot.feed.folders import LOCAL_NOTE, CatalogFolders, overlay_local
from bot.feed.minisign import BadKey, BadSignature, PublicKey, SecretKey, Signature, sign
from bot.feed.publish import MANIFEST, Published, keygen, publish
from bot.feed.pull import Feed, FeedSettings, Outcome, PullResult, catalog_folder, rollback
from bot.feed.status import FeedStatus, feed_status
from bot.feed.tables import FEED_MIGRATIONS

__all__ = [
    "FEED_MIGRATIONS",
    "LOCAL_NOTE",
    "MANIFEST",
    "BadKey",
    "BadSignature",
    "CatalogFolders",
    "Feed",
    "FeedError",
    "FeedSettings",
    "FeedStatus",
    "Outcome",
    "PublicKey",
    "Published",
    "PullResult",
    "Refused",
    "SecretKey",
    "Signature",
    "catalog_folder",
    "feed_status",
    "keygen",
    "overlay_local",
    "publish",
    "rollback",
    "sign",
]
