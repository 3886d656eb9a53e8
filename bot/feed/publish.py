"""`policybot catalog keygen` and `publish`: what the catalog's maintainers run, e.g. in CI after review.

SITE gets plain files for any static host: the immutable payload, `manifest.json` (short-lived: it is the
pointer every bot polls) and its signature `manifest.json.minisig`, the version also in the trusted comment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from bot.catalog import load_catalog
from bot.feed.bundle import pack_policies, payload_name
from bot.feed.errors import FeedError
from bot.feed.minisign import PublicKey, SecretKey, generate_key_pair, sign

__all__ = ["BOT_VERSION", "MANIFEST", "MANIFEST_SCHEMA", "Published", "keygen", "publish", "trusted_comment"]


def _bot_version() -> str:
    try:
        return metadata.version("policybot")
    except metadata.PackageNotFoundError:  # a source tree that was never installed
        return "0"


# This bot's version: a manifest's min_bot above it is refused (a catalog it cannot read).
BOT_VERSION = _bot_version()
MANIFEST = "manifest.json"
MANIFEST_SCHEMA = 1


@dataclass(frozen=True)
class Published:
    version: int
    payload: Path
    manifest: Path
    signature: Path
    sha256: str
    size: int
    rules: int


def keygen(out: Path) -> PublicKey:
    """Write catalog.key (secret, mode 0600) and catalog.pub in minisign's format; never overwrite."""
    out.mkdir(parents=True, exist_ok=True)
    secret_path, public_path = out / "catalog.key", out / "catalog.pub"
    for path in (secret_path, public_path):
        if path.exists():
            raise FeedError(f"{path} exists; refusing to overwrite a key")
    pair = generate_key_pair()
    descriptor = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(pair.secret.file_text())
    public_path.write_text(pair.public.file_text(), encoding="utf-8")
    return pair.public


def trusted_comment(version: int, sha256: str, expires: str) -> str:
    return f"policybot catalog version={version} sha256={sha256} expires={expires}"


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _previous_version(out: Path) -> int:
    try:
        return int(json.loads((out / MANIFEST).read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def publish(
    policies: Path,
    key: Path,
    out: Path,
    *,
    now: dt.datetime,
    version: int | None = None,
    expires_days: int = 14,
) -> Published:
    """Validate `policies` with the strict loader (a broken catalog is never published), then write SITE."""
    catalog = load_catalog(policies)  # CatalogError lists every problem
    secret = SecretKey.from_file(key)
    previous = _previous_version(out)
    if version is None:
        # Minutes since the epoch: later publishes get higher numbers, even several in a day.
        version = max(int(now.timestamp()) // 60, previous + 1)
    if version <= previous:
        raise FeedError(f"version {version} is not above the published {previous}; bots would refuse it")
    if not 1 <= expires_days <= 365:
        raise FeedError("--expires-days must be between 1 and 365")
    payload = pack_policies(policies, version)
    sha256 = hashlib.sha256(payload).hexdigest()
    out.mkdir(parents=True, exist_ok=True)
    payload_path = out / payload_name(version, sha256)
    payload_path.write_bytes(payload)
    expires = _iso(now + dt.timedelta(days=expires_days))
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "version": version,
        "created": _iso(now),
        "expires": expires,
        "payload": payload_path.name,
        "sha256": sha256,
        "size": len(payload),
        "min_bot": BOT_VERSION,
        "key_id": secret.public().key_id_hex,
    }
    manifest_bytes = (json.dumps(manifest, indent=1) + "\n").encode("utf-8")
    signature = sign(manifest_bytes, secret, trusted_comment(version, sha256, expires))
    # The payload first, the signature, then the manifest last: a bot polling meanwhile sees the old
    # manifest (whose payload is still there) or the new one, complete.
    signature_path = out / f"{MANIFEST}.minisig"
    manifest_path = out / MANIFEST
    for path, data in ((signature_path, signature.file_text().encode()), (manifest_path, manifest_bytes)):
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return Published(
        version, payload_path, manifest_path, signature_path, sha256, len(payload), len(catalog.rules)
    )
