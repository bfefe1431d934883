"""Thin Rasa adapters around bot/: custom actions, NLU components, the tracker and lock stores, fixes to
Rasa's per-turn work and the trained NLU for the CLI. With connectors/, the only code that imports Rasa."""
