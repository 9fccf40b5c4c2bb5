"""docker-compose.yml is checked by parsing it (no Docker engine here): every command our
image runs exists in the CLI, and every variable it sets is a known setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from sms_channels.cli import app
from sms_channels.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def our_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return {name: s for name, s in services.items() if s.get("image") == "sms-channels:latest"}


def resolves(words: list[str]) -> bool:
    """True if ``words`` name a leaf command of the CLI (groups have ``commands``)."""
    command: Any = typer.main.get_command(app)
    for word in words:
        if word not in getattr(command, "commands", {}):
            return False
        command = command.commands[word]
    return not hasattr(command, "commands")


def test_the_compose_file_runs_the_api_and_every_worker() -> None:
    commands = {tuple(s["command"]) for s in our_services().values()}
    assert {("serve",), ("migrate",), ("worker", "projections"), ("worker", "relay"),
            ("worker", "directory"), ("worker", "registration")} <= commands  # fmt: skip


def test_every_command_of_our_image_exists_in_the_cli() -> None:
    for name, service in our_services().items():
        assert resolves(service["command"]), f"{name}: {service['command']} is not a command"


def test_every_variable_our_image_gets_is_a_known_setting() -> None:
    known = {field.upper() for field in Settings.model_fields}
    for name, service in our_services().items():
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name} sets unknown variables {unknown}"


def test_the_cli_check_would_catch_a_missing_command() -> None:
    assert not resolves(["worker", "no-such-worker"])


def test_migrate_waits_for_kafka_and_knows_the_published_topics() -> None:
    migrate = our_services()["migrate"]
    assert "kafka" in migrate["depends_on"]
    assert {"KAFKA_BOOTSTRAP_SERVERS", "CHANNEL_EVENTS_TOPIC", "ROUTING_TOPIC"} <= set(
        migrate["environment"]
    )
