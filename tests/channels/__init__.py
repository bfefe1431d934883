"""Tests of bot/channels/: SMS and Telegram transport."""
