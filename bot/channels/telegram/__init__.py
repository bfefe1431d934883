"""Telegram channel logic that does not need Rasa; connectors/telegram.py is the thin Rasa adapter on top.

settings (configuration, the Bot), updates (reading an update), rendering (replies as HTML messages and
keyboards), stores (duplicate updates, button tokens), sending (retries, sending in order), setup (the
two admin commands: register the webhook, long polling).
"""
