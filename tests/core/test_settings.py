"""The settings registry: every variable the code names is documented, every documented one is read,
docs/settings.md is up to date, and a bad value stops the launchers with a French message."""

import re

import pytest

from bot.core import settings
from bot.core.settings import PROJECT_ROOT, REGISTRY, VARIABLES, SettingsError
from bot.ops import cli
from bot.ops.cli import notifications, stack, telegram

SOURCES = ("bot", "connectors", "scripts", "bench")
# Our own variables, plus the other tools' ones we set or read (Rasa, Sanic, the test runner).
NAME = re.compile(r"\b(?:AIGUILLAGE_[A-Z0-9_]*[A-Z0-9]|SANIC_[A-Z_]+|SQL_POOL_SIZE|SQL_MAX_OVERFLOW"
                  r"|RASA_TELEMETRY_ENABLED|PYTHONPATH)\b")
# A family named in prose ("AIGUILLAGE_SMS_* variables"), not a variable.
PREFIXES = {"AIGUILLAGE_SMS"}


def _source_files():
    for folder in SOURCES:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".sh", ".yml", ".conf", ".md", ""):
                yield path
    yield from sorted(PROJECT_ROOT.glob("endpoints*.yml"))


def _names_in_code() -> dict:
    found: dict = {}
    settings_file = PROJECT_ROOT / "bot" / "settings.py"
    for path in _source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        if path == settings_file:  # the registry itself is no use of a variable
            text = text[:text.index("VARIABLES: tuple = (")] + text[text.index("REGISTRY = {"):]
        for name in NAME.findall(text):
            found.setdefault(name, path.relative_to(PROJECT_ROOT))
    return found


def test_every_variable_named_in_the_code_is_in_the_registry():
    undocumented = {name: str(path) for name, path in _names_in_code().items()
                    if name not in REGISTRY and name not in PREFIXES}
    assert undocumented == {}


def test_every_registered_variable_is_read_somewhere():
    unused = sorted(set(REGISTRY) - set(_names_in_code()))
    assert unused == []


# Reading a variable anywhere but bot/core/settings.py (writing one for a child process is fine).
DIRECT_READ = re.compile(r"os\.environ\.get\(|os\.getenv\(|\.get\(\"(?:AIGUILLAGE|SQL|SANIC)_")


def test_no_module_reads_the_environment_but_the_settings_module():
    readers = [f"{path.relative_to(PROJECT_ROOT)}:{number}"
               for path in _source_files() if path.suffix == ".py" and path != PROJECT_ROOT / "bot" / "settings.py"
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if DIRECT_READ.search(line)]
    assert readers == []


def test_every_entry_has_a_type_a_group_and_a_doc():
    assert len(REGISTRY) == len(VARIABLES)  # no name twice
    kinds = {"text", "int", "float", "bool", "url", "path", "choice", "secret"}
    for variable in VARIABLES:
        assert variable.kind in kinds and variable.group and variable.doc, variable.name
        if variable.default is not None:
            settings.value(variable.name, {})  # its default is itself valid


def test_docs_settings_md_is_what_the_generator_prints():
    written = (PROJECT_ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert written == settings.markdown(), "run: aiguillage reglages --markdown > docs/settings.md"


@pytest.mark.parametrize("name, raw, message", [
    ("AIGUILLAGE_RATE_PER_SENDER", "beaucoup",
     "AIGUILLAGE_RATE_PER_SENDER : « beaucoup » n'est pas un nombre entier."),
    ("AIGUILLAGE_TRACKER_WINDOW", "5", "AIGUILLAGE_TRACKER_WINDOW : 5 est trop petit (au moins 20)."),
    ("AIGUILLAGE_RADIUS_KM", "loin", "AIGUILLAGE_RADIUS_KM : « loin » n'est pas un nombre."),
    ("AIGUILLAGE_SMTP_STARTTLS", "peut-être", "AIGUILLAGE_SMTP_STARTTLS : « peut-être » n'est ni 1 (oui) ni 0 (non)."),
    ("AIGUILLAGE_SMS_PROVIDER", "orange",
     "AIGUILLAGE_SMS_PROVIDER : « orange » n'est pas une valeur permise (twilio, json)."),
    ("AIGUILLAGE_REDIS_URL", "localhost:6379",
     "AIGUILLAGE_REDIS_URL : « localhost:6379 » n'est pas une adresse valable (attendu : redis://…)."),
])
def test_a_bad_value_gets_its_french_message(name, raw, message):
    with pytest.raises(SettingsError) as error:
        settings.value(name, {name: raw})
    assert str(error.value) == message


def test_a_password_in_a_bad_url_is_not_printed():
    raw = "mysql://aiguillage:motdepasse@db.example.fr/aiguillage"
    with pytest.raises(SettingsError) as error:
        settings.value("AIGUILLAGE_DATABASE_URL", {"AIGUILLAGE_DATABASE_URL": raw})
    assert "motdepasse" not in str(error.value)
    assert "« mysql://…@db.example.fr/aiguillage »" in str(error.value)


def test_unset_or_blank_gives_the_typed_default():
    assert settings.value("AIGUILLAGE_RATE_PER_SENDER", {}) == 10
    assert settings.value("AIGUILLAGE_RADIUS_KM", {"AIGUILLAGE_RADIUS_KM": " "}) == 15.0
    assert settings.value("AIGUILLAGE_SMTP_STARTTLS", {"AIGUILLAGE_SMTP_STARTTLS": "0"}) is False
    assert settings.value("AIGUILLAGE_SMS_PROVIDER", {}) is None


def test_check_lists_every_bad_value_at_once():
    with pytest.raises(SettingsError) as error:
        settings.check({"AIGUILLAGE_RATE_PER_SENDER": "beaucoup", "AIGUILLAGE_PORT": "0",
                        "AIGUILLAGE_RATE_PER_ADDRESS": "300"})
    assert str(error.value) == ("Réglages invalides :\n"
                                "- AIGUILLAGE_PORT : 0 est trop petit (au moins 1).\n"
                                "- AIGUILLAGE_RATE_PER_SENDER : « beaucoup » n'est pas un nombre entier.")
    settings.check({"AIGUILLAGE_RATE_PER_ADDRESS": "300"})  # good values pass


@pytest.mark.parametrize("command", [["run"], ["production"], ["worker", "--once"], ["notify"],
                                     ["telegram-poll"]])
def test_a_launcher_refuses_a_bad_value_before_starting_anything(command, monkeypatch, capsys):
    def started(args):
        raise AssertionError("started despite a bad setting")

    for module, function in ((stack, "cmd_run"), (stack, "cmd_production"), (notifications, "cmd_worker"),
                             (notifications, "cmd_notify"), (telegram, "cmd_telegram")):
        monkeypatch.setattr(module, function, started)
    monkeypatch.setenv("AIGUILLAGE_RATE_PER_SENDER", "beaucoup")
    monkeypatch.setenv("AIGUILLAGE_PORT", "cinq")
    assert cli.main(command) == 2
    err = capsys.readouterr().err
    assert "AIGUILLAGE_RATE_PER_SENDER : « beaucoup » n'est pas un nombre entier." in err
    assert "AIGUILLAGE_PORT : « cinq » n'est pas un nombre entier." in err


def test_reglages_checks_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("AIGUILLAGE_SMS_PROVIDER", "orange")
    assert cli.main(["reglages"]) == 2
    assert "AIGUILLAGE_SMS_PROVIDER" in capsys.readouterr().err
    monkeypatch.delenv("AIGUILLAGE_SMS_PROVIDER")
    assert cli.main(["reglages"]) == 0
