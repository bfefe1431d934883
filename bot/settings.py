"""Runtime settings, all from environment variables with safe defaults (documented in README)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_db_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'aiguillage.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=lambda: os.environ.get("AIGUILLAGE_DATABASE_URL", _default_db_url()))
    domain_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("AIGUILLAGE_DOMAIN_DIR", str(PROJECT_ROOT / "domain")))
    )
    search_radius_km: float = field(default_factory=lambda: float(os.environ.get("AIGUILLAGE_RADIUS_KM", "15")))
    wide_radius_km: float = field(default_factory=lambda: float(os.environ.get("AIGUILLAGE_WIDE_RADIUS_KM", "50")))
    helpline_name: str = field(
        default_factory=lambda: os.environ.get("AIGUILLAGE_HELPLINE_NAME", "Solidarité Numérique")
    )
    helpline_phone: str = field(default_factory=lambda: os.environ.get("AIGUILLAGE_HELPLINE_PHONE", "01 70 772 372"))
    timezone: str = "Europe/Paris"


def int_from_env(name: str, default: int, minimum: int = 0) -> int:
    """A whole-number setting: `default` when unset or not a number (logged), never below `minimum`."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return max(default, minimum)
    try:
        return max(int(raw), minimum)
    except ValueError:
        logging.getLogger(__name__).warning("%s is not a whole number; %d is used", name, default)
        return max(default, minimum)


PUBLIC_URL_ENV = "AIGUILLAGE_PUBLIC_URL"
# A year: browsers then refuse plain http to this host, so a session cookie never travels in clear.
HSTS_VALUE = "max-age=31536000"


def served_over_https() -> bool:
    """Whether people reach us over https (AIGUILLAGE_PUBLIC_URL, e.g. https://aiguillage.example.fr,
    behind TLS in front of nginx): cookies then carry the Secure flag and pages send HSTS."""
    return os.environ.get(PUBLIC_URL_ENV, "").strip().lower().startswith("https://")


def https_headers() -> dict:
    return {"Strict-Transport-Security": HSTS_VALUE} if served_over_https() else {}


def get_settings() -> Settings:
    return Settings()


def secret_key() -> bytes:
    """Key for pseudonymising identifiers: AIGUILLAGE_SECRET_KEY, else a key file made once in var/."""
    env = os.environ.get("AIGUILLAGE_SECRET_KEY")
    if env:
        return env.encode()
    path = Path(os.environ.get("AIGUILLAGE_SECRET_FILE", str(PROJECT_ROOT / "var" / "secret.key")))
    if not path.exists():
        import secrets

        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
