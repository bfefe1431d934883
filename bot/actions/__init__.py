"""Thin Rasa adapters around bot/: custom actions and one NLU component. Only this package imports Rasa."""
