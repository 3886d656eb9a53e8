"""A catalog as one file: the policy folder's TOML files in a JSON object, and back to a folder.

The payload is immutable and content-addressed (`catalog-<version>-<sha256[:16]>.json`), so a cache or a
CDN can keep it forever; only the small manifest changes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from bot.feed.errors import Refused

__all__ = ["PAYLOAD_NAME", "pack_policies", "payload_name", "unpack_payload"]

BUNDLE_SCHEMA = 1
# The only paths a payload may hold: a policy file, or a mapping table; never "..", never absolute.
_FILE_PATH = re.compile(r"(mappings/)?[a-z0-9][a-z0-9_-]*\.toml")
PAYLOAD_NAME = re.compile(r"catalog-(\d{1,18})-([0-9a-f]{16})\.json")


def pack_policies(directory: Path, version: int) -> bytes:
    """The policy folder's files as the payload's bytes (sorted keys: the same folder, the same bytes)."""
    files = {
        path.relative_to(directory).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted([*directory.glob("*.toml"), *directory.glob("mappings/*.toml")])
    }
    document = {"schema": BUNDLE_SCHEMA, "version": version, "files": files}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")


def payload_name(version: int, sha256: str) -> str:
    return f"catalog-{version}-{sha256[:16]}.json"


def unpack_payload(data: bytes, version: int, target: Path) -> None:
    """Write the payload's files under `target` (a new folder), each fsynced; Refused("payload") if odd."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refused("payload", "the payload is not UTF-8 JSON") from None
    if not isinstance(document, dict) or document.get("schema") != BUNDLE_SCHEMA:
        raise Refused("payload", f"the payload's schema is not {BUNDLE_SCHEMA}")
    if document.get("version") != version:
        raise Refused(
            "payload", f"the payload says version {document.get('version')}, the manifest {version}"
        )
    files = document.get("files")
    if not isinstance(files, dict) or not files:
        raise Refused("payload", "the payload holds no files")
    for name, text in files.items():
        if not isinstance(name, str) or not _FILE_PATH.fullmatch(name) or not isinstance(text, str):
            raise Refused("payload", f"the payload holds an unexpected file {str(name)[:80]!r}")
    target.mkdir(parents=True)
    for name, text in files.items():
        path = target / name
        path.parent.mkdir(exist_ok=True)
        with path.open("w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
