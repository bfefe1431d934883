"""Telling a place that a referral is waiting for it: per-place channels, a transactional outbox,
a dispatcher that retries with backoff, and the senders (e-mail, Telegram chat, signed webhook).

The outbox row is written in the same transaction as the referral; delivery happens later, in
`aiguillage notify`, so a notifier that is down delays the message but never loses the referral.
"""

from bot.notifications.config import (KINDS, NotifySettings, PlaceChannel, place_channels,  # noqa: F401
                                      set_place_channels)
from bot.notifications.outbox import (Dispatcher, OutboxMessage, delivery_status,  # noqa: F401
                                      enqueue_for_referral, retry_failed)
