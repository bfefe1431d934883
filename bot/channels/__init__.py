"""Transport to and from a person: SMS, Telegram, outbound sending; no referral logic."""
