"""The background worker: notifications to places and follow-up messages to people, in one loop.

Both queues live in the database, so several workers may run (each row is leased by one) and a
worker that stops loses nothing: rows wait until the next pass.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Mapping, Optional

from sqlalchemy.orm import sessionmaker

from bot.channels.outbound import build_senders
from bot.handoff import followup
from bot.handoff.notifications.outbox import Dispatcher, DispatchReport, run_periodically

logger = logging.getLogger(__name__)


@dataclass
class PassReport:
    notifications: DispatchReport
    followups: followup.DeliveryReport


class Worker:
    def __init__(self, factory: sessionmaker, dispatcher: Optional[Dispatcher] = None,
                 senders: Optional[Mapping] = None):

        self.factory = factory
        self.dispatcher = dispatcher or Dispatcher(factory)
        self.senders = dict(build_senders() if senders is None else senders)

    async def run_once(self) -> PassReport:
        notifications = await self.dispatcher.run_once()
        followups = await followup.deliver_due(self.factory, self.senders)
        return PassReport(notifications, followups)

    async def run_forever(self, interval: float = 30.0, stop: Optional[asyncio.Event] = None,
                          max_passes: Optional[int] = None) -> None:
        async def one_pass() -> None:
            report = await self.run_once()
            if report.notifications.handled or report.followups.sent or report.followups.retried:
                logger.info("worker pass: %s", report)

        await run_periodically(one_pass, interval, stop, max_passes, "worker pass")
