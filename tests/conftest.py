"""Shared fixtures and markers. The real stack (trained model, Rasa server, action server, SQLite, demo places)
starts once per session, only for the tests that ask for it."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sanic import Sanic
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.core.db import make_engine, session_factory, upgrade
from bot.core.settings import PROJECT_ROOT
from bot.ops.cli.database import DEMO_FILE
from bot.ops.cli.model import ensure_model
from bot.ops.cli.stack import run_environment, start_stack, wait_until_ready
from bot.ops.deploy.services import free_port
from connectors import admission
from connectors.admission import process_limits
from tests.markers import imports_adapters

TELEGRAM_TOKEN = "4242:STACK"
TELEGRAM_SECRET = "stack-telegram-secret"
SMS_SECRET = "stack-sms-secret"
VOICE_TOKEN = "stack-voice-token"
UNLIMITED_RATES = {"AIGUILLAGE_RATE_PER_SENDER": "1000000", "AIGUILLAGE_RATE_PER_ADDRESS": "1000000"}


# What a test needs, read from the fixtures it asks for.
NEEDS = {"stack": "stack", "trained_model": "stack", "production": "production", "browser": "browser"}
NOT_UNIT = ("stack", "production", "browser", "integration", "property")


def pytest_configure(config):
    # Sanic 21.12 refuses a second app in one process outside test mode; channel tests start several.
    Sanic.test_mode = True


def pytest_ignore_collect(collection_path, config):
    # `pytest -m unit` never imports a module whose tests are all integration tests: that import
    # alone would load Rasa.
    if config.getoption("markexpr", "").strip() != "unit":
        return None
    if collection_path.suffix == ".py" and collection_path.name.startswith("test_"):
        return True if imports_adapters(collection_path) else None
    return None


def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, marker in NEEDS.items():
            if fixture in item.fixturenames and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
        if imports_adapters(Path(item.path)):
            item.add_marker("integration")
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker("property")
        if not any(item.get_closest_marker(marker) for marker in NOT_UNIT):
            item.add_marker("unit")


@pytest.fixture(scope="session")
def trained_model():
    """The trained model (trained first if its inputs changed, a few minutes)."""
    return ensure_model(quiet=True)


@dataclass
class Database:
    """A fresh SQLite file migrated to the current schema."""

    path: Path
    url: str
    engine: Engine
    factory: sessionmaker


@pytest.fixture()
def database(tmp_path):
    """The tests' database: a new SQLite file in tmp_path, every table created by the migrations."""
    path = tmp_path / "aiguillage.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    yield Database(path=path, url=url, engine=engine, factory=session_factory(engine))
    engine.dispose()


@pytest.fixture()
def factory(database):
    """The session factory of `database`, for the tests that need nothing else."""
    return database.factory


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Each test starts with full buckets (they live in the process, as they do in a server)."""
    process_limits.cache_clear()
    yield
    process_limits.cache_clear()


@pytest.fixture()
def stopped_rate_clock(monkeypatch):
    """The buckets never refill during the test: what passes is exactly the burst, however long the
    requests take on a loaded machine (refilling is tested with its own clock in test_rate_limits.py)."""
    monkeypatch.setattr(admission, "limits_clock", lambda: 1000.0)
    process_limits.cache_clear()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """Start the whole assistant once for the session; yields its base URL and database URL."""
    workdir = tmp_path_factory.mktemp("stack")
    database_url = f"sqlite:///{workdir / 'aiguillage.db'}"
    # Every test person writes from 127.0.0.1, and some send hundreds of turns: the rate limits
    # (tested in tests/connectors/test_rate_limits.py) would answer them instead of Rasa.
    env = dict(os.environ, AIGUILLAGE_DATABASE_URL=database_url, AIGUILLAGE_SECRET_KEY="stack-test-key",
               PYTHONPATH=str(PROJECT_ROOT), **UNLIMITED_RATES)
    os.environ.update({"AIGUILLAGE_DATABASE_URL": database_url, "AIGUILLAGE_SECRET_KEY": "stack-test-key"})
    from bot.directory.importing.importer import import_places

    engine = make_engine(database_url)
    upgrade(engine)
    report = import_places(session_factory(engine), DEMO_FILE, demo=True)
    assert not report.errors, report.errors
    model = ensure_model(quiet=True)
    rasa_port, action_port = free_port(), free_port()
    # The channels talk to fake Telegram and SMS servers on loopback, as they would to the real ones.
    from tests.fakes.sms_gateway import FakeGateway
    from tests.fakes.telegram_api import FakeTelegramAPI

    telegram_api = FakeTelegramAPI(token=TELEGRAM_TOKEN).start()
    sms_gateway = FakeGateway().__enter__()
    env.update({
        "AIGUILLAGE_TELEGRAM_TOKEN": TELEGRAM_TOKEN, "AIGUILLAGE_TELEGRAM_SECRET": TELEGRAM_SECRET,
        "AIGUILLAGE_TELEGRAM_API_URL": telegram_api.url,
        "AIGUILLAGE_SMS_PROVIDER": "json", "AIGUILLAGE_SMS_SEND_URL": f"{sms_gateway.url}/send",
        "AIGUILLAGE_SMS_SHARED_SECRET": SMS_SECRET, "AIGUILLAGE_SMS_FROM": "+33900000000",
        "AIGUILLAGE_SMS_PUBLIC_URL": f"http://127.0.0.1:{rasa_port}/webhooks/sms/webhook",
        # The voice menu: signed with the Twilio token, its SMS recap through the fake gateway above.
        "AIGUILLAGE_SMS_AUTH_TOKEN": VOICE_TOKEN,
        "AIGUILLAGE_VOICE_PUBLIC_URL": f"http://127.0.0.1:{rasa_port}/webhooks/voice/webhook",
    })
    env = dict(run_environment(), **env)
    processes = start_stack(model, rasa_port=rasa_port, action_port=action_port, env=env, log_dir=workdir)
    base = f"http://127.0.0.1:{rasa_port}"
    try:
        ready = wait_until_ready(f"{base}/webhooks/desk/", processes, timeout=240)
        if not ready:
            logs = "\n".join((workdir / name).read_text(errors="replace")[-3000:]
                             for name in ("rasa.log", "actions.log") if (workdir / name).exists())
            pytest.fail(f"the stack did not start:\n{logs}")
        yield {"base": base, "database_url": database_url, "engine": engine, "workdir": workdir,
               "telegram_api": telegram_api, "sms_gateway": sms_gateway}
    finally:
        telegram_api.stop()
        sms_gateway.__exit__(None, None, None)
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except Exception:
                process.kill()


class Conversation:
    """One person talking to the desk webhook."""

    def __init__(self, base: str, sender: str | None = None):
        self.url = f"{base}/webhooks/desk/webhook"
        self.sender = sender or f"test-{uuid.uuid4().hex[:10]}"
        self.client = httpx.Client(timeout=60)

    @property
    def conversation_id(self) -> str:
        """The id Rasa and our tables know this conversation by (the desk's namespace)."""
        from connectors.desk import conversation_id

        return conversation_id(self.sender)

    def say(self, text: str) -> list[dict]:
        reply = self.client.post(self.url, json={"sender": self.sender, "message": text})
        reply.raise_for_status()
        return reply.json()

    @staticmethod
    def texts(replies: list[dict]) -> str:
        return "\n".join(r.get("text", "") for r in replies if r.get("text"))

    @staticmethod
    def card(replies: list[dict]) -> dict | None:
        cards = [r["custom"] for r in replies if isinstance(r.get("custom"), dict)
                 and r["custom"].get("type") == "resultat"]
        return cards[-1] if cards else None


@pytest.fixture()
def conversation(stack):
    return Conversation(stack["base"])
