"""A replicated deployment as processes on this machine: N ``sms-channels serve`` on free
loopback ports and any number of ``sms-channels worker ROLE`` processes, on one PostgreSQL
and one Kafka broker, as docker-compose.yml runs them (there behind nginx). Each process
names itself to PostgreSQL (``PGAPPNAME``), so that the holder of a role's advisory lock,
the role's leader, is found in ``pg_locks`` and killed by its process id."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from eventsourcing.cipher import AESCipher

from projections.tracking import lock_key
from tests.e2e.provider_support import WEBHOOK_SECRET
from tests.support.common import JWT_SECRET, wait_for
from workers.feeds.relay import AnalyticsRelay, ChannelFeedsRelay
from workers.leadership import leader_key

CLI = str(Path(sys.executable).with_name("sms-channels"))

# The advisory lock of each singleton role (a relay process runs two relays, each with its
# own lock and leader).
LEADER_LOCKS = {
    "relay:analytics": lock_key(AnalyticsRelay.name),
    "relay:channel_feeds": lock_key(ChannelFeedsRelay.name),
    "registration": leader_key("registration"),
    "reconcile": leader_key("reconcile"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Process:
    """One process of the deployment: its name (also its PostgreSQL application_name)."""

    name: str
    popen: subprocess.Popen[bytes]
    url: str | None = None
    args: tuple[str, ...] = ()

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9, and reap it."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)


@dataclass
class Deployment:
    database_url: str
    servers: str
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)
    # The session that watches pg_locks (one, kept: polled every 20 ms).
    _watch: psycopg.Connection[tuple[object, ...]] | None = None

    @property
    def apis(self) -> list[Process]:
        return [p for p in self.processes if p.url is not None and p.alive]

    def start(self, name: str, *args: str, port: int | None = None) -> Process:
        env = {**os.environ, **self.env, "PGAPPNAME": name}
        if port is not None:
            env["PORT"] = str(port)
        log = (self.log_dir / f"{name}.log").open("wb")
        popen = subprocess.Popen([CLI, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
        process = Process(name, popen, f"http://127.0.0.1:{port}" if port else None, args)
        self.processes.append(process)
        return process

    def restart(self, name: str) -> Process:
        """Start a killed worker again under its name, as the orchestrator's restart
        policy does (compose: ``restart: unless-stopped``); it comes back as a standby."""
        dead = self.by_name(name)
        assert not dead.alive
        self.processes.remove(dead)
        return self.start(name, *dead.args)

    def serve(self, name: str) -> Process:
        return self.start(name, "serve", port=free_port())

    def wait_until_serving(self, timeout: float = 60) -> None:
        def healthy(process: Process) -> bool:
            assert process.alive, f"{process.name} exited: see {self.log_dir}"
            try:
                return httpx.get(f"{process.url}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        for api in self.apis:
            wait_for(lambda api=api: healthy(api), timeout=timeout, interval=0.1)

    def by_name(self, name: str) -> Process:
        return next(p for p in self.processes if p.name == name)

    def leader(self, lock: str) -> str | None:
        """The application_name of the session holding ``lock`` (None: nobody holds it)."""
        key = LEADER_LOCKS[lock]
        if self._watch is None or self._watch.closed:
            self._watch = psycopg.connect(self.database_url, autocommit=True)
        row = self._watch.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a"
            " ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
            " AND l.database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
            " AND l.classid::bigint = %s AND l.objid::bigint = %s AND l.objsubid = 1",
            (key >> 32, key & 0xFFFFFFFF),
        ).fetchone()
        return str(row[0]) if row else None

    def kill_leaders(self, lock: str, timeout: float = 30) -> dict[str, float]:
        """kill -9 the process leading ``lock``: for each lock it held, the seconds from
        the kill to a standby holding it. The killed process is then started again."""
        wait_for(lambda: self.leader(lock) is not None, timeout=timeout, interval=0.05)
        killed = self.leader(lock)
        assert killed is not None
        held = [name for name in LEADER_LOCKS if self.leader(name) == killed]
        gone = time.monotonic()  # from the signal (the reaping is part of the outage)
        self.by_name(killed).kill()
        took: dict[str, float] = {}
        while len(took) < len(held):
            assert time.monotonic() - gone < timeout, f"no standby took {held} within {timeout}s"
            for name in held:
                if name not in took and self.leader(name) not in (None, killed):
                    took[name] = time.monotonic() - gone
            time.sleep(0.02)
        self.restart(killed)
        return took

    def stop(self) -> None:
        if self._watch is not None:
            self._watch.close()
        for process in self.processes:
            if process.alive:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def deployment_env(database_url: str, servers: str, **extra: str) -> dict[str, str]:
    """What every process of the deployment is given (docker-compose.yml's x-service-env)."""
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "JWT_SECRET": JWT_SECRET,
        "CIPHER_KEY": AESCipher.create_key(32),
        "REGISTRATION_ID_KEY": "replicas-test-registration-id-key-0123456789",
        "SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SMS_PROVIDER": "sandbox",
        "LOG_FORMAT": "console",
        "LOG_LEVEL": "warning",
        # Small pools: a dozen processes share the server's connections (100 by default).
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "0",
        **extra,
    }


@contextmanager
def deployment(
    database_url: str,
    servers: str,
    log_dir: Path,
    *,
    apis: int,
    worker_sets: int,
    roles: tuple[tuple[str, ...], ...],
    **extra: str,
) -> Iterator[Deployment]:
    """``apis`` API processes and ``worker_sets`` processes of each role (its ``worker``
    arguments: ``("relay",)``, ``("projections", "channels_table")``), started after
    ``sms-channels migrate``; every process is stopped on exit."""
    running = Deployment(
        database_url, servers, log_dir, deployment_env(database_url, servers, **extra)
    )
    migrate = subprocess.run(
        [CLI, "migrate"], env={**os.environ, **running.env}, capture_output=True, check=False
    )
    assert migrate.returncode == 0, migrate.stderr.decode()
    try:
        for n in range(1, worker_sets + 1):
            for role in roles:
                running.start(f"{role[0]}-{n}", "worker", *role)
        for n in range(1, apis + 1):
            running.serve(f"api-{n}")
        running.wait_until_serving()
        yield running
    finally:
        running.stop()
