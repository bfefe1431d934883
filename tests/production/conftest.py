"""The production profile for real: a private PostgreSQL and Redis, two Rasa instances behind nginx,
the action server. Started once for the tests that ask for it (about a minute)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from bot.core.settings import PROJECT_ROOT
from bot.ops.cli.database import DEMO_FILE
from bot.ops.cli.model import ensure_model
from bot.ops.cli.stack import run_environment
from bot.ops.deploy import profile as prod
from bot.ops.deploy.services import free_port, missing_binaries
from tests.conftest import UNLIMITED_RATES

PROFILE_SECRET_KEY = "production-test-key"


@pytest.fixture(scope="session")
def production(tmp_path_factory):
    missing = missing_binaries()
    if missing:
        message = f"PostgreSQL, Redis or nginx missing: {', '.join(missing)} (bash scripts/debian-services.sh)"
        if os.environ.get("AIGUILLAGE_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    workdir = tmp_path_factory.mktemp("production")
    settings = prod.ProfileSettings(instances=2, public_port=free_port(), rasa_base_port=free_port(),
                                    action_port=free_port(), workdir=workdir)
    # Consecutive ports for the instances: find a free pair.
    while True:
        base = free_port()
        try:
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", base + 1))
            break
        except OSError:
            continue
    settings.rasa_base_port = base
    # Not under pytest's temporary root: each new pytest run makes it 0700 again, which would lock
    # the `postgres` user out of its own files in the middle of a run.
    pg_dir = Path(tempfile.mkdtemp(prefix="aiguillage-pg-"))
    services = prod.start_local_services(settings, pg_port=free_port(), redis_port=free_port(), durable=False,
                                         postgres_dir=pg_dir)
    # Hundreds of test people share 127.0.0.1: rate limits off here (tests/connectors/test_rate_limits.py).
    base_env = dict(run_environment(), **UNLIMITED_RATES, AIGUILLAGE_SECRET_KEY=PROFILE_SECRET_KEY,
                    PYTHONPATH=str(PROJECT_ROOT))
    # The profile's processes get their settings from base_env only: this process's environment
    # (the SQLite stack's database and key, used by other tests) must stay as it is.
    running = None
    try:
        from bot.core.db import make_engine, session_factory, upgrade
        from bot.directory.importing.importer import import_places

        engine = make_engine(settings.database_url)
        upgrade(engine)
        report = import_places(session_factory(engine), DEMO_FILE, demo=True)
        assert not report.errors, report.errors
        model = ensure_model(quiet=True)
        running = prod.start_profile(settings, model, PROJECT_ROOT, base_env, services=services,
                                     with_worker=False)
        yield {"profile": running, "engine": engine, "model": model, "postgres": services[0], "redis": services[1]}
    finally:
        if running is not None:
            running.stop()
        else:
            for service in reversed(services):
                service.stop()
        shutil.rmtree(pg_dir, ignore_errors=True)
