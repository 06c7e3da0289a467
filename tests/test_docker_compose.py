"""docker-compose.yml and its Dockerfile, checked as files (no Docker engine runs in CI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def service() -> dict:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert list(compose["services"]) == ["freqtrade"]
    return compose["services"]["freqtrade"]


def tested_freqtrade_version() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'"freqtrade\[[^\]]*\]==([0-9.]+)"', text)
    assert match, "pyproject.toml pins no FreqTrade version"
    return match.group(1)


def test_image_is_the_official_freqai_image_of_the_tested_version(service: dict) -> None:
    version = tested_freqtrade_version()
    wanted = f"freqtradeorg/freqtrade:{version}_freqai"
    assert service["build"]["args"]["FREQTRADE_IMAGE"] == wanted
    dockerfile = (ROOT / service["build"]["dockerfile"]).read_text()
    assert f"ARG FREQTRADE_IMAGE={wanted}" in dockerfile
    assert "FROM ${FREQTRADE_IMAGE}" in dockerfile
    # the library is installed into the image, without pulling other dependencies
    assert "COPY --chown=ftuser:ftuser itb_ext" in dockerfile
    assert re.search(r"pip install .*--no-deps", dockerfile)


def test_user_data_is_mounted_and_the_api_is_published_on_loopback_only(service: dict) -> None:
    assert "./user_data:/freqtrade/user_data" in service["volumes"]
    assert service["ports"] == ["127.0.0.1:8080:8080"]


def test_default_command_trades_dry_run_with_itb_strategy(service: dict) -> None:
    command = service["command"].split()
    assert command[0] == "trade"
    assert "--dry-run" in command
    assert command[command.index("--strategy") + 1] == "ITBStrategy"
    assert command[command.index("--freqaimodel") + 1] == "ITBClassifier"
    config = command[command.index("--config") + 1]
    assert config == "/freqtrade/user_data/config.json"
    assert (ROOT / "user_data" / "config.json").is_file()


def test_credentials_come_from_the_environment_not_from_files(service: dict) -> None:
    assert service["env_file"][0]["path"] == ".env"
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    config = json.loads((ROOT / "user_data" / "config.json").read_text())
    api = config["api_server"]
    assert api["listen_ip_address"] == "127.0.0.1"
    assert api["username"] == api["password"] == api["jwt_secret_key"] == ""
    assert config["exchange"]["key"] == config["exchange"]["secret"] == ""
    example = (ROOT / ".env.example").read_text()
    for key in ("USERNAME", "PASSWORD", "JWT_SECRET_KEY"):
        assert f"FREQTRADE__API_SERVER__{key}=\n" in example
