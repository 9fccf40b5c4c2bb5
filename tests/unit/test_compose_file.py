"""docker-compose.yml is checked by parsing it (no Docker engine here): every command our
image runs exists in the CLI, and every variable it sets is a known setting."""

from __future__ import annotations

import re
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


# --- replicated ------------------------------------------------------------------------

NGINX = COMPOSE.parent / "deploy" / "nginx.conf"
SINGLETON_ROLES = ("relay", "registration", "reconcile")


def services() -> dict[str, dict[str, Any]]:
    every: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE.read_text())["services"]
    return every


def replicas(service: dict[str, Any]) -> int:
    return int(service.get("deploy", {}).get("replicas", 1))


def nginx_directives(text: str) -> list[tuple[str, ...]]:
    """Every directive of an nginx configuration as (name, arguments…), comments dropped
    (what the checks below need; nginx's own grammar has quoting we do not use)."""
    statements = re.sub(r"#[^\n]*", "", text).replace("{", ";").replace("}", ";").split(";")
    return [tuple(s.split()) for s in statements if s.split()]


def test_the_api_runs_replicated_behind_a_real_load_balancer() -> None:
    every = services()
    api, lb = every["api"], every["lb"]
    assert api["command"] == ["serve"]
    assert replicas(api) >= 3
    assert "ports" not in api  # reached through the balancer only
    assert lb["image"].startswith("nginx:")
    mounted = {volume.split(":")[0]: volume.split(":")[1] for volume in lb["volumes"]}
    assert mounted["./deploy/nginx.conf"] == "/etc/nginx/nginx.conf"
    assert "api" in lb["depends_on"]
    assert api["environment"]["FORWARDED_ALLOW_IPS"] == "*"


def test_the_balancer_spreads_over_every_api_replica_and_passes_the_client_on() -> None:
    directives = nginx_directives(NGINX.read_text())
    (listen,) = [d[1] for d in directives if d[0] == "listen"]
    published = {p.split(":")[1]: p.split(":")[0] for p in services()["lb"]["ports"]}
    assert listen in published
    servers = [d for d in directives if d[0] == "server" and len(d) > 1]
    assert [s[1] for s in servers] == ["api:8000"]  # the service name: every replica
    assert "resolve" in servers[0]  # re-resolved as replicas come and go
    assert ("proxy_pass", "http://sms_api") in directives
    assert ("upstream", "sms_api") in directives
    headers = {d[1]: d[2] for d in directives if d[0] == "proxy_set_header"}
    # Set to the peer's address, not appended to: a client cannot choose its own bucket.
    assert headers["X-Forwarded-For"] == "$remote_addr"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    # A non-idempotent request is never resent by the balancer (no "non_idempotent").
    retried = [d for d in directives if d[0] == "proxy_next_upstream"]
    assert all("non_idempotent" not in d for d in retried)


def test_every_worker_role_is_its_own_service_with_a_standby() -> None:
    every = services()
    for role in (*SINGLETON_ROLES, "projections", "directory"):
        service = every[role]
        assert service["command"] == ["worker", role]
        assert replicas(service) >= 2, f"{role} has no standby"
    assert every["migrate"]["command"] == ["migrate"]
    assert replicas(every["migrate"]) == 1
