"""Issue #17 through Telegram: `/impact 燃油附加费` in a Chinese chat gives the fuel surcharge's impact (the
real python-telegram-bot application against the fake Bot API server)."""

from __future__ import annotations

from test_skus_bot import report, send_file
from test_telegram_bot import Bot, bot  # noqa: F401  (the fixture)

SELLER = 617


async def test_impact_by_a_changes_name_in_chinese(bot: Bot) -> None:  # noqa: F811
    await bot.say(SELLER, "/lang zh", language_code="zh-hans", chat_type="private")
    replies = await send_file(bot, SELLER, report(), "Fee Preview.txt")
    assert "300" in replies[0]
    # By hand (test_skus_bot.report): the 3.5% surcharge from 2026-04-17 adds $340.00 a month.
    by_name = await bot.say(SELLER, "/impact 燃油附加费")
    assert "2026-04-17" in by_name[0] and "$340.00" in by_name[0]
    # (the chart follows the text once drawn)
    await bot.server.wait_for(lambda: len(bot.server.calls_to("sendPhoto")) == 1, timeout=60)
    by_word = await bot.say(SELLER, "/impact 燃油费")
    assert "$340.00" in by_word[0]
    await bot.server.wait_for(lambda: len(bot.server.calls_to("sendPhoto")) == 2, timeout=60)
    unknown = await bot.say(SELLER, "/impact 入库配置费")
    assert "找不到“入库配置费”对应的费用调整" in unknown[0]
