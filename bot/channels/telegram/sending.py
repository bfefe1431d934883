"""Calls to the Bot API: the retry policy for transient errors, and sending rendered messages in order."""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Awaitable, Callable, List, Optional

from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, error
from telegram.constants import ParseMode

from bot.channels.telegram.rendering import Outgoing
from bot.core.backoff import doubling

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    # The numbers come from TelegramSettings (one place for their defaults and their variables).
    max_attempts: int
    base_delay: float
    max_delay: float
    max_retry_after: float = 30.0  # a longer flood wait is not worth holding the webhook request

    def backoff(self, attempt: int) -> float:
        return doubling(self.base_delay, self.max_delay, attempt - 1)

    def delay_for(self, exc: BaseException, attempt: int) -> Optional[float]:
        """Seconds to wait before the next attempt, or None when the error is not transient."""
        if isinstance(exc, error.RetryAfter):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # PTB 22 warns that the type will become timedelta
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return seconds if seconds <= self.max_retry_after else None
        if isinstance(exc, (error.BadRequest, error.Forbidden, error.InvalidToken, error.Conflict,
                            error.ChatMigrated)):
            return None  # 400/401/403/404/409: the same request would fail again
        if isinstance(exc, (error.TimedOut, error.NetworkError)):
            return self.backoff(attempt)  # timeouts, connection errors, 5xx
        return None

    async def call(self, func: Callable[[], Awaitable[Any]],
                   sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> Any:
        attempt = 1
        while True:
            try:
                return await func()
            except Exception as exc:
                delay = self.delay_for(exc, attempt)
                if delay is None or attempt >= self.max_attempts:
                    raise
                logger.warning("Telegram call failed (%s), retry %d in %.1fs", type(exc).__name__, attempt, delay)
                await sleep(delay)
                attempt += 1


async def send_outgoing(bot, chat_id: int, outgoing: List[Outgoing], policy: RetryPolicy) -> int:
    """Send messages in order; stops at the first one that still fails. Returns how many were sent."""
    sent = 0
    for message in outgoing:
        markup_json = message.reply_markup()
        markup = None
        if markup_json and "inline_keyboard" in markup_json:
            markup = InlineKeyboardMarkup.de_json(markup_json, bot)
        elif markup_json and "keyboard" in markup_json:
            markup = ReplyKeyboardMarkup.de_json(markup_json, bot)
        elif markup_json:
            markup = ReplyKeyboardRemove()

        async def one(message=message, markup=markup):
            return await bot.send_message(chat_id=chat_id, text=message.html, parse_mode=ParseMode.HTML,
                                          reply_markup=markup, disable_web_page_preview=True)

        await policy.call(one)
        sent += 1
    return sent
