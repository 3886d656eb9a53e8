"""Time zones by IANA name or by a city sellers name ("Shenzhen", "深圳", "Los Angeles")."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Cities where sellers and their teams work, and the marketplaces they sell to.
CITY_ZONES = {
    "shenzhen": "Asia/Shanghai", "深圳": "Asia/Shanghai",
    "shanghai": "Asia/Shanghai", "上海": "Asia/Shanghai",
    "beijing": "Asia/Shanghai", "北京": "Asia/Shanghai",
    "guangzhou": "Asia/Shanghai", "广州": "Asia/Shanghai",
    "hangzhou": "Asia/Shanghai", "杭州": "Asia/Shanghai",
    "xiamen": "Asia/Shanghai", "厦门": "Asia/Shanghai",
    "yiwu": "Asia/Shanghai", "义乌": "Asia/Shanghai",
    "dongguan": "Asia/Shanghai", "东莞": "Asia/Shanghai",
    "ningbo": "Asia/Shanghai", "宁波": "Asia/Shanghai",
    "fuzhou": "Asia/Shanghai", "福州": "Asia/Shanghai",
    "china": "Asia/Shanghai", "中国": "Asia/Shanghai", "北京时间": "Asia/Shanghai",
    "hong kong": "Asia/Hong_Kong", "hongkong": "Asia/Hong_Kong", "香港": "Asia/Hong_Kong",
    "taipei": "Asia/Taipei", "台北": "Asia/Taipei",
    "singapore": "Asia/Singapore", "新加坡": "Asia/Singapore",
    "tokyo": "Asia/Tokyo", "东京": "Asia/Tokyo",
    "los angeles": "America/Los_Angeles", "la": "America/Los_Angeles", "洛杉矶": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "旧金山": "America/Los_Angeles",
    "seattle": "America/Los_Angeles", "西雅图": "America/Los_Angeles",
    "new york": "America/New_York", "nyc": "America/New_York", "纽约": "America/New_York",
    "chicago": "America/Chicago", "芝加哥": "America/Chicago",
    "mexico city": "America/Mexico_City", "墨西哥城": "America/Mexico_City",
    "london": "Europe/London", "伦敦": "Europe/London",
    "berlin": "Europe/Berlin", "柏林": "Europe/Berlin",
    "paris": "Europe/Paris", "巴黎": "Europe/Paris",
    "madrid": "Europe/Madrid", "马德里": "Europe/Madrid",
    "milan": "Europe/Rome", "rome": "Europe/Rome", "米兰": "Europe/Rome", "罗马": "Europe/Rome",
    "sydney": "Australia/Sydney", "悉尼": "Australia/Sydney",
    "utc": "UTC", "gmt": "UTC",
}  # fmt: skip


def _canonical_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def resolve_zone(text: str) -> str | None:
    """The IANA zone a user means, or None: "asia/shanghai", "Shenzhen", "深圳", "Los_Angeles"."""
    words = " ".join(text.replace("_", " ").split()).casefold()
    if words in CITY_ZONES:
        return CITY_ZONES[words]
    names = _canonical_names()
    candidate = text.strip().replace(" ", "_").casefold()
    if candidate in names:
        name = names[candidate]
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return None
        return name
    # "Los_Angeles" or "Berlin" alone: the zone whose last part matches.
    endings = [name for folded, name in names.items() if folded.rsplit("/", 1)[-1] == candidate]
    return endings[0] if len(endings) == 1 else None


# Zones with a name sellers use; any other zone reads as its IANA name (a proper name in both languages).
ZONE_NAMES = {
    "en": {
        "Asia/Shanghai": "Beijing time",
        "Asia/Hong_Kong": "Hong Kong time",
        "Asia/Tokyo": "Japan time",
        "America/New_York": "US Eastern time",
        "America/Chicago": "US Central time",
        "America/Los_Angeles": "US Pacific time",
        "Europe/London": "UK time",
        "UTC": "UTC",
    },
    "zh": {
        "Asia/Shanghai": "北京时间",
        "Asia/Hong_Kong": "香港时间",
        "Asia/Taipei": "台北时间",
        "Asia/Singapore": "新加坡时间",
        "Asia/Tokyo": "日本时间",
        "America/New_York": "美国东部时间",
        "America/Chicago": "美国中部时间",
        "America/Los_Angeles": "美国太平洋时间",
        "America/Toronto": "加拿大东部时间",
        "America/Mexico_City": "墨西哥城时间",
        "Europe/London": "英国时间",
        "Europe/Brussels": "欧洲中部时间",
        "Europe/Berlin": "德国时间",
        "Europe/Paris": "法国时间",
        "Europe/Rome": "意大利时间",
        "Europe/Madrid": "西班牙时间",
        "Australia/Sydney": "悉尼时间",
        "UTC": "协调世界时（UTC）",
    },
}


def zone_label(zone: ZoneInfo | str, lang: str) -> str:
    """How a reader names a zone: "北京时间" for Asia/Shanghai in Chinese; the IANA name where no common
    name exists."""
    name = str(zone)
    return ZONE_NAMES.get(lang, ZONE_NAMES["en"]).get(name, name)


def local_time(moment: dt.datetime, zone: ZoneInfo | str, lang: str) -> str:
    """A moment as a reader in `zone` sees it: "2026-12-06 17:30 北京时间". The one place the bot
    writes a time of day for a chat (reminder lists, SKU imports, the audit log)."""
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    if moment.tzinfo is None:  # stored moments without a zone are UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {zone_label(tz, lang)}"
