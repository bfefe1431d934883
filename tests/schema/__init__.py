"""Tests of bot/schema.py and bot/migrations/: models and migrations agree, retention is declared."""
