"""Running the assistant: `run` (one machine, SQLite) and `production` (PostgreSQL, Redis, nginx)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import httpx

from bot.core import settings as registry
from bot.core.db import private_dir
from bot.core.settings import PROJECT_ROOT, get_settings
from bot.directory.stats import place_count
from bot.ops import cli_messages
from bot.ops.cli.database import cmd_load_demo, open_database
from bot.ops.cli.model import ensure_model
from bot.ops.deploy import profile as prod
from bot.ops.deploy.services import ServiceError, missing_binaries, rasa_server_environment


def run_environment() -> dict:
    settings = get_settings()
    env = dict(os.environ)
    env.setdefault("AIGUILLAGE_DATABASE_URL", settings.database_url)
    env.setdefault("AIGUILLAGE_ACTION_URL", "http://127.0.0.1:5055/webhook")
    env.setdefault("SQL_POOL_SIZE", "5")
    env.setdefault("SQL_MAX_OVERFLOW", "5")
    env.setdefault("PYTHONPATH", str(PROJECT_ROOT))
    # No telemetry or error reports leave the machine.
    env["RASA_TELEMETRY_ENABLED"] = "false"
    # Rasa reuses its connections to the action server for 15 s (aiohttp); Sanic closed them after
    # 5 s, so a turn sometimes wrote to a closing socket and failed. Servers now wait longer.
    env.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", "75")
    return env


def _private_log_dir(log_dir: Optional[Path]) -> Path:
    """var/log by default; logs may quote what people wrote: owner-only, like var/ itself."""
    if log_dir is None:
        private_dir(PROJECT_ROOT / "var")
        log_dir = PROJECT_ROOT / "var" / "log"
    return private_dir(log_dir)


def start_stack(model: Path, rasa_port: int = 5005, action_port: int = 5055, env: Optional[dict] = None,
                log_dir: Optional[Path] = None) -> list[subprocess.Popen]:
    """Start the action server and the Rasa server (with the desk page); returns the processes."""
    env = dict(env or run_environment())
    env["AIGUILLAGE_ACTION_URL"] = f"http://127.0.0.1:{action_port}/webhook"
    log_dir = _private_log_dir(log_dir)
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "bot.actions.triage_actions", "--port", str(action_port)],
        cwd=PROJECT_ROOT, env=env, stdout=open(log_dir / "actions.log", "ab"), stderr=subprocess.STDOUT)
    rasa = subprocess.Popen(
        [sys.executable, "-m", "rasa", "run", "--model", str(model), "--port", str(rasa_port),
         "--credentials", "credentials.yml", "--endpoints", "endpoints.yml", "--interface", "127.0.0.1"],
        cwd=PROJECT_ROOT, env=rasa_server_environment(env), stdout=open(log_dir / "rasa.log", "ab"),
        stderr=subprocess.STDOUT)
    return [actions, rasa]


def start_worker(env: Optional[dict] = None, log_dir: Optional[Path] = None,
                 interval: float = 10.0) -> subprocess.Popen:
    """The notification and follow-up worker (`aiguillage worker`), as a child process."""
    log_dir = _private_log_dir(log_dir)
    return subprocess.Popen([sys.executable, "-m", "bot.ops.cli", "worker", "--interval", str(interval)],
                            cwd=PROJECT_ROOT, env=dict(env or run_environment()),
                            stdout=open(log_dir / "worker.log", "ab"), stderr=subprocess.STDOUT)


def wait_until_ready(url: str, processes: list, timeout: float = 180.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(1)
    return False


def cmd_run(args) -> int:
    factory = open_database()

    if place_count(factory) == 0:
        print(cli_messages.text("loading_demo_directory"), file=sys.stderr)
        cmd_load_demo(args)
    model = ensure_model()
    port = args.port or registry.value("AIGUILLAGE_PORT")
    action_port = args.action_port or registry.value("AIGUILLAGE_ACTION_PORT")
    processes = start_stack(model, rasa_port=port, action_port=action_port)
    processes.append(start_worker())
    desk = f"http://127.0.0.1:{port}/webhooks/desk/"
    if not wait_until_ready(desk, processes):
        print(cli_messages.text("startup_failed"), file=sys.stderr)
        for process in processes:
            process.terminate()
        return 1
    print(cli_messages.text("ready", desk=desk), flush=True)

    def stop(*_):
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for process in processes:
            process.wait(timeout=30)
    return 0


# --- production profile --------------------------------------------------------------------------------

def cmd_production(args) -> int:
    """PostgreSQL + Redis + N Rasa instances behind nginx + action server + worker, until Ctrl+C."""
    def stop(*_):
        raise KeyboardInterrupt

    # From the start: a SIGTERM during start-up must still stop the databases we started.
    signal.signal(signal.SIGTERM, stop)
    services = []
    running = None
    try:
        settings = prod.ProfileSettings.from_env(root=PROJECT_ROOT)
        if args.instances:
            settings.instances = args.instances
        if args.local_services:
            missing = missing_binaries()
            if missing:
                print(cli_messages.text("missing_debian_packages", packages=", ".join(missing),
                                        install=" ".join(missing)), file=sys.stderr)
                return 2
            services = prod.start_local_services(settings, args.pg_port, args.redis_port)
            print(cli_messages.text("local_services", database=settings.database_url.split("@")[-1],
                                    redis=settings.redis_url), file=sys.stderr)
        settings.check()
        os.environ["AIGUILLAGE_DATABASE_URL"] = settings.database_url
        factory = open_database()
        if place_count(factory) == 0:
            print(cli_messages.text("loading_demo_directory"), file=sys.stderr)
            cmd_load_demo(args)
        model = ensure_model()
        running = prod.start_profile(settings, model, PROJECT_ROOT, run_environment(), services=services)
        print(cli_messages.text("production_ready", url=running.public_url, instances=settings.instances,
                                budget=settings.connection_budget()), flush=True)
        while all(p.poll() is None for p in running.processes.values()):
            time.sleep(1)
        print(cli_messages.text("process_stopped"), file=sys.stderr)
        return 1
    except ServiceError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        if running is not None:
            running.stop()  # stops the local services too
        else:
            for service in reversed(services):
                service.stop()


def add_parsers(sub) -> None:
    p = sub.add_parser("run", help="lancer Rasa, le serveur d'actions et la page d'accueil")
    # Defaults read after check(): a bad AIGUILLAGE_PORT gets its French message, not a traceback.
    p.add_argument("--port", type=int, help="défaut : AIGUILLAGE_PORT ou 5005")
    p.add_argument("--action-port", type=int, help="défaut : AIGUILLAGE_ACTION_PORT ou 5055")
    p.set_defaults(func=cmd_run, starts=True)

    p = sub.add_parser("production", help="profil production : PostgreSQL, Redis, plusieurs instances Rasa "
                                          "derrière nginx, serveur d'actions et worker")
    p.add_argument("--instances", type=int, help="nombre d'instances Rasa (défaut : AIGUILLAGE_RASA_INSTANCES ou 2)")
    p.add_argument("--services-locales", dest="local_services", action="store_true",
                   help="démarrer un PostgreSQL et un Redis privés dans var/production (une seule machine)")
    p.add_argument("--pg-port", type=int, default=5433, help="port du PostgreSQL local (défaut 5433)")
    p.add_argument("--redis-port", type=int, default=6380, help="port du Redis local (défaut 6380)")
    p.set_defaults(func=cmd_production, starts=True)
