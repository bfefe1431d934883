"""The voice menu's Rasa-free parts that only render: numbers for speech and TwiML (bot/handoff/voice/
holds the call itself)."""
