"""Runtime settings: every environment variable is declared here, typed, with its default and its
meaning (docs/settings.md is generated from the registry: `aiguillage reglages --markdown`)."""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _default_db_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'aiguillage.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: setting("AIGUILLAGE_DATABASE_URL") or _default_db_url())
    domain_dir: Path = field(default_factory=lambda: project_path("AIGUILLAGE_DOMAIN_DIR"))
    search_radius_km: float = field(default_factory=lambda: setting("AIGUILLAGE_RADIUS_KM"))
    wide_radius_km: float = field(default_factory=lambda: setting("AIGUILLAGE_WIDE_RADIUS_KM"))
    helpline_name: str = field(default_factory=lambda: setting("AIGUILLAGE_HELPLINE_NAME"))
    helpline_phone: str = field(default_factory=lambda: setting("AIGUILLAGE_HELPLINE_PHONE"))
    remote_areas: Optional[str] = field(default_factory=lambda: setting("AIGUILLAGE_REMOTE_AREAS"))
    desk_name: Optional[str] = field(default_factory=lambda: setting("AIGUILLAGE_DESK_NAME"))
    timezone: str = "Europe/Paris"


PUBLIC_URL_ENV = "AIGUILLAGE_PUBLIC_URL"
# A year: browsers then refuse plain http to this host, so a session cookie never travels in clear.
HSTS_VALUE = "max-age=31536000"


def served_over_https() -> bool:
    """Whether people reach us over https (AIGUILLAGE_PUBLIC_URL, e.g. https://aiguillage.example.fr,
    behind TLS in front of nginx): cookies then carry the Secure flag and pages send HSTS."""
    return (setting(PUBLIC_URL_ENV) or "").lower().startswith("https://")


def https_headers() -> dict:
    return {"Strict-Transport-Security": HSTS_VALUE} if served_over_https() else {}


def get_settings() -> Settings:
    return Settings()


def secret_key() -> bytes:
    """Key for pseudonymising identifiers: AIGUILLAGE_SECRET_KEY, else a key file made once in var/."""
    env = setting("AIGUILLAGE_SECRET_KEY")
    if env:
        return env.encode()
    path = project_path("AIGUILLAGE_SECRET_FILE")
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


# --- the registry: every environment variable the project reads or sets ----------------------------------
# One entry per variable: its type, default and meaning. `check()` validates them all at start-up;
# docs/settings.md is generated from it (`aiguillage reglages --markdown`), and tests/core/test_settings.py
# fails on a variable the code names but the registry does not, or the reverse.

@dataclass(frozen=True)
class Variable:
    name: str
    kind: str  # text, int, float, bool, url, path, choice, secret
    default: Optional[str]  # as it would be written in the environment; None: unset
    doc: str
    group: str
    minimum: Optional[float] = None
    choices: tuple = ()
    schemes: tuple = ()  # url: the schemes accepted
    shown: str = ""  # the default as the documentation shows it, when it depends on the machine
    external: bool = False  # read by another tool (Rasa, Sanic, the test runner), set or passed on by us


def _v(name, kind, default, doc, group, **extra) -> Variable:
    return Variable(name, kind, None if default is None else str(default), doc, group, **extra)


BASE, PROFILE, RASA, TELEGRAM, SMS, HELPLINE, VOICE, CONSOLE, NOTIFY, DATA, EXTERNAL = (
    "Base", "Production profile", "Conversation turns", "Telegram", "SMS", "After-hours helpline", "Voice menu",
    "Mediator console", "Notifications to places", "Retention, follow-up, statistics",
    "Read by other tools")

VARIABLES: tuple = (
    _v("AIGUILLAGE_DATABASE_URL", "url", None, "our tables **and** Rasa's tracker store "
       "(`postgresql://…` in production)", BASE, schemes=("sqlite", "postgresql", "postgresql+psycopg2"),
       shown="sqlite:///…/var/aiguillage.db"),
    _v("AIGUILLAGE_SECRET_KEY", "secret", None, "keyed hash for pseudonymising identifiers and the key of "
       "the stored phone numbers", BASE, shown="random key created once in the file below"),
    _v("AIGUILLAGE_SECRET_FILE", "path", "var/secret.key", "where that key is kept when the variable above "
       "is unset", BASE),
    _v("AIGUILLAGE_DOMAIN_DIR", "path", "domain", "where the French texts are read from", BASE),
    _v("AIGUILLAGE_RADIUS_KM", "float", 15, "first search radius", BASE, minimum=0.1),
    _v("AIGUILLAGE_WIDE_RADIUS_KM", "float", 50, "radius when the person asks to search further", BASE,
       minimum=0.1),
    _v("AIGUILLAGE_STALE_AFTER_MONTHS", "int", 12, "months after a place's `date_maj` before its data counts as "
       "stale: its hours read \"à confirmer\", it ranks a little lower, and `etat-lieux` counts it as *périmé*",
       BASE, minimum=1),
    _v("AIGUILLAGE_HELPLINE_NAME", "text", "Solidarité Numérique", "helpline offered when nothing fits", BASE),
    _v("AIGUILLAGE_HELPLINE_PHONE", "text", "01 70 772 372", "its number", BASE),
    _v("AIGUILLAGE_REMOTE_AREAS", "text", None, "remote places (\"À distance\") that serve more than their own "
       "département: `ID=france` for the whole country, `ID=13,84` for départements, `ID=bretagne` for a région, "
       "entries separated by `;` (README, *Remote help: who it serves*)", BASE),
    _v("AIGUILLAGE_DESK_NAME", "text", None, "the reception desk that uses the desk page, e.g. `Accueil mairie de "
       "Fougères`: kept on its referrals and shown to the place's mediator as who referred (unset: \"Un accueil\")",
       BASE),
    _v("AIGUILLAGE_PORT", "int", 5005, "Rasa server port of `aiguillage run`", BASE, minimum=1),
    _v("AIGUILLAGE_ACTION_PORT", "int", 5055, "action server port (`aiguillage run` and the production "
       "profile)", BASE, minimum=1),
    _v("AIGUILLAGE_ACTION_URL", "url", "http://127.0.0.1:5055/webhook", "action server, for Rasa (set by "
       "the launchers from the port)", BASE, schemes=("http", "https")),
    _v("AIGUILLAGE_PUBLIC_URL", "url", None, "the address people use, e.g. `https://aiguillage.example.fr` "
       "(TLS in front of nginx): when it is https, console cookies carry `Secure` and the desk, console and "
       "statistics pages send HSTS (one year)", BASE, schemes=("http", "https")),
    _v("AIGUILLAGE_DB_POOL_SIZE", "int", 5, "our tables' pool, per process (all channels of a process share "
       "it)", BASE, minimum=1),
    _v("AIGUILLAGE_DB_MAX_OVERFLOW", "int", 5, "connections above that pool when it is busy", BASE, minimum=0),

    _v("AIGUILLAGE_RASA_INSTANCES", "int", 2, "Rasa servers behind nginx (`--instances`)", PROFILE, minimum=1),
    _v("AIGUILLAGE_PUBLIC_HOST", "text", "127.0.0.1", "nginx's address (put TLS in front of it)", PROFILE),
    _v("AIGUILLAGE_PUBLIC_PORT", "int", 5005, "nginx's port", PROFILE, minimum=1),
    _v("AIGUILLAGE_RASA_BASE_PORT", "int", 5101, "instance *i* listens on this port + *i*", PROFILE, minimum=1),
    _v("AIGUILLAGE_REDIS_URL", "url", "redis://127.0.0.1:6379/1", "lock store (password in the URL if any)",
       PROFILE, schemes=("redis", "rediss")),
    _v("AIGUILLAGE_REDIS_HOST", "text", "127.0.0.1", "set by the launcher from the URL above, for "
       "`endpoints.production.yml`", PROFILE),
    _v("AIGUILLAGE_REDIS_PORT", "int", 6379, "likewise", PROFILE, minimum=1),
    _v("AIGUILLAGE_REDIS_DB", "int", 1, "likewise", PROFILE, minimum=0),
    _v("AIGUILLAGE_REDIS_PASSWORD", "secret", None, "likewise", PROFILE),
    _v("AIGUILLAGE_LOCK_LIFETIME_S", "float", 20, "a conversation lock's lifetime (renewed every third of it "
       "during a turn; a dead instance's lock frees within it)", PROFILE, minimum=0.1),
    _v("AIGUILLAGE_LOCK_MAX_WAIT_S", "float", 30, "the longest wait for that lock before the turn gives up "
       "with the helpline", PROFILE, minimum=0.1),
    _v("AIGUILLAGE_PG_MAX_CONNECTIONS", "int", 100, "the server's `max_connections`: the launcher refuses a "
       "configuration that would exceed it minus 10", PROFILE, minimum=1),
    _v("AIGUILLAGE_PRODUCTION_DIR", "path", "var/production", "private PostgreSQL, Redis, nginx and logs of "
       "the profile", PROFILE),

    _v("AIGUILLAGE_CONCURRENT_TURNS", "int", 4, "turns a Rasa server runs at once; the others wait in arrival "
       "order (one at a time per person)", RASA, minimum=1),
    _v("AIGUILLAGE_TRACKER_WINDOW", "int", 200, "events of the latest session a turn loads, after the stored "
       "events that still set its state", RASA, minimum=20),
    _v("AIGUILLAGE_RATE_PER_SENDER", "int", 10, "messages a minute one person may send on any channel (a "
       "burst of 10, then one every 6 s); past it: no Rasa turn, one polite message (a danger still gets its "
       "number), 429 on the desk and the helpline; SMS STOP always goes through", RASA, minimum=1),
    _v("AIGUILLAGE_RATE_PER_ADDRESS", "int", 300, "requests a minute from one client address on every "
       "webhook and the desk (a burst of 120), checked before anything else: 429 with `Retry-After`. Per "
       "process", RASA, minimum=1),

    _v("AIGUILLAGE_TELEGRAM_TOKEN", "secret", None, "the bot's token (BotFather)", TELEGRAM),
    _v("AIGUILLAGE_TELEGRAM_SECRET", "secret", None, "webhook secret, 1–256 characters `A-Za-z0-9_-`",
       TELEGRAM),
    _v("AIGUILLAGE_TELEGRAM_API_URL", "url", "https://api.telegram.org", "Bot API server (also for "
       "notifications)", TELEGRAM, schemes=("http", "https")),
    _v("AIGUILLAGE_TELEGRAM_FORWARD_URL", "url", "http://127.0.0.1:5005/webhooks/telegram/webhook",
       "where `telegram-poll` forwards updates", TELEGRAM, schemes=("http", "https")),
    _v("AIGUILLAGE_TELEGRAM_POOL_SIZE", "int", 8, "connections to the Bot API", TELEGRAM, minimum=1),
    _v("AIGUILLAGE_TELEGRAM_CONNECT_TIMEOUT", "float", 5, "seconds", TELEGRAM, minimum=0),
    _v("AIGUILLAGE_TELEGRAM_READ_TIMEOUT", "float", 10, "seconds", TELEGRAM, minimum=0),
    _v("AIGUILLAGE_TELEGRAM_WRITE_TIMEOUT", "float", 10, "seconds", TELEGRAM, minimum=0),
    _v("AIGUILLAGE_TELEGRAM_POOL_TIMEOUT", "float", 5, "seconds waiting for a free connection", TELEGRAM,
       minimum=0),
    _v("AIGUILLAGE_TELEGRAM_MAX_ATTEMPTS", "int", 4, "tries of one send", TELEGRAM, minimum=1),
    _v("AIGUILLAGE_TELEGRAM_BACKOFF", "float", 0.5, "seconds before the 2nd try, doubled each time",
       TELEGRAM, minimum=0),
    _v("AIGUILLAGE_TELEGRAM_POLL_TIMEOUT", "int", 25, "long-poll seconds of `telegram-poll`", TELEGRAM,
       minimum=0),

    _v("AIGUILLAGE_SMS_PROVIDER", "choice", None, "the adapter; unset: no SMS channel", SMS,
       choices=("twilio", "json")),
    _v("AIGUILLAGE_SMS_PUBLIC_URL", "url", None, "the exact public URL of the SMS webhook (Twilio signs it)",
       SMS, schemes=("http", "https")),
    _v("AIGUILLAGE_SMS_STATUS_PUBLIC_URL", "url", None, "the same for delivery reports (default: derived "
       "from the above)", SMS, schemes=("http", "https")),
    _v("AIGUILLAGE_SMS_API_URL", "url", "https://api.twilio.com", "Twilio's REST API", SMS,
       schemes=("http", "https")),
    _v("AIGUILLAGE_SMS_ACCOUNT_SID", "text", None, "Twilio account", SMS),
    _v("AIGUILLAGE_SMS_AUTH_TOKEN", "secret", None, "Twilio token", SMS),
    _v("AIGUILLAGE_SMS_MESSAGING_SERVICE_SID", "text", None, "Twilio messaging service (instead of a sender "
       "number)", SMS),
    _v("AIGUILLAGE_SMS_SEND_URL", "url", None, "`json` gateway: where to send", SMS, schemes=("http", "https")),
    _v("AIGUILLAGE_SMS_SHARED_SECRET", "secret", None, "`json` gateway: HMAC-SHA256 key, both ways", SMS),
    _v("AIGUILLAGE_SMS_TIMESTAMP_TOLERANCE", "int", 300, "`json` gateway: seconds a signed request stays "
       "valid", SMS, minimum=1),
    _v("AIGUILLAGE_SMS_FROM", "text", None, "sender number", SMS),
    _v("AIGUILLAGE_SMS_TIMEOUT", "float", 10, "seconds per send", SMS, minimum=0),
    _v("AIGUILLAGE_SMS_RETRIES", "int", 3, "retries of one send", SMS, minimum=0),
    _v("AIGUILLAGE_SMS_BACKOFF", "float", 0.5, "seconds before the first retry, doubled each time", SMS,
       minimum=0),
    _v("AIGUILLAGE_SMS_BACKOFF_MAX", "float", 8, "longest wait between retries", SMS, minimum=0),
    _v("AIGUILLAGE_SMS_POOL_SIZE", "int", 10, "connections to the provider", SMS, minimum=1),
    _v("AIGUILLAGE_SMS_MAX_INBOUND", "int", 1000, "characters of an incoming SMS kept", SMS, minimum=1),

    _v("AIGUILLAGE_HELPLINE_SECRET", "secret", None, "the telephony platform's signing key; unset: no "
       "helpline webhook", HELPLINE),
    _v("AIGUILLAGE_HELPLINE_HOURS", "text", "Mo-Fr 09:00-17:00; PH off", "opening hours (OSM syntax)",
       HELPLINE),
    _v("AIGUILLAGE_HELPLINE_PLACE_ID", "text", None, "the place that calls back (else coordinators)", HELPLINE),

    _v("AIGUILLAGE_VOICE_PUBLIC_URL", "url", None, "the exact public URL of the voice webhook, "
       "`…/webhooks/voice/webhook` (Twilio signs it with `AIGUILLAGE_SMS_AUTH_TOKEN`); unset: no voice menu",
       VOICE, schemes=("http", "https")),
    _v("AIGUILLAGE_VOICE_TRANSFER_NUMBER", "text", None, "a person of the helpline to forward calls to "
       "within `AIGUILLAGE_HELPLINE_HOURS` (`<Dial>`); unset, or no answer: the menu", VOICE),

    _v("AIGUILLAGE_CONSOLE_URL", "url", "http://127.0.0.1:5005/console", "console address in notifications",
       CONSOLE, schemes=("http", "https")),
    _v("AIGUILLAGE_CONSOLE_ORIGINS", "text", None, "extra allowed `Origin` values, comma-separated (reverse "
       "proxy)", CONSOLE),
    _v("AIGUILLAGE_CONSOLE_SECURE_COOKIE", "bool", "0", "`Secure` cookies even without an https public URL",
       CONSOLE),
    _v("AIGUILLAGE_CONSOLE_SESSION_HOURS", "float", 8, "a console session's lifetime", CONSOLE, minimum=0.01),

    _v("AIGUILLAGE_SMTP_HOST", "text", None, "mail server; unset: no e-mail", NOTIFY),
    _v("AIGUILLAGE_SMTP_PORT", "int", 587, "its port", NOTIFY, minimum=1),
    _v("AIGUILLAGE_SMTP_USER", "text", None, "login", NOTIFY),
    _v("AIGUILLAGE_SMTP_PASSWORD", "secret", None, "password", NOTIFY),
    _v("AIGUILLAGE_SMTP_STARTTLS", "bool", "1", "STARTTLS", NOTIFY),
    _v("AIGUILLAGE_SMTP_FROM", "text", None, "sender address", NOTIFY),
    _v("AIGUILLAGE_SMTP_TIMEOUT", "float", 15, "seconds", NOTIFY, minimum=0),
    _v("AIGUILLAGE_NOTIFY_HTTP_TIMEOUT", "float", 10, "seconds per webhook or Telegram call", NOTIFY, minimum=0),
    _v("AIGUILLAGE_NOTIFY_MAX_ATTEMPTS", "int", 8, "tries of one notification", NOTIFY, minimum=1),
    _v("AIGUILLAGE_NOTIFY_BACKOFF", "float", 30, "seconds before the 2nd try, doubled each time", NOTIFY,
       minimum=0),
    _v("AIGUILLAGE_NOTIFY_BACKOFF_MAX", "float", 3600, "longest wait between tries", NOTIFY, minimum=0),
    _v("AIGUILLAGE_NOTIFY_LEASE", "float", 300, "seconds a claimed notification is one worker's", NOTIFY,
       minimum=1),
    _v("AIGUILLAGE_NOTIFY_NOW_TIMEOUT", "float", 5, "seconds the conversation waits for the place's channels to "
       "accept a new referral, so that it says \"C'est envoyé\" only when true (0: never waits, the worker "
       "sends)", NOTIFY, minimum=0),

    _v("AIGUILLAGE_RETENTION_DAYS", "int", 90, "days after which `aiguillage purge` removes personal data",
       DATA, minimum=1),
    _v("AIGUILLAGE_FOLLOWUP_DAYS", "int", 7, "days before \"est-ce réglé ?\"", DATA, minimum=0),
    _v("AIGUILLAGE_STATS_MIN_COUNT", "int", 3, "no count below it is shown (1 disables the protection)", DATA,
       minimum=1),
    _v("AIGUILLAGE_STATS_MIN_TOTAL", "int", 20, "below this total a period shows no breakdown", DATA,
       minimum=0),

    _v("SQL_POOL_SIZE", "int", 5, "Rasa's tracker-store pool, per instance", EXTERNAL, minimum=1, external=True),
    _v("SQL_MAX_OVERFLOW", "int", 5, "connections above it", EXTERNAL, minimum=0, external=True),
    _v("SANIC_KEEP_ALIVE_TIMEOUT", "int", 75, "set by the launchers: longer than Rasa's 15 s reuse of "
       "action-server connections", EXTERNAL, minimum=1, external=True),
    _v("SANIC_REQUEST_MAX_SIZE", "int", 65536, "set by the launchers: the Rasa server's largest request body "
       "(413 before more is read; not the action server's, which receives whole trackers)", EXTERNAL,
       minimum=1, external=True),
    _v("SANIC_PROXIES_COUNT", "int", 1, "set by the production launcher: the client's address is the one "
       "nginx appended to X-Forwarded-For; set `2` when another TLS proxy is in front of nginx", EXTERNAL,
       minimum=0, external=True),
    _v("RASA_TELEMETRY_ENABLED", "text", "false", "always set to false by the launchers: nothing leaves the "
       "machine", EXTERNAL, external=True),
    _v("PYTHONPATH", "text", None, "set by the launchers to the project root, for the Rasa servers", EXTERNAL,
       shown="the project root", external=True),
    _v("AIGUILLAGE_REQUIRE_SERVICES", "bool", "0", "tests: a missing PostgreSQL or Redis fails its tests "
       "instead of skipping them (`scripts/test.sh` sets it)", EXTERNAL, external=True),
)
REGISTRY = {variable.name: variable for variable in VARIABLES}

_TRUE, _FALSE = ("1", "true", "yes", "oui", "on"), ("0", "false", "no", "non", "off")


class SettingsError(ValueError):
    """One or more environment variables hold a value we cannot use; the message is for the operator."""


def _parse(variable: Variable, raw: str):
    """The typed value of `raw`, or SettingsError with a French message naming the variable."""
    text = raw.strip()
    name, kind = variable.name, variable.kind
    # Never echo a secret, nor a password inside a URL (postgresql://user:password@host/base).
    shown = "(valeur masquée)" if kind == "secret" else f"« {re.sub(r'//[^/@]*@', '//…@', text)} »"
    value: object = text
    if kind in ("int", "float"):
        try:
            value = int(text) if kind == "int" else float(text)
        except ValueError:
            what = "un nombre entier" if kind == "int" else "un nombre"
            raise SettingsError(f"{name} : {shown} n'est pas {what}.") from None
        if variable.minimum is not None and value < variable.minimum:
            minimum = variable.minimum if kind == "float" else int(variable.minimum)
            raise SettingsError(f"{name} : {text} est trop petit (au moins {minimum}).")
    elif kind == "bool":
        if text.lower() not in _TRUE + _FALSE:
            raise SettingsError(f"{name} : {shown} n'est ni 1 (oui) ni 0 (non).")
        value = text.lower() in _TRUE
    elif kind == "choice":
        value = text.lower()
        if value not in variable.choices:
            raise SettingsError(f"{name} : {shown} n'est pas une valeur permise ({', '.join(variable.choices)}).")
    elif kind == "url":
        scheme, _, rest = text.partition("://")
        if not rest or (variable.schemes and scheme.lower() not in variable.schemes):
            example = f"{variable.schemes[0]}://…" if variable.schemes else "https://…"
            raise SettingsError(f"{name} : {shown} n'est pas une adresse valable (attendu : {example}).")
    return value


def value(name: str, env: Optional[Mapping[str, str]] = None):
    """The typed value of a registered variable, read now (tests monkeypatch the environment): its
    default when unset or blank (None when it has none); SettingsError on a bad value."""
    variable = REGISTRY[name]
    raw = (os.environ if env is None else env).get(name)
    if raw is None or not raw.strip():
        raw = variable.default
        if raw is None:
            return None
    return _parse(variable, raw)


def setting(name: str, env: Optional[Mapping[str, str]] = None):
    """Like value(), for a module used as a library (start-up already ran check()): a value of the wrong
    type is logged and the default used; a number below the minimum is raised to it."""
    variable = REGISTRY[name]
    try:
        return value(name, env)
    except SettingsError as error:
        raw = (os.environ if env is None else env).get(name, "").strip()
        if variable.kind in ("int", "float") and variable.minimum is not None:
            number = int if variable.kind == "int" else float
            try:
                number(raw)  # a number, so only too small
                return number(variable.minimum)
            except ValueError:
                pass
        logging.getLogger(__name__).warning("%s; default used", error)
        return default(name)


def project_path(name: str, env: Optional[Mapping[str, str]] = None, root: Optional[Path] = None) -> Path:
    """A path variable: as given when set (relative to the working directory), else its default under
    `root` (the project's)."""
    raw = (os.environ if env is None else env).get(name, "").strip()
    return Path(raw) if raw else (root or PROJECT_ROOT) / REGISTRY[name].default


def default(name: str):
    """The typed default of a registered variable (None when it has none)."""
    variable = REGISTRY[name]
    return None if variable.default is None else _parse(variable, variable.default)


def check(env: Optional[Mapping[str, str]] = None) -> None:
    """Validate every registered variable at once; SettingsError lists every bad value, one per line."""
    problems = []
    for variable in VARIABLES:
        try:
            value(variable.name, env)
        except SettingsError as error:
            problems.append(str(error))
    if problems:
        raise SettingsError("Réglages invalides :\n" + "\n".join(f"- {p}" for p in problems))


def markdown() -> str:
    """docs/settings.md: the registry as tables, one per group."""
    lines = ["# Settings", "",
             "Generated from `bot/core/settings.py` by `aiguillage reglages --markdown > docs/settings.md`; "
             "do not edit by hand. `aiguillage reglages` checks the current environment; `aiguillage run`, "
             "`production` and `worker` refuse to start on a bad value.", ""]
    groups: dict = {}
    for variable in VARIABLES:
        groups.setdefault(variable.group, []).append(variable)
    for group, variables in groups.items():
        lines += [f"## {group}", "", "| variable | type | default | meaning |", "|---|---|---|---|"]
        for variable in variables:
            kind = variable.kind
            if variable.minimum is not None:
                kind += f" ≥ {variable.minimum:g}"
            if variable.choices:
                kind += ": " + " / ".join(variable.choices)
            if variable.schemes:
                kind += " (" + ", ".join(f"{s}://" for s in variable.schemes) + ")"
            default = variable.shown or (f"`{variable.default}`" if variable.default is not None else "unset")
            lines.append(f"| `{variable.name}` | {kind} | {default} | {variable.doc} |")
        lines.append("")
    return "\n".join(lines)
