"""Tests of bot/handoff/: referrals, follow-up, takeover, callbacks, notifications, erasure, statistics."""
