"""`policybot run` as an operator starts it: a separate process, long polling the strict fake Bot API
server, a scripted conversation, then SIGTERM and a clean exit. The token must not show in its logs."""

from __future__ import annotations

from pathlib import Path

import httpx
from fake_telegram import FakeBotAPI
from support.processes import USER, ask, free_port, start_bot, stop, texts, wait_listening

from bot.i18n import to_plain_text


def press(server: FakeBotAPI, data: str) -> None:
    """Press a button and wait until the bot has answered it and redrawn the menu."""
    answers, edits = len(server.calls_to("answerCallbackQuery")), len(server.calls_to("editMessageText"))
    server.callback(USER, USER, data)
    server.wait_for_sync(
        lambda: (
            len(server.calls_to("answerCallbackQuery")) > answers
            and len(server.calls_to("editMessageText")) > edits
        ),
        timeout=30,
    )


def edited(server: FakeBotAPI) -> str:
    mine = [m for m in server.chat_messages(USER) if m.get("from", {}).get("is_bot")]
    return to_plain_text(str(mine[-1].get("text", "")))


def test_scripted_conversation_then_sigterm(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    server = fake_telegram
    process = start_bot(server, tmp_path, admins=[USER])
    try:
        assert "跨境卖家" in ask(server, "/start")
        ask(server, "/subscribe")
        for data in ["sub:p:amazon", "sub:m:US", "sub:next", "sub:t:fees", "sub:review", "sub:ok"]:
            press(server, data)
        server.wait_for_sync(lambda: "已订阅" in edited(server), timeout=30)
        fee = ask(server, "/fees apparel 18")
        assert "$1.80（10%）" in fee and "此前 17% = $3.06" in fee
        ask(server, "/settings tz Shenzhen")
        ask(server, "/settings lang en")
        english = ask(server, "/fees apparel 18")
        assert "Fee on 2026-11-25: $1.80 (10%)" in english
        question = ask(server, "低库存费什么时候开始收")
        assert "Low-inventory-level fee" in question or "low-inventory" in question.lower()
    finally:
        code, stderr = stop(process)
    assert code == 0, stderr
    assert server.token not in stderr
    assert server.token.split(":")[1] not in stderr
    server.assert_no_rejections()


def test_webhook_mode_checks_the_secret_token(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    server = fake_telegram
    with httpx.Client() as client:
        port = free_port()
        config_extra = (
            "\n[telegram.webhook]\n"
            f'listen = "127.0.0.1"\nport = {port}\npath = "hook"\nsecret_token = "s3cret-Token"\n'
        )
        # Telegram posts to the public HTTPS URL; the reverse proxy forwards to 127.0.0.1:port/hook.
        public = "https://bot.example.com/hook"
        process = start_bot(server, tmp_path, "--webhook", public, admins=[USER], config_extra=config_extra)
        try:
            server.wait_for_sync(lambda: server.webhook is not None, timeout=30)
            assert server.webhook is not None and server.webhook.get("secret_token") == "s3cret-Token"
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1764000000,
                    "chat": {"id": USER, "type": "private", "first_name": "A"},
                    "from": {"id": USER, "is_bot": False, "first_name": "A", "language_code": "en"},
                    "text": "/help",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
                },
            }
            url = f"http://127.0.0.1:{port}/hook"
            wait_listening(client, url)
            forged = client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status_code == 403
            server.add_chat(USER, "private", first_name="A")
            genuine = client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"}
            )
            assert genuine.status_code == 200
            server.wait_for_sync(lambda: server.sent_messages(USER), timeout=30)
            assert "/fees" in texts(server, USER)[0]
        finally:
            code, stderr = stop(process)
    assert code == 0, stderr
    assert server.token not in stderr


def test_webhook_without_a_secret_is_refused(fake_telegram: FakeBotAPI, tmp_path: Path) -> None:
    process = start_bot(fake_telegram, tmp_path, "--webhook", "https://bot.example.com/hook", admins=[USER])
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "secret_token" in stderr
