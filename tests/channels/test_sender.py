"""ChannelSender against the fake robots over HTTPS and the fake SMTP server: what arrives, signed as
each channel wants; what each channel answers, as results; failures counted, destinations disabled and
their owners told; nothing of the secrets in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from channel_fakes import FakeChannels, start_fake_channels, start_fake_smtp

from bot.channels import ChannelSender, Kind, add_destination, destination_by_name
from bot.config import ChannelsConfig, SmtpConfig
from bot.reminders import Blocked, Failed, Outbox, OutgoingMessage, RetryLater, Sent
from bot.store import Store

GROUP = -100777


@pytest.fixture
def fakes(tmp_path: Path) -> Iterator[FakeChannels]:
    started = start_fake_channels(tmp_path)
    yield started
    started.close()


def config_for(fakes: FakeChannels, **extra: object) -> ChannelsConfig:
    hosts = {kind: [fakes.host(kind)] for kind in ("feishu", "dingtalk", "wecom", "webhook")}
    return ChannelsConfig.model_validate({"hosts": hosts, "ca_file": fakes.ca_file, "timeout": 5, **extra})


async def test_each_kind_arrives_signed_as_its_channel_wants(
    store: Store, fakes: FakeChannels, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fakes.robots.secrets.update({"fs1": "SECfs", "dt1": "SECdt", "wh1": "SECwh"})
    made = {
        kind: add_destination(store, f"{kind}-team", fakes.url(kind, robot), Kind(kind), secret=secret)
        for kind, robot, secret in [
            ("feishu", "fs1", "SECfs"),
            ("dingtalk", "dt1", "SECdt"),
            ("wecom", "wc1", None),
            ("webhook", "wh1", "SECwh"),
        ]
    }
    sender = ChannelSender(store, config_for(fakes))
    try:
        for found in made.values():
            result = await sender.send(
                found.chat_id, OutgoingMessage("<b>In 7 days</b>: 低库存费 &amp; more")
            )
            assert result == Sent(None), found.kind
    finally:
        await sender.aclose()
    assert fakes.robots.refused == []
    kinds = [item.kind for item in fakes.robots.received]
    assert kinds == ["feishu", "dingtalk", "wecom", "webhook"]
    feishu, dingtalk, wecom, webhook = fakes.robots.received
    assert feishu.body["msg_type"] == "interactive" and "sign" in feishu.body and "timestamp" in feishu.body
    assert dingtalk.body["msgtype"] == "markdown" and {"timestamp", "sign"} <= set(dingtalk.query)
    assert wecom.body["msgtype"] == "markdown"
    assert webhook.headers["X-Policybot-Signature"].startswith("sha256=")
    assert fakes.robots.texts() == ["**In 7 days**: 低库存费 & more"] * 3 + ["In 7 days: 低库存费 & more"]
    logged = caplog.text
    for secret in ("SECfs", "SECdt", "SECwh", "fs1", "dt1", "wc1", "access_token"):
        assert secret not in logged


async def test_a_wrong_secret_fails_permanently_then_disables_and_tells_the_owner(
    store: Store, fakes: FakeChannels, caplog: pytest.LogCaptureFixture
) -> None:
    store.ensure_chat(GROUP, "supergroup", "Sellers", "zh")
    fakes.robots.secrets["fs2"] = "SECright"
    found = add_destination(
        store, "lark", fakes.url("feishu", "fs2"), Kind.FEISHU, secret="SECwrong", mirror_of=GROUP, owner_id=5
    )
    sender = ChannelSender(store, config_for(fakes, disable_after=3))
    try:
        results = [await sender.send(found.chat_id, OutgoingMessage(f"reminder {n}")) for n in range(4)]
    finally:
        await sender.aclose()
    assert [type(result) for result in results] == [Failed, Failed, Blocked, Blocked]
    assert isinstance(results[0], Failed) and not results[0].transient
    assert "19021" in results[0].reason and "SECwrong" not in results[0].reason
    assert [code for _, _, code in fakes.robots.refused] == [19021, 19021, 19021]  # the 4th never left
    after = destination_by_name(store, "lark")
    assert after is not None and not after.enabled and "19021" in (after.disabled_reason or "")
    settings = store.chat(found.chat_id)
    assert settings is not None and not settings.active
    # The owner (the group that connected it) is told, in its language, through the outbox.
    notices = Outbox(store).pending_for_chat(GROUP)
    assert [n.kind for n in notices] == ["broadcast"]
    assert "lark" in notices[0].payload["text"] and "停用" in notices[0].payload["text"]
    audit = store.audit_log()
    assert audit[0]["action"] == "destination-disabled" and "SEC" not in str(audit[0]["detail"])
    assert "SECwrong" not in caplog.text and "fs2" not in caplog.text


async def test_transient_failures_are_retried_not_counted(store: Store, fakes: FakeChannels) -> None:
    found = add_destination(store, "wc", fakes.url("wecom", "wc5"), Kind.WECOM)
    fakes.robots.fail_with["wc5"] = 502
    sender = ChannelSender(store, config_for(fakes, disable_after=1))
    try:
        result = await sender.send(found.chat_id, OutgoingMessage("hello"))
        assert result == Failed("HTTP 502", transient=True)
        fakes.robots.fail_with["wc5"] = 400
        assert await sender.send(found.chat_id, OutgoingMessage("hello")) == Blocked(
            "1 permanent failures in a row, the last: HTTP 400"
        )
    finally:
        await sender.aclose()
    row = store.db.execute(
        "SELECT group_concat(permanent) FROM destination_failures WHERE destination_id = ?", [found.id]
    ).fetchone()
    assert row[0] == "0,1"


async def test_dingtalk_never_gets_a_twenty_first_message_in_a_minute(
    store: Store, fakes: FakeChannels
) -> None:
    found = add_destination(store, "dt", fakes.url("dingtalk", "busy"), Kind.DINGTALK)
    sender = ChannelSender(store, config_for(fakes))
    try:
        results = [await sender.send(found.chat_id, OutgoingMessage(f"#{n}")) for n in range(21)]
    finally:
        await sender.aclose()
    assert results[:20] == [Sent(None)] * 20
    assert isinstance(results[20], RetryLater) and 55 < results[20].seconds <= 63.25
    assert fakes.robots.refused == []  # our pace held it back: the robot was never blocked


async def test_the_fake_dingtalk_blocks_for_ten_minutes_and_the_sender_backs_off(
    store: Store, fakes: FakeChannels
) -> None:
    """Another process (or another bot) filled the robot's minute: 130101 is answered RetryLater(600)."""
    import ssl

    import httpx

    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(fakes.ca_file))) as client:
        for n in range(21):
            answer = await client.post(
                fakes.url("dingtalk", "shared"), json={"msgtype": "text", "text": {"content": n}}
            )
        assert answer.json()["errcode"] == 130101
    found = add_destination(store, "dt2", fakes.url("dingtalk", "shared"), Kind.DINGTALK)
    sender = ChannelSender(store, config_for(fakes))
    try:
        assert await sender.send(found.chat_id, OutgoingMessage("x")) == RetryLater(600.0)
        assert await sender.send(found.chat_id, OutgoingMessage("x")) == RetryLater(pytest.approx(600, abs=2))
    finally:
        await sender.aclose()
    assert len(fakes.robots.refused) == 2  # the 21st of the other client, and ours; then we kept off


async def test_wecom_gets_a_long_chinese_digest_in_pieces_within_4096_bytes(
    store: Store, fakes: FakeChannels
) -> None:
    found = add_destination(store, "wecom", fakes.url("wecom", "long"), Kind.WECOM)
    line = "亚马逊低库存费将于2026年生效，请检查库存水平与补货计划。"
    digest = "\n".join(f"<b>{n}.</b> {line}" for n in range(150))
    sender = ChannelSender(store, config_for(fakes))
    try:
        assert await sender.send(found.chat_id, OutgoingMessage(digest)) == Sent(None)
    finally:
        await sender.aclose()
    texts = fakes.robots.texts("long")
    assert len(texts) >= 3 and fakes.robots.refused == []
    assert all(len(text.encode()) <= 4096 for text in texts)
    assert "\n".join(texts) == "\n".join(f"**{n}.** {line}" for n in range(150))


async def test_email_goes_over_starttls_with_plain_text_and_html(store: Store, tmp_path: Path) -> None:
    server, mailbox, ca_file = start_fake_smtp(tmp_path)
    try:
        host, port = server.server_address[:2]
        config = ChannelsConfig(
            ca_file=ca_file, smtp=SmtpConfig(host=str(host), port=int(port), sender="bot@example.com")
        )
        found = add_destination(store, "ops", "mailto:ops@example.com", Kind.EMAIL, language="zh")
        refused = add_destination(store, "gone", "mailto:gone@example.com", Kind.EMAIL)
        mailbox.refuse.add("gone@example.com")
        sender = ChannelSender(store, config)
        digest = '<b>3 条提醒</b>\n1. 低库存费 &lt;7 天&gt;\n2. <a href="https://sell.example/x">页面</a>'
        assert await sender.send(found.chat_id, OutgoingMessage(digest)) == Sent(None)
        result = await sender.send(refused.chat_id, OutgoingMessage("x"))
        assert isinstance(result, Failed) and not result.transient and "550" in result.reason
    finally:
        server.shutdown()
        server.server_close()
    assert len(mailbox.messages) == 1  # one message for the whole digest
    assert mailbox.envelopes == [("bot@example.com", ["ops@example.com"], True)]  # over TLS
    message = mailbox.messages[0]
    assert str(message["Subject"]) in ("3 条提醒",) or "3" in str(message["Subject"])
    parts = {part.get_content_type(): part.get_payload(decode=True).decode() for part in message.walk()
             if not part.is_multipart()}  # fmt: skip
    assert "低库存费 <7 天>" in parts["text/plain"]
    assert '<a href="https://sell.example/x">页面</a>' in parts["text/html"]


async def test_no_smtp_server_is_a_permanent_failure(store: Store) -> None:
    found = add_destination(store, "ops", "mailto:ops@example.com", Kind.EMAIL)
    sender = ChannelSender(store, ChannelsConfig())
    try:
        result = await sender.send(found.chat_id, OutgoingMessage("x"))
    finally:
        await sender.aclose()
    assert isinstance(result, Failed) and not result.transient and "SMTP" in result.reason
