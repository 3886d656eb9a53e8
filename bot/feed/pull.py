"""Pulling the catalog feed: what every running bot does on its interval, and `policybot catalog pull`.

The order of checks is the defence (see shared reference §2, TUF's threat list): a conditional GET (a
304 costs nothing); the signature over the raw manifest bytes before any parsing; no older version
(rollback), no second hash for one version (equivocation), no expired manifest (freeze); the payload under
a size cap, its size and sha256; the strict loader; then an atomic install. Any failure keeps the last
good catalog and is counted by reason, logged and audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from bot.catalog import CatalogError, load_catalog
from bot.feed.bundle import PAYLOAD_NAME, unpack_payload
from bot.feed.errors import FeedError, Refused
from bot.feed.folders import CatalogFolders, overlay_local
from bot.feed.minisign import BadSignature, PublicKey, Signature
from bot.feed.publish import BOT_VERSION, MANIFEST_SCHEMA, trusted_comment
from bot.feed.records import FeedRecords, Installed
from bot.store import Store

__all__ = ["Feed", "FeedSettings", "Outcome", "PullResult", "catalog_folder", "rollback"]

log = logging.getLogger(__name__)

MANIFEST_MAX_BYTES = 64 * 1024  # a manifest is a few hundred bytes; anything larger is not one
KEEP_INSTALLED = 3  # the current catalog and the previous two


@dataclass(frozen=True)
class Fetched:
    not_modified: bool
    body: bytes
    etag: str | None
    last_modified: str | None


class Outcome(StrEnum):
    INSTALLED = "installed"
    UP_TO_DATE = "up to date"
    REFUSED = "refused"


@dataclass(frozen=True)
class PullResult:
    outcome: Outcome
    version: int | None  # installed now (or still)
    detail: str = ""
    reason: str = ""  # with REFUSED: the metric label (signature, rollback, expired, ...)
    alert_operators: bool = False  # the first time a manifest is found expired

    def line(self) -> str:
        if self.outcome is Outcome.INSTALLED:
            return f"installed version {self.version}"
        if self.outcome is Outcome.UP_TO_DATE:
            return f"up to date (version {self.version}{'; ' + self.detail if self.detail else ''})"
        return f"refused: {self.reason}: {self.detail}"


@dataclass(frozen=True)
class FeedSettings:
    url: str
    public_keys: Sequence[str]
    max_bytes: int = 5_000_000
    ca_file: Path | None = None
    local: Path | None = None
    timeout: float = 30.0


def catalog_folder(store_path: Path) -> Path:
    """Where installed catalogs live: beside the database (the same volume, backed up with it)."""
    return store_path.parent / f"{store_path.stem}-catalog"


def _parse_time(value: object, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Refused("manifest", f"{field} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise Refused("manifest", f"{field} has no UTC offset")
    return moment


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


@dataclass(frozen=True)
class Manifest:
    version: int
    created: dt.datetime
    expires: dt.datetime
    payload: str
    sha256: str
    size: int

    @classmethod
    def parse(cls, raw: bytes, signature: Signature) -> Manifest:
        try:
            data: Any = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise Refused("manifest", "not UTF-8 JSON") from None
        if not isinstance(data, dict) or data.get("schema") != MANIFEST_SCHEMA:
            raise Refused("manifest", f"schema is not {MANIFEST_SCHEMA}")
        version, sha256, size, payload = (
            data.get("version"),
            data.get("sha256"),
            data.get("size"),
            data.get("payload"),
        )
        if not isinstance(version, int) or version < 1:
            raise Refused("manifest", "version is not a positive integer")
        if not isinstance(sha256, str) or len(sha256) != 64 or not isinstance(size, int) or size < 1:
            raise Refused("manifest", "sha256 or size is malformed")
        if not isinstance(payload, str) or not (match := PAYLOAD_NAME.fullmatch(payload)):
            raise Refused("manifest", "the payload name is not catalog-<version>-<sha256 prefix>.json")
        if int(match[1]) != version or match[2] != sha256[:16]:
            raise Refused("manifest", "the payload name does not match the version and sha256")
        expires = str(data.get("expires"))
        if signature.trusted_comment != trusted_comment(version, sha256, expires):
            raise Refused("manifest", "the signed trusted comment does not match the manifest")
        min_bot = str(data.get("min_bot", "0"))
        if _version_tuple(min_bot) > _version_tuple(BOT_VERSION):
            raise Refused("min_bot", f"needs policybot {min_bot}; this is {BOT_VERSION}")
        return cls(
            version,
            _parse_time(data.get("created"), "created"),
            _parse_time(expires, "expires"),
            payload,
            sha256,
            size,
        )


class Feed:
    """One bot's view of the feed: its settings, its tables and its folders."""

    def __init__(self, settings: FeedSettings, store: Store, folders: CatalogFolders, shipped: Path) -> None:
        self.settings = settings
        self.store = store
        self.records = FeedRecords(store)
        self.folders = folders
        self.shipped = shipped  # the policies/ the package ships: used until a feed catalog is installed
        self.keys = [PublicKey.from_base64(key) for key in settings.public_keys]
        # Local rules alone need no key; a feed needs one or two (the current and the next).
        if settings.url and not 1 <= len(self.keys) <= 2:
            raise FeedError("[catalog] public_keys: one or two keys (the current and the next)")

    def directory(self) -> Path:
        """The folder the bot loads now: the installed catalog (or the shipped one), local rules on top."""
        current = self.records.current()
        base = self.shipped
        if current is not None and self.folders.bundle(current.bundle).is_dir():
            base = self.folders.bundle(current.bundle)
        return self.folders.loadable(base, self.settings.local)

    def client(self) -> httpx.AsyncClient:
        verify: ssl.SSLContext | bool = True
        if self.settings.ca_file is not None:
            verify = ssl.create_default_context(cafile=str(self.settings.ca_file))
        return httpx.AsyncClient(
            timeout=self.settings.timeout, verify=verify, follow_redirects=False, trust_env=False
        )

    async def pull(self) -> PullResult:
        """One pull; never raises for what the feed serves: a refusal is a result, with its reason."""
        now = self.store.clock.now()
        self.records.set("last_check", now.isoformat())
        try:
            async with self.client() as client:
                result = await self._pull(client, now)
        except Refused as refused:
            result = self._refused(refused, now)
        except httpx.HTTPError as error:
            result = self._refused(Refused("network", f"{type(error).__name__}: {error}"), now)
        self.records.set("last_result", result.line())
        if result.outcome is not Outcome.REFUSED:
            log.info("catalog feed: %s", result.line())
        return result

    def _refused(self, refused: Refused, now: dt.datetime) -> PullResult:
        current = self.records.current()
        self.records.count_failure(refused.reason)
        self.store.audit(None, None, "catalog-refused", str(refused)[:500])
        log.warning(
            "catalog feed refused: %s (keeping version %s)",
            refused,
            current.version if current else "shipped",
        )
        alert = False
        if refused.reason == "expired" and self.records.get("expired_alerted") != refused.detail:
            self.records.set("expired_alerted", refused.detail)
            alert = True
        return PullResult(
            Outcome.REFUSED, current.version if current else None, refused.detail, refused.reason, alert
        )

    async def _get(
        self, client: httpx.AsyncClient, url: str, limit: int, headers: dict[str, str] | None = None
    ) -> Fetched:
        """The body (at most `limit` bytes, else Refused("too_large")), or not_modified on a 304."""
        async with client.stream("GET", url, headers=headers or {}) as response:
            if response.status_code == 304:
                return Fetched(True, b"", None, None)
            if response.status_code != 200:
                raise Refused("http", f"{url} answered {response.status_code}")
            declared = response.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise Refused("too_large", f"{url} is {declared} bytes, over the cap of {limit}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise Refused("too_large", f"{url} is over the cap of {limit} bytes")
            return Fetched(
                False, bytes(body), response.headers.get("etag"), response.headers.get("last-modified")
            )

    async def _pull(self, client: httpx.AsyncClient, now: dt.datetime) -> PullResult:
        url = self.settings.url
        current = self.records.current()
        headers: dict[str, str] = {}
        # Ask conditionally only when what we have is what the feed gave: after a rollback, ask again.
        if (etag := self.records.get("etag")) is not None:
            headers["If-None-Match"] = etag
        if (modified := self.records.get("last_modified")) is not None:
            headers["If-Modified-Since"] = modified
        fetched = await self._get(client, url, MANIFEST_MAX_BYTES, headers)
        if fetched.not_modified:
            return PullResult(Outcome.UP_TO_DATE, current.version if current else None, "not modified")
        raw = fetched.body
        signature_file = await self._get(client, url + ".minisig", 4096)
        try:
            signature = Signature.parse(signature_file.body)
            signature.verify(raw, self.keys)  # over the raw bytes, before any parsing
        except BadSignature as error:
            reason = "unknown_key" if "unknown key" in str(error) else "signature"
            raise Refused(reason, str(error)) from None
        manifest = Manifest.parse(raw, signature)
        if current is not None and manifest.version < current.version:
            raise Refused("rollback", f"version {manifest.version} is older than installed {current.version}")
        hashes = self.records.hashes_of(manifest.version)
        if hashes and manifest.sha256 not in hashes:
            raise Refused("equivocation", f"version {manifest.version} was seen with another sha256")
        if current is not None and manifest.version == current.version:
            self._remember(fetched)
            return PullResult(Outcome.UP_TO_DATE, current.version)
        if self.records.rolled_back(manifest.version):
            return PullResult(
                Outcome.UP_TO_DATE,
                current.version if current else None,
                f"version {manifest.version} was rolled back by the operator; waiting for a newer one",
            )  # not remembered: the next pull reads the manifest again
        if manifest.expires <= now:
            raise Refused(
                "expired", f"manifest version {manifest.version} expired at {manifest.expires.isoformat()}"
            )
        if manifest.size > self.settings.max_bytes:
            raise Refused(
                "too_large", f"payload of {manifest.size} bytes, over max_bytes {self.settings.max_bytes}"
            )
        payload = (await self._get(client, urljoin(url, manifest.payload), manifest.size)).body
        if len(payload) != manifest.size:
            raise Refused("size", f"payload is {len(payload)} bytes, the manifest says {manifest.size}")
        if hashlib.sha256(payload).hexdigest() != manifest.sha256:
            raise Refused("sha256", "the payload's sha256 does not match the signed manifest")
        self._install(manifest, payload)
        self._remember(fetched)
        return PullResult(Outcome.INSTALLED, manifest.version)

    def _remember(self, fetched: Fetched) -> None:
        """The manifest's validators, for the next conditional GET (only once it was accepted)."""
        self.records.set("etag", fetched.etag)
        self.records.set("last_modified", fetched.last_modified)

    def _install(self, manifest: Manifest, payload: bytes) -> None:
        self.folders.clean_staging()  # what a crash left behind
        staging = self.folders.staging()
        try:
            unpack_payload(payload, manifest.version, staging)
            try:
                load_catalog(staging)
                if self.settings.local is not None:  # the local rules must load on top of it too
                    scratch = staging.with_name(staging.name + "-local")
                    try:
                        overlay_local(staging, self.settings.local, scratch)
                        load_catalog(scratch)
                    finally:
                        shutil.rmtree(scratch, ignore_errors=True)
            except (CatalogError, FeedError) as error:
                problems = error.problems if isinstance(error, CatalogError) else []
                first = "; ".join(str(problem) for problem in problems[:3]) or str(error)
                raise Refused("invalid", f"{len(problems) or 1} problem(s): {first}") from None
            name = f"{manifest.version}-{manifest.sha256[:16]}"
            self.folders.commit(staging, name)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        # The commit point: from this row on, the new catalog is the installed one.
        self.records.record_install(
            manifest.version,
            manifest.sha256,
            manifest.payload,
            manifest.created,
            manifest.expires,
            self.settings.url,
        )
        self.records.set("expired_alerted", None)
        self.store.audit(
            None, None, "catalog-installed", f"version {manifest.version} sha256 {manifest.sha256[:16]}"
        )
        self._prune()

    def _prune(self) -> None:
        installed = self.records.installed()
        keep = installed[:KEEP_INSTALLED]
        self.records.forget(keep)
        self.folders.prune({item.bundle for item in keep})


def rollback(feed: Feed, actor: str = "cli") -> Installed:
    """Return to the previous installed catalog, explicitly; recorded in the audit log."""
    installed = feed.records.installed()
    if len(installed) < 2:
        raise FeedError("no previous catalog to roll back to")
    current, previous = installed[0], installed[1]
    feed.records.mark_rolled_back(current)
    # Ask the feed afresh next time (a 304 would hide the manifest we now compare against).
    feed.records.set("etag", None)
    feed.records.set("last_modified", None)
    feed.store.audit(
        None, None, "catalog-rollback", f"{actor}: from version {current.version} to {previous.version}"
    )
    return previous
