"""Issue 16 in Telegram: a chat that follows Amazon US and UK gets each store's fee in its own currency,
a dollar price answers for the US, FBA applies the UK Prime clothing rule, and /fba separates the card
change from the surcharge and speaks of the peak. The real python-telegram-bot Application over real HTTP
against the fake Bot API, a real SQLite file, the shipped policies (the `bot` fixture of
test_telegram_bot.py, on 2026-11-25)."""

from __future__ import annotations

from test_telegram_bot import EN_USER, ZH_USER, Bot, bot

__all__ = ["bot"]  # the fixture, imported so pytest finds it here


async def test_followed_stores_and_currency_in_telegram(bot: Bot) -> None:
    done = await bot.say(
        ZH_USER, "/subscribe amazon us uk fees", language_code="zh-hans", chat_type="private"
    )
    assert "2" in done[0]
    each = "\n".join(await bot.say(ZH_USER, "/fees 服装 18"))
    assert "（UK, US）" in each or "（US, UK）" in each
    assert "$1.80" in each and "£1.80" in each
    dollars = "\n".join(await bot.say(ZH_USER, "亚马逊服装18美元佣金多少"))
    assert "$1.80" in dollars and "£" not in dollars
    prime = "\n".join(await bot.say(ZH_USER, "亚马逊英国 服装 50英镑 FBA 佣金多少"))
    assert "£6.70" in prime and "£7.50" not in prime


async def test_fba_in_telegram(bot: Bot) -> None:
    out = "\n".join(await bot.say(EN_USER, "/fba 10x8x1 in 6 oz 18", language_code="en", chat_type="private"))
    assert "Rate card change on 2026-01-15" in out and "+$0.05" in out
    assert "Surcharge from 2026-04-17: +$0.15" in out
    assert "Holiday peak" in out  # 2026-11-25 is inside 10-15 .. 01-14
    apparel = "\n".join(await bot.say(EN_USER, "/fba 10x8x1 in 6 oz 18 apparel"))
    assert "is not computed" in apparel and "$4.35" not in apparel
