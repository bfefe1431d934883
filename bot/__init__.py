"""Aiguillage: first-level triage for digital emergencies (domain logic, no Rasa here)."""

__version__ = "0.1.0"
