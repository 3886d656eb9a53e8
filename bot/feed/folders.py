"""The catalog folders on disk: installed bundles (the current one and the previous two), and the folder
the bot loads, which is a bundle (or the shipped policies/) with the operator's local rules on top.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from bot.feed.errors import FeedError

__all__ = ["LOCAL_NOTE", "CatalogFolders", "overlay_local"]

# Added to every rule from the local folder, so its card says where it comes from.
LOCAL_NOTE = {
    "en": "Local rule: from this bot's operator ([catalog] local), not from the reviewed catalog.",
    "zh": "本地规则：由本机器人的运营者添加（[catalog] local），并非来自审核过的规则目录。",
}


class CatalogFolders:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bundles = root / "bundles"
        self.effective = root / "effective"

    def bundle(self, name: str) -> Path:
        return self.bundles / name

    def staging(self) -> Path:
        """A fresh folder to unpack into; a crash leaves it behind, and the next pull removes it."""
        self.bundles.mkdir(parents=True, exist_ok=True)
        return self.bundles / f".staging-{secrets.token_hex(6)}"

    def clean_staging(self) -> None:
        if self.bundles.is_dir():
            for leftover in self.bundles.glob(".staging-*"):
                shutil.rmtree(leftover, ignore_errors=True)

    def commit(self, staging: Path, name: str) -> Path:
        """Move a checked staging folder to its bundle name (atomic: a rename in one file system)."""
        target = self.bundle(name)
        if target.exists():  # a crash after a rename and before the database said so: replace it
            shutil.rmtree(target)
        os.replace(staging, target)
        _fsync_dir(self.bundles)
        return target

    def prune(self, keep: set[str]) -> None:
        if not self.bundles.is_dir():
            return
        for folder in self.bundles.iterdir():
            if folder.is_dir() and not folder.name.startswith(".") and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)

    def loadable(self, base: Path, local: Path | None) -> Path:
        """The folder to load: `base`, or a merged copy of it with `local` on top (rebuilt when either
        changes: its name is a hash of both)."""
        if local is None:
            return base
        digest = hashlib.sha256(str(base.resolve()).encode())
        for path in sorted([*local.glob("*.toml"), *base.glob("*.toml"), *base.glob("mappings/*.toml")]):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        target = self.effective / digest.hexdigest()[:16]
        if not target.is_dir():
            self.effective.mkdir(parents=True, exist_ok=True)
            staging = self.effective / f".staging-{secrets.token_hex(6)}"
            overlay_local(base, local, staging)
            os.replace(staging, target)
        for folder in self.effective.iterdir():
            if folder != target:
                shutil.rmtree(folder, ignore_errors=True)
        return target


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise FeedError(f"local rules: {path}: {error}") from None


def overlay_local(base: Path, local: Path, target: Path) -> None:
    """Copy `base` to `target`, then lay each local policy file on top: a rule with the id of one in the
    same platform's file replaces it, a new one is added, a new platform's file is added whole."""
    if not local.is_dir():
        raise FeedError(f"local rules: {local} is not a folder")
    shutil.copytree(base, target)
    for path in sorted(local.glob("*.toml")):
        data = _read(path)
        rules = data.get("rules", [])
        if not isinstance(rules, list):
            raise FeedError(f"local rules: {path}: rules must be a list of tables")
        for rule in rules:
            if isinstance(rule, dict):
                rule["notes"] = [*rule.get("notes", []), dict(LOCAL_NOTE)]
        platform = data.get("platform", path.stem)
        existing = target / f"{platform}.toml"
        if not existing.exists():
            (target / path.name).write_text(tomli_w.dumps(data), encoding="utf-8")
            continue
        merged = _read(existing)
        by_id = {rule.get("id"): index for index, rule in enumerate(merged.get("rules", []))}
        merged_rules: list[Any] = merged.setdefault("rules", [])
        for rule in rules:
            index = by_id.get(rule.get("id")) if isinstance(rule, dict) else None
            if index is None:
                merged_rules.append(rule)
            else:
                merged_rules[index] = rule
        known = {category.get("id") for category in merged.get("categories", [])}
        merged_categories: list[Any] = merged.setdefault("categories", [])
        merged_categories += [c for c in data.get("categories", []) if c.get("id") not in known]
        existing.write_text(tomli_w.dumps(merged), encoding="utf-8")
