"""The `aiguillage` command line: one parser, each command group adding its own subcommands."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

from bot.core import settings as registry
from bot.ops import cli_messages
from bot.ops.cli import accounts, database, model, notifications, stack, telegram, understanding


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiguillage", description="Aiguillage : orientation numérique.")
    sub = parser.add_subparsers(dest="command", required=True)
    # In the order of `aiguillage --help`, as before the split.
    for group in (understanding, database, model, stack, telegram):
        group.add_parsers(sub)
    p = sub.add_parser("reglages", help="vérifier les variables d'environnement (toutes, d'un coup)")
    p.add_argument("--markdown", action="store_true", help="imprimer la table de docs/settings.md")
    p.set_defaults(func=cmd_settings)
    notifications.add_parsers(sub)
    accounts.add_parsers(sub)
    return parser


def cmd_settings(args) -> int:
    if args.markdown:
        print(registry.markdown(), end="")
        return 0
    registry.check()
    print(cli_messages.text("settings_ok", count=len(registry.VARIABLES)))
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    os.environ["RASA_TELEMETRY_ENABLED"] = "false"  # also for the rasa subprocesses (train, run)
    args = build_parser().parse_args(argv)
    try:
        # Commands that start long-running processes (starts=True): a bad setting stops them first.
        if getattr(args, "starts", False):
            registry.check()
        return args.func(args)
    except registry.SettingsError as error:
        print(error, file=sys.stderr)
        return 2
