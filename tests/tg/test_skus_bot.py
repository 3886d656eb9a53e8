"""SKUs through Telegram: a Fee Preview report sent as a document (a real getFile and file download from the
fake Bot API server), /skus, /impact with its chart, admins only in groups, bad files, and the impact line
in a reminder. Totals are checked against a hand computation from the policy files."""

from __future__ import annotations

from support.sku_files import SMALL, fee_preview, fee_preview_row
from test_telegram_bot import ADMIN, GROUP, MEMBER, NOW, Bot, bot  # noqa: F401  (the fixture)

from bot.reminders.outbox import Outbox
from bot.skus.personal import IMPACT_LINES
from bot.tg.reminders import wake_dispatch

SELLER = 601
OTHER = 602
FUTURE_SURCHARGE = """
[[rules]]
id = "test-future-surcharge"
marketplaces = ["US"]
topic = "fees"
title = { en = "Test surcharge", zh = "测试附加费" }
summary = { en = "A test surcharge of 1% on the FBA fee.", zh = "测试：FBA配送费加收1%。" }
confidence = "high"

[[rules.events]]
id = "effective"
kind = "effective"
date = 2026-12-10
label = { en = "Test surcharge starts", zh = "测试附加费开始" }

[[rules.surcharges]]
id = "test"
label = { en = "Test surcharge", zh = "测试附加费" }
rate = "0.01"
applies_to = "fba_fulfillment"
marketplaces = ["US"]
effective_from = 2026-12-10

[[rules.sources]]
url = "https://example.com/test-surcharge"
says = "Test data."
confidence = "high"
"""


def report(prices: tuple[str, ...] = ("9.99", "10.00", "50.01")) -> bytes:
    """300 SKUs, all small standard 2 oz, 10 units a month each, at the 2026 band boundaries.

    By hand from policies/amazon.toml (2025 card -> 2026 card): $9.99: 2.29 -> 2.43 (+0.14);
    $10.00: 3.06 -> 3.32 (+0.26); $50.01: 3.06 -> 3.58 (+0.52). 100 SKUs each, 10 units:
    (0.14 + 0.26 + 0.52) x 100 x 10 = +$920.00 a month. On 2026-04-17 the 3.5% surcharge:
    2.43 -> 0.09, 3.32 -> 0.12, 3.58 -> 0.13: (0.09 + 0.12 + 0.13) x 1000 = +$340.00 a month.
    """
    rows = []
    for price in prices:
        for n in range(100):
            line = fee_preview_row(f"{price}-{n}", "Sundries", price, SMALL, "2", "ounces")
            rows.append(line)
    header_and_rows = fee_preview(rows).decode()
    # The report has no monthly units; a seller adds the column (any position, any letter case).
    lines = header_and_rows.splitlines()
    lines[0] += "\tMonthly Units"
    lines[1:] = [line + "\t10" for line in lines[1:]]
    return ("\n".join(lines) + "\n").encode()


async def send_file(running: Bot, chat_id: int, data: bytes, name: str, **options: object) -> list[str]:
    """A user sends `data` as a document; the bot's new messages in the chat, as plain text."""
    server = running.server
    before = len(server.sent_messages(chat_id))
    server.document(chat_id, data, name, mime_type="text/plain", **options)  # type: ignore[arg-type]
    await server.wait_for(lambda: len(server.sent_messages(chat_id)) > before, timeout=20)
    await running.settle()
    return running.texts(chat_id)[before:]


async def remind_now(running: Bot, delivery_id: int) -> str:
    """The dispatcher sends this reminder again, now; its text as the chat received it."""
    running.store.db.execute(
        "UPDATE deliveries SET status = 'pending', due_at = ? WHERE id = ?", [NOW.isoformat(), delivery_id]
    )
    running.store.db.conn.commit()
    count = len(running.server.sent_messages(SELLER))
    wake_dispatch(running.app)
    await running.server.wait_for(lambda: len(running.server.sent_messages(SELLER)) > count, timeout=20)
    return running.texts(SELLER)[-1]


async def test_fee_preview_document_then_impact(bot: Bot) -> None:  # noqa: F811
    await bot.say(SELLER, "/skus", language_code="en", chat_type="private")
    assert "Fee Preview report" in bot.texts(SELLER)[-1]
    replies = await send_file(bot, SELLER, report(), "Fee Preview.txt")
    assert "Imported 300 SKUs" in replies[0] and "“Sundries”" in replies[0]
    assert [c.params["file_id"] for c in bot.server.calls_to("getFile")], "the file was fetched with getFile"
    status = await bot.say(SELLER, "/skus")
    assert "300 SKUs from “Fee Preview.txt”" in status[0]

    overview = await bot.say(SELLER, "/impact")
    assert "2026-01-15" in overview[0] and "+$920.00/month" in overview[0]
    assert "+$340.00/month" in overview[0]

    detail = await bot.say(SELLER, "/impact 2026-01-15")
    assert "Total: +$920.00/month" in detail[0] and "300 of 300 SKUs affected" in detail[0]
    assert "$10.00 → $9.99 saves $0.89" in detail[0]  # the band crossing, flagged as unsure
    assert "no source says" in detail[0]
    # The chart follows the text once drawn (matplotlib, in a worker thread).
    await bot.server.wait_for(lambda: bool(bot.server.calls_to("sendPhoto")), timeout=60)
    photo = bot.server.calls_to("sendPhoto")[-1]
    assert photo.params["chat_id"] == SELLER and "2026-01-15" in photo.params["caption"]
    surcharge = await bot.say(SELLER, "/impact R-A1")
    assert "Total: +$340.00/month" in surcharge[0]
    await bot.server.wait_for(lambda: len(bot.server.calls_to("sendPhoto")) == 2, timeout=60)
    unknown = await bot.say(SELLER, "/impact 2026-01-16")
    assert "No fee change on 2026-01-16" in unknown[0]

    # The operator announces a coming change (test data: a 1% surcharge from 2026-12-10). Subscribers are
    # alerted; the alert and the reminder to the chat with SKUs carry its impact line, by hand:
    # (0.02 + 0.03 + 0.04) x 100 SKUs x 10 units = +$90.00 a month. A chat without SKUs gets today's text.
    await bot.say(SELLER, "/subscribe amazon us fees")
    await bot.say(OTHER, "/subscribe amazon us fees", language_code="en", chat_type="private")
    await bot.say(ADMIN, "/start", language_code="en", chat_type="private")
    amazon = bot.policies / "amazon.toml"
    amazon.write_text(amazon.read_text(encoding="utf-8") + FUTURE_SURCHARGE, encoding="utf-8")
    before = {chat: len(bot.server.sent_messages(chat)) for chat in (SELLER, OTHER)}
    assert "1 change(s)" in (await bot.say(ADMIN, "/reload"))[0]
    await bot.server.wait_for(
        lambda: all(len(bot.server.sent_messages(c)) > n for c, n in before.items()), timeout=20
    )
    await bot.settle()
    line = "For your SKUs: +$90.00/month, 300 SKUs affected; /impact 2026-12-10"
    assert line in bot.texts(SELLER)[-1]
    assert "Test surcharge" in bot.texts(OTHER)[-1] and "For your SKUs" not in bot.texts(OTHER)[-1]
    outbox = Outbox(bot.store)
    due = [
        d for d in outbox.pending_for_chat(SELLER, limit=500) if d.key.startswith("test-future-surcharge/")
    ]
    assert due, "the new rule's date is planned as reminders"
    assert line in await remind_now(bot, due[0].id)

    # The line is cached per change; a new import changes it at once. 100 SKUs at $50.01, by hand:
    # 3.58 x 1% = 0.04 x 100 x 10 = +$40.00 a month.
    replies = await send_file(bot, SELLER, report(("50.01",)), "Fee Preview.txt")
    assert "Imported 100 SKUs" in replies[0]
    await bot.server.wait_for(lambda: IMPACT_LINES.holds_current(bot.store, SELLER), timeout=20)
    computed = IMPACT_LINES.computed
    assert "+$40.00/month, 100 SKUs affected" in await remind_now(bot, due[0].id)
    assert IMPACT_LINES.computed == computed, "the line was computed at import, off the event loop"
    # So does a catalog reload: the test surcharge becomes 2%: 0.0716 -> 0.07 x 1000 = +$70.00 a month.
    amazon.write_text(amazon.read_text(encoding="utf-8").replace('rate = "0.01"', 'rate = "0.02"'), "utf-8")
    await bot.say(ADMIN, "/reload")
    await bot.settle()
    assert "+$70.00/month, 100 SKUs affected" in await remind_now(bot, due[0].id)

    erased = await bot.say(SELLER, "/skus delete")
    assert "Erased 100 SKUs" in erased[0]
    assert "no SKUs yet" in (await bot.say(SELLER, "/impact"))[0]


async def test_bad_file_keeps_the_previous_skus(bot: Bot) -> None:  # noqa: F811
    await bot.say(SELLER, "/start", language_code="en", chat_type="private")
    await send_file(bot, SELLER, b"sku,category,price\nA1,apparel,15\n", "first.csv")
    bad = await send_file(bot, SELLER, b"sku,category,price\nB1,apparel,15\nB2,apparel,-1\n", "second.csv")
    assert "Nothing was imported" in bad[0] and "row 3, column “price”: “-1” is negative" in bad[0]
    assert "1 SKUs from “first.csv”" in (await bot.say(SELLER, "/skus"))[0]
    image = await send_file(bot, SELLER, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.png")
    assert "not a table" in image[0]
    gbk = "SKU,类目,售价\n女装-01,服装,19.99\n".encode("gbk")
    assert "Imported 1 SKUs" in (await send_file(bot, SELLER, gbk, "商品.csv"))[0]


async def test_too_big_for_telegram(bot: Bot) -> None:  # noqa: F811
    await bot.say(SELLER, "/start", language_code="en", chat_type="private")
    noise = b"x" * (10 * 1024 * 1024 + 1)  # over the default upload limit (#18), under Telegram's 20 MB
    replies = await send_file(bot, SELLER, noise, "huge.csv")
    assert "larger than 10 MB" in replies[0]
    assert not bot.server.calls_to("getFile"), "a file over the limit is not even requested"


async def test_groups_admins_only(bot: Bot) -> None:  # noqa: F811
    data = b"sku,category,price\nA1,apparel,15\n"
    refused = await send_file(bot, GROUP, data, "team.csv", user_id=MEMBER)
    assert "admins" in refused[0]
    assert "No SKUs stored" in (await bot.say(GROUP, "/skus", user_id=MEMBER))[0]
    accepted = await send_file(bot, GROUP, data, "team.csv", user_id=ADMIN)
    assert "Imported 1 SKUs" in accepted[0]
    assert "admins" in (await bot.say(GROUP, "/skus delete", user_id=MEMBER))[0]
    assert "Erased 1 SKUs" in (await bot.say(GROUP, "/skus delete", user_id=ADMIN))[0]


MIXED = (
    b"sku,category,price,marketplace,monthly_units,longest_side,median_side,shortest_side,"
    b"unit_of_dimension,weight,unit_of_weight,fba_fee\n"
    b"US-1,Home,20.00,US,100,6,4,0.5,in,2,oz,\n"
    b"UK-1,clothing,14,UK,80,,,,,,,2.50\n"
    b"DE-1,Health and Beauty,12.50,DE,50,,,,,,,2.60\n"
)


async def test_mixed_marketplaces_each_in_its_own_currency(bot: Bot) -> None:  # noqa: F811
    """#16: a US/UK/DE file. By hand on 2026-04-17: US 3.32 x 3.5% = 0.12 x 100 = $12.00; UK (the file's
    FBA fee, no UK card) 2.50 x 1.5% = 0.04 x 80 = £3.20; DE 2.60 x 1.5% = 0.04 x 50 = €2.00."""
    await bot.say(SELLER, "/start", language_code="en", chat_type="private")
    replies = await send_file(bot, SELLER, MIXED, "mixed.csv")
    assert "Imported 3 SKUs" in replies[0]
    overview = (await bot.say(SELLER, "/impact"))[0]
    assert "+€2.00/month, +£3.20/month, +$12.00/month, 3 SKUs affected" in overview
    assert "per unit summed" not in overview and "✔️" not in overview
    photos = len(bot.server.calls_to("sendPhoto"))
    detail = (await bot.say(SELLER, "/impact 2026-04-17"))[0]
    assert "Total: +€2.00/month, +£3.20/month, +$12.00/month; 3 of 3 SKUs affected." in detail
    assert "• UK-1 at £14.00: £0.00 → £0.04 (+£0.04/unit, +£3.20/month)" in detail
    assert "• DE-1 at €12.50: €0.00 → €0.04 (+€0.04/unit, +€2.00/month)" in detail
    assert "• US-1 at $20.00: $0.00 → $0.12 (+$0.12/unit, +$12.00/month)" in detail
    # One chart per currency, each captioned with its currency.
    await bot.server.wait_for(lambda: len(bot.server.calls_to("sendPhoto")) == photos + 3, timeout=90)
    captions = [call.params["caption"] for call in bot.server.calls_to("sendPhoto")[photos:]]
    assert [next(c for c in ("EUR", "GBP", "USD") if c in caption) for caption in captions] == [
        "EUR",
        "GBP",
        "USD",
    ]
