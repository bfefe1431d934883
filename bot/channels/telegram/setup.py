"""The two admin commands of the Telegram channel: register the webhook, and long polling to it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

import httpx
from telegram import error

from bot.channels.telegram.settings import SECRET_HEADER, SECRET_PATTERN, TelegramSettings, make_bot

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")


class TelegramSetupError(Exception):
    """A configuration problem the command reports in plain words."""


def require_configured(settings: TelegramSettings) -> None:
    if not settings.token:
        raise TelegramSetupError("AIGUILLAGE_TELEGRAM_TOKEN manquant (jeton donné par @BotFather).")
    if not SECRET_PATTERN.match(settings.secret):
        raise TelegramSetupError("AIGUILLAGE_TELEGRAM_SECRET manquant ou invalide "
                                 "(1 à 256 caractères : lettres, chiffres, _ et -).")


async def register_webhook(settings: TelegramSettings, url: str, drop_pending_updates: bool = False) -> dict:
    """setWebhook with our secret; returns what getMe says about the bot."""
    require_configured(settings)
    async with make_bot(settings) as bot:
        await settings.retry_policy().call(lambda: bot.set_webhook(
            url=url, secret_token=settings.secret, allowed_updates=list(ALLOWED_UPDATES),
            drop_pending_updates=drop_pending_updates))
        return {"username": bot.username, "url": url}


@dataclass
class PollReport:
    iterations: int = 0
    forwarded: int = 0
    failed_forwards: int = 0


async def poll_updates(settings: TelegramSettings, max_iterations: Optional[int] = None,
                       stop: Optional[asyncio.Event] = None, drop_pending_updates: bool = False,
                       sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> PollReport:
    """Long-poll getUpdates and POST each update to our own webhook, secret header included.

    One getUpdates call is one iteration. An update is acknowledged (offset moves past it) only
    once the webhook answered 2xx, so a stopped Rasa server loses nothing.
    """
    require_configured(settings)
    stop = stop or asyncio.Event()
    report = PollReport()
    policy = settings.retry_policy()
    offset: Optional[int] = None
    failures = 0
    async with make_bot(settings) as bot, httpx.AsyncClient(
            timeout=httpx.Timeout(120.0, connect=settings.connect_timeout), trust_env=False) as client:
        await policy.call(lambda: bot.delete_webhook(drop_pending_updates=drop_pending_updates))
        while not stop.is_set() and (max_iterations is None or report.iterations < max_iterations):
            report.iterations += 1
            try:
                updates = await bot.get_updates(offset=offset, timeout=settings.poll_timeout,
                                                allowed_updates=list(ALLOWED_UPDATES))
            except error.Conflict as exc:
                raise TelegramSetupError(f"Telegram refuse le long polling : {exc.message}") from exc
            except error.InvalidToken as exc:
                raise TelegramSetupError("Jeton Telegram refusé.") from exc
            except error.TelegramError:
                failures += 1
                await sleep(policy.backoff(min(failures, 6)))
                continue
            for update in updates:
                try:
                    answer = await client.post(settings.forward_url, json=update.to_dict(),
                                               headers={SECRET_HEADER: settings.secret})
                    status = answer.status_code
                except httpx.HTTPError as exc:
                    logger.warning("forward to %s failed: %s", settings.forward_url, exc)
                    status = None
                if status == 403:
                    raise TelegramSetupError("Le serveur Aiguillage refuse le secret : vérifiez que "
                                             "AIGUILLAGE_TELEGRAM_SECRET est le même des deux côtés.")
                if status is None or not 200 <= status < 300:
                    # Keep the offset: Telegram hands the same update back on the next call.
                    report.failed_forwards += 1
                    failures += 1
                    await sleep(policy.backoff(min(failures, 6)))
                    break
                failures = 0
                report.forwarded += 1
                offset = update.update_id + 1
        if offset is not None:
            # Acknowledge the last forwarded update so a restart does not replay it.
            try:
                await bot.get_updates(offset=offset, timeout=0, allowed_updates=list(ALLOWED_UPDATES))
            except error.TelegramError:
                pass
    return report
