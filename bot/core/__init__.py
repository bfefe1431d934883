"""Plumbing shared by every part: database, settings, texts, codes, redaction; imports nothing else from bot."""
