"""Tests of bot/core/: settings, texts, codes, redaction, the database files."""
