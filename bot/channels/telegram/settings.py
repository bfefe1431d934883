"""Telegram channel settings from the environment, the webhook secret check, and the Bot they build."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Optional

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram.sending import RetryPolicy
from bot.core.settings import setting

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token


@dataclass(frozen=True)
class TelegramSettings:
    token: str = ""
    secret: str = ""
    api_url: str = "https://api.telegram.org"
    forward_url: str = "http://127.0.0.1:5005/webhooks/telegram/webhook"
    pool_size: int = 8
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    write_timeout: float = 10.0
    pool_timeout: float = 5.0
    max_attempts: int = 4
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    poll_timeout: int = 25

    @classmethod
    def from_env(cls, env: Optional[dict] = None) -> "TelegramSettings":
        return cls(
            token=setting("AIGUILLAGE_TELEGRAM_TOKEN", env) or "",
            secret=setting("AIGUILLAGE_TELEGRAM_SECRET", env) or "",
            api_url=setting("AIGUILLAGE_TELEGRAM_API_URL", env),
            forward_url=setting("AIGUILLAGE_TELEGRAM_FORWARD_URL", env),
            pool_size=setting("AIGUILLAGE_TELEGRAM_POOL_SIZE", env),
            connect_timeout=setting("AIGUILLAGE_TELEGRAM_CONNECT_TIMEOUT", env),
            read_timeout=setting("AIGUILLAGE_TELEGRAM_READ_TIMEOUT", env),
            write_timeout=setting("AIGUILLAGE_TELEGRAM_WRITE_TIMEOUT", env),
            pool_timeout=setting("AIGUILLAGE_TELEGRAM_POOL_TIMEOUT", env),
            max_attempts=setting("AIGUILLAGE_TELEGRAM_MAX_ATTEMPTS", env),
            backoff_base=setting("AIGUILLAGE_TELEGRAM_BACKOFF", env),
            poll_timeout=setting("AIGUILLAGE_TELEGRAM_POLL_TIMEOUT", env),
        )

    @property
    def configured(self) -> bool:
        return bool(self.token) and bool(SECRET_PATTERN.match(self.secret))

    @property
    def base_url(self) -> str:
        return self.api_url.rstrip("/") + "/bot"

    def secret_matches(self, header: Optional[str]) -> bool:
        if not header or not self.secret:
            return False
        # The server keeps bytes that are not UTF-8 as lone surrogates: never our secret, a 403.
        try:
            received = header.encode("utf-8")
        except UnicodeError:
            return False
        return hmac.compare_digest(received, self.secret.encode("utf-8"))

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts, base_delay=self.backoff_base, max_delay=self.backoff_max)


def make_bot(settings: TelegramSettings):
    """python-telegram-bot Bot with a bounded connection pool and explicit timeouts."""
    def request(pool: int) -> HTTPXRequest:
        return HTTPXRequest(connection_pool_size=pool, connect_timeout=settings.connect_timeout,
                            read_timeout=settings.read_timeout, write_timeout=settings.write_timeout,
                            pool_timeout=settings.pool_timeout)

    # getUpdates gets its own small pool so a long poll never starves the sends.
    return Bot(settings.token, base_url=settings.base_url, request=request(settings.pool_size),
               get_updates_request=request(1))
