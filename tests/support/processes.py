"""Running `policybot run` as an operator starts it: a separate process against the fake Bot API server.

One helper for every test that starts the bot as a process (a conversation then SIGTERM, SIGKILL in the
middle of a dispatch or a broadcast, health checks): the config it writes, the environment (the token in
TELEGRAM_BOT_TOKEN, the clock in POLICYBOT_NOW) and a clean stop.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import httpx
from fake_telegram import FakeBotAPI

from bot.i18n import to_plain_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_NOW = "2026-11-25T09:00:00+08:00"
USER = 601  # the user who talks to the bot in a scripted conversation


def write_config(
    server: FakeBotAPI,
    tmp_path: Path,
    *,
    admins: Iterable[int] = (),
    monitoring: bool = True,
    config_extra: str = "",
) -> Path:
    """A config for the fake server: database bot.db beside it, the page watcher off."""
    admin_line = f"admins = [{', '.join(str(a) for a in admins)}]\n" if admins else ""
    monitoring_part = "" if monitoring else '\n[monitoring]\nlisten = ""\n'
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\nbase_url = "{server.base_url}"\nbase_file_url = "{server.base_file_url}"\n'
        f'{admin_line}\n[store]\npath = "bot.db"\n\n[watch]\nenabled = false\n'
        + monitoring_part
        + config_extra,
        encoding="utf-8",
    )
    return config


def start_bot(
    server: FakeBotAPI,
    tmp_path: Path,
    *extra: str,
    now: str | dt.datetime = DEFAULT_NOW,
    admins: Iterable[int] = (),
    monitoring: bool = True,
    config_extra: str = "",
    stdout: int | IO[str] | None = subprocess.PIPE,
    stderr: int | IO[str] | None = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start `python -m bot run` on a config for `server`; `extra` are more command-line arguments.

    A test that lets the bot run long sends its log to a file or DEVNULL: a pipe nobody reads while the
    bot runs would fill and stop it.
    """
    config = write_config(server, tmp_path, admins=admins, monitoring=monitoring, config_extra=config_extra)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": server.token,
        "POLICYBOT_NOW": now.isoformat() if isinstance(now, dt.datetime) else now,
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config), *extra],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=stderr,
        text=True,
    )


def stop(process: subprocess.Popen[str]) -> tuple[int, str]:
    """SIGTERM, then wait for a clean exit: the return code and what the bot logged."""
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr or ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(client: httpx.Client, url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.get(url)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens at {url}")


def texts(server: FakeBotAPI, chat_id: int) -> list[str]:
    return [
        to_plain_text(str(m.get("text") or m.get("caption") or "")) for m in server.sent_messages(chat_id)
    ]


def ask(server: FakeBotAPI, text: str) -> str:
    before = len(server.sent_messages(USER))
    server.message(USER, text, chat_type="private", language_code="zh-hans")
    server.wait_for_sync(lambda: len(server.sent_messages(USER)) > before, timeout=30)
    return texts(server, USER)[before]
