"""The configuration file (config.example.toml documents every key), read explicitly, never at import."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.schema import TimeZoneName


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or has a bad key; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoliciesConfig(_Section):
    dir: Path | None = None  # None: the policies/ folder beside the package


class DefaultsConfig(_Section):
    language: Literal["zh", "en"] | None = None  # None: from the question, then from LANG
    time_zone: TimeZoneName | None = None  # None: Asia/Shanghai for Chinese, UTC for English


class Config(_Section):
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig)
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)


def load_config(path: Path | None) -> Config:
    """Read `path`; no path means every default."""
    if path is None:
        return Config()
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: TOML syntax: {error}") from None
    try:
        config = Config.model_validate(data)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            key = ".".join(str(part) for part in detail["loc"])
            message = "unknown key" if detail["type"] == "extra_forbidden" else detail["msg"]
            problems.append(f"{path}: {key}: {message}")
        raise ConfigError("\n".join(problems)) from None
    if config.policies.dir is not None and not config.policies.dir.is_absolute():
        # A relative folder is relative to the config file, not to wherever the command runs.
        policies = config.policies.model_copy(update={"dir": path.parent / config.policies.dir})
        config = config.model_copy(update={"policies": policies})
    return config
