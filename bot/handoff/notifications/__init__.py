"""Telling a place that a referral is waiting for it: per-place channels, a transactional outbox,
a dispatcher that retries with backoff, and the senders (e-mail, Telegram chat, signed webhook).

The outbox row is written in the same transaction as the referral; delivery happens later, in
`aiguillage notify`, so a notifier that is down delays the message but never loses the referral.
"""

from bot.handoff.notifications.config import KINDS, NotifySettings, PlaceChannel, place_channels, set_place_channels
from bot.handoff.notifications.outbox import (
    Dispatcher,
    OutboxMessage,
    delivery_status,
    enqueue_for_referral,
    retry_failed,
)

__all__ = ["KINDS", "Dispatcher", "NotifySettings", "OutboxMessage", "PlaceChannel", "delivery_status",
           "enqueue_for_referral", "place_channels", "retry_failed", "set_place_channels"]
