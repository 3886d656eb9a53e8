"""Issue 22's /compare in Telegram: in both command menus, and answered in the chat's language, a followed
store's currency deciding which rows show. The real python-telegram-bot Application over real HTTP against
the fake Bot API, a real SQLite file, the shipped policies (the `bot` fixture of test_telegram_bot.py)."""

from __future__ import annotations

from test_telegram_bot import EN_USER, ZH_USER, Bot, bot

__all__ = ["bot"]  # the fixture, imported so pytest finds it here


async def test_compare_is_in_both_menus(bot: Bot) -> None:
    calls = bot.server.calls_to("setMyCommands")
    menus = {call.params.get("language_code"): call.params["commands"] for call in calls}
    assert {"command": "compare", "description": "同一类目各平台费用对比"} in menus["zh"]
    assert {"command": "compare", "description": "One category's fee across platforms"} in menus["en"]


async def test_compare_in_a_chinese_chat_that_follows_uk(bot: Bot) -> None:
    done = await bot.say(ZH_USER, "/subscribe amazon uk fees", language_code="zh-hans", chat_type="private")
    assert "1" in done[0]
    out = "\n".join(await bot.say(ZH_USER, "/compare 服装 18"))
    assert "GBP" in out and "亚马逊 UK：£1.80（10%）" in out  # the followed store's currency
    assert "亚马逊 US (USD)" in out  # left out, and said so
    free = "\n".join(await bot.say(ZH_USER, "服装 18美元 各平台佣金对比"))
    assert "沃尔玛 US：$1.80（10%）" in free and "£" not in free.split("以其他币种")[0]


async def test_compare_in_english(bot: Bot) -> None:
    out = "\n".join(await bot.say(EN_USER, "/compare apparel $18", language_code="en", chat_type="private"))
    assert "Walmart Marketplace US: $1.80 (10%)" in out and "Not on record for this category: Lazada." in out
