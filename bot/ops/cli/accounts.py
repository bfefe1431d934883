"""`compte creer` and `compte desactiver`: the mediators' console accounts."""

from __future__ import annotations

import getpass
import sys
from typing import Optional

from bot.console import accounts
from bot.core.db import make_engine, session_factory, session_scope, upgrade
from bot.core.settings import get_settings
from bot.ops import cli_messages

# AccountError codes (bot.console.accounts) -> cli_messages keys.
ACCOUNT_ERRORS = {
    "email_invalide": "account_email_invalid",
    "mot_de_passe_court": "account_password_short",
    "mot_de_passe_long": "account_password_long",
    "role_invalide": "account_role_invalid",
    "lieu_obligatoire": "account_place_required",
    "lieu_inconnu": "account_place_unknown",
    "email_existant": "account_email_taken",
}


def _account_error(code: str) -> str:
    """The French text for an account error code; an unknown code is shown as is."""
    key = ACCOUNT_ERRORS.get(code)
    return cli_messages.text(key) if key else code


def _read_new_password() -> Optional[str]:
    """From stdin when piped (one line), else typed twice; never from the command line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(cli_messages.text("password_prompt"))
    if getpass.getpass(cli_messages.text("password_confirm_prompt")) != first:
        print(cli_messages.text("passwords_differ"), file=sys.stderr)
        return None
    return first


def cmd_account(args) -> int:
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    factory = session_factory(engine)
    if args.action == "desactiver":
        with session_scope(factory) as session:
            if not accounts.deactivate_account(session, args.email):
                print(cli_messages.text("account_not_found"), file=sys.stderr)
                return 1
        print(cli_messages.text("account_deactivated"))
        return 0
    if not args.coordinateur and not args.lieu:
        print(cli_messages.text("account_place_required"), file=sys.stderr)
        return 2
    password = _read_new_password()
    if password is None:
        return 2
    role = accounts.ROLE_COORDINATOR if args.coordinateur else accounts.ROLE_MEDIATOR
    try:
        with session_scope(factory) as session:
            account = accounts.create_account(session, args.email, password, args.lieu, role)
            scope = (cli_messages.text("role_coordinator") if account.is_coordinator
                     else cli_messages.text("role_mediator", place_id=account.place_id))
            summary = cli_messages.text("account_created", id=account.id, email=account.email, role=scope)
    except accounts.AccountError as exc:
        print(_account_error(exc.code), file=sys.stderr)
        return 2
    print(summary)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("compte", help="comptes de la console des médiateurs")
    actions = p.add_subparsers(dest="action", required=True)
    c = actions.add_parser("creer", help="créer un compte (mot de passe lu sur l'entrée standard ou demandé)")
    c.add_argument("--email", required=True)
    c.add_argument("--lieu", help="identifiant du lieu (obligatoire pour un médiateur)")
    c.add_argument("--coordinateur", action="store_true", help="coordinateur du territoire : voit tous les lieux")
    c.set_defaults(func=cmd_account)
    d = actions.add_parser("desactiver", help="désactiver un compte et fermer ses sessions")
    d.add_argument("--email", required=True)
    d.set_defaults(func=cmd_account)
