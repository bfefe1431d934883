"""The `aiguillage` command: classify, import places, train, run the whole assistant."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from bot.channels import telegram as tg
from bot.console import accounts
from bot.core import settings as registry
from bot.core.db import make_engine, private_dir, session_factory, session_scope, upgrade
from bot.core.settings import PROJECT_ROOT, get_settings
from bot.directory.importer import ImportFileError, import_places
from bot.directory.models import Place
from bot.directory.stats import place_count
from bot.handoff.notifications.config import ChannelConfigError, place_channels, set_place_channels
from bot.handoff.notifications.outbox import Dispatcher, delivery_status, retry_failed, status_counts, undelivered
from bot.handoff.services import Orientation
from bot.ops import cli_messages
from bot.ops.deploy import profile as prod
from bot.ops.deploy.services import ServiceError, missing_binaries, rasa_server_environment
from bot.ops.retention import RetentionError, purge
from bot.ops.worker import Worker
from bot.triage.classify import classify
from bot.triage.evaluation import GatesError, evaluate, evaluate_safety, failed_gates, load_cases, read_gates
from bot.triage.safety.classifier import ensure_model as ensure_safety_model

MODEL_INPUTS = ("config.yml", "domain", "data")
DEMO_FILE = PROJECT_ROOT / "bot" / "directory" / "data" / "demo-rennes.csv"


# --- model ---------------------------------------------------------------------------------------------

def inputs_hash(root: Path = PROJECT_ROOT, config: str = "config.yml") -> str:
    """Hash of everything training reads: the model is rebuilt only when this changes."""
    digest = hashlib.sha256()
    paths = [root / config] + [p for name in MODEL_INPUTS[1:] for p in sorted((root / name).rglob("*"))]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT, config: str = "config.yml") -> Path:
    return root / "models" / f"aiguillage-{inputs_hash(root, config)}.tar.gz"


def ensure_model(config: str = "config.yml", quiet: bool = False) -> Path:
    """The Rasa model for the current data, trained if needed; the safety classifier too (its own corpus
    and cache key, models/safety-<hash>.npz), so that no server trains it on its first message."""

    safety = ensure_safety_model()
    if not quiet:
        print(cli_messages.text("safety_model", name=safety.name), file=sys.stderr)
    target = model_path(config=config)
    if target.exists():
        if not quiet:
            print(cli_messages.text("model_up_to_date", name=target.name), file=sys.stderr)
        return target
    print(cli_messages.text("model_training", name=target.name), file=sys.stderr)
    command = [sys.executable, "-m", "rasa", "train", "--domain", "domain", "--config", config, "--data", "data",
               "--out", "models", "--fixed-model-name", target.name[: -len(".tar.gz")]]
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, stdout=sys.stderr)
    return target


# --- classify ------------------------------------------------------------------------------------------

def _services():
    return Orientation(factory=None)


def _parse_answers(pairs: list[str]) -> dict:
    answers = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(cli_messages.text("answer_format", pair=pair))
        answers[key.strip()] = value.strip()
    return answers


def cmd_classify(args) -> int:
    from bot.actions.trained_nlu import TrainedNLU  # loads Rasa: only the commands that need it pay

    if not args.message and not args.batch:
        print(cli_messages.text("classify_needs_input"), file=sys.stderr)
        return 2
    understanding = TrainedNLU(Path(args.model) if args.model else ensure_model(quiet=True))
    services = _services()

    def one(text: str, answers: dict) -> dict:
        return classify(text, understanding.intent(text), answers, services)

    if args.batch:
        source = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")
        with source:
            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                        raise ValueError(cli_messages.text("batch_text_expected"))
                    result = one(item["text"], item.get("answers") or {})
                except json.JSONDecodeError:
                    result = {"line": number, "error": cli_messages.text("batch_unreadable_line")}
                except ValueError as exc:
                    result = {"line": number, "error": str(exc)}
                print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0
    try:
        result = one(args.message, _parse_answers(args.answer))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(cli_messages.text("classify_level", level=result["level"]))
        if result["emergency_number"]:
            print(cli_messages.text("classify_call", number=", ".join(result["emergency_numbers"])))
        if result.get("emergency_kind") == "possible":
            print(cli_messages.text("classify_safety_check"))
        for reason in result["reasons"]:
            print(cli_messages.text("classify_reason", reason=reason["texte"]))
        if result["missing"]:
            print(cli_messages.text("classify_missing", missing=", ".join(result["missing"])))
    return 0


def cmd_evaluate(args) -> int:
    from bot.actions.trained_nlu import TrainedNLU  # loads Rasa: only the commands that need it pay

    understanding = TrainedNLU(Path(args.model) if args.model else ensure_model(quiet=True))
    scores = evaluate(load_cases(Path(args.file)), understanding.intent, _services())
    safety = evaluate_safety(load_cases(Path(args.safety)), understanding.intent)
    report = dict(scores.as_dict(), **safety.as_dict(), per_intent=scores.per_intent,
                  safety_by_number={n: {"messages": c, "raised": r, "exact": e}
                                    for n, (c, r, e) in sorted(safety.by_number.items())})
    if args.errors:
        report["errors"] = scores.errors
        report["safety_errors"] = safety.errors
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.gates:
        try:
            failures = failed_gates(dict(scores.as_dict(), **safety.as_dict()), read_gates(PROJECT_ROOT / "README.md"))
        except GatesError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        for line in failures:
            print(cli_messages.text("gate_failed", line=line), file=sys.stderr)
        return 1 if failures else 0
    return 0


# --- directory -----------------------------------------------------------------------------------------

def _factory():
    engine = make_engine(get_settings().database_url)
    upgrade(engine)
    return session_factory(engine)


def cmd_import(args) -> int:
    try:
        report = import_places(_factory(), Path(args.file), demo=args.demo)
    except ImportFileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    for line in report.summary_lines():
        print(line)
    return 0 if report.created + report.updated + report.unchanged > 0 or not report.errors else 1


def cmd_load_demo(args) -> int:
    args.file, args.demo = str(DEMO_FILE), True
    return cmd_import(args)


def cmd_init_db(args) -> int:
    engine = make_engine(get_settings().database_url)
    print(cli_messages.text("database_ready", revision=upgrade(engine)))
    engine.dispose()
    return 0


def cmd_purge(args) -> int:
    """Delete personal data older than the retention delay (statistics survive)."""
    try:
        report = purge(make_engine(get_settings().database_url), days=args.days, dry_run=args.dry_run)
    except RetentionError as exc:
        print(cli_messages.text("retention_invalid", error=exc), file=sys.stderr)
        return 2
    for line in report.summary_lines():
        print(line)
    return 0


def cmd_train(args) -> int:
    ensure_model(config=args.config)
    return 0


# --- run -----------------------------------------------------------------------------------------------

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
    import httpx

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
    factory = _factory()

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
        factory = _factory()
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


# --- telegram ------------------------------------------------------------------------------------------

def cmd_telegram(args) -> int:
    """telegram-webhook registers our webhook; telegram-poll forwards long-polled updates to it."""
    settings = tg.TelegramSettings.from_env()
    try:
        if args.command == "telegram-webhook":
            info = asyncio.run(tg.register_webhook(settings, args.url, drop_pending_updates=args.drop_pending))
            print(cli_messages.text("telegram_webhook_registered", username=info["username"], url=info["url"]))
            return 0
        print(cli_messages.text("telegram_polling", url=settings.forward_url), file=sys.stderr)
        try:
            report = asyncio.run(tg.poll_updates(settings, max_iterations=args.max_iterations,
                                                 drop_pending_updates=args.drop_pending))
        except KeyboardInterrupt:
            return 0
        print(cli_messages.text("telegram_forwarded", count=report.forwarded), file=sys.stderr)
        return 0
    except tg.TelegramSetupError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # network or Telegram refusal: a readable line, not a traceback
        print(cli_messages.text("telegram_call_failed", error=exc), file=sys.stderr)
        return 1


# --- notifications -------------------------------------------------------------------------------------

def _when(moment) -> str:
    if moment is None:
        return "-"
    from zoneinfo import ZoneInfo

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
    factory = _factory()
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
    worker = Worker(_factory())
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
    factory = _factory()
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
    factory = _factory()
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


def _add_notify_parsers(sub) -> None:
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


# --- mediators' console accounts --------------------------------------------------------------------

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
    import getpass

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


def _add_account_parsers(sub) -> None:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aiguillage", description="Aiguillage : orientation numérique.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("classify", help="classer un message (même compréhension et mêmes règles que la conversation)")
    p.add_argument("message", nargs="?")
    p.add_argument("--answer", action="append", metavar="CLE=VALEUR",
                   help="réponse à une question : demarche, enjeu, equipement, souhait, commune")
    p.add_argument("--batch", metavar="FICHIER",
                   help="un objet JSON par ligne avec un champ text ('-' : entrée standard)")
    p.add_argument("--json", action="store_true", help="sortie JSON")
    p.add_argument("--model", help="modèle Rasa (par défaut : celui des données actuelles)")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("evaluate", help="scores sur le jeu de test étiqueté (jamais appris)")
    p.add_argument("--file", default=str(PROJECT_ROOT / "tests" / "nlu_eval" / "heldout.yml"))
    p.add_argument("--safety", default=str(PROJECT_ROOT / "tests" / "nlu_eval" / "safety_test.yml"),
                   help="partie test (figée) du corpus de sécurité")
    p.add_argument("--model")
    p.add_argument("--errors", action="store_true", help="lister les erreurs")
    p.add_argument("--gates", action="store_true",
                   help="échouer (code 1) si un score passe sous son seuil (tableau du README)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("import-lieux", help="importer un fichier du schéma des lieux de médiation numérique")
    p.add_argument("file")
    p.add_argument("--demo", action="store_true", help="marquer les lieux comme données de démonstration")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("load-demo", help="charger l'annuaire de démonstration (Rennes)")
    p.set_defaults(func=cmd_load_demo)

    p = sub.add_parser("init-db", help="créer les tables ou mettre la base à jour (migrations)")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("purge", help="supprimer les données personnelles au-delà du délai de conservation")
    p.add_argument("--days", type=int, default=None,
                   help="délai en jours (par défaut : AIGUILLAGE_RETENTION_DAYS, sinon 90)")
    p.add_argument("--dry-run", action="store_true", help="compter sans rien modifier")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("train", help="entraîner le modèle si ses entrées ont changé")
    p.add_argument("--config", default="config.yml")
    p.set_defaults(func=cmd_train)

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

    p = sub.add_parser("telegram-webhook", help="enregistrer le webhook Telegram (avec le secret)")
    p.add_argument("--url", required=True, help="https://.../webhooks/telegram/webhook")
    p.add_argument("--drop-pending", action="store_true", help="oublier les messages en attente")
    p.set_defaults(func=cmd_telegram)

    p = sub.add_parser("telegram-poll", help="test local sans URL publique : relève Telegram et transmet au serveur")
    p.add_argument("--max-iterations", type=int, default=None, help="arrêter après N relèves")
    p.add_argument("--drop-pending", action="store_true", help="oublier les messages en attente")
    p.set_defaults(func=cmd_telegram, starts=True)

    p = sub.add_parser("reglages", help="vérifier les variables d'environnement (toutes, d'un coup)")
    p.add_argument("--markdown", action="store_true", help="imprimer la table de docs/settings.md")
    p.set_defaults(func=cmd_settings)
    _add_notify_parsers(sub)
    _add_account_parsers(sub)
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


if __name__ == "__main__":
    sys.exit(main())
