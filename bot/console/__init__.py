"""The mediators' console: accounts and sessions (`accounts`), referral follow-up and audit log (`service`).

The web pages live in `connectors/console.py`; nothing here imports Rasa or Sanic.
"""
