"""Messages Aiguillage sends on its own initiative to a person, on the channel they came from.

Used by the follow-up worker and by a mediator's live takeover. An address is what the channel
needs to reach the person: an E.164 number for SMS, a chat id for Telegram. It is only ever read
from a sealed contact (bot.handoff.followup) at sending time, never stored in clear.
"""

from __future__ import annotations

from typing import Awaitable, Callable, Dict

from bot.channels.sms.providers import SmsSettings, build_sender
from bot.channels.telegram.rendering import Outgoing, format_html, split_text
from bot.channels.telegram.sending import send_outgoing
from bot.channels.telegram.settings import TelegramSettings, make_bot

Sender = Callable[[str, str], Awaitable[object]]


class TelegramSender:
    """Sends plain text (escaped, reference codes in bold) to a chat, with the channel's retries."""

    def __init__(self, settings):
        self.settings = settings
        self._bot = None

    async def send(self, address: str, text: str) -> int:

        if self._bot is None:
            self._bot = make_bot(self.settings)
        outgoing = [Outgoing(format_html(chunk)) for chunk in split_text(text)]
        return await send_outgoing(self._bot, int(address), outgoing, self.settings.retry_policy())

    async def close(self) -> None:
        if self._bot is not None:
            await self._bot.shutdown()
            self._bot = None


def build_senders() -> Dict[str, Sender]:
    """One sender per channel configured in the environment ("sms", "telegram"); an unconfigured
    channel is absent, so its messages wait until it is configured."""

    senders: Dict[str, Sender] = {}
    sms_settings = SmsSettings()
    if sms_settings.configured:
        senders["sms"] = build_sender(sms_settings).send
    telegram_settings = TelegramSettings.from_env()
    if telegram_settings.configured:
        senders["telegram"] = TelegramSender(telegram_settings).send
    return senders
