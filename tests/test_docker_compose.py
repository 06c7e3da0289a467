"""docker-compose.yml and its Dockerfile, checked as files (no Docker engine runs in CI)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    loaded: dict = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def service(compose: dict) -> dict:
    # `docker compose up` starts the single bot only; the others are behind a profile
    assert [n for n, s in compose["services"].items() if "profiles" not in s] == ["freqtrade"]
    return dict(compose["services"]["freqtrade"])


def pinned_freqtrade_version() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(r'"freqtrade\[[^\]]*\]==([0-9.]+)"', text)
    assert match, "pyproject.toml pins no FreqTrade version"
    return match.group(1)


def test_image_is_the_official_freqai_image_of_the_tested_version(service: dict) -> None:
    version = pinned_freqtrade_version()
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
    # no credentials in the file: the API server is switched on through the environment
    assert "api_server" not in config
    assert config["exchange"]["key"] == config["exchange"]["secret"] == ""
    example = (ROOT / ".env.example").read_text()
    for key in ("USERNAME", "PASSWORD", "JWT_SECRET_KEY"):
        assert f"FREQTRADE__API_SERVER__{key}=\n" in example
    assert "FREQTRADE__API_SERVER__ENABLED=true\n" in example
    assert "FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS=127.0.0.1\n" in example


def test_signals_profile_runs_one_producer_and_one_consumer(compose: dict) -> None:
    services = compose["services"]
    profiled = {n for n, s in services.items() if s.get("profiles") == ["signals"]}
    assert profiled == {"producer", "consumer"}
    producer, consumer = services["producer"], services["consumer"]
    assert producer["build"] == services["freqtrade"]["build"]
    assert producer["image"] == consumer["image"] == services["freqtrade"]["image"]

    command = producer["command"].split()
    assert command[command.index("--freqaimodel") + 1] == "ITBClassifier"
    assert command[command.index("--config") + 1] == "/freqtrade/user_data/config.json"
    command = consumer["command"].split()
    assert "--freqaimodel" not in command
    assert command[command.index("--strategy") + 1] == "ITBStrategy"
    assert command[command.index("--config") + 1] == "/freqtrade/user_data/config.consumer.json"
    assert consumer["depends_on"] == ["producer"]
    # separate databases and logs, API ports on the host's loopback only and distinct
    for one in (producer, consumer):
        assert "--dry-run" in one["command"].split()
        assert all(p.startswith("127.0.0.1:") for p in one["ports"])
    dbs = {s["command"].split("--db-url")[1].split()[0] for s in services.values()}
    assert len(dbs) == 3
    ports = [p.split(":")[1] for s in services.values() for p in s["ports"]]
    assert len(set(ports)) == 3

    # the consumer reaches the producer by its service name, with the producer's ws token
    producers = json.loads(
        consumer["environment"]["FREQTRADE__EXTERNAL_MESSAGE_CONSUMER__PRODUCERS"]
    )
    assert producers[0]["host"] == "producer" and producers[0]["port"] == 8080
    assert producers[0]["ws_token"] == "${FREQTRADE__API_SERVER__WS_TOKEN:-}"
    assert producer["environment"]["FREQTRADE__API_SERVER__LISTEN_IP_ADDRESS"] == "0.0.0.0"
    assert producer["environment"]["FREQTRADE__API_SERVER__ENABLED"] == "true"  # the websocket


def test_consumer_config_is_a_consumer_without_freqai(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("freqtrade")
    from freqtrade.configuration import Configuration

    from itb_ext.strategy.topology import topology_of

    token = [{"name": "itb-producer", "host": "producer", "port": 8080, "ws_token": "secret"}]
    monkeypatch.setenv("FREQTRADE__EXTERNAL_MESSAGE_CONSUMER__PRODUCERS", json.dumps(token))
    config = Configuration.from_files([str(ROOT / "user_data" / "config.consumer.json")])
    topology = topology_of(config)
    assert topology.role == "consumer" and topology.producer == "itb-producer"
    assert config["external_message_consumer"]["producers"][0]["ws_token"] == "secret"
    assert config["freqai"]["enabled"] is False
    assert config["process_only_new_candles"] is False
    assert config["itb"]["algorithms"]  # the rules and score columns come from the same section
