"""Tests of bot/actions/ and the model's data: NLU components, Rasa runtime fixes, stories."""
