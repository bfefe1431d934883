"""The referral's life: creation, journal, follow-up, live takeover, callbacks, notifications, statistics."""
