"""`aiguillage compte`: create and deactivate console accounts, password never on the command line."""

from __future__ import annotations

import io

import pytest

from bot.console import accounts
from bot.core.db import session_scope
from bot.ops import cli
from tests.console_support import build_db


@pytest.fixture()
def db(tmp_path, monkeypatch):
    data = build_db(tmp_path, monkeypatch)
    monkeypatch.setenv("AIGUILLAGE_DATABASE_URL", f"sqlite:///{tmp_path / 'console.db'}")
    return data


def run(monkeypatch, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli.main(argv)


def test_create_a_mediator_then_log_in_then_deactivate(db, monkeypatch, capsys):
    assert run(monkeypatch, ["compte", "creer", "--email", "Nouvelle@Example.org", "--lieu", "lieu-c"],
               "un mot de passe assez long\n") == 0
    assert "médiateur du lieu lieu-c" in capsys.readouterr().out
    with session_scope(db["factory"]) as session:
        assert accounts.login(session, "nouvelle@example.org", "un mot de passe assez long").status == "ok"
    assert run(monkeypatch, ["compte", "desactiver", "--email", "nouvelle@example.org"]) == 0
    with session_scope(db["factory"]) as session:
        assert accounts.login(session, "nouvelle@example.org", "un mot de passe assez long").status \
            == accounts.LOGIN_BAD


def test_coordinator_needs_no_place_and_errors_are_french(db, monkeypatch, capsys):
    assert run(monkeypatch, ["compte", "creer", "--email", "terr@example.org", "--coordinateur"],
               "un mot de passe assez long\n") == 0
    assert "coordinateur" in capsys.readouterr().out
    assert run(monkeypatch, ["compte", "creer", "--email", "x@example.org", "--lieu", "lieu-a"], "court\n") == 2
    assert "trop court" in capsys.readouterr().err
    assert run(monkeypatch, ["compte", "creer", "--email", "x@example.org"], "un mot de passe assez long\n") == 2
    assert "--lieu" in capsys.readouterr().err
    assert run(monkeypatch, ["compte", "creer", "--email", "y@example.org", "--lieu", "nulle-part"],
               "un mot de passe assez long\n") == 2
    assert "Lieu inconnu" in capsys.readouterr().err
    assert run(monkeypatch, ["compte", "desactiver", "--email", "personne@example.org"]) == 1


def test_password_cannot_be_given_as_an_argument(db, monkeypatch):
    with pytest.raises(SystemExit):
        run(monkeypatch, ["compte", "creer", "--email", "z@example.org", "--lieu", "lieu-a",
                          "--password", "un mot de passe assez long"])
