"""The production profile: PostgreSQL, Redis, several Rasa instances behind nginx, the action server
and the worker, started by one command (`aiguillage production`).

Connection budget (PostgreSQL `max_connections`, 100 by default on Debian, 200 for the local
cluster): each Rasa instance opens at most SQL_POOL_SIZE + SQL_MAX_OVERFLOW connections for the
tracker store plus AIGUILLAGE_DB_POOL_SIZE + AIGUILLAGE_DB_MAX_OVERFLOW for our tables (the channels
share one pool per process); the action server and the worker one pool each. With the defaults
(5 + 5 each) and 2 instances: 2 x 20 + 10 + 10 = 60. `connection_budget()` computes it and the
launcher refuses a configuration that would exceed the server's limit.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import urlsplit

import httpx
from sqlalchemy import inspect

from bot.core.db import make_engine, upgrade
from bot.core.settings import SettingsError, project_path, value
from bot.ops.deploy.services import LocalPostgres, LocalRedis, Nginx, ServiceError, rasa_server_environment

ENDPOINTS = "endpoints.production.yml"


def _read(env: Optional[Mapping[str, str]], name: str):
    """Strict: the profile refuses to start on a bad value, with the registry's French message."""
    try:
        return value(name, env)
    except SettingsError as error:
        raise ServiceError(str(error)) from None


@dataclass
class ProfileSettings:
    database_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/1"
    instances: int = 2
    public_host: str = "127.0.0.1"
    public_port: int = 5005
    rasa_base_port: int = 5101
    action_port: int = 5055
    sql_pool_size: int = 5
    sql_max_overflow: int = 5
    db_pool_size: int = 5
    db_max_overflow: int = 5
    pg_max_connections: int = 100
    workdir: Path = field(default_factory=lambda: Path("var") / "production")

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None, root: Optional[Path] = None) -> "ProfileSettings":
        return cls(
            database_url=_read(env, "AIGUILLAGE_DATABASE_URL") or "",
            redis_url=_read(env, "AIGUILLAGE_REDIS_URL"),
            instances=_read(env, "AIGUILLAGE_RASA_INSTANCES"),
            public_host=_read(env, "AIGUILLAGE_PUBLIC_HOST"),
            public_port=_read(env, "AIGUILLAGE_PUBLIC_PORT"),
            rasa_base_port=_read(env, "AIGUILLAGE_RASA_BASE_PORT"),
            action_port=_read(env, "AIGUILLAGE_ACTION_PORT"),
            sql_pool_size=_read(env, "SQL_POOL_SIZE"),
            sql_max_overflow=_read(env, "SQL_MAX_OVERFLOW"),
            db_pool_size=_read(env, "AIGUILLAGE_DB_POOL_SIZE"),
            db_max_overflow=_read(env, "AIGUILLAGE_DB_MAX_OVERFLOW"),
            pg_max_connections=_read(env, "AIGUILLAGE_PG_MAX_CONNECTIONS"),
            workdir=project_path("AIGUILLAGE_PRODUCTION_DIR", env, root or Path.cwd()),
        )

    def connection_budget(self) -> int:
        per_rasa = self.sql_pool_size + self.sql_max_overflow + self.db_pool_size + self.db_max_overflow
        per_other = self.db_pool_size + self.db_max_overflow
        return self.instances * per_rasa + 2 * per_other  # + action server and worker

    def rasa_ports(self) -> list[int]:
        return [self.rasa_base_port + i for i in range(self.instances)]

    def check(self) -> None:
        if not self.database_url.startswith("postgresql"):
            raise ServiceError("AIGUILLAGE_DATABASE_URL doit désigner une base PostgreSQL "
                               "(postgresql://utilisateur:motdepasse@hôte:5432/base).")
        parts = urlsplit(self.redis_url)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ServiceError("AIGUILLAGE_REDIS_URL doit ressembler à redis://hôte:6379/1.")
        budget = self.connection_budget()
        # Keep a margin for the operators' own sessions (psql, backups, purge).
        if budget > self.pg_max_connections - 10:
            raise ServiceError(f"Trop de connexions prévues ({budget}) pour PostgreSQL "
                               f"(max_connections = {self.pg_max_connections}) : réduisez SQL_POOL_SIZE, "
                               "AIGUILLAGE_DB_POOL_SIZE ou le nombre d'instances.")

    def environment(self, base: Mapping[str, str]) -> dict:
        """Variables for every process of the profile (endpoints.production.yml reads them)."""
        parts = urlsplit(self.redis_url)
        env = dict(base)
        env.update({
            "AIGUILLAGE_DATABASE_URL": self.database_url,
            "AIGUILLAGE_ACTION_URL": f"http://127.0.0.1:{self.action_port}/webhook",
            "AIGUILLAGE_REDIS_HOST": parts.hostname or "127.0.0.1",
            "AIGUILLAGE_REDIS_PORT": str(parts.port or 6379),
            "AIGUILLAGE_REDIS_DB": (parts.path or "/1").lstrip("/") or "1",
            "AIGUILLAGE_REDIS_PASSWORD": parts.password or "",
            "SQL_POOL_SIZE": str(self.sql_pool_size),
            "SQL_MAX_OVERFLOW": str(self.sql_max_overflow),
            "AIGUILLAGE_DB_POOL_SIZE": str(self.db_pool_size),
            "AIGUILLAGE_DB_MAX_OVERFLOW": str(self.db_max_overflow),
            "RASA_TELEMETRY_ENABLED": "false",
        })
        return env


@dataclass
class Profile:
    """The running processes; `stop()` ends them in reverse order."""

    settings: ProfileSettings
    processes: dict = field(default_factory=dict)  # name -> Popen
    services: list = field(default_factory=list)  # objects with stop()
    env: dict = field(default_factory=dict)

    @property
    def public_url(self) -> str:
        host = "127.0.0.1" if self.settings.public_host == "0.0.0.0" else self.settings.public_host
        return f"http://{host}:{self.settings.public_port}"

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.settings.rasa_ports()[index]}"

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            process = self.processes[name]
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for service in reversed(self.services):
            service.stop()

    def stop_rasa(self, index: int) -> None:
        self.stop_process(f"rasa-{index}")

    def start_actions(self, root: Path) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions.triage_actions", "--port",
             str(self.settings.action_port)],
            cwd=root, env=self.env, stdout=open(self.settings.workdir / "actions.log", "ab"), stderr=subprocess.STDOUT)
        self.processes["actions"] = process
        return process

    def stop_process(self, name: str) -> None:
        process = self.processes[name]
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)

    def start_rasa(self, index: int, model: Path, root: Path) -> subprocess.Popen:
        port = self.settings.rasa_ports()[index]
        process = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(port), "--credentials",
             "credentials.yml", "--endpoints", ENDPOINTS, "--interface", "127.0.0.1"],
            cwd=root, env=rasa_server_environment(self.env, behind_proxy=True),
            stdout=open(self.settings.workdir / f"rasa-{index}.log", "ab"),
            stderr=subprocess.STDOUT)
        self.processes[f"rasa-{index}"] = process
        return process


def start_local_services(settings: ProfileSettings, pg_port: int = 5433, redis_port: int = 6380,
                         durable: bool = True, postgres_dir: Optional[Path] = None) -> list:
    """A private PostgreSQL and Redis in the profile's directory (single machine, tests); the
    settings then point at them. `postgres_dir`: elsewhere than the profile's directory (the
    `postgres` user must be able to reach it)."""
    postgres = LocalPostgres(postgres_dir or settings.workdir / "postgres", pg_port, durable=durable,
                             max_connections=max(200, settings.connection_budget() + 20))
    postgres.start()
    services = [postgres]
    try:
        redis = LocalRedis(settings.workdir / "redis", redis_port).start()
    except BaseException:
        postgres.stop()
        raise
    services.append(redis)
    settings.database_url = postgres.url
    settings.pg_max_connections = postgres.max_connections
    settings.redis_url = f"redis://127.0.0.1:{redis.port}/1"
    return services


def _wait_for_table(url: str, table: str, process: subprocess.Popen, timeout: float = 120.0) -> None:


    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            if inspect(engine).has_table(table):
                return
            time.sleep(0.5)
    finally:
        engine.dispose()


def wait_ready(urls: list[str], processes: dict, timeout: float = 240.0) -> Optional[str]:
    """None when every URL answers, else the name of the process that died or 'délai dépassé'."""
    deadline = time.monotonic() + timeout
    pending = list(urls)
    while pending and time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                return name
        try:
            if httpx.get(pending[0], timeout=2).status_code < 500:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return None if not pending else "délai dépassé"


def start_profile(settings: ProfileSettings, model: Path, root: Path, base_env: Mapping[str, str],
                  services: Optional[list] = None, with_nginx: bool = True, with_worker: bool = True) -> Profile:
    """Bring the schema up to date, then start the action server, the Rasa instances, the worker and nginx."""

    settings.check()
    settings.workdir.mkdir(parents=True, exist_ok=True)
    profile = Profile(settings=settings, services=list(services or []), env=settings.environment(base_env))
    profile.env.setdefault("PYTHONPATH", str(root))
    engine = make_engine(settings.database_url)
    upgrade(engine)  # once here: the processes started below then find it done, without waiting for the lock
    engine.dispose()
    try:
        profile.start_actions(root)
        profile.start_rasa(0, model, root)
        # The first instance creates Rasa's tables; the others start once they exist (two
        # instances creating them at once fail and retry for nothing).
        _wait_for_table(settings.database_url, "events", profile.processes["rasa-0"])
        for index in range(1, settings.instances):
            profile.start_rasa(index, model, root)
        if with_worker:
            profile.processes["worker"] = subprocess.Popen(
                [sys.executable, "-m", "bot.ops.cli", "worker", "--interval", "10"], cwd=root, env=profile.env,
                stdout=open(settings.workdir / "worker.log", "ab"), stderr=subprocess.STDOUT)
        urls = [f"http://127.0.0.1:{port}/webhooks/desk/" for port in settings.rasa_ports()]
        failed = wait_ready(urls, profile.processes)
        if failed:
            raise ServiceError(f"Le démarrage a échoué ({failed}) : voir les journaux dans {settings.workdir}.")
        if with_nginx:
            nginx = Nginx(settings.workdir / "nginx", settings.public_host, settings.public_port,
                          settings.rasa_ports()).start()
            profile.services.append(nginx)
    except BaseException:
        profile.stop()
        raise
    return profile
