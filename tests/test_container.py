"""The container files, checked without Docker: the image's config is a valid config that puts the
database on the volume and serves /healthz where the HEALTHCHECK asks, and the image runs as non-root."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT

from bot.config import load_config
from bot.monitoring.server import parse_listen

DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_the_image_config_is_valid_and_matches_the_dockerfile() -> None:
    config = load_config(ROOT / "docker" / "config.toml")
    assert config.store.path == Path("/data/policybot.db")
    assert 'VOLUME ["/data"]' in DOCKERFILE
    _, port = parse_listen(config.monitoring.listen)
    healthcheck = re.search(r"HEALTHCHECK .*\n.*http://127\.0\.0\.1:(\d+)/healthz", DOCKERFILE)
    assert healthcheck is not None and int(healthcheck.group(1)) == port
    assert f"EXPOSE {port}" in DOCKERFILE
    assert config.policies.dir == Path("/app/policies") and "COPY policies ./policies" in DOCKERFILE
    assert "COPY docker/config.toml /etc/policybot/config.toml" in DOCKERFILE


def test_the_image_runs_as_a_non_root_user_with_cjk_fonts() -> None:
    users = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "fonts-noto-cjk" in DOCKERFILE
    assert re.search(r"^FROM python:3\.\d+-slim", DOCKERFILE, flags=re.MULTILINE)


def test_compose_reads_the_token_from_an_env_file() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "env_file: policybot.env" in compose
    code = [line.split("#", 1)[0] for line in compose.splitlines()]
    assert not any("TELEGRAM_BOT_TOKEN" in line for line in code)  # never the token itself in the file
    assert "policybot.env" in (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert ":/data" in compose
