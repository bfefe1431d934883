"""`notify`, `worker`, `notify-config`, `notify-status`: places' notifications and follow-ups."""

from __future__ import annotations

import asyncio
import sys
from zoneinfo import ZoneInfo

from bot.core.db import session_scope
from bot.core.settings import get_settings
from bot.directory.models import Place
from bot.handoff.notifications.config import ChannelConfigError, place_channels, set_place_channels
from bot.handoff.notifications.outbox import Dispatcher, delivery_status, retry_failed, status_counts, undelivered
from bot.ops import cli_messages
from bot.ops.cli.database import open_database
from bot.ops.worker import Worker


def _when(moment) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(ZoneInfo(get_settings().timezone)).strftime("%d/%m/%Y %H:%M:%S")


def _print_delivery(row: dict) -> None:
    line = cli_messages.text("delivery_line", reference=row["reference"], kind=row["kind"], target=row["target"],
                             status=row["status"], attempts=row["attempts"])
    if row["sent_at"]:
        line += cli_messages.text("delivery_sent", when=_when(row["sent_at"]))
    if row["next_attempt_at"]:
        line += cli_messages.text("delivery_next_attempt", when=_when(row["next_attempt_at"]))
    if row["last_error"]:
        line += cli_messages.text("delivery_error", error=row["last_error"])
    print(line)


def cmd_notify(args) -> int:
    """Deliver due notifications: one pass with --once, else poll until Ctrl+C."""
    factory = open_database()
    if args.retry:
        with session_scope(factory) as session:
            count = retry_failed(session, None if args.retry == "*" else args.retry)
        print(cli_messages.text("notifications_requeued", count=count))
    dispatcher = Dispatcher(factory)
    if args.once:
        report = asyncio.run(dispatcher.run_once())
        print(cli_messages.text("notify_report", sent=report.sent, retried=report.retried, failed=report.failed))
        return 0 if report.failed == 0 else 1
    print(cli_messages.text("notify_polling", interval=args.interval), file=sys.stderr)
    try:
        asyncio.run(dispatcher.run_forever(interval=args.interval))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_worker(args) -> int:
    """Notifications to places and follow-up messages to people: one pass with --once, else a loop."""
    worker = Worker(open_database())
    missing = [channel for channel in ("sms", "telegram") if channel not in worker.senders]
    if missing:
        print(cli_messages.text("followup_channels_missing", channels=", ".join(missing)), file=sys.stderr)
    if args.once:
        report = asyncio.run(worker.run_once())
        n, f = report.notifications, report.followups
        print(cli_messages.text("worker_notifications_report", sent=n.sent, retried=n.retried, failed=n.failed))
        print(cli_messages.text("worker_followups_report", sent=f.sent, retried=f.retried, failed=f.failed,
                                cancelled=f.cancelled))
        return 0 if n.failed == 0 and f.failed == 0 else 1
    print(cli_messages.text("worker_polling", interval=args.interval), file=sys.stderr)
    try:
        asyncio.run(worker.run_forever(interval=args.interval))
    except KeyboardInterrupt:
        pass
    return 0


def cmd_notify_config(args) -> int:
    factory = open_database()
    webhooks = args.webhook or []
    secrets_ = args.webhook_secret or []
    if webhooks and len(secrets_) not in (1, len(webhooks)):
        print(cli_messages.text("webhook_secrets_mismatch"), file=sys.stderr)
        return 2
    pairs = [(url, secrets_[0] if len(secrets_) == 1 else secrets_[i]) for i, url in enumerate(webhooks)]
    change = args.clear or args.email or args.telegram_chat or webhooks
    with session_scope(factory) as session:
        if session.get(Place, args.place_id) is None:
            print(cli_messages.text("unknown_place", place_id=args.place_id), file=sys.stderr)
            return 2
        if change:
            try:
                set_place_channels(session, args.place_id, emails=args.email or [],
                                   telegram_chats=args.telegram_chat or [], webhooks=pairs)
            except ChannelConfigError as exc:
                print(cli_messages.text("channel_refused", code=exc.code, value=exc.value), file=sys.stderr)
                return 2
        channels = place_channels(session, args.place_id, active_only=False)
        if not channels:
            print(cli_messages.text("no_channel"))
        for channel in channels:
            signed = cli_messages.text("channel_signed") if channel.secret else ""
            print(cli_messages.text("channel_line", kind=channel.kind, target=channel.target) + signed)
    return 0


def cmd_notify_status(args) -> int:
    factory = open_database()
    with session_scope(factory) as session:
        if args.reference:
            rows = delivery_status(session, args.reference)
            if not rows:
                print(cli_messages.text("no_notification", reference=args.reference))
                return 1
        else:
            counts = status_counts(session)
            print("  ".join(cli_messages.text("status_count", status=status, count=n) for status, n in counts.items()))
            rows = undelivered(session)
    for row in rows:
        _print_delivery(row)
    return 0


def add_parsers(sub) -> None:
    p = sub.add_parser("notify", help="envoyer aux lieux les notifications d'orientation en attente")
    p.add_argument("--once", action="store_true", help="un seul passage puis quitter")
    p.add_argument("--interval", type=float, default=30.0, help="secondes entre deux passages (max 300)")
    p.add_argument("--retry", nargs="?", const="*", metavar="REFERENCE",
                   help="remettre en file les notifications en échec (toutes, ou d'une référence)")
    p.set_defaults(func=cmd_notify, starts=True)

    p = sub.add_parser("worker", help="envoyer les notifications aux lieux et les messages de suivi aux personnes")
    p.add_argument("--once", action="store_true", help="un seul passage puis quitter")
    p.add_argument("--interval", type=float, default=30.0, help="secondes entre deux passages (max 300)")
    p.set_defaults(func=cmd_worker, starts=True)

    p = sub.add_parser("notify-config", help="canaux de notification d'un lieu (remplace les canaux existants)")
    p.add_argument("place_id")
    p.add_argument("--email", action="append", help="adresse courriel (répétable)")
    p.add_argument("--telegram-chat", action="append", help="identifiant de discussion Telegram (répétable)")
    p.add_argument("--webhook", action="append", help="URL https à appeler (répétable)")
    p.add_argument("--webhook-secret", action="append", help="secret de signature HMAC du webhook")
    p.add_argument("--clear", action="store_true", help="retirer tous les canaux")
    p.set_defaults(func=cmd_notify_config)

    p = sub.add_parser("notify-status", help="état d'envoi des notifications (d'une référence, ou en attente)")
    p.add_argument("reference", nargs="?")
    p.set_defaults(func=cmd_notify_status)
