"""`telegram-webhook` and `telegram-poll`: setting up the Telegram channel."""

from __future__ import annotations

import asyncio
import sys

from bot.channels.telegram.settings import TelegramSettings
from bot.channels.telegram.setup import TelegramSetupError, poll_updates, register_webhook
from bot.ops import cli_messages


def cmd_telegram(args) -> int:
    """telegram-webhook registers our webhook; telegram-poll forwards long-polled updates to it."""
    settings = TelegramSettings.from_env()
    try:
        if args.command == "telegram-webhook":
            info = asyncio.run(register_webhook(settings, args.url, drop_pending_updates=args.drop_pending))
            print(cli_messages.text("telegram_webhook_registered", username=info["username"], url=info["url"]))
            return 0
        print(cli_messages.text("telegram_polling", url=settings.forward_url), file=sys.stderr)
        try:
            report = asyncio.run(poll_updates(settings, max_iterations=args.max_iterations,
                                              drop_pending_updates=args.drop_pending))
        except KeyboardInterrupt:
            return 0
        print(cli_messages.text("telegram_forwarded", count=report.forwarded), file=sys.stderr)
        return 0
    except TelegramSetupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # network or Telegram refusal: a readable line, not a traceback
        print(cli_messages.text("telegram_call_failed", error=exc), file=sys.stderr)
        return 1


def add_parsers(sub) -> None:
    p = sub.add_parser("telegram-webhook", help="enregistrer le webhook Telegram (avec le secret)")
    p.add_argument("--url", required=True, help="https://.../webhooks/telegram/webhook")
    p.add_argument("--drop-pending", action="store_true", help="oublier les messages en attente")
    p.set_defaults(func=cmd_telegram)

    p = sub.add_parser("telegram-poll", help="test local sans URL publique : relève Telegram et transmet au serveur")
    p.add_argument("--max-iterations", type=int, default=None, help="arrêter après N relèves")
    p.add_argument("--drop-pending", action="store_true", help="oublier les messages en attente")
    p.set_defaults(func=cmd_telegram, starts=True)
