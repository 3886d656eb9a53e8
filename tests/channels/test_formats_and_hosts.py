"""The pure parts of the channels: signatures against fixed vectors, markdown, byte splitting, the
kind of a URL from its host, and each robot's pace on a clock the test moves."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

import pytest

from bot.channels import (
    AllowedHosts,
    Kind,
    NotAllowed,
    dingtalk_sign,
    feishu_sign,
    kind_of,
    webhook_signature,
)
from bot.channels.formats import markdown_of, plain_of, split_by_bytes, title_of
from bot.channels.pace import MARGIN, SLACK, WINDOWS, RobotPace

SECRET = "SECabc123"


def test_feishu_and_dingtalk_put_the_same_string_in_opposite_slots() -> None:
    # Fixed vectors, computed by hand from the reference's recipe (§1.1).
    feishu = feishu_sign(SECRET, 1_700_000_000)
    key = b"1700000000\nSECabc123"
    assert feishu == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    dingtalk = dingtalk_sign(SECRET, 1_700_000_000_000)
    mac = hmac.new(SECRET.encode(), b"1700000000000\nSECabc123", hashlib.sha256).digest()
    assert dingtalk == urllib.parse.quote_plus(base64.b64encode(mac))
    # The trap: DingTalk's recipe with Feishu's seconds gives another value than Feishu's.
    swapped = base64.b64encode(hmac.new(SECRET.encode(), key, hashlib.sha256).digest()).decode()
    assert swapped != feishu
    assert len(feishu) == 44  # base64 of 32 bytes


def test_webhook_signature_covers_timestamp_and_body() -> None:
    one = webhook_signature("s", 10, b"{}")
    assert one.startswith("sha256=") and len(one) == 7 + 64
    assert one != webhook_signature("s", 11, b"{}")
    assert one != webhook_signature("s", 10, b"{ }")


def test_markdown_and_plain_text_of_telegram_html() -> None:
    html = '<b>In 7 days</b>: <i>fee</i> &amp; <code>R-A1</code> <a href="https://x.example/?a=1&amp;b=2">page</a>'
    assert markdown_of(html) == "**In 7 days**: *fee* & `R-A1` [page](https://x.example/?a=1&b=2)"
    assert plain_of(html) == "In 7 days: fee & R-A1 page"
    assert title_of("<b>" + "长" * 60 + "</b>\nsecond") == "长" * 39 + "…"
    assert title_of("") == "policybot"


def test_wecom_split_of_a_long_chinese_digest_by_bytes() -> None:
    line = "亚马逊低库存费将于2026年生效，请检查库存水平。" * 3  # 72 characters, 3 bytes each
    digest = "\n".join(f"{n}. {line}" for n in range(80))
    pieces = split_by_bytes(digest, 4096)
    assert len(digest.encode()) > 4096 * 4
    assert all(len(piece.encode()) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == digest  # cut only at line ends: nothing lost, nothing doubled
    # One line longer than the limit alone is cut between characters, never inside one.
    long_line = "费" * 3000  # 9,000 bytes
    parts = split_by_bytes(long_line, 4096)
    assert "".join(parts) == long_line
    assert [len(p.encode()) for p in parts] == [4095, 4095, 810]
    assert split_by_bytes("", 4096) == [""]
    with pytest.raises(ValueError):
        split_by_bytes("x", 3)


def test_the_kind_comes_from_the_host_and_other_hosts_are_refused() -> None:
    official = AllowedHosts()
    assert kind_of("https://open.feishu.cn/open-apis/bot/v2/hook/abc", official) is Kind.FEISHU
    assert kind_of("https://open.larksuite.com/open-apis/bot/v2/hook/abc", official) is Kind.FEISHU
    assert kind_of("https://oapi.dingtalk.com/robot/send?access_token=t", official) is Kind.DINGTALK
    assert kind_of("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", official) is Kind.WECOM
    assert kind_of("mailto:team@example.com", official) is Kind.EMAIL
    for url, key in [
        ("https://169.254.169.254/latest/meta-data", "channels_host_not_allowed"),
        ("https://oapi.dingtalk.com.evil.example/robot/send", "channels_host_not_allowed"),
        ("https://oapi.dingtalk.com:8443/robot/send", "channels_host_not_allowed"),
        ("http://oapi.dingtalk.com/robot/send?access_token=t", "channels_not_https"),
        ("https://user:pw@oapi.dingtalk.com/robot/send", "channels_not_https"),
        ("https://hooks.example.com/x", "channels_host_not_allowed"),  # webhooks: none until listed
        ("mailto:not-an-address", "channels_bad_email"),
    ]:
        with pytest.raises(NotAllowed) as refused:
            kind_of(url, official)
        assert refused.value.key == key, url
    listed = AllowedHosts({Kind.WEBHOOK: ("hooks.example.com",), Kind.DINGTALK: ("127.0.0.1:8443",)})
    assert kind_of("https://hooks.example.com/x", listed) is Kind.WEBHOOK
    assert kind_of("https://127.0.0.1:8443/robot/send?access_token=t", listed) is Kind.DINGTALK
    with pytest.raises(NotAllowed):  # listed for DingTalk, the official host is no longer allowed
        kind_of("https://oapi.dingtalk.com/robot/send?access_token=t", listed)
    with pytest.raises(NotAllowed):
        kind_of("https://127.0.0.1:8444/robot/send", listed)


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_dingtalk_pace_keeps_twenty_a_minute_with_margin() -> None:
    clock = Ticks()
    pace = RobotPace(WINDOWS[Kind.DINGTALK], clock=clock)
    for _ in range(20):
        assert pace.delay() == 0
        pace.take()
        clock.now += 0.1
    assert pace.delay() == pytest.approx(60 * MARGIN + SLACK - 2.0)
    clock.now += pace.delay()
    assert pace.delay() == 0  # the first send left the window
    pace.block(600)
    assert pace.delay() == pytest.approx(600)


def test_feishu_pace_keeps_five_a_second_and_a_hundred_a_minute() -> None:
    clock = Ticks()
    pace = RobotPace(WINDOWS[Kind.FEISHU], clock=clock)
    sent = []
    while len(sent) < 120:
        clock.now += pace.delay()
        pace.take()
        sent.append(clock.now)
    for index in range(len(sent) - 5):
        assert sent[index + 5] - sent[index] >= 1.0  # never 6 within a second
    for index in range(len(sent) - 100):
        assert sent[index + 100] - sent[index] >= 60.0  # never 101 within a minute
    assert RobotPace(WINDOWS[Kind.EMAIL], clock=clock).delay() == 0
