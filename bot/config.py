"""The configuration file (config.example.toml documents every key), read explicitly, never at import."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from bot.catalog import TimeZoneName
from bot.errors import PolicyBotError


class ConfigError(PolicyBotError, ValueError):
    """The configuration file is missing, unreadable or has a bad key; the message names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PoliciesConfig(_Section):
    dir: Path | None = None  # None: the policies/ folder beside the package


class DefaultsConfig(_Section):
    language: Literal["zh", "en"] | None = None  # None: from the question, then from LANG
    time_zone: TimeZoneName | None = None  # None: Asia/Shanghai for Chinese, UTC for English


class WebhookConfig(_Section):
    url: str | None = Field(default=None, pattern=r"^https?://\S+$")  # the public URL Telegram posts to
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    path: str = "telegram"
    # Telegram sends it back in X-Telegram-Bot-Api-Secret-Token; requests without it are refused.
    secret_token: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,256}$")


class TelegramConfig(_Section):
    token: str | None = None  # TELEGRAM_BOT_TOKEN wins over this
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    admins: list[int] = []  # Telegram user ids allowed /stats, /broadcast, /reload
    webhook: WebhookConfig = Field(default_factory=WebhookConfig)
    # Flood control per user: at most this many messages a minute are answered.
    messages_per_minute: int = Field(default=20, ge=1, le=600)
    # Paid broadcasts: reminders and broadcasts go with allow_paid_broadcast at up to 1,000 messages a
    # second; Telegram charges 0.1 Star for each such message (Bot API, sendMessage). Off by default.
    paid_broadcast: bool = False

    def __repr__(self) -> str:  # the token must never reach a log through a repr
        return f"TelegramConfig(base_url={self.base_url!r}, admins={self.admins!r}, token=<hidden>)"

    __str__ = __repr__


def _duration(value: object) -> dt.timedelta:
    """ "30m", "6h", "1d", or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError('a duration such as "6h", "30m" or "1d"')
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(value))
        if not match:
            raise ValueError(f'{value!r} is not a duration such as "6h", "30m" or "1d"')
        seconds = float(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    if not 60 <= seconds <= 30 * 86400:
        raise ValueError("must be between 1 minute and 30 days")
    return dt.timedelta(seconds=seconds)


Duration = Annotated[dt.timedelta, BeforeValidator(_duration)]


class WatchPage(_Section):
    url: str = Field(pattern=r"^https?://\S+$")
    selector: str | None = None
    platform: str | None = None
    interval: Duration | None = None


class WatchConfig(_Section):
    enabled: bool = True  # the running bot checks the pages; `policybot watch --once` works either way
    # Hosts the watcher may fetch even though they resolve to private or loopback addresses.
    allow_hosts: list[str] = []
    interval: Duration = dt.timedelta(hours=6)
    failures_before_alert: int = Field(default=3, ge=1, le=100)
    max_bytes: int = Field(default=2_000_000, ge=10_000, le=50_000_000)
    timeout: float = Field(default=20.0, gt=0, le=300)
    concurrency: int = Field(default=8, ge=1, le=64)
    keep_snapshots: int = Field(default=10, ge=1, le=1000)  # versions of each page's text kept
    drafts: Path = Path("drafts")  # where `policybot propose` and the operators' button write rule drafts
    ca_file: Path | None = None  # trust only this CA bundle (a TLS-inspecting proxy); default: the system's
    pages: list[WatchPage] = []


class MonitoringConfig(_Section):
    # GET /healthz and /metrics are served here ("host:port"); "" turns them off.
    listen: str = Field(default="127.0.0.1:9090", pattern=r"^$|^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$")
    # /healthz is 503 when polling has had no successful getUpdates for this many seconds (a long poll
    # answers at least every 10 s, and a failing one is retried with backoff up to 10 s).
    updates_stale_after: float = Field(default=60.0, ge=1, le=3600)
    # Where that server is reached from outside, behind an HTTPS reverse proxy that forwards /cal/ and
    # /feeds/ to `listen` (e.g. "https://bot.example.com"): the base of /calendar link's URLs and of the
    # feeds of changes. "" : no calendar links (/calendar still sends the .ics file).
    public_url: str = Field(default="", pattern=r"^$|^https?://[^\s?#]+$")


class SmtpConfig(_Section):
    """The SMTP server e-mail destinations go through (STARTTLS unless `starttls = false`)."""

    host: str = ""  # "": no e-mail destinations
    port: int = Field(default=587, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    sender: str = "policybot@localhost"  # the From address
    starttls: bool = True
    timeout: float = Field(default=30.0, gt=0, le=300)

    def __repr__(self) -> str:  # the password must never reach a log through a repr
        return (
            f"SmtpConfig(host={self.host!r}, port={self.port!r}, user={self.username!r}, password=<hidden>)"
        )

    __str__ = __repr__


class ChannelsConfig(_Section):
    """Destinations beside Telegram (#20): which hosts each kind may call, TLS, failures, SMTP."""

    # Kind -> hosts ("host" or "host:port"), replacing that kind's official hosts; the generic webhook
    # has none until listed here.
    hosts: dict[Literal["feishu", "dingtalk", "wecom", "webhook"], list[str]] = {}
    ca_file: Path | None = None  # trust only this CA bundle (tests, a private deployment)
    disable_after: int = Field(default=3, ge=1, le=100)  # permanent failures in a row before disabling
    timeout: float = Field(default=15.0, gt=0, le=120)
    smtp: SmtpConfig = Field(default_factory=SmtpConfig)


class CatalogConfig(_Section):
    """The signed catalog feed (issue #19); no feed: the catalog shipped with the package."""

    feed: str | None = Field(default=None, pattern=r"^https?://\S+$")  # the manifest.json URL
    # minisign public keys (the base64 line): the current one and, during a key change, the next.
    public_keys: list[str] = Field(default=[], max_length=2)
    interval: Duration = dt.timedelta(hours=6)  # each pull is this ± 10 %
    max_bytes: int = Field(default=5_000_000, ge=10_000, le=200_000_000)  # the payload's size cap
    ca_file: Path | None = None  # trust only this CA bundle (tests, a private host); default: the system's
    local: Path | None = None  # the operator's own policy files, loaded on top of the feed's


class KeepDays(_Section):
    """Days each kind of row is kept before the daily prune deletes it (#18). Rows still needed are kept
    whatever their age: a pending reminder, a page's latest snapshot, a chat's current SKUs."""

    deliveries: int = Field(default=180, ge=1, le=3650)  # reminders sent, failed, skipped or withdrawn
    attempts: int = Field(default=30, ge=1, le=3650)  # each try at sending a delivery
    audit: int = Field(default=365, ge=1, le=3650)  # the audit log (/audit)
    changes: int = Field(default=730, ge=1, le=3650)  # recorded policy changes (/changes shows 30 days)
    snapshots: int = Field(default=90, ge=1, le=3650)  # page versions older than a page's last
    imports: int = Field(default=365, ge=1, le=3650)  # SKUs of a chat that has not imported since
    inbox: int = Field(default=7, ge=1, le=3650)  # updates handled (the update inbox)


class StoreConfig(_Section):
    path: Path = Path("policybot.db")
    keep_days: KeepDays = Field(default_factory=KeepDays)


class SkusConfig(_Section):
    """Upload limits of a SKU file (bot/skus/limits.py); a file past one is refused, naming it."""

    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=20 * 1024 * 1024)  # Telegram: 20 MB
    max_rows: int = Field(default=100_000, ge=1, le=1_000_000)
    max_columns: int = Field(default=1_000, ge=10, le=16_384)
    max_cell_chars: int = Field(default=5_000, ge=100, le=131_072)
    max_unpacked_bytes: int = Field(default=100 * 1024 * 1024, ge=1024 * 1024, le=2 * 1024**3)
    max_compression_ratio: int = Field(default=100, ge=10, le=10_000)


class Config(_Section):
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig)
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    skus: SkusConfig = Field(default_factory=SkusConfig)
    watch: WatchConfig = Field(default_factory=WatchConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    catalog: CatalogConfig = Field(default_factory=CatalogConfig)


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
            message = message.removeprefix("Value error, ")
            problems.append(f"{path}: {key}: {message}")
        raise ConfigError("\n".join(problems)) from None
    # Relative paths are relative to the config file, not to wherever the command runs.
    if config.policies.dir is not None and not config.policies.dir.is_absolute():
        policies = config.policies.model_copy(update={"dir": path.parent / config.policies.dir})
        config = config.model_copy(update={"policies": policies})
    if not config.watch.drafts.is_absolute():
        watch = config.watch.model_copy(update={"drafts": path.parent / config.watch.drafts})
        config = config.model_copy(update={"watch": watch})
    if config.watch.ca_file is not None and not config.watch.ca_file.is_absolute():
        watch = config.watch.model_copy(update={"ca_file": path.parent / config.watch.ca_file})
        config = config.model_copy(update={"watch": watch})
    if config.channels.ca_file is not None and not config.channels.ca_file.is_absolute():
        channels = config.channels.model_copy(update={"ca_file": path.parent / config.channels.ca_file})
        config = config.model_copy(update={"channels": channels})
    catalog_paths = {
        name: path.parent / value
        for name in ("ca_file", "local")
        if (value := getattr(config.catalog, name)) is not None and not value.is_absolute()
    }
    if catalog_paths:
        config = config.model_copy(update={"catalog": config.catalog.model_copy(update=catalog_paths)})
    if config.catalog.feed is not None and not config.catalog.public_keys:
        raise ConfigError(f"{path}: catalog.public_keys: a feed needs at least one public key")
    if not config.store.path.is_absolute():
        store = config.store.model_copy(update={"path": path.parent / config.store.path})
        config = config.model_copy(update={"store": store})
    return config
