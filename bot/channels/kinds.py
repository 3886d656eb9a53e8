"""The kinds of destination, the hosts each may call, and the kind of a URL from its host.

A group admin hands the bot a URL (`/connect URL`); the bot must not become a way to call anything else
(an internal service, a metadata endpoint). So a URL is taken only on a host its kind allows: the
official webhook hosts by default (shared/reference/channels-feed-calendar-extraction.md §1.1), or the
hosts `[channels.hosts]` names for that kind (tests, private deployments). The generic JSON webhook has
no official host: it is refused until the operator lists its hosts.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.config import ChannelsConfig
from bot.errors import UserInputError

__all__ = ["DEFAULT_HOSTS", "AllowedHosts", "Kind", "NotAllowed", "allowed_hosts", "kind_of"]


class Kind(StrEnum):
    """A kind of destination; the value is stored and shown, and never changes."""

    FEISHU = "feishu"  # Feishu, and Lark (its international twin: same API on another host)
    DINGTALK = "dingtalk"
    WECOM = "wecom"
    EMAIL = "email"
    WEBHOOK = "webhook"  # a generic JSON webhook, signed with HMAC-SHA256 in a header


# Official webhook hosts (reference §1.1). E-mail is "mailto:" and goes to the configured SMTP server.
DEFAULT_HOSTS: Mapping[Kind, tuple[str, ...]] = {
    Kind.FEISHU: ("open.feishu.cn", "open.larksuite.com"),
    Kind.DINGTALK: ("oapi.dingtalk.com",),
    Kind.WECOM: ("qyapi.weixin.qq.com",),
    Kind.WEBHOOK: (),
}
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


class NotAllowed(UserInputError):
    """A destination URL on a host no kind allows, or not a URL the bot can send to."""


@dataclass(frozen=True)
class AllowedHosts:
    """Hosts per kind; a kind named in `hosts` uses that list instead of its default."""

    hosts: Mapping[Kind, Sequence[str]] = field(default_factory=dict)

    def for_kind(self, kind: Kind) -> tuple[str, ...]:
        chosen = self.hosts.get(kind, DEFAULT_HOSTS.get(kind, ()))
        return tuple(host.lower() for host in chosen)


def allowed_hosts(config: ChannelsConfig) -> AllowedHosts:
    """The hosts `[channels.hosts]` sets, over the official ones."""
    return AllowedHosts({Kind(kind): tuple(hosts) for kind, hosts in config.hosts.items()})


def kind_of(url: str, allowed: AllowedHosts) -> Kind:
    """The kind of destination `url` is, from its host (or "mailto:"); NotAllowed if none allows it."""
    url = url.strip()
    if url.lower().startswith("mailto:"):
        if not _EMAIL.fullmatch(url[len("mailto:") :]):
            raise NotAllowed("channels_bad_email")
        return Kind.EMAIL
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not host or parts.username or parts.password:
        # Plain http would carry the webhook key in the clear; credentials in a URL are not ours to use.
        raise NotAllowed("channels_not_https")
    if parts.port is not None and not _listed_with_port(host, parts.port, allowed):
        raise NotAllowed("channels_host_not_allowed", host=host)
    for kind in (Kind.FEISHU, Kind.DINGTALK, Kind.WECOM, Kind.WEBHOOK):
        if host in allowed.for_kind(kind) or f"{host}:{parts.port}" in allowed.for_kind(kind):
            return kind
    raise NotAllowed("channels_host_not_allowed", host=host)


def _listed_with_port(host: str, port: int, allowed: AllowedHosts) -> bool:
    """A URL with a port is taken only when some kind lists the host with that port, or the port is 443."""
    if port == 443:
        return True
    return any(f"{host}:{port}" in allowed.for_kind(kind) for kind in Kind)
