"""The container files, checked without Docker: the image's config is a valid config that puts the
database on the volume and serves /healthz where the HEALTHCHECK asks, and the image runs as non-root."""

from __future__ import annotations

import re
import tomllib
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


def test_the_image_installs_the_package_not_an_editable_checkout() -> None:
    installs = re.findall(r"pip install (.+?)\s*(?:\\|$)", DOCKERFILE, flags=re.MULTILINE)
    assert installs == ["."]  # a real install: the image runs without the source tree's bot/ folder
    # What `pip install .` carries besides the Python files: every other file under bot/ must be listed.
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["bot"]
    others = [
        path.relative_to(ROOT / "bot")
        for path in (ROOT / "bot").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert others
    missing = [str(path) for path in others if not any(path.match(pattern) for pattern in patterns)]
    assert not missing, f"not in the installed package: {missing}"


def test_the_healthcheck_fails_unless_healthz_answers_200_and_the_bot_is_the_entrypoint() -> None:
    healthcheck = re.search(r"^HEALTHCHECK ((?:.*\\\n)*.*)", DOCKERFILE, flags=re.MULTILINE)
    assert healthcheck is not None
    command = healthcheck.group(1)
    assert "--interval=" in command and "--timeout=" in command and "--start-period=" in command
    # urllib raises on a 503 (and the exit code is 1 otherwise): an unhealthy bot is an unhealthy container.
    assert "/healthz" in command and ".status == 200" in command
    assert re.search(r'^ENTRYPOINT \["policybot"\]', DOCKERFILE, flags=re.MULTILINE)
    command_line = r'^CMD \["run", "--config", "/etc/policybot/config.toml"\]'
    assert re.search(command_line, DOCKERFILE, flags=re.MULTILINE)


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in ("policybot.env", "*.db", "*.db-wal", "config.toml", ".git", "tests"):
        assert entry in ignored
    # The image's own config is copied explicitly, from docker/, which the ignore list keeps.
    assert not any(entry.startswith("docker") for entry in ignored)


def test_the_image_config_serves_monitoring_to_published_ports_and_compose_only_to_the_host() -> None:
    config = load_config(ROOT / "docker" / "config.toml")
    host, port = parse_listen(config.monitoring.listen)
    assert host == "0.0.0.0"  # inside the container: reachable through the published port
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert f'"127.0.0.1:{port}:{port}"' in compose  # published to the host only


def test_readme_shows_docker_compose_with_the_token_from_an_env_file_and_the_plain_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docker compose up" in readme and "policybot.env" in readme and "TELEGRAM_BOT_TOKEN=" in readme
    assert "docker build -t policybot ." in readme
    assert "pip install" in readme and "policybot run" in readme  # the plain machine's set-up stays
